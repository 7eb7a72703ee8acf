package dialer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
)

// scene is a tenant's contact center on the simulator under a virtual
// clock, with the dialer on it and a Memory store.
type scene struct {
	clock *engine.VirtualClock
	drv   *sim.Driver
	eng   *engine.Engine
	mem   *Memory
	d     *Dialer
	q     switchboard.Queue
}

func newScene(t *testing.T, start time.Time, agents int, wrap time.Duration) *scene {
	t.Helper()
	s := &scene{clock: engine.NewVirtualClock(start), mem: NewMemory()}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s.drv = sim.New(s.clock)
	s.eng = engine.New(engine.Options{Clock: s.clock, Telephony: s.drv, Log: quiet,
		Router: engine.NewRouter(rand.New(rand.NewPCG(1, 2)))})
	s.drv.SetEngine(s.eng)
	s.q = switchboard.Queue{ID: 1, TenantID: 1, Name: "Q", Extension: "8000", Strategy: switchboard.StrategyLeastRecent, TimeoutSeconds: 3600}
	s.q.Normalize()
	s.q.WrapUpSeconds = int(wrap / time.Second)
	var members []switchboard.QueueMember
	for i := range agents {
		id := int64(i + 1)
		dev := fmt.Sprintf("agent-%d", id)
		s.drv.SetDevice(dev, sim.Device{Registered: true, Behavior: sim.Answer})
		s.eng.SetAgent(id, dev)
		s.eng.SetUserRoutes(id, 1, nil)
		s.eng.SetStatus(id, switchboard.StatusAvailable, true)
		members = append(members, switchboard.QueueMember{QueueID: 1, UserID: id, Position: i + 1})
	}
	s.eng.SetQueue(s.q, members)
	s.mem.AddQueue(s.q)
	s.d = New(Options{Clock: s.clock, Engine: s.eng, Store: s.mem, Log: quiet})
	t.Cleanup(func() { s.d.Close(); s.eng.Close() })
	return s
}

func (s *scene) start(t *testing.T, c switchboard.Campaign) {
	t.Helper()
	c.Normalize()
	c.Status = switchboard.CampaignStarted
	s.mem.AddCampaign(c)
	if err := s.d.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	s.d.Start()
}

// TestRulesNeverViolated runs a 10,000-lead predictive campaign over three
// simulated days and checks every dial the telephony saw against the rules:
// no number on the do-not-call list, no lead who refused consent, no dial
// outside 09:00-17:00 on a weekday in the lead's own time zone. Every lead is
// settled in the end or waits for its next calling hour.
func TestRulesNeverViolated(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a long simulation: not in -short, nor under the race detector (.ci/run runs it on its own)")
	}
	// Monday 5 January 2026, 00:00 UTC.
	s := newScene(t, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), 40, 5*time.Second)
	zoneNames := []string{"America/New_York", "America/Los_Angeles", "Europe/London", "Asia/Tokyo", "Australia/Sydney", ""}
	prefixes := map[string]string{"America/New_York": "+1212", "America/Los_Angeles": "+1415", "Europe/London": "+4420",
		"Asia/Tokyo": "+8133", "Australia/Sydney": "+6129", "": "+1646"} // "": New York, from the number
	rng := rand.New(rand.NewPCG(7, 7))
	type truth struct {
		dnc, refused bool
		zone         *time.Location
	}
	byNumber := map[string]truth{}
	yes, no := true, false
	leads := make([]switchboard.Lead, 10000)
	for i := range leads {
		zone := zoneNames[rng.IntN(len(zoneNames))]
		number := fmt.Sprintf("%s%07d", prefixes[zone], 1000000+i)
		l := switchboard.Lead{Name: fmt.Sprintf("L%d", i), PhoneNumber: number, TimeZone: zone}
		tr := truth{}
		switch rng.IntN(10) {
		case 0:
			tr.dnc = true
			s.mem.AddDNC(number)
		case 1:
			l.Consent, tr.refused = &no, true
		case 2:
			l.Consent = &yes
		case 3:
			// Consented on the lead, then texted STOP: the STOP wins.
			l.Consent, tr.refused = &yes, true
			s.mem.OptOut(number)
		}
		name := zone
		if name == "" {
			name = "America/New_York"
		}
		tr.zone, _ = time.LoadLocation(name)
		byNumber[number] = tr
		leads[i] = l
	}
	s.mem.AddLeads(1, leads)
	type dial struct {
		number string
		at     time.Time
	}
	var dials []dial
	s.drv.SetNumberFunc(func(number string) sim.Script {
		dials = append(dials, dial{number, s.clock.Now()})
		switch u := rng.Float64(); {
		case u < 0.3:
			return sim.Script{Behavior: sim.Answer, AnswerAfter: 5 * time.Second, Talk: time.Duration(30+rng.IntN(120)) * time.Second}
		case u < 0.4:
			return sim.Script{Behavior: sim.Voicemail, AnswerAfter: 10 * time.Second, Talk: 20 * time.Second}
		default:
			return sim.Script{Behavior: sim.NoAnswer}
		}
	})
	s.start(t, switchboard.Campaign{ID: 1, TenantID: 1, Name: "Compliance", Mode: switchboard.ModePredictive, QueueID: 1,
		MaxRedials: 1, RedialIntervalSeconds: 1800,
		Schedule: switchboard.CampaignSchedule{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "17:00"}})
	s.clock.Advance(72 * time.Hour)

	if len(dials) < 5000 {
		t.Fatalf("only %d dials in three days", len(dials))
	}
	for _, d := range dials {
		tr, ok := byNumber[d.number]
		local := d.at.In(tr.zone)
		switch {
		case !ok:
			t.Fatalf("dialled %s, which is no lead's", d.number)
		case tr.dnc:
			t.Fatalf("dialled %s, on the do-not-call list, at %v", d.number, d.at)
		case tr.refused:
			t.Fatalf("dialled %s, who refused consent, at %v", d.number, d.at)
		case local.Weekday() == time.Saturday || local.Weekday() == time.Sunday || local.Hour() < 9 || local.Hour() >= 17:
			t.Fatalf("dialled %s at %v, %v in its zone", d.number, d.at, local)
		}
	}
	counts := map[switchboard.LeadStatus]int{}
	for _, l := range s.mem.Leads() {
		counts[l.Status]++
		if tr := byNumber[l.PhoneNumber]; (tr.dnc || tr.refused) && l.Status != switchboard.LeadDoNotCall {
			t.Errorf("lead %s (dnc %v, refused %v) ends %s", l.PhoneNumber, tr.dnc, tr.refused, l.Status)
		}
	}
	blocked := 0
	for _, a := range s.mem.Ledger() {
		if a.Outcome == switchboard.DialBlocked {
			blocked++
			continue
		}
		if a.Checks.DNC != switchboard.CheckPass || a.Checks.CallingHours != switchboard.CheckPass || a.Checks.Emergency != switchboard.CheckPass ||
			a.Checks.Consent == switchboard.CheckBlocked || a.LocalTime == "" || a.TimeZone == "" {
			t.Fatalf("a dial's ledger row shows a failed check: %+v", a)
		}
	}
	t.Logf("%d dials, %d ledger rows blocked, leads by status %v", len(dials), blocked, counts)
	if counts[switchboard.LeadDoNotCall] < 1500 || blocked < counts[switchboard.LeadDoNotCall] {
		t.Fatalf("the do-not-call and refused leads were not settled: %v, %d blocked rows", counts, blocked)
	}
}

// TestCampaignDialsEachLeadOnce: with no redials, a progressive campaign
// dials every lead exactly once and finishes.
func TestCampaignDialsEachLeadOnce(t *testing.T) {
	s := newScene(t, time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC), 3, 0)
	var leads []switchboard.Lead
	for i := range 30 {
		leads = append(leads, switchboard.Lead{PhoneNumber: fmt.Sprintf("+4420700%05d", i), TimeZone: "Europe/London"})
	}
	s.mem.AddLeads(1, leads)
	seen := map[string]int{}
	s.drv.SetNumberFunc(func(number string) sim.Script {
		seen[number]++
		return sim.Script{Behavior: sim.Answer, AnswerAfter: 2 * time.Second, Talk: 20 * time.Second}
	})
	s.start(t, switchboard.Campaign{ID: 1, TenantID: 1, Name: "Once", Mode: switchboard.ModeProgressive, QueueID: 1,
		Schedule: switchboard.CampaignSchedule{From: "00:00", To: "24:00"}})
	s.clock.Advance(2 * time.Hour)
	if len(seen) != 30 {
		t.Fatalf("%d of 30 numbers dialled", len(seen))
	}
	for n, k := range seen {
		if k != 1 {
			t.Errorf("%s dialled %d times", n, k)
		}
	}
	if c, _ := s.mem.Campaign(context.Background(), 1, 1); c.Status != switchboard.CampaignFinished {
		st := c.Status
		t.Fatalf("campaign %s, want finished", st)
	}
	for _, l := range s.mem.Leads() {
		if l.Status != switchboard.LeadFinished || l.LastOutcome != switchboard.DialConnected || l.Attempts != 1 {
			t.Fatalf("lead %+v", l)
		}
	}
	if s.drv.Legs() != 0 {
		t.Fatalf("%d legs left up", s.drv.Legs())
	}
}

// TestSettingsReachTheRunningDialer: a campaign's settings changed while it
// runs (here its calling hours, as a PATCH would) apply within seconds.
func TestSettingsReachTheRunningDialer(t *testing.T) {
	s := newScene(t, time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC), 2, 0)
	var leads []switchboard.Lead
	for i := range 200 {
		leads = append(leads, switchboard.Lead{PhoneNumber: fmt.Sprintf("+4420700%05d", i), TimeZone: "Europe/London"})
	}
	s.mem.AddLeads(1, leads)
	var dials []time.Time
	s.drv.SetNumberFunc(func(string) sim.Script {
		dials = append(dials, s.clock.Now())
		return sim.Script{Behavior: sim.Answer, AnswerAfter: time.Second, Talk: 10 * time.Second}
	})
	c := switchboard.Campaign{ID: 1, TenantID: 1, Name: "Live", Mode: switchboard.ModeProgressive, QueueID: 1,
		Schedule: switchboard.CampaignSchedule{From: "00:00", To: "24:00"}}
	s.start(t, c)
	s.clock.Advance(time.Minute)
	if len(dials) == 0 {
		t.Fatal("no dial in the first minute")
	}
	stored, _ := s.mem.Campaign(context.Background(), 1, 1)
	stored.Schedule.From, stored.Schedule.To = "18:00", "19:00" // it is 12:0x in London
	s.mem.AddCampaign(stored)
	changed := s.clock.Now()
	s.clock.Advance(10 * time.Minute)
	late := 0
	for _, at := range dials {
		if at.After(changed.Add(reloadEvery + time.Second)) {
			late++
		}
	}
	if late > 0 {
		t.Fatalf("%d dials more than %v after the calling hours changed", late, reloadEvery)
	}
}
