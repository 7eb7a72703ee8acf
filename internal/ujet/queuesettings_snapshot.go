package ujet

// The queue-settings snapshot: a tenant's queue and menu configuration as
// one JSON document in which objects name each other by name (queues, menus,
// skills, teams) or e-mail (users), never by id, so that it can be applied
// to the same tenant after its objects were deleted and made again, or to
// another tenant. Applying it creates or updates objects by name and never
// deletes any.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"switchboard"
)

// snapshotFormat names the document's layout; an import refuses others.
const snapshotFormat = "switchboard.queue_settings/1"

// settingsSnapshot is the document.
type settingsSnapshot struct {
	Format string `json:"format"`
	// Revision is the version the document was saved as.
	Revision            string `json:"revision"`
	ExportedAt          string `json:"exported_at"`
	ExportAudioFiles    bool   `json:"export_audio_files"`
	ExportAttachedFiles bool   `json:"export_attached_files"`
	// Queues hold every setting of the core's queues (json of
	// switchboard.Queue) with references by name.
	Queues   []snapQueue  `json:"queues"`
	IVRMenus []snapMenu   `json:"ivr_menus"`
	Numbers  []snapNumber `json:"phone_numbers"`
	// ChatShortcuts are the canned replies agents insert in chats.
	ChatShortcuts []snapShortcut `json:"chat_shortcuts"`
	// ContactLists are the company's phonebooks (global and custom);
	// agents' personal and favorite lists are theirs, not settings.
	ContactLists []snapList `json:"contact_lists"`
	// AttachedFiles names the files attached to chat shortcuts: the core's
	// shortcuts carry none, so it is empty when asked for.
	AttachedFiles *[]string `json:"attached_files,omitempty"`
}

// snapQueue is a queue: switchboard.Queue's own JSON, its ids left out (the
// shadowing fields stay nil), and its references by name.
type snapQueue struct {
	switchboard.Queue
	ID        *int64  `json:"id,omitempty"`
	TenantID  *int64  `json:"tenant_id,omitempty"`
	UUID      *string `json:"uuid,omitempty"`
	ParentID  *int64  `json:"parent_id,omitempty"`
	CreatedAt *string `json:"created_at,omitempty"`
	UpdatedAt *string `json:"updated_at,omitempty"`
	// Parent names the queue this one nests under.
	Parent         string       `json:"parent,omitempty"`
	RequiredSkills []snapSkill  `json:"required_skills"`
	Members        []snapMember `json:"members"`
}

type snapSkill struct {
	Skill          string `json:"skill"`
	MinProficiency int    `json:"min_proficiency"`
}

type snapMember struct {
	Email   string `json:"email"`
	Penalty int    `json:"penalty"`
}

// snapAction is an IVR action with its target by name (queue, menu) or
// e-mail (user).
type snapAction struct {
	Action switchboard.IVRActionType `json:"action"`
	Queue  string                    `json:"queue,omitempty"`
	Menu   string                    `json:"menu,omitempty"`
	User   string                    `json:"user,omitempty"`
}

type snapOption struct {
	Digit string `json:"digit"`
	snapAction
}

// snapMenu is an IVR menu: switchboard.IVRMenu's JSON without ids, its
// actions' targets by name.
type snapMenu struct {
	switchboard.IVRMenu
	ID            *int64       `json:"id,omitempty"`
	TenantID      *int64       `json:"tenant_id,omitempty"`
	CreatedAt     *string      `json:"created_at,omitempty"`
	UpdatedAt     *string      `json:"updated_at,omitempty"`
	Options       []snapOption `json:"options"`
	TimeoutAction snapAction   `json:"timeout_action"`
	InvalidAction snapAction   `json:"invalid_action"`
	FinalAction   snapAction   `json:"final_action"`
}

// snapNumber is where one of the tenant's numbers routes: a queue or a
// menu. Numbers are bought, not configured: applying re-routes the numbers
// the tenant has and skips the others.
type snapNumber struct {
	Number  string `json:"number"`
	Queue   string `json:"queue,omitempty"`
	IVRMenu string `json:"ivr_menu,omitempty"`
}

type snapShortcut struct {
	Name     string                            `json:"name"`
	Body     string                            `json:"body"`
	Channels []switchboard.ConversationChannel `json:"channels"`
	Teams    []string                          `json:"teams"`
}

type snapList struct {
	Name        string      `json:"name"`
	ListType    string      `json:"list_type"`
	Description string      `json:"description"`
	Entries     []snapEntry `json:"entries"`
}

type snapEntry struct {
	Name         string            `json:"name"`
	Company      string            `json:"company"`
	Email        string            `json:"email"`
	PhoneNumbers []contactPhoneOut `json:"phone_numbers"`
	Notes        string            `json:"notes"`
}

// allPages reads every page of a list.
func allPages[T any](ctx context.Context, list func(switchboard.ListOptions) (switchboard.Page[T], error)) ([]T, error) {
	var out []T
	opt := switchboard.ListOptions{Limit: switchboard.MaxPageLimit, SkipTotal: true}
	for {
		p, err := list(opt)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out, nil
		}
		opt.Cursor = p.NextCursor
	}
}

// settingsIndex is the tenant's objects that snapshots name, by id and by
// name.
type settingsIndex struct {
	users      []switchboard.User
	userByID   map[int64]switchboard.User
	userByMail map[string]switchboard.User
	skills     map[int64]string
	skillID    map[string]int64
	teams      map[int64]string
	teamID     map[string]int64
	queues     []switchboard.Queue
	queueByID  map[int64]switchboard.Queue
	queueID    map[string]int64
	menus      []switchboard.IVRMenu
	menuByID   map[int64]switchboard.IVRMenu
	menuID     map[string]int64
}

// loadSettingsIndex reads the tenant's users, skills, teams, queues and IVR
// menus once, for a snapshot to be built or applied.
func (a *API) loadSettingsIndex(ctx context.Context, tenantID int64) (*settingsIndex, error) {
	st := a.opt.Store
	ix := &settingsIndex{userByID: map[int64]switchboard.User{}, userByMail: map[string]switchboard.User{}, skills: map[int64]string{},
		skillID: map[string]int64{}, teams: map[int64]string{}, teamID: map[string]int64{}, queueByID: map[int64]switchboard.Queue{},
		queueID: map[string]int64{}, menuByID: map[int64]switchboard.IVRMenu{}, menuID: map[string]int64{}}
	var err error
	if ix.users, err = allPages(ctx, func(o switchboard.ListOptions) (switchboard.Page[switchboard.User], error) {
		return st.Users(ctx, tenantID, switchboard.UserFilter{IncludeDeactivated: true}, o)
	}); err != nil {
		return nil, err
	}
	for _, u := range ix.users {
		ix.userByID[u.ID], ix.userByMail[strings.ToLower(u.Email)] = u, u
	}
	skills, err := switchboard.All(ctx, st.Skills, tenantID)
	if err != nil {
		return nil, err
	}
	for _, s := range skills {
		ix.skills[s.ID], ix.skillID[s.Name] = s.Name, s.ID
	}
	teams, err := switchboard.All(ctx, st.Teams, tenantID)
	if err != nil {
		return nil, err
	}
	for _, t := range teams {
		ix.teams[t.ID], ix.teamID[t.Name] = t.Name, t.ID
	}
	if ix.queues, err = switchboard.All(ctx, st.Queues, tenantID); err != nil {
		return nil, err
	}
	for _, q := range ix.queues {
		ix.queueByID[q.ID], ix.queueID[q.Name] = q, q.ID
	}
	if ix.menus, err = switchboard.All(ctx, st.IVRMenus, tenantID); err != nil {
		return nil, err
	}
	for _, m := range ix.menus {
		ix.menuByID[m.ID], ix.menuID[m.Name] = m, m.ID
	}
	return ix, nil
}

// snapActionOf names an action's target.
func (ix *settingsIndex) snapActionOf(act switchboard.IVRAction) snapAction {
	out := snapAction{Action: act.Action}
	switch {
	case act.QueueID != nil:
		out.Queue = ix.queueByID[*act.QueueID].Name
	case act.MenuID != nil:
		out.Menu = ix.menuByID[*act.MenuID].Name
	case act.UserID != nil:
		out.User = ix.userByID[*act.UserID].Email
	}
	return out
}

// buildSnapshot reads the tenant's configuration into a document.
func (a *API) buildSnapshot(ctx context.Context, tenantID int64, revision string, audio, attached bool) (*settingsSnapshot, error) {
	st := a.opt.Store
	ix, err := a.loadSettingsIndex(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	s := &settingsSnapshot{Format: snapshotFormat, Revision: revision, ExportedAt: millis(a.now()), ExportAudioFiles: audio,
		ExportAttachedFiles: attached, Queues: []snapQueue{}, IVRMenus: []snapMenu{}, Numbers: []snapNumber{},
		ChatShortcuts: []snapShortcut{}, ContactLists: []snapList{}}
	if attached {
		s.AttachedFiles = &[]string{}
	}
	for _, q := range ix.queues {
		sq := snapQueue{Queue: q, RequiredSkills: []snapSkill{}, Members: []snapMember{}}
		if q.ParentID != nil {
			sq.Parent = ix.queueByID[*q.ParentID].Name
		}
		for _, rs := range q.RequiredSkills {
			sq.RequiredSkills = append(sq.RequiredSkills, snapSkill{Skill: ix.skills[rs.SkillID], MinProficiency: rs.MinProficiency})
		}
		members, err := allPages(ctx, func(o switchboard.ListOptions) (switchboard.Page[switchboard.QueueMember], error) {
			return st.QueueMembers(ctx, tenantID, q.ID, o)
		})
		if err != nil {
			return nil, err
		}
		slices.SortStableFunc(members, func(x, y switchboard.QueueMember) int { return cmp.Compare(x.Position, y.Position) })
		for _, m := range members {
			sq.Members = append(sq.Members, snapMember{Email: ix.userByID[m.UserID].Email, Penalty: m.Penalty})
		}
		s.Queues = append(s.Queues, sq)
	}
	for _, m := range ix.menus {
		sm := snapMenu{IVRMenu: m, Options: []snapOption{}, TimeoutAction: ix.snapActionOf(m.TimeoutAction),
			InvalidAction: ix.snapActionOf(m.InvalidAction), FinalAction: ix.snapActionOf(m.FinalAction)}
		for _, o := range m.Options {
			sm.Options = append(sm.Options, snapOption{Digit: o.Digit, snapAction: ix.snapActionOf(o.IVRAction)})
		}
		s.IVRMenus = append(s.IVRMenus, sm)
	}
	numbers, err := switchboard.All(ctx, st.PhoneNumbers, tenantID)
	if err != nil {
		return nil, err
	}
	for _, n := range numbers {
		switch {
		case n.QueueID != nil:
			s.Numbers = append(s.Numbers, snapNumber{Number: n.Number, Queue: ix.queueByID[*n.QueueID].Name})
		case n.IVRMenuID != nil:
			s.Numbers = append(s.Numbers, snapNumber{Number: n.Number, IVRMenu: ix.menuByID[*n.IVRMenuID].Name})
		}
	}
	replies, err := allPages(ctx, func(o switchboard.ListOptions) (switchboard.Page[switchboard.CannedReply], error) {
		return st.CannedReplies(ctx, tenantID, "", 0, o)
	})
	if err != nil {
		return nil, err
	}
	for _, r := range replies {
		sc := snapShortcut{Name: r.Name, Body: r.Body, Channels: r.Channels, Teams: []string{}}
		if sc.Channels == nil {
			sc.Channels = []switchboard.ConversationChannel{}
		}
		for _, id := range r.TeamIDs {
			sc.Teams = append(sc.Teams, ix.teams[id])
		}
		s.ChatShortcuts = append(s.ChatShortcuts, sc)
	}
	books, err := allPages(ctx, func(o switchboard.ListOptions) (switchboard.Page[switchboard.Phonebook], error) {
		return st.Phonebooks(ctx, tenantID, switchboard.PhonebookFilter{Kinds: []switchboard.PhonebookKind{switchboard.PhonebookGlobal, switchboard.PhonebookCustom}}, o)
	})
	if err != nil {
		return nil, err
	}
	for _, b := range books {
		entries, err := allPages(ctx, func(o switchboard.ListOptions) (switchboard.Page[switchboard.PhonebookEntry], error) {
			return st.PhonebookEntries(ctx, tenantID, b.ID, o)
		})
		if err != nil {
			return nil, err
		}
		sl := snapList{Name: b.Name, ListType: string(b.Kind), Description: b.Description, Entries: []snapEntry{}}
		for _, e := range entries {
			r := renderContactEntry(e)
			sl.Entries = append(sl.Entries, snapEntry{Name: e.Name, Company: e.Company, Email: e.Email, PhoneNumbers: r.PhoneNumbers, Notes: e.Notes})
		}
		s.ContactLists = append(s.ContactLists, sl)
	}
	return s, nil
}

// settingsApplySummary says what applying a snapshot did.
type settingsApplySummary struct {
	QueuesCreated        int      `json:"queues_created"`
	QueuesUpdated        int      `json:"queues_updated"`
	QueuesUnchanged      int      `json:"queues_unchanged"`
	MenusCreated         int      `json:"ivr_menus_created"`
	MenusUpdated         int      `json:"ivr_menus_updated"`
	MenusUnchanged       int      `json:"ivr_menus_unchanged"`
	SkillsCreated        int      `json:"skills_created"`
	NumbersRouted        int      `json:"phone_numbers_routed"`
	ChatShortcutsCreated int      `json:"chat_shortcuts_created"`
	ChatShortcutsUpdated int      `json:"chat_shortcuts_updated"`
	ContactListsCreated  int      `json:"contact_lists_created"`
	ContactListsUpdated  int      `json:"contact_lists_updated"`
	Warnings             []string `json:"warnings"`
}

// parseSnapshot decodes a document and checks what can be checked before
// anything is written: its format, unique names, and every reference
// resolving to an object of the document or of the tenant.
func parseSnapshot(b []byte, ix *settingsIndex) (*settingsSnapshot, error) {
	var s settingsSnapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, badRequest("file is not valid JSON: " + switchboard.Clip(err.Error(), 200))
	}
	if s.Format != snapshotFormat {
		return nil, badRequest(fmt.Sprintf("file is not a queue settings export (format must be %q)", snapshotFormat))
	}
	queues, menus := map[string]bool{}, map[string]bool{}
	for _, q := range s.Queues {
		name := strings.TrimSpace(q.Name)
		if name == "" {
			return nil, badRequest("every queue needs a name")
		}
		if queues[name] {
			return nil, badRequest("queue " + name + " is listed twice")
		}
		queues[name] = true
	}
	for _, m := range s.IVRMenus {
		name := strings.TrimSpace(m.Name)
		if name == "" {
			return nil, badRequest("every IVR menu needs a name")
		}
		if menus[name] {
			return nil, badRequest("IVR menu " + name + " is listed twice")
		}
		menus[name] = true
	}
	queueKnown := func(n string) bool { return queues[n] || ix.queueID[n] != 0 }
	menuKnown := func(n string) bool { return menus[n] || ix.menuID[n] != 0 }
	user := func(email, where string) error {
		if _, ok := ix.userByMail[strings.ToLower(email)]; !ok {
			return badRequest(fmt.Sprintf("%s names user %s, who is not a user of the company", where, email))
		}
		return nil
	}
	for _, q := range s.Queues {
		if q.Parent != "" && !queueKnown(q.Parent) {
			return nil, badRequest(fmt.Sprintf("queue %s nests under queue %s, which is neither in the file nor configured", q.Name, q.Parent))
		}
		for _, m := range q.Members {
			if err := user(m.Email, "queue "+q.Name); err != nil {
				return nil, err
			}
		}
		for _, sk := range q.RequiredSkills {
			if strings.TrimSpace(sk.Skill) == "" {
				return nil, badRequest("queue " + q.Name + " requires a skill without a name")
			}
		}
	}
	// The queues' parents once applied (the file's, else the tenant's)
	// must not loop, or the menu tree would have no root.
	parentOf := map[string]string{}
	for _, q := range ix.queues {
		if q.ParentID != nil {
			parentOf[q.Name] = ix.queueByID[*q.ParentID].Name
		}
	}
	for _, q := range s.Queues {
		parentOf[strings.TrimSpace(q.Name)] = q.Parent
	}
	for _, q := range s.Queues {
		seen := map[string]bool{}
		for n := strings.TrimSpace(q.Name); n != ""; n = parentOf[n] {
			if seen[n] {
				return nil, badRequest(fmt.Sprintf("queue %s would nest under itself (through queue %s)", q.Name, n))
			}
			seen[n] = true
		}
	}
	checkAction := func(act snapAction, where string) error {
		switch {
		case act.Queue != "" && !queueKnown(act.Queue):
			return badRequest(fmt.Sprintf("%s leads to queue %s, which is neither in the file nor configured", where, act.Queue))
		case act.Menu != "" && !menuKnown(act.Menu):
			return badRequest(fmt.Sprintf("%s leads to IVR menu %s, which is neither in the file nor configured", where, act.Menu))
		case act.User != "":
			return user(act.User, where)
		}
		return nil
	}
	for _, m := range s.IVRMenus {
		for _, o := range m.Options {
			if err := checkAction(o.snapAction, fmt.Sprintf("IVR menu %s option %s", m.Name, o.Digit)); err != nil {
				return nil, err
			}
		}
		for _, act := range []snapAction{m.TimeoutAction, m.InvalidAction, m.FinalAction} {
			if err := checkAction(act, "IVR menu "+m.Name); err != nil {
				return nil, err
			}
		}
	}
	for _, n := range s.Numbers {
		if err := checkAction(snapAction{Queue: n.Queue, Menu: n.IVRMenu}, "phone number "+n.Number); err != nil {
			return nil, err
		}
	}
	lists := map[string]bool{}
	for _, l := range s.ContactLists {
		switch l.ListType {
		case string(switchboard.PhonebookGlobal):
		case string(switchboard.PhonebookCustom):
			if lists[l.Name] {
				return nil, badRequest("contact list " + l.Name + " is listed twice")
			}
			lists[l.Name] = true
		default:
			return nil, badRequest("contact list " + l.Name + ": list_type must be global or custom")
		}
	}
	return &s, nil
}

// settingsApplier applies one snapshot to one tenant.
type settingsApplier struct {
	a        *API
	tenantID int64
	ix       *settingsIndex
	sum      settingsApplySummary
}

func (p *settingsApplier) warn(format string, args ...any) {
	p.sum.Warnings = append(p.sum.Warnings, fmt.Sprintf(format, args...))
}

// applySnapshot writes s onto the tenant, object by object: queues (then
// their parents and members), IVR menus (created bare, then given their
// options, since menus may lead to each other), number routes, chat
// shortcuts and contact lists. The writes are not one transaction; the
// caller saves the state before as a version, which a restore puts back.
func (a *API) applySnapshot(ctx context.Context, tenantID int64, s *settingsSnapshot, ix *settingsIndex) (settingsApplySummary, error) {
	p := &settingsApplier{a: a, tenantID: tenantID, ix: ix, sum: settingsApplySummary{Warnings: []string{}}}
	for _, step := range []func(context.Context, *settingsSnapshot) error{p.queues, p.members, p.menus, p.numbers, p.shortcuts, p.lists} {
		if err := step(ctx, s); err != nil {
			return p.sum, err
		}
	}
	return p.sum, nil
}

// skill is the id of the skill named name, created when the tenant lacks it.
func (p *settingsApplier) skill(ctx context.Context, name string) (int64, error) {
	if id, ok := p.ix.skillID[name]; ok {
		return id, nil
	}
	sk, err := p.a.opt.Store.CreateSkill(ctx, p.tenantID, switchboard.Skill{Name: name})
	if err != nil {
		return 0, settingsApplyErr(fmt.Sprintf("skill %s", name), err)
	}
	p.ix.skillID[name] = sk.ID
	p.sum.SkillsCreated++
	return sk.ID, nil
}

// queues creates or updates every queue, then sets their parents (a parent
// may come later in the file).
func (p *settingsApplier) queues(ctx context.Context, s *settingsSnapshot) error {
	st := p.a.opt.Store
	for _, sq := range s.Queues {
		q := sq.Queue
		q.Name = strings.TrimSpace(q.Name)
		q.RequiredSkills = make([]switchboard.QueueSkill, 0, len(sq.RequiredSkills))
		for _, rs := range sq.RequiredSkills {
			id, err := p.skill(ctx, strings.TrimSpace(rs.Skill))
			if err != nil {
				return err
			}
			q.RequiredSkills = append(q.RequiredSkills, switchboard.QueueSkill{SkillID: id, MinProficiency: rs.MinProficiency})
		}
		q.ParentID = nil
		if sq.Parent != "" {
			if id, ok := p.ix.queueID[sq.Parent]; ok {
				q.ParentID = &id
			}
		}
		if id, ok := p.ix.queueID[q.Name]; ok {
			next := func(cur *switchboard.Queue) error {
				keep := *cur
				*cur = q
				cur.ID, cur.TenantID, cur.UUID, cur.CreatedAt, cur.UpdatedAt = keep.ID, keep.TenantID, keep.UUID, keep.CreatedAt, keep.UpdatedAt
				if sq.Parent != "" && q.ParentID == nil {
					cur.ParentID = keep.ParentID // set in the second pass
				}
				return nil
			}
			// A queue the file leaves as it is (once given the defaults
			// the store gives) is not written: no queue.updated event for
			// subscribers, no row rewritten.
			was := p.ix.queueByID[id]
			if cand := was; next(&cand) == nil && normalizedQueue(&cand) && sameJSON(cand, was) {
				p.sum.QueuesUnchanged++
				continue
			}
			updated, err := st.UpdateQueueFunc(ctx, p.tenantID, id, next)
			if err != nil {
				return settingsApplyErr(fmt.Sprintf("queue %s", q.Name), err)
			}
			p.ix.queueByID[id] = updated
			p.sum.QueuesUpdated++
			continue
		}
		q.ID, q.TenantID, q.UUID = 0, 0, ""
		created, err := st.CreateQueue(ctx, p.tenantID, q)
		if err != nil {
			return settingsApplyErr(fmt.Sprintf("queue %s", q.Name), err)
		}
		p.ix.queueID[created.Name], p.ix.queueByID[created.ID] = created.ID, created
		p.sum.QueuesCreated++
	}
	for _, sq := range s.Queues {
		id := p.ix.queueID[strings.TrimSpace(sq.Name)]
		var want *int64
		if sq.Parent != "" {
			pid := p.ix.queueID[sq.Parent]
			want = &pid
		}
		if sameOptID(p.ix.queueByID[id].ParentID, want) {
			continue
		}
		if _, err := st.UpdateQueueFunc(ctx, p.tenantID, id, func(cur *switchboard.Queue) error {
			cur.ParentID = want
			return nil
		}); err != nil {
			return settingsApplyErr(fmt.Sprintf("queue %s: parent %s", sq.Name, sq.Parent), err)
		}
	}
	return nil
}

func sameOptID(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// members makes each queue's members those of the file, in its order:
// others are removed, penalties updated, missing ones added. A deactivated
// user cannot rejoin and is reported.
func (p *settingsApplier) members(ctx context.Context, s *settingsSnapshot) error {
	st := p.a.opt.Store
	for _, sq := range s.Queues {
		qid := p.ix.queueID[strings.TrimSpace(sq.Name)]
		cur, err := allPages(ctx, func(o switchboard.ListOptions) (switchboard.Page[switchboard.QueueMember], error) {
			return st.QueueMembers(ctx, p.tenantID, qid, o)
		})
		if err != nil {
			return err
		}
		want := map[int64]int{}
		for _, m := range sq.Members {
			want[p.ix.userByMail[strings.ToLower(m.Email)].ID] = m.Penalty
		}
		have := map[int64]switchboard.QueueMember{}
		for _, m := range cur {
			if _, ok := want[m.UserID]; !ok {
				if err := st.RemoveQueueMember(ctx, p.tenantID, qid, m.UserID); err != nil {
					return settingsApplyErr(fmt.Sprintf("queue %s: remove member %d", sq.Name, m.UserID), err)
				}
				continue
			}
			have[m.UserID] = m
		}
		for _, m := range sq.Members {
			u := p.ix.userByMail[strings.ToLower(m.Email)]
			if old, ok := have[u.ID]; ok {
				if old.Penalty != m.Penalty {
					old.Penalty = m.Penalty
					if _, err := st.UpdateQueueMember(ctx, p.tenantID, old); err != nil {
						return settingsApplyErr(fmt.Sprintf("queue %s: member %s", sq.Name, m.Email), err)
					}
				}
				continue
			}
			if u.DeactivatedAt != nil {
				p.warn("queue %s: %s is deactivated and was not added", sq.Name, m.Email)
				continue
			}
			if _, err := st.AddQueueMember(ctx, p.tenantID, switchboard.QueueMember{QueueID: qid, UserID: u.ID, Penalty: m.Penalty}); err != nil {
				return settingsApplyErr(fmt.Sprintf("queue %s: member %s", sq.Name, m.Email), err)
			}
		}
	}
	return nil
}

// action resolves an action's target by name.
func (p *settingsApplier) action(sa snapAction) switchboard.IVRAction {
	act := switchboard.IVRAction{Action: sa.Action}
	switch {
	case sa.Queue != "":
		id := p.ix.queueID[sa.Queue]
		act.QueueID = &id
	case sa.Menu != "":
		id := p.ix.menuID[sa.Menu]
		act.MenuID = &id
	case sa.User != "":
		id := p.ix.userByMail[strings.ToLower(sa.User)].ID
		act.UserID = &id
	}
	return act
}

// menus creates the missing menus bare, then gives every menu its options
// and actions.
func (p *settingsApplier) menus(ctx context.Context, s *settingsSnapshot) error {
	st := p.a.opt.Store
	created := map[string]bool{}
	for _, sm := range s.IVRMenus {
		name := strings.TrimSpace(sm.Name)
		if _, ok := p.ix.menuID[name]; ok {
			continue
		}
		m, err := st.CreateIVRMenu(ctx, p.tenantID, switchboard.IVRMenu{Name: name, Prompt: sm.Prompt})
		if err != nil {
			return settingsApplyErr(fmt.Sprintf("IVR menu %s", name), err)
		}
		p.ix.menuID[name], p.ix.menuByID[m.ID] = m.ID, m
		p.sum.MenusCreated++
		created[name] = true
	}
	for _, sm := range s.IVRMenus {
		name := strings.TrimSpace(sm.Name)
		m := sm.IVRMenu
		m.Name = name
		m.Options = make([]switchboard.IVROption, 0, len(sm.Options))
		for _, o := range sm.Options {
			m.Options = append(m.Options, switchboard.IVROption{Digit: o.Digit, IVRAction: p.action(o.snapAction)})
		}
		m.TimeoutAction, m.InvalidAction, m.FinalAction = p.action(sm.TimeoutAction), p.action(sm.InvalidAction), p.action(sm.FinalAction)
		next := func(cur *switchboard.IVRMenu) error {
			keep := *cur
			*cur = m
			cur.ID, cur.TenantID, cur.CreatedAt, cur.UpdatedAt = keep.ID, keep.TenantID, keep.CreatedAt, keep.UpdatedAt
			return nil
		}
		if was, ok := p.ix.menuByID[p.ix.menuID[name]]; ok && !created[name] {
			if cand := was; next(&cand) == nil && normalizedMenu(&cand) && sameJSON(cand, was) {
				p.sum.MenusUnchanged++
				continue
			}
		}
		if _, err := st.UpdateIVRMenuFunc(ctx, p.tenantID, p.ix.menuID[name], next); err != nil {
			return settingsApplyErr(fmt.Sprintf("IVR menu %s", name), err)
		}
		if !created[name] {
			p.sum.MenusUpdated++
		}
	}
	return nil
}

// numbers routes the tenant's numbers as the file says; numbers the tenant
// does not have are reported.
func (p *settingsApplier) numbers(ctx context.Context, s *settingsSnapshot) error {
	st := p.a.opt.Store
	if len(s.Numbers) == 0 {
		return nil
	}
	have, err := switchboard.All(ctx, st.PhoneNumbers, p.tenantID)
	if err != nil {
		return err
	}
	byNumber := map[string]switchboard.PhoneNumber{}
	for _, n := range have {
		byNumber[n.Number] = n
	}
	for _, sn := range s.Numbers {
		n, ok := byNumber[sn.Number]
		if !ok {
			p.warn("phone number %s is not the company's; its route was skipped", sn.Number)
			continue
		}
		act := p.action(snapAction{Queue: sn.Queue, Menu: sn.IVRMenu})
		if sameOptID(n.QueueID, act.QueueID) && sameOptID(n.IVRMenuID, act.MenuID) && n.UserID == nil {
			continue
		}
		if _, err := st.UpdatePhoneNumberFunc(ctx, p.tenantID, n.ID, func(cur *switchboard.PhoneNumber) error {
			cur.UserID, cur.QueueID, cur.IVRMenuID = nil, act.QueueID, act.MenuID
			return nil
		}); err != nil {
			return settingsApplyErr(fmt.Sprintf("phone number %s", sn.Number), err)
		}
		p.sum.NumbersRouted++
	}
	return nil
}

// shortcuts creates or updates chat shortcuts by name; teams the tenant
// lacks are reported and left out.
func (p *settingsApplier) shortcuts(ctx context.Context, s *settingsSnapshot) error {
	st := p.a.opt.Store
	if len(s.ChatShortcuts) == 0 {
		return nil
	}
	have, err := allPages(ctx, func(o switchboard.ListOptions) (switchboard.Page[switchboard.CannedReply], error) {
		return st.CannedReplies(ctx, p.tenantID, "", 0, o)
	})
	if err != nil {
		return err
	}
	byName := map[string]int64{}
	current := map[string]switchboard.CannedReply{}
	for _, r := range have {
		byName[r.Name], current[r.Name] = r.ID, r
	}
	for _, sc := range s.ChatShortcuts {
		r := switchboard.CannedReply{Name: sc.Name, Body: sc.Body, Channels: sc.Channels, TeamIDs: []int64{}}
		for _, t := range sc.Teams {
			id, ok := p.ix.teamID[t]
			if !ok {
				p.warn("chat shortcut %s: team %s is not the company's and was left out", sc.Name, t)
				continue
			}
			r.TeamIDs = append(r.TeamIDs, id)
		}
		if id, ok := byName[sc.Name]; ok {
			if cur := current[sc.Name]; cur.Body == r.Body && slices.Equal(cur.Channels, r.Channels) && slices.Equal(cur.TeamIDs, r.TeamIDs) {
				continue
			}
			if _, err := st.UpdateCannedReplyFunc(ctx, p.tenantID, id, func(cur *switchboard.CannedReply) error {
				cur.Body, cur.Channels, cur.TeamIDs = r.Body, r.Channels, r.TeamIDs
				return nil
			}); err != nil {
				return settingsApplyErr(fmt.Sprintf("chat shortcut %s", sc.Name), err)
			}
			p.sum.ChatShortcutsUpdated++
			continue
		}
		if _, err := st.CreateCannedReply(ctx, p.tenantID, r); err != nil {
			return settingsApplyErr(fmt.Sprintf("chat shortcut %s", sc.Name), err)
		}
		p.sum.ChatShortcutsCreated++
	}
	return nil
}

// lists makes the global list and each custom list (by name) hold the
// file's entries.
func (p *settingsApplier) lists(ctx context.Context, s *settingsSnapshot) error {
	st := p.a.opt.Store
	if len(s.ContactLists) == 0 {
		return nil
	}
	customs, err := allPages(ctx, func(o switchboard.ListOptions) (switchboard.Page[switchboard.Phonebook], error) {
		return st.Phonebooks(ctx, p.tenantID, switchboard.PhonebookFilter{Kinds: []switchboard.PhonebookKind{switchboard.PhonebookCustom}}, o)
	})
	if err != nil {
		return err
	}
	byName := map[string]switchboard.Phonebook{}
	for _, b := range customs {
		byName[b.Name] = b
	}
	for _, sl := range s.ContactLists {
		var book switchboard.Phonebook
		changed, created := false, false
		switch cur, ok := byName[sl.Name]; {
		case sl.ListType == string(switchboard.PhonebookGlobal):
			book, err = st.EnsurePhonebook(ctx, p.tenantID, switchboard.PhonebookGlobal, nil)
		case ok && strings.TrimSpace(sl.Description) == cur.Description:
			book = cur
		case ok:
			book, err = st.UpdatePhonebookFunc(ctx, p.tenantID, cur.ID, func(cur *switchboard.Phonebook) error {
				cur.Description = sl.Description
				return nil
			})
			changed = true
		default:
			book, err = st.CreatePhonebook(ctx, p.tenantID, switchboard.Phonebook{Kind: switchboard.PhonebookCustom, Name: sl.Name, Description: sl.Description})
			created = true
		}
		if err != nil {
			return settingsApplyErr(fmt.Sprintf("contact list %s", sl.Name), err)
		}
		entries := make([]switchboard.PhonebookEntry, len(sl.Entries))
		for i, e := range sl.Entries {
			entries[i] = switchboard.PhonebookEntry{Name: e.Name, Company: e.Company, Email: e.Email, Notes: e.Notes,
				Numbers: make([]switchboard.PhonebookNumber, len(e.PhoneNumbers))}
			for j, n := range e.PhoneNumbers {
				entries[i].Numbers[j] = switchboard.PhonebookNumber(n)
			}
		}
		have, err := allPages(ctx, func(o switchboard.ListOptions) (switchboard.Page[switchboard.PhonebookEntry], error) {
			return st.PhonebookEntries(ctx, p.tenantID, book.ID, o)
		})
		if err != nil {
			return err
		}
		if !sameEntries(have, entries) {
			if _, err := st.ReplacePhonebookEntries(ctx, p.tenantID, book.ID, entries); err != nil {
				return settingsApplyErr(fmt.Sprintf("contact list %s", sl.Name), err)
			}
			changed = true
		}
		switch {
		case created:
			p.sum.ContactListsCreated++
		case changed:
			p.sum.ContactListsUpdated++
		}
	}
	return nil
}

// settingsApplyErr names the object whose write failed. A refusal of the core
// (a setting out of range, a name taken) is the client's file: a 400 that
// says what and why; other failures stay server errors.
func settingsApplyErr(what string, err error) error {
	var e *switchboard.Error
	if !errors.As(err, &e) || e.Code == switchboard.CodeInternal || e.Code == switchboard.CodeUnavailable {
		return fmt.Errorf("%s: %w", what, err)
	}
	text := what + ": " + e.Message
	fields := make([]string, 0, len(e.Fields))
	for f, reason := range e.Fields {
		fields = append(fields, f+" "+reason)
	}
	slices.Sort(fields)
	if len(fields) > 0 {
		text += " (" + strings.Join(fields, "; ") + ")"
	}
	return badRequest(text)
}

// sameJSON says whether a and b render alike: how an object the file
// leaves unchanged is told apart from one it changes.
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// normalizedQueue and normalizedMenu give a candidate the defaults the
// store would, for the comparison with what it holds; they report true.
func normalizedQueue(q *switchboard.Queue) bool {
	q.Normalize()
	return true
}

func normalizedMenu(m *switchboard.IVRMenu) bool {
	m.Normalize()
	return true
}

// sameEntries says whether a list already holds exactly the entries, in
// order, so that a restore need not rewrite it.
func sameEntries(have, want []switchboard.PhonebookEntry) bool {
	return slices.EqualFunc(have, want, func(h, w switchboard.PhonebookEntry) bool {
		w.Normalize()
		return h.Name == w.Name && h.Company == w.Company && h.Email == w.Email && h.Notes == w.Notes && slices.Equal(h.Numbers, w.Numbers)
	})
}
