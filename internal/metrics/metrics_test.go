package metrics

import (
	"context"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestRegister scrapes a registry over a real store: the engine's state as
// reported, the event log's head and lag from the database, the commit
// latency of the writes made, and the ended-calls counter it hands out.
func TestRegister(t *testing.T) {
	ctx := context.Background()
	s := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})
	reg := prometheus.NewRegistry()
	stats := engine.Stats{Calls: map[string]int{"queued": 2}, Agents: map[string]int{"available": 3},
		Chats:  map[string]int{"waiting": 4, "active": 6},
		Queues: []engine.QueueStats{{ID: 7, TenantID: 1, Waiting: 2, LongestWait: 4.5, ChatsWaiting: 4, ChatLongestWait: 12}}}
	ended := Register(reg, Options{Engine: func() engine.Stats { return stats }, Behind: func(context.Context) (int64, error) { return 5, nil }, Store: s, Log: slog.Default()})
	tenant, err := s.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTeam(ctx, tenant.ID, switchboard.Team{Name: "Sales"}); err != nil {
		t.Fatal(err)
	}
	last, err := s.LastEventID(ctx)
	if err != nil || last < 2 {
		t.Fatalf("the writes left event log head %d (%v); the test needs at least 2", last, err)
	}
	ended.WithLabelValues("answered").Inc()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += "," + l.GetValue()
			}
			switch {
			case m.GetGauge() != nil:
				got[name] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				got[name] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				got[name] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	for name, want := range map[string]float64{
		"switchboard_calls_in_progress,queued":            2,
		"switchboard_queue_calls_waiting,7,1":             2,
		"switchboard_queue_longest_wait_seconds,7,1":      4.5,
		"switchboard_agents,available":                    3,
		"switchboard_chats,waiting":                       4,
		"switchboard_chats,active":                        6,
		"switchboard_chats,wrap_up":                       0,
		"switchboard_queue_chats_waiting,7,1":             4,
		"switchboard_queue_chat_longest_wait_seconds,7,1": 12,
		"switchboard_agents,in_call":                      0,
		"switchboard_event_log_last_id":                   float64(last),
		"switchboard_event_log_lag_events,call_engine":    5,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	if got["switchboard_calls_ended_total,answered"] != 1 {
		t.Errorf("the ended counter handed out is not the one scraped: %v", got)
	}
	if got["switchboard_store_commit_duration_seconds"] < 1 {
		t.Errorf("no write transaction observed: %v", got)
	}
}
