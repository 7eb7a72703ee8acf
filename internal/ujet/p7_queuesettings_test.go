package ujet

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"switchboard"
)

var p7VersionTypes = map[string]string{"id": "number", "revision": "string", "version_type": "string", "created_by": "string|null",
	"export_audio_files": "boolean", "export_attached_files": "boolean", "file_name": "string", "file_size": "number",
	"download_url": "string", "created_at": "string"}

// p7Config is a tenant's configuration as the queue-settings tests build
// it: queues nested, with members, skills and settings; IVR menus leading
// to a queue, a menu and a user; numbers routed to a menu and a queue; a
// chat shortcut; a custom contact list.
type p7Config struct {
	ann, bob          switchboard.User
	spanish           switchboard.Skill
	sales, emea       switchboard.Queue
	main, sub         switchboard.IVRMenu
	mainNum, salesNum switchboard.PhoneNumber
}

func p7Configure(t *testing.T, r *p7Rig) p7Config {
	t.Helper()
	ctx := context.Background()
	tid := r.tenant.ID
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var c p7Config
	var err error
	c.ann, err = r.db.CreateUser(ctx, tid, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"})
	must(err)
	c.bob, err = r.db.CreateUser(ctx, tid, switchboard.User{Email: "bob@acme.test", FirstName: "Bob"})
	must(err)
	c.spanish, err = r.db.CreateSkill(ctx, tid, switchboard.Skill{Name: "Spanish"})
	must(err)
	c.sales, err = r.db.CreateQueue(ctx, tid, switchboard.Queue{Name: "Sales", Extension: "700", Strategy: switchboard.StrategyLinear,
		MaxWaitSeconds: 300, WrapUpSeconds: 15, Language: "es", VoicemailEnabled: true, CallbackSlotMinutes: 30,
		Hours: &switchboard.OperatingHours{TimeZone: "Europe/Madrid", Weekly: []switchboard.OpenRange{{Day: 1, Open: "09:00", Close: "18:00"}},
			Holidays: []switchboard.Holiday{{Date: "2026-12-25", Name: "Navidad"}}},
		RequiredSkills: []switchboard.QueueSkill{{SkillID: c.spanish.ID, MinProficiency: 3}}})
	must(err)
	c.emea, err = r.db.CreateQueue(ctx, tid, switchboard.Queue{Name: "Sales EMEA", ParentID: &c.sales.ID})
	must(err)
	for _, m := range []switchboard.QueueMember{{QueueID: c.sales.ID, UserID: c.bob.ID, Penalty: 2}, {QueueID: c.sales.ID, UserID: c.ann.ID}} {
		_, err = r.db.AddQueueMember(ctx, tid, m)
		must(err)
	}
	c.sub, err = r.db.CreateIVRMenu(ctx, tid, switchboard.IVRMenu{Name: "Sub", Options: []switchboard.IVROption{
		{Digit: "0", IVRAction: switchboard.IVRAction{Action: switchboard.IVRToUser, UserID: &c.ann.ID}}}})
	must(err)
	c.main, err = r.db.CreateIVRMenu(ctx, tid, switchboard.IVRMenu{Name: "Main", Prompt: "welcome", Options: []switchboard.IVROption{
		{Digit: "1", IVRAction: switchboard.IVRAction{Action: switchboard.IVRToQueue, QueueID: &c.sales.ID}},
		{Digit: "9", IVRAction: switchboard.IVRAction{Action: switchboard.IVRToMenu, MenuID: &c.sub.ID}}},
		TimeoutAction: switchboard.IVRAction{Action: switchboard.IVRToQueue, QueueID: &c.sales.ID}, MaxRepeats: 2})
	must(err)
	c.mainNum, err = r.db.CreatePhoneNumber(ctx, tid, switchboard.PhoneNumber{Number: "+18885550100", IVRMenuID: &c.main.ID})
	must(err)
	c.salesNum, err = r.db.CreatePhoneNumber(ctx, tid, switchboard.PhoneNumber{Number: "+18885550101", QueueID: &c.sales.ID})
	must(err)
	_, err = r.db.CreateCannedReply(ctx, tid, switchboard.CannedReply{Name: "Greeting", Body: "Hello {{name}}"})
	must(err)
	book, err := r.db.CreatePhonebook(ctx, tid, switchboard.Phonebook{Kind: switchboard.PhonebookCustom, Name: "Vendors"})
	must(err)
	_, err = r.db.CreatePhonebookEntry(ctx, tid, switchboard.PhonebookEntry{PhonebookID: book.ID, Name: "Acme Support",
		Numbers: []switchboard.PhonebookNumber{{Label: "office", Number: "+14155550100"}}})
	must(err)
	return c
}

// p7SettingsOf is an export's document without what differs from one export
// to the next (its revision and time), its lists sorted by name: objects
// are exported in id order, and a restored queue has a new id.
func p7SettingsOf(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("export %s: %v", body, err)
	}
	delete(m, "revision")
	delete(m, "exported_at")
	for key, by := range map[string]string{"queues": "name", "ivr_menus": "name", "phone_numbers": "number", "chat_shortcuts": "name", "contact_lists": "name"} {
		list, _ := m[key].([]any)
		slices.SortFunc(list, func(a, b any) int {
			return strings.Compare(fmt.Sprint(a.(map[string]any)[by]), fmt.Sprint(b.(map[string]any)[by]))
		})
	}
	return m
}

// TestP7QueueSettings runs the seed's seven queue-settings operations: an
// export is a real snapshot saved as a version; versions list, read and
// download; an auto-save from the seed's body; a restore (by the seed's
// body) brings back a deleted queue with its members, skills, settings and
// the menus and numbers that led to it; an import creates and updates by
// name after saving the state before; and every refusal has its text.
func TestP7QueueSettings(t *testing.T) {
	p7Engines(t, func(t *testing.T, r *p7Rig) {
		ctx := context.Background()
		tid := r.tenant.ID
		const rd, mg = switchboard.ScopeRoutingRead, switchboard.ScopeRoutingManage
		c := p7Configure(t, r)

		// Export: both flags required; audio needs a ZIP and is refused.
		r.do("GET", "queue_settings/export", rd, nil).want(t, 400, "param is missing or the value is empty: export_audio_files")
		r.do("GET", "queue_settings/export?export_audio_files=false", rd, nil).
			want(t, 400, "param is missing or the value is empty: export_attached_files")
		r.do("GET", "queue_settings/export?export_audio_files=maybe&export_attached_files=false", rd, nil).
			want(t, 400, "export_audio_files must be true or false")
		r.do("GET", "queue_settings/export?export_audio_files=true&export_attached_files=false", rd, nil).want(t, 400, textSettingsNoAudio)
		exp := r.do("GET", "queue_settings/export?export_audio_files=false&export_attached_files=false", rd, nil).want(t, 200, "")
		if !strings.HasPrefix(exp.header.Get("Content-Type"), "application/json") ||
			!strings.HasPrefix(exp.header.Get("Content-Disposition"), `attachment; filename=queue_settings_`) {
			t.Fatalf("export headers %v", exp.header)
		}
		var doc settingsSnapshot
		exp.json(t, &doc)
		if doc.Format != snapshotFormat || len(doc.Queues) != 2 || len(doc.IVRMenus) != 2 || len(doc.Numbers) != 2 ||
			len(doc.ChatShortcuts) != 1 || len(doc.ContactLists) != 1 || doc.AttachedFiles != nil {
			t.Fatalf("export %s", exp.body)
		}
		sales := doc.Queues[0]
		if sales.Name != "Sales" || sales.Extension != "700" || sales.MaxWaitSeconds != 300 || sales.Strategy != switchboard.StrategyLinear ||
			!reflect.DeepEqual(sales.Members, []snapMember{{Email: "bob@acme.test", Penalty: 2}, {Email: "ann@acme.test"}}) ||
			!reflect.DeepEqual(sales.RequiredSkills, []snapSkill{{Skill: "Spanish", MinProficiency: 3}}) || doc.Queues[1].Parent != "Sales" {
			t.Fatalf("exported queues %+v", doc.Queues)
		}
		var raw struct {
			Queues   []map[string]any `json:"queues"`
			IVRMenus []map[string]any `json:"ivr_menus"`
		}
		exp.json(t, &raw)
		for _, k := range []string{"id", "tenant_id", "uuid", "parent_id", "created_at"} {
			if _, ok := raw.Queues[0][k]; ok {
				t.Errorf("an exported queue carries %s, which another tenant or a restore cannot use", k)
			}
		}
		for _, k := range []string{"strategy", "timeout_seconds", "hours", "menu_type", "voicemail_enabled", "callback_slot_minutes", "language"} {
			if _, ok := raw.Queues[0][k]; !ok {
				t.Errorf("an exported queue lacks the setting %s", k)
			}
		}
		mainMenu := doc.IVRMenus[1]
		if mainMenu.Name != "Main" || mainMenu.Prompt != "welcome" || mainMenu.MaxRepeats != 2 || mainMenu.TimeoutAction.Queue != "Sales" ||
			mainMenu.Options[0].Queue != "Sales" || mainMenu.Options[1].Menu != "Sub" || doc.IVRMenus[0].Options[0].User != "ann@acme.test" {
			t.Fatalf("exported menus %+v", doc.IVRMenus)
		}
		if doc.Numbers[0] != (snapNumber{Number: "+18885550100", IVRMenu: "Main"}) || doc.Numbers[1] != (snapNumber{Number: "+18885550101", Queue: "Sales"}) {
			t.Fatalf("exported numbers %+v", doc.Numbers)
		}
		if l := doc.ContactLists[0]; l.Name != "Vendors" || l.ListType != "custom" || len(l.Entries) != 1 || l.Entries[0].PhoneNumbers[0].Number != "+14155550100" {
			t.Fatalf("exported lists %+v", doc.ContactLists)
		}

		// The export is a version; list, get and download it.
		list := r.do("GET", "queue_settings/version_histories", rd, nil).want(t, 200, "")
		var versions []map[string]any
		list.json(t, &versions)
		if len(versions) != 1 || list.header.Get("Total") != "1" {
			t.Fatalf("versions %s", list.body)
		}
		p7WantTypes(t, "version", versions[0], p7VersionTypes)
		exported := versions[0]
		if exported["version_type"] != "exported" || exported["revision"] != doc.Revision || exported["file_size"] != float64(len(exp.body)) ||
			exported["download_url"] != fmt.Sprintf("https://acme.example.test/apps/api/v1/queue_settings/version_histories/%v/download", exported["id"]) {
			t.Fatalf("exported version %v", exported)
		}
		vid := int64(exported["id"].(float64))
		got := r.do("GET", fmt.Sprintf("queue_settings/version_histories/%d", vid), rd, nil).want(t, 200, "").object(t)
		if !reflect.DeepEqual(got, exported) {
			t.Fatalf("get %v, listed %v", got, exported)
		}
		dl := r.do("GET", fmt.Sprintf("queue_settings/version_histories/%d/download", vid), rd, nil).want(t, 200, "")
		if string(dl.body) != string(exp.body) || dl.header.Get("Content-Disposition") != exp.header.Get("Content-Disposition") {
			t.Fatalf("download differs from the export")
		}
		r.do("GET", "queue_settings/version_histories/999999", rd, nil).want(t, 404, textNotFound)
		r.send("GET", fmt.Sprintf("queue_settings/version_histories/%d", vid), "rival", r.otherKey, "", nil).want(t, 404, textNotFound)

		// The seed's auto-save body.
		auto := r.do("POST", "queue_settings/version_histories", mg, `{ "export_audio_files": false, "export_attached_files": true }`).
			want(t, 201, "").object(t)
		p7WantTypes(t, "auto-saved version", auto, p7VersionTypes)
		if auto["version_type"] != "auto_saved" || auto["export_attached_files"] != true || auto["export_audio_files"] != false {
			t.Fatalf("auto-saved %v", auto)
		}
		autoDoc := r.do("GET", fmt.Sprintf("queue_settings/version_histories/%v/download", auto["id"]), rd, nil).want(t, 200, "").object(t)
		if files, ok := autoDoc["attached_files"].([]any); !ok || len(files) != 0 || autoDoc["export_attached_files"] != true {
			t.Fatalf("an auto-save with attached files: attached_files %v", autoDoc["attached_files"])
		}
		r.do("POST", "queue_settings/version_histories", mg, `{"export_attached_files": true}`).
			want(t, 400, "param is missing or the value is empty: export_audio_files")
		r.do("POST", "queue_settings/version_histories", mg, `{"export_audio_files": true, "export_attached_files": true}`).want(t, 400, textSettingsNoAudio)
		r.do("POST", "queue_settings/version_histories", rd, `{"export_audio_files": false, "export_attached_files": true}`).want(t, 403, "")

		// Delete the Sales queue the way an administrator must: nothing may
		// lead to it first.
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		_, err := r.db.UpdateIVRMenuFunc(ctx, tid, c.main.ID, func(m *switchboard.IVRMenu) error {
			m.Options = m.Options[1:]
			m.TimeoutAction = switchboard.IVRAction{Action: switchboard.IVRRepeat}
			return nil
		})
		must(err)
		_, err = r.db.UpdatePhoneNumberFunc(ctx, tid, c.salesNum.ID, func(n *switchboard.PhoneNumber) error {
			n.QueueID = nil
			return nil
		})
		must(err)
		_, err = r.db.UpdateQueueFunc(ctx, tid, c.emea.ID, func(q *switchboard.Queue) error {
			q.ParentID = nil
			return nil
		})
		must(err)
		must(r.db.DeleteQueue(ctx, tid, c.sales.ID))

		// Restore with the seed's body: id, email, revision.
		r.do("POST", fmt.Sprintf("queue_settings/version_histories/%d/restore", vid), mg, `{"revision":"`+doc.Revision+`"}`).
			want(t, 400, "param is missing or the value is empty: email")
		r.do("POST", fmt.Sprintf("queue_settings/version_histories/%d/restore", vid), mg, `{"email":"nobody@acme.test"}`).
			want(t, 400, "User with email nobody@acme.test is not found")
		r.do("POST", fmt.Sprintf("queue_settings/version_histories/%d/restore", vid), mg,
			`{"email":"ann@acme.test","revision":"e8a11621-50a2-41b0-9152-0a15c3a8391a"}`).want(t, 404, textNotFound)
		res := r.do("POST", fmt.Sprintf("queue_settings/version_histories/%d/restore", vid), mg,
			fmt.Sprintf(`{"id": %d, "email": "Ann@acme.test", "revision": %q}`, vid, doc.Revision)).want(t, 200, "")
		var applied settingsAppliedOut
		res.json(t, &applied)
		if applied.Summary.QueuesCreated != 1 || applied.Summary.QueuesUpdated != 1 || applied.Summary.NumbersRouted != 1 ||
			applied.VersionHistory.VersionType != "restored" || applied.AutoSavedVersion.VersionType != "auto_saved" ||
			applied.VersionHistory.CreatedBy == nil || *applied.VersionHistory.CreatedBy != "ann@acme.test" || len(applied.Summary.Warnings) != 0 {
			t.Fatalf("restore %s", res.body)
		}
		queues, err := switchboard.All(ctx, r.db.Queues, tid)
		must(err)
		i := slices.IndexFunc(queues, func(q switchboard.Queue) bool { return q.Name == "Sales" })
		if i < 0 {
			t.Fatal("the Sales queue did not come back")
		}
		back := queues[i]
		if back.ID == c.sales.ID || back.MaxWaitSeconds != 300 || back.Extension != "700" || back.Strategy != switchboard.StrategyLinear ||
			back.Language != "es" || back.WrapUpSeconds != 15 || !back.VoicemailEnabled || back.CallbackSlotMinutes != 30 ||
			!reflect.DeepEqual(back.Hours, c.sales.Hours) || back.Hours == nil || !reflect.DeepEqual(back.RequiredSkills, []switchboard.QueueSkill{{SkillID: c.spanish.ID, MinProficiency: 3}}) {
			t.Fatalf("restored queue %+v (was %+v)", back, c.sales)
		}
		members, err := r.db.QueueMembers(ctx, tid, back.ID, switchboard.ListOptions{})
		must(err)
		if len(members.Items) != 2 || members.Items[0].UserID != c.bob.ID || members.Items[0].Penalty != 2 || members.Items[1].UserID != c.ann.ID {
			t.Fatalf("restored members %+v", members.Items)
		}
		emea, err := r.db.Queue(ctx, tid, c.emea.ID)
		must(err)
		menu, err := r.db.IVRMenu(ctx, tid, c.main.ID)
		must(err)
		num, err := r.db.PhoneNumber(ctx, tid, c.salesNum.ID)
		must(err)
		if emea.ParentID == nil || *emea.ParentID != back.ID || len(menu.Options) != 2 || menu.Options[0].Digit != "1" ||
			*menu.Options[0].QueueID != back.ID || menu.TimeoutAction.QueueID == nil || *menu.TimeoutAction.QueueID != back.ID ||
			num.QueueID == nil || *num.QueueID != back.ID {
			t.Fatalf("not re-linked: emea parent %v, menu %+v, number %+v", emea.ParentID, menu, num)
		}
		again := r.do("GET", "queue_settings/export?export_audio_files=false&export_attached_files=false", rd, nil).want(t, 200, "")
		if before, after := p7SettingsOf(t, exp.body), p7SettingsOf(t, again.body); !reflect.DeepEqual(before, after) {
			t.Fatalf("the configuration after the restore differs from the version:\nbefore %s\nafter  %s", exp.body, again.body)
		}

		// The state before the restore was kept: restoring it deletes
		// nothing (Sales stays) but puts the menu back as it was.
		autoID := applied.AutoSavedVersion.ID
		r.do("POST", fmt.Sprintf("queue_settings/version_histories/%d/restore", autoID), mg, `{"email":"bob@acme.test"}`).want(t, 200, "")
		if m, _ := r.db.IVRMenu(ctx, tid, c.main.ID); len(m.Options) != 1 || m.TimeoutAction.Action != switchboard.IVRRepeat {
			t.Fatalf("the auto-saved state was not restored: %+v", m)
		}
		r.do("POST", "queue_settings/version_histories/latest/restore", mg, `{"email":"bob@acme.test"}`).want(t, 200, "")
		if m, _ := r.db.IVRMenu(ctx, tid, c.main.ID); len(m.Options) != 1 {
			t.Fatalf("restoring the latest version (the restored one) changed the menu: %+v", m)
		}

		// Import: the file of an export, changed; created and updated by name.
		var edit map[string]any
		must(json.Unmarshal(exp.body, &edit))
		qs := edit["queues"].([]any)
		qs[0].(map[string]any)["max_wait_seconds"] = 600
		qs = append(qs, map[string]any{"name": "Support", "strategy": "ringall", "members": []any{map[string]any{"email": "bob@acme.test", "penalty": 1}},
			"required_skills": []any{map[string]any{"skill": "French", "min_proficiency": 2}}})
		edit["queues"] = qs
		file, _ := json.Marshal(edit)
		countBefore := r.do("GET", "queue_settings/version_histories", rd, nil).header.Get("Total")
		r.upload("queue_settings/import", "import.zip", []byte("PK\x03\x04rest"), map[string]string{"email": "ann@acme.test"}).want(t, 400, textSettingsNoZip)
		r.upload("queue_settings/import", "", nil, map[string]string{"email": "ann@acme.test"}).want(t, 400, textSettingsNoFile)
		r.upload("queue_settings/import", "import.json", file, nil).want(t, 400, "param is missing or the value is empty: email")
		r.upload("queue_settings/import", "import.json", []byte(`{"queues":[]}`), map[string]string{"email": "ann@acme.test"}).
			want(t, 400, `file is not a queue settings export (format must be "switchboard.queue_settings/1")`)
		r.upload("queue_settings/import", "import.json", []byte(`{"format":"switchboard.queue_settings/1","queues":[{"name":"X","parent":"Nowhere"}]}`),
			map[string]string{"email": "ann@acme.test"}).want(t, 400, "queue X nests under queue Nowhere, which is neither in the file nor configured")
		r.upload("queue_settings/import", "import.json", []byte(`{"format":"switchboard.queue_settings/1","queues":[{"name":"A","parent":"B"},{"name":"B","parent":"A"}]}`),
			map[string]string{"email": "ann@acme.test"}).want(t, 400, "queue A would nest under itself (through queue A)")
		r.do("POST", "queue_settings/import", mg, string(file)).want(t, 400, textSettingsNoFile)
		if n := r.do("GET", "queue_settings/version_histories", rd, nil).header.Get("Total"); n != countBefore {
			t.Fatalf("refused imports saved versions: %s, then %s", countBefore, n)
		}
		imp := r.upload("queue_settings/import", "import.json", file, map[string]string{"email": "ann@acme.test"}).want(t, 200, "")
		imp.json(t, &applied)
		if applied.Summary.QueuesCreated != 1 || applied.Summary.QueuesUpdated != 2 || applied.Summary.MenusUpdated != 1 ||
			applied.Summary.MenusUnchanged != 1 || applied.Summary.SkillsCreated != 1 ||
			applied.VersionHistory.VersionType != "imported" || applied.VersionHistory.FileSize != len(file) {
			t.Fatalf("import %s", imp.body)
		}
		// The same file again changes nothing: nothing is written.
		var twice settingsAppliedOut
		r.upload("queue_settings/import", "import.json", file, map[string]string{"email": "ann@acme.test"}).want(t, 200, "").json(t, &twice)
		if s := twice.Summary; s.QueuesUnchanged != 3 || s.QueuesUpdated != 0 || s.QueuesCreated != 0 || s.MenusUnchanged != 2 || s.MenusUpdated != 0 ||
			s.ChatShortcutsUpdated != 0 || s.ContactListsUpdated != 0 || s.NumbersRouted != 0 {
			t.Fatalf("the same import again: %+v", s)
		}
		if q, _ := r.db.Queue(ctx, tid, back.ID); q.MaxWaitSeconds != 600 {
			t.Fatalf("imported max_wait_seconds: %+v", q)
		}
		queues, err = switchboard.All(ctx, r.db.Queues, tid)
		must(err)
		i = slices.IndexFunc(queues, func(q switchboard.Queue) bool { return q.Name == "Support" })
		if i < 0 || len(queues[i].RequiredSkills) != 1 {
			t.Fatalf("imported queue Support: %+v", queues)
		}
		if m, _ := r.db.QueueMembers(ctx, tid, queues[i].ID, switchboard.ListOptions{}); len(m.Items) != 1 || m.Items[0].UserID != c.bob.ID || m.Items[0].Penalty != 1 {
			t.Fatalf("Support members %+v", m.Items)
		}
		// 13 versions: 2 exports, the auto-save, 3 restores and 2 imports
		// (each of those 5 with the auto-saved state before it).
		all := r.do("GET", "queue_settings/version_histories?per=2", rd, nil).want(t, 200, "")
		all.json(t, &versions)
		if all.header.Get("Total") != "13" || len(versions) != 2 || versions[0]["version_type"] != "imported" || versions[1]["version_type"] != "auto_saved" ||
			!strings.Contains(all.header.Get("Link"), `rel="next"`) {
			t.Fatalf("versions after import: Total %s %s", all.header.Get("Total"), all.body)
		}
	})
}
