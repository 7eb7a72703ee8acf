package ujet

import (
	"context"
	"fmt"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// BenchmarkP7QueueSettings measures an export and a restore of a tenant
// with 100 queues of 5 members each and 20 IVR menus of 5 options, on
// SQLite: the export reads the whole configuration and saves it as a
// version; the restore saves the state before, applies every queue, member
// and menu (all unchanged: updates) and saves the version.
func BenchmarkP7QueueSettings(b *testing.B) {
	r := newP7Rig(b, sqlstoretest.SQLiteURL(b))
	ctx := context.Background()
	tid := r.tenant.ID
	var users []switchboard.User
	for i := range 20 {
		u, err := r.db.CreateUser(ctx, tid, switchboard.User{Email: fmt.Sprintf("agent%d@acme.test", i), FirstName: "Agent"})
		if err != nil {
			b.Fatal(err)
		}
		users = append(users, u)
	}
	var queues []switchboard.Queue
	for i := range 100 {
		q, err := r.db.CreateQueue(ctx, tid, switchboard.Queue{Name: fmt.Sprintf("Queue %03d", i)})
		if err != nil {
			b.Fatal(err)
		}
		queues = append(queues, q)
		for j := range 5 {
			if _, err := r.db.AddQueueMember(ctx, tid, switchboard.QueueMember{QueueID: q.ID, UserID: users[(i+j)%len(users)].ID}); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range 20 {
		m := switchboard.IVRMenu{Name: fmt.Sprintf("Menu %02d", i)}
		for d := range 5 {
			m.Options = append(m.Options, switchboard.IVROption{Digit: fmt.Sprint(d + 1),
				IVRAction: switchboard.IVRAction{Action: switchboard.IVRToQueue, QueueID: &queues[i*5+d].ID}})
		}
		if _, err := r.db.CreateIVRMenu(ctx, tid, m); err != nil {
			b.Fatal(err)
		}
	}
	const export = "queue_settings/export?export_audio_files=false&export_attached_files=false"
	size := len(r.do("GET", export, switchboard.ScopeRoutingRead, nil).want(b, 200, "").body)
	b.Run("export", func(b *testing.B) {
		for b.Loop() {
			r.do("GET", export, switchboard.ScopeRoutingRead, nil).want(b, 200, "")
		}
		b.ReportMetric(float64(size), "bytes/export")
	})
	ann := users[0].Email
	b.Run("restore", func(b *testing.B) {
		for b.Loop() {
			r.do("POST", "queue_settings/version_histories/1/restore", switchboard.ScopeRoutingManage, `{"email":"`+ann+`"}`).want(b, 200, "")
		}
	})
}
