package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/internal/sqlstore"
)

func TestIVRMenus(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		u, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann", Extension: "101"})
		q, _ := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Sales"})
		oq, _ := db.CreateQueue(ctx, other.ID, switchboard.Queue{Name: "Theirs"})

		sub, err := db.CreateIVRMenu(ctx, tn.ID, switchboard.IVRMenu{Name: "Support"})
		if err != nil {
			t.Fatal(err)
		}
		if sub.Prompt != switchboard.DefaultIVRPrompt || sub.TimeoutSeconds != switchboard.DefaultIVRTimeout ||
			sub.TimeoutAction.Action != switchboard.IVRRepeat || sub.FinalAction.Action != switchboard.IVRHangup ||
			len(sub.Options) != 0 || sub.Options == nil {
			t.Errorf("defaults of a new menu: %+v", sub)
		}
		main := switchboard.IVRMenu{Name: "Main", Prompt: "main-menu", TimeoutSeconds: 5, MaxRepeats: 3,
			Options: []switchboard.IVROption{
				{Digit: "1", IVRAction: switchboard.IVRAction{Action: switchboard.IVRToQueue, QueueID: &q.ID}},
				{Digit: "2", IVRAction: switchboard.IVRAction{Action: switchboard.IVRToMenu, MenuID: &sub.ID}},
				{Digit: "0", IVRAction: switchboard.IVRAction{Action: switchboard.IVRToUser, UserID: &u.ID}},
				{Digit: "#", IVRAction: switchboard.IVRAction{Action: switchboard.IVRHangup}},
			},
			TimeoutAction: switchboard.IVRAction{Action: switchboard.IVRToQueue, QueueID: &q.ID},
			InvalidAction: switchboard.IVRAction{Action: switchboard.IVRRepeat},
			FinalAction:   switchboard.IVRAction{Action: switchboard.IVRToMenu, MenuID: &sub.ID}}
		created, err := db.CreateIVRMenu(ctx, tn.ID, main)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.IVRMenu(ctx, tn.ID, created.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(created, got); diff != "" {
			t.Errorf("IVRMenu reads back differently (-created +read):\n%s", diff)
		}
		if got.Options[0].Digit != "1" || got.Options[3].Digit != "#" {
			t.Errorf("options lost their order: %+v", got.Options)
		}

		// Validation names the field.
		for name, c := range map[string]struct {
			m     switchboard.IVRMenu
			field string
		}{
			"no name":      {switchboard.IVRMenu{}, "name"},
			"bad prompt":   {switchboard.IVRMenu{Name: "x", Prompt: "../etc/passwd"}, "prompt"},
			"long timeout": {switchboard.IVRMenu{Name: "x", TimeoutSeconds: 61}, "timeout_seconds"},
			"repeats":      {switchboard.IVRMenu{Name: "x", MaxRepeats: 11}, "max_repeats"},
			"bad digit": {switchboard.IVRMenu{Name: "x", Options: []switchboard.IVROption{
				{Digit: "12", IVRAction: switchboard.IVRAction{Action: switchboard.IVRHangup}}}}, "options"},
			"twice": {switchboard.IVRMenu{Name: "x", Options: []switchboard.IVROption{
				{Digit: "1", IVRAction: switchboard.IVRAction{Action: switchboard.IVRHangup}},
				{Digit: "1", IVRAction: switchboard.IVRAction{Action: switchboard.IVRRepeat}}}}, "options"},
			"no target":    {switchboard.IVRMenu{Name: "x", TimeoutAction: switchboard.IVRAction{Action: switchboard.IVRToQueue}}, "timeout_action"},
			"two targets":  {switchboard.IVRMenu{Name: "x", InvalidAction: switchboard.IVRAction{Action: switchboard.IVRToQueue, QueueID: &q.ID, UserID: &u.ID}}, "invalid_action"},
			"final repeat": {switchboard.IVRMenu{Name: "x", FinalAction: switchboard.IVRAction{Action: switchboard.IVRRepeat}}, "final_action"},
			"bad action":   {switchboard.IVRMenu{Name: "x", FinalAction: switchboard.IVRAction{Action: "voicemail"}}, "final_action"},
			"other tenant's queue": {switchboard.IVRMenu{Name: "x", TimeoutAction: switchboard.IVRAction{Action: switchboard.IVRToQueue,
				QueueID: &oq.ID}}, "queue_id"},
			"unknown menu": {switchboard.IVRMenu{Name: "x", TimeoutAction: switchboard.IVRAction{Action: switchboard.IVRToMenu,
				MenuID: ptr(int64(999999))}}, "menu_id"},
		} {
			_, err := db.CreateIVRMenu(ctx, tn.ID, c.m)
			wantField(t, name, err, switchboard.CodeInvalid, c.field)
		}
		self := got
		self.TimeoutAction = switchboard.IVRAction{Action: switchboard.IVRToMenu, MenuID: &self.ID}
		_, err = db.UpdateIVRMenu(ctx, tn.ID, self)
		wantField(t, "a menu leading to itself", err, switchboard.CodeInvalid, "timeout_action")

		// Update through the read-modify-write path, and the other tenant sees nothing.
		upd, err := db.UpdateIVRMenuFunc(ctx, tn.ID, created.ID, func(m *switchboard.IVRMenu) error {
			m.Name, m.Options = "Main line", m.Options[:1]
			return nil
		})
		if err != nil || upd.Name != "Main line" || len(upd.Options) != 1 || upd.FinalAction.MenuID == nil {
			t.Fatalf("UpdateIVRMenuFunc = %+v, %v", upd, err)
		}
		if _, err := db.IVRMenu(ctx, other.ID, created.ID); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Errorf("another tenant reads the menu: %v", err)
		}
		if err := db.DeleteIVRMenu(ctx, other.ID, created.ID); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Errorf("another tenant deletes the menu: %v", err)
		}
		if p, err := db.IVRMenus(ctx, tn.ID, switchboard.ListOptions{}); err != nil || p.Total != 2 {
			t.Fatalf("IVRMenus = %+v, %v", p, err)
		}
		if p, err := db.IVRMenus(ctx, other.ID, switchboard.ListOptions{}); err != nil || p.Total != 0 {
			t.Fatalf("IVRMenus of the other tenant = %+v, %v", p, err)
		}

		// A number routes to one target, a menu of its own tenant.
		n, err := db.CreatePhoneNumber(ctx, tn.ID, switchboard.PhoneNumber{Number: "+15550001000", IVRMenuID: &created.ID})
		if err != nil || n.IVRMenuID == nil || *n.IVRMenuID != created.ID {
			t.Fatalf("CreatePhoneNumber to a menu = %+v, %v", n, err)
		}
		if back, _ := db.PhoneNumber(ctx, tn.ID, n.ID); back.IVRMenuID == nil || *back.IVRMenuID != created.ID {
			t.Errorf("the number's menu does not read back: %+v", back)
		}
		_, err = db.CreatePhoneNumber(ctx, tn.ID, switchboard.PhoneNumber{Number: "+15550001001", IVRMenuID: &created.ID, QueueID: &q.ID})
		wantField(t, "menu and queue", err, switchboard.CodeInvalid, "ivr_menu_id")
		_, err = db.CreatePhoneNumber(ctx, other.ID, switchboard.PhoneNumber{Number: "+15550001002", IVRMenuID: &created.ID})
		wantField(t, "another tenant's menu", err, switchboard.CodeInvalid, "ivr_menu_id")

		// What a menu or number leads to cannot be deleted from under it.
		err = db.DeleteIVRMenu(ctx, tn.ID, created.ID)
		wantCode(t, "delete a menu a number leads to", err, switchboard.CodeConflict)
		if !strings.Contains(err.Error(), "+15550001000") {
			t.Errorf("the conflict does not name the number: %v", err)
		}
		err = db.DeleteIVRMenu(ctx, tn.ID, sub.ID)
		wantCode(t, "delete a menu another menu leads to", err, switchboard.CodeConflict)
		if !strings.Contains(err.Error(), "Main line") {
			t.Errorf("the conflict does not name the menu: %v", err)
		}
		err = db.DeleteQueue(ctx, tn.ID, q.ID)
		wantCode(t, "delete a queue a menu leads to", err, switchboard.CodeConflict)

		// Once nothing leads there, deletions go through, actions with them.
		n.IVRMenuID, n.Number = nil, ""
		if _, err := db.UpdatePhoneNumber(ctx, tn.ID, n); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteIVRMenu(ctx, tn.ID, created.ID); err != nil {
			t.Fatalf("delete an unreferenced menu: %v", err)
		}
		if err := db.DeleteIVRMenu(ctx, tn.ID, sub.ID); err != nil {
			t.Fatalf("delete the submenu once its parent is gone: %v", err)
		}
		if err := db.DeleteQueue(ctx, tn.ID, q.ID); err != nil {
			t.Fatalf("delete a queue no menu leads to: %v", err)
		}

		// Every change has its event, payload versioned.
		evs, err := db.Events(ctx, tn.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, e := range evs {
			count[e.Type]++
			if strings.HasPrefix(e.Type, "ivr_menu.") && (e.SubjectType != "ivr_menu" || !strings.Contains(string(e.Payload), `"v":1`)) {
				t.Errorf("event %s: subject %q, payload %s", e.Type, e.SubjectType, e.Payload)
			}
		}
		if count[switchboard.EventIVRMenuCreated] != 2 || count[switchboard.EventIVRMenuUpdated] != 1 || count[switchboard.EventIVRMenuDeleted] != 2 {
			t.Errorf("ivr_menu events: %v", count)
		}
	})
}

func ptr[T any](v T) *T { return &v }
