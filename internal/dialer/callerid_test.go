package dialer

import (
	"fmt"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sim"
)

// TestLeadCallerID checks that a lead's own caller ID
// (switchboard.LeadFieldCallerID, UJET's outbound_number) is shown on its
// dials when the tenant owns the number, and the campaign's otherwise (a
// number of another tenant, or of none).
func TestLeadCallerID(t *testing.T) {
	s := newScene(t, time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC), 2, 0)
	s.mem.AddNumber(switchboard.PhoneNumber{TenantID: 1, Number: "+442070000900"})
	s.mem.AddNumber(switchboard.PhoneNumber{TenantID: 2, Number: "+442070000901"})
	own := map[string]string{
		"+442070000001": "+442070000900", // the tenant's: shown
		"+442070000002": "+442070000901", // another tenant's: not shown
		"+442070000003": "+442070000902", // nobody's: not shown
		"+442070000004": "",              // none asked for
	}
	var leads []switchboard.Lead
	for number, caller := range own {
		l := switchboard.Lead{PhoneNumber: number, TimeZone: "Europe/London", Fields: map[string]string{}}
		if caller != "" {
			l.Fields[switchboard.LeadFieldCallerID] = caller
		}
		leads = append(leads, l)
	}
	s.mem.AddLeads(1, leads)
	s.drv.SetNumberFunc(func(string) sim.Script {
		return sim.Script{Behavior: sim.Answer, AnswerAfter: time.Second, Talk: 5 * time.Second}
	})
	s.start(t, switchboard.Campaign{ID: 1, TenantID: 1, Name: "Caller IDs", Mode: switchboard.ModeProgressive, QueueID: 1,
		CallerID: "+442070000999", Schedule: switchboard.CampaignSchedule{From: "00:00", To: "24:00"}})
	s.clock.Advance(10 * time.Minute)
	got := map[string]string{}
	for _, a := range s.mem.Ledger() {
		got[a.Number] = a.CallerID
	}
	want := map[string]string{"+442070000001": "+442070000900", "+442070000002": "+442070000999",
		"+442070000003": "+442070000999", "+442070000004": "+442070000999"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("caller IDs by number = %v, want %v", got, want)
	}
}
