package ujet

// The queue-settings snapshot: a tenant's queue and menu configuration as
// one JSON document in which objects name each other by name (queues, menus,
// skills, teams) or e-mail (users), never by id, so that it can be applied
// to the same tenant after its objects were deleted and made again, or to
// another tenant. Applying it creates or updates objects by name and never
// deletes any.

import (
	"cmp"
	"context"
	"encoding/json"
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
