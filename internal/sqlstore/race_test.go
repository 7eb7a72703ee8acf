package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// race runs fn(i) for i in [0, n) at once and returns how many succeeded;
// every failure must have one of the codes in allowed (never internal).
func race(t *testing.T, n int, allowed []switchboard.Code, fn func(i int) error) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := fn(i)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
				return
			}
			code := switchboard.ErrorCode(err)
			for _, c := range allowed {
				if code == c {
					return
				}
			}
			t.Errorf("call %d: %v (code %s), want success or one of %v", i, err, code, allowed)
		}()
	}
	close(start)
	wg.Wait()
	return ok
}

// TestRacingCreationsKeepTheRules races creations that a check guards (the
// dial plan users and queues share, the click-to-call limit) and those a
// unique index guards (e-mail, SIP user name, DID, names), on both engines:
// exactly as many succeed as the rule allows, and the rest fail with a
// client error, never a 500.
func TestRacingCreationsKeepTheRules(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a := mustTenant(t, db, "acme")
		conflict := []switchboard.Code{switchboard.CodeConflict}

		// A user and a queue (two of each) created at once with one
		// extension: one wins, for every extension.
		for round := range 8 {
			ext := fmt.Sprintf("5%02d", round)
			n := race(t, 4, conflict, func(i int) error {
				var err error
				if i%2 == 0 {
					_, err = db.CreateUser(ctx, a.ID, switchboard.User{Email: fmt.Sprintf("u%d-%d@acme.test", round, i), FirstName: "U", Extension: ext})
				} else {
					_, err = db.CreateQueue(ctx, a.ID, switchboard.Queue{Name: fmt.Sprintf("q%d-%d", round, i), Extension: ext})
				}
				return err
			})
			if n != 1 {
				t.Errorf("extension %s: %d of 4 racing creations succeeded, want 1", ext, n)
			}
		}

		// Moving an existing user and queue onto one free extension at once.
		u, err := db.CreateUser(ctx, a.ID, switchboard.User{Email: "mover@acme.test", FirstName: "M"})
		if err != nil {
			t.Fatal(err)
		}
		q, err := db.CreateQueue(ctx, a.ID, switchboard.Queue{Name: "mover"})
		if err != nil {
			t.Fatal(err)
		}
		for round := range 8 {
			ext := fmt.Sprintf("6%02d", round)
			n := race(t, 2, conflict, func(i int) error {
				if i == 0 {
					_, err := db.UpdateUserFunc(ctx, a.ID, u.ID, func(u *switchboard.User) error { u.Extension = ext; return nil })
					return err
				}
				_, err := db.UpdateQueueFunc(ctx, a.ID, q.ID, func(q *switchboard.Queue) error { q.Extension = ext; return nil })
				return err
			})
			if n != 1 {
				t.Errorf("moving a user and a queue to %s: %d succeeded, want 1", ext, n)
			}
		}

		// Unique per tenant or platform: e-mail, SIP user name, team name, DID.
		for what, create := range map[string]func(i int) error{
			"email": func(i int) error {
				_, err := db.CreateUser(ctx, a.ID, switchboard.User{Email: "same@acme.test", FirstName: "S"})
				return err
			},
			"sip_username": func(i int) error {
				_, err := db.CreateUser(ctx, a.ID, switchboard.User{Email: fmt.Sprintf("sip%d@acme.test", i), FirstName: "S", SIPUsername: "same-sip"})
				return err
			},
			"team name": func(i int) error {
				_, err := db.CreateTeam(ctx, a.ID, switchboard.Team{Name: "Same"})
				return err
			},
			"phone number": func(i int) error {
				_, err := db.CreatePhoneNumber(ctx, a.ID, switchboard.PhoneNumber{Number: "+390612399999"})
				return err
			},
		} {
			if n := race(t, 12, conflict, create); n != 1 {
				t.Errorf("%s: %d of 12 racing creations succeeded, want 1", what, n)
			}
		}

		// Objects referred to by new ones (teams of a user, the queue of a
		// number) deleted at the same time: each creation either succeeds or
		// is told the reference is unknown, never a 500.
		for round := range 6 {
			team, err := db.CreateTeam(ctx, a.ID, switchboard.Team{Name: fmt.Sprintf("doomed %d", round)})
			if err != nil {
				t.Fatal(err)
			}
			dq, err := db.CreateQueue(ctx, a.ID, switchboard.Queue{Name: fmt.Sprintf("doomed %d", round)})
			if err != nil {
				t.Fatal(err)
			}
			race(t, 8, []switchboard.Code{switchboard.CodeInvalid, switchboard.CodeNotFound}, func(i int) error {
				switch i {
				case 0:
					return db.DeleteTeam(ctx, a.ID, team.ID)
				case 1:
					return db.DeleteQueue(ctx, a.ID, dq.ID)
				case 2, 3, 4:
					_, err := db.CreateUser(ctx, a.ID, switchboard.User{Email: fmt.Sprintf("ref%d-%d@acme.test", round, i), FirstName: "R", TeamIDs: []int64{team.ID}})
					return err
				default:
					_, err := db.CreatePhoneNumber(ctx, a.ID, switchboard.PhoneNumber{Number: fmt.Sprintf("+3906124%02d%03d", round, i), QueueID: &dq.ID})
					return err
				}
			})
		}

		// The click-to-call limit is the tenant's active users plus queues.
		b := mustTenant(t, db, "beta")
		var ext string
		for i := range 3 {
			u, err := db.CreateUser(ctx, b.ID, switchboard.User{Email: fmt.Sprintf("c%d@beta.test", i), FirstName: "C", Extension: fmt.Sprintf("10%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			ext = u.Extension
		}
		for i := range 2 {
			if _, err := db.CreateQueue(ctx, b.ID, switchboard.Queue{Name: fmt.Sprintf("cq%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		num, err := db.CreatePhoneNumber(ctx, b.ID, switchboard.PhoneNumber{Number: "+390612388888"})
		if err != nil {
			t.Fatal(err)
		}
		n := race(t, 30, []switchboard.Code{switchboard.CodeInvalid}, func(i int) error {
			_, err := db.CreateClickToCall(ctx, b.ID, switchboard.ClickToCall{Name: fmt.Sprintf("link %d", i), Extension: ext, OutboundNumber: num.Number})
			return err
		})
		links, err := db.ClickToCalls(ctx, b.ID, switchboard.ListOptions{})
		if n != 5 || err != nil || links.Total != 5 {
			t.Errorf("click-to-call: %d of 30 racing creations succeeded and %d links exist (%v), want 5", n, links.Total, err)
		}

		// Members added at once get distinct places in the queue.
		mq, err := db.CreateQueue(ctx, b.ID, switchboard.Queue{Name: "members"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for i := range 12 {
			u, err := db.CreateUser(ctx, b.ID, switchboard.User{Email: fmt.Sprintf("m%d@beta.test", i), FirstName: "M"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		race(t, len(ids), nil, func(i int) error {
			_, err := db.AddQueueMember(ctx, b.ID, switchboard.QueueMember{QueueID: mq.ID, UserID: ids[i]})
			return err
		})
		members, err := db.QueueMembers(ctx, b.ID, mq.ID, switchboard.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		for _, m := range members.Items {
			if seen[m.Position] {
				t.Errorf("two members share position %d", m.Position)
			}
			seen[m.Position] = true
		}
	})
}

// TestUpdateFuncLosesNoUpdates runs many read-modify-writes of one object at
// once, each adding one to a counter: the result counts every one of them.
func TestUpdateFuncLosesNoUpdates(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a := mustTenant(t, db, "acme")
		team, err := db.CreateTeam(ctx, a.ID, switchboard.Team{Name: "T"})
		if err != nil {
			t.Fatal(err)
		}
		const n = 50
		race(t, n, nil, func(i int) error {
			if i%2 == 0 {
				_, err := db.UpdateTenantFunc(ctx, a.ID, func(t *switchboard.Tenant) error { t.BalanceCents++; return nil })
				return err
			}
			_, err := db.UpdateTeamFunc(ctx, a.ID, team.ID, func(t *switchboard.Team) error { t.Name += "x"; return nil })
			return err
		})
		got, err := db.Tenant(ctx, a.ID)
		if err != nil || got.BalanceCents != n/2 {
			t.Errorf("balance after %d increments = %d (%v)", n/2, got.BalanceCents, err)
		}
		tm, err := db.Team(ctx, a.ID, team.ID)
		if err != nil || len(tm.Name) != 1+n/2 {
			t.Errorf("team name after %d appends = %q (%v)", n/2, tm.Name, err)
		}
		// An error from fn aborts the update and comes back unchanged.
		if _, err := db.UpdateTeamFunc(ctx, a.ID, team.ID, func(t *switchboard.Team) error {
			t.Name = "never"
			return switchboard.Errorf(switchboard.CodeInvalid, "refused")
		}); switchboard.ErrorCode(err) != switchboard.CodeInvalid {
			t.Errorf("fn's error = %v", err)
		}
		if tm2, _ := db.Team(ctx, a.ID, team.ID); tm2.Name != tm.Name {
			t.Errorf("a refused update changed the team to %q", tm2.Name)
		}
		if _, err := db.UpdateTeamFunc(ctx, a.ID, 1<<40, func(*switchboard.Team) error { return nil }); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Errorf("update of a missing team = %v", err)
		}
	})
}

// TestWebhookUpdatesBesideDeliveryOutcomes races tenants' webhook updates
// against the dispatcher recording delivery outcomes that disable webhooks
// (which appends events, taking the tenant's row). On PostgreSQL the two
// used to take the webhook, delivery and tenant rows in different orders and
// deadlock (40P01, a 500 to the client); now every call succeeds.
func TestWebhookUpdatesBesideDeliveryOutcomes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a := mustTenant(t, db, "acme")
		var hooks []int64
		for i := range 4 {
			w, err := db.CreateWebhook(ctx, a.ID, switchboard.Webhook{URL: fmt.Sprintf("http://127.0.0.1:9/h%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			hooks = append(hooks, w.ID)
		}
		for i := range 15 {
			if _, err := db.AppendEvent(ctx, a.ID, "test.event", "test", int64(i), map[string]int{"i": i}); err != nil {
				t.Fatal(err)
			}
		}
		byHook := map[int64][]int64{}
		for _, h := range hooks {
			p, err := db.Deliveries(ctx, a.ID, switchboard.DeliveryFilter{WebhookID: h}, switchboard.ListOptions{Limit: 1000})
			if err != nil || len(p.Items) == 0 {
				t.Fatalf("deliveries of webhook %d: %d, %v", h, len(p.Items), err)
			}
			for _, d := range p.Items {
				byHook[h] = append(byHook[h], d.ID)
			}
		}
		deadline := time.Now().Add(3 * time.Second)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []error
		fail := func(err error) {
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err)
		}
		for g := range 4 {
			wg.Add(2)
			go func() { // a tenant re-enabling and renaming its webhooks
				defer wg.Done()
				for i := 0; time.Now().Before(deadline); i++ {
					h := hooks[rand.IntN(len(hooks))]
					if _, err := db.UpdateWebhookFunc(ctx, a.ID, h, func(w *switchboard.Webhook) error {
						w.Enabled, w.Name = true, fmt.Sprintf("g%d-%d", g, i)
						return nil
					}); err != nil {
						fail(fmt.Errorf("update webhook %d: %w", h, err))
					}
				}
			}()
			go func() { // the dispatcher: batches across webhooks, in any order, giving up
				defer wg.Done()
				for time.Now().Before(deadline) {
					var batch []switchboard.DeliveryResult
					for _, k := range rand.Perm(len(hooks))[:3] {
						h := hooks[k]
						ds := byHook[h]
						batch = append(batch, switchboard.DeliveryResult{DeliveryID: ds[rand.IntN(len(ds))], WebhookID: h, TenantID: a.ID,
							Outcome: switchboard.OutcomeGiveUp, Attempt: switchboard.DeliveryAttempt{At: time.Now(), StatusCode: 500, Error: "HTTP 500"}})
					}
					if _, err := db.CompleteDeliveries(ctx, batch, switchboard.DisablePolicy{Deliveries: 1}); err != nil {
						fail(fmt.Errorf("complete deliveries: %w", err))
					}
				}
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if i < 5 {
				t.Errorf("%v (code %s)", err, switchboard.ErrorCode(err))
			}
		}
		if len(errs) > 0 {
			t.Errorf("%d calls failed", len(errs))
		}
	})
}
