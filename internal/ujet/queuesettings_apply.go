package ujet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"switchboard"
)

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
