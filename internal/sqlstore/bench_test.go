package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// BenchmarkUsers measures one page of 50 users on SQLite, with and without the
// JSON encoding a handler adds, to show where the time of a list goes.
func BenchmarkUsers(b *testing.B) {
	ctx := context.Background()
	db := sqlstoretest.Open(b, sqlstoretest.SQLiteURL(b), sqlstore.Options{})
	tn, _ := db.CreateTenant(ctx, switchboard.Tenant{Slug: "bench", Name: "Bench"})
	team, _ := db.CreateTeam(ctx, tn.ID, switchboard.Team{Name: "Sales"})
	skill, _ := db.CreateSkill(ctx, tn.ID, switchboard.Skill{Name: "English"})
	for i := range 200 {
		if _, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: fmt.Sprintf("a%03d@b.test", i), FirstName: "A",
			TeamIDs: []int64{team.ID}, Skills: []switchboard.UserSkill{{SkillID: skill.ID, Proficiency: 3}}}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("list", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Users(ctx, tn.ID, switchboard.UserFilter{}, switchboard.ListOptions{Limit: 50}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list+encode", func(b *testing.B) {
		for b.Loop() {
			p, err := db.Users(ctx, tn.ID, switchboard.UserFilter{}, switchboard.ListOptions{Limit: 50})
			if err != nil {
				b.Fatal(err)
			}
			json.NewEncoder(io.Discard).Encode(p.Items)
		}
	})
	b.Run("get", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.User(ctx, tn.ID, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAppendEvent measures one event with one matching webhook, the
// outbox write every state change pays: from one goroutine, and from 16 at once,
// where the SQLite group commit shares one fsync among the waiting writes.
func BenchmarkAppendEvent(b *testing.B) {
	ctx := context.Background()
	db := sqlstoretest.Open(b, sqlstoretest.SQLiteURL(b), sqlstore.Options{})
	tn, _ := db.CreateTenant(ctx, switchboard.Tenant{Slug: "bench", Name: "Bench"})
	db.CreateWebhook(ctx, tn.ID, switchboard.Webhook{URL: "https://example.com/hook"})
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.AppendEvent(ctx, tn.ID, "bench.tick", "bench", 1, map[string]int{"i": 1}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel-16", func(b *testing.B) {
		b.SetParallelism(8) // 8 × GOMAXPROCS(2) goroutines
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := db.AppendEvent(ctx, tn.ID, "bench.tick", "bench", 1, map[string]int{"i": 1}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkSaveCall measures a call's update with its event, whose payload
// reads the names of the call's queue, agent, ringing agent and contact in
// the same transaction: serial, from 16 goroutines sharing group commits, and
// the payload alone when a batch has read those names already.
func BenchmarkSaveCall(b *testing.B) {
	ctx := context.Background()
	db := sqlstoretest.Open(b, sqlstoretest.SQLiteURL(b), sqlstore.Options{})
	tn, _ := db.CreateTenant(ctx, switchboard.Tenant{Slug: "bench", Name: "Bench"})
	u, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@b.test", FirstName: "Ann", Extension: "101"})
	if err != nil {
		b.Fatal(err)
	}
	q, err := db.CreateQueue(ctx, tn.ID, switchboard.Queue{Name: "Sales"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.CreateContact(ctx, tn.ID, switchboard.Contact{FirstName: "Maria", PrimaryPhone: "+393331234567"}); err != nil {
		b.Fatal(err)
	}
	c, err := db.SaveCall(ctx, switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallQueued,
		From: "+393331234567", To: "+390112121212", QueueID: &q.ID}, "created")
	if err != nil {
		b.Fatal(err)
	}
	c.AgentID, c.RingingAgents, c.Status = &u.ID, []int64{u.ID}, switchboard.CallAssigned
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.SaveCall(ctx, c, "ringing"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("payload-cached", func(b *testing.B) {
		b.ReportAllocs()
		if err := sqlstore.CallEventPayloads(ctx, db, c, b.N); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("parallel-16", func(b *testing.B) {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := db.SaveCall(ctx, c, "ringing"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkEventHead measures what a cached read pays to learn whether its
// tenant changed: one point read of tenants.event_seq on each engine, serial
// and from 16 goroutines, against trusting an in-process signal (an atomic
// counter bumped on this store's commits, which is what Changes() offers).
// The signal costs nanoseconds where the read costs microseconds, and it is wrong: a write made by another
// process (a second node on PostgreSQL, a CLI command on the SQLite file)
// never raises it, so the response cache reads the sequence.
func BenchmarkEventHead(b *testing.B) {
	for name, mk := range sqlstoretest.Engines(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			db := sqlstoretest.Open(b, mk(b), sqlstore.Options{})
			tn, _ := db.CreateTenant(ctx, switchboard.Tenant{Slug: "bench", Name: "Bench"})
			b.Run("point-read", func(b *testing.B) {
				for b.Loop() {
					if _, err := db.EventHead(ctx, tn.ID); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("point-read-parallel-16", func(b *testing.B) {
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := db.EventHead(ctx, tn.ID); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
			var signal atomic.Int64
			b.Run("in-process-signal", func(b *testing.B) {
				for b.Loop() {
					if signal.Load() < 0 {
						b.Fatal("negative")
					}
				}
			})
		})
	}
}
