// Package demo seeds the demo tenant of "switchboard serve --demo": enough of
// a contact center to try every API against (teams, skills, twelve agents,
// three queues, phone numbers, a key per dialect), seeded idempotently (each
// object is created only when missing) so that restarting with --demo never
// duplicates anything. It also prints what a newcomer needs to start and
// places simulated calls so that the queues move. Its phone numbers are in
// the +1 555 01xx range reserved for fiction.
package demo

import (
	"context"
	"fmt"
	"strings"

	"switchboard"
)

// Slug is the demo tenant's slug.
const Slug = "demo"

type seedAgent struct {
	first, last, team string
	skills            map[string]int
}

var (
	seedTeams  = []struct{ name, parent string }{{"Sales", ""}, {"Support", ""}, {"Billing", "Support"}}
	seedSkills = []string{"English", "Italian", "Spanish", "Billing", "Technical"}
	seedAgents = []seedAgent{
		{"Alice", "Moretti", "Sales", map[string]int{"English": 5, "Italian": 5}},
		{"Bruno", "Ricci", "Sales", map[string]int{"Italian": 5, "English": 3}},
		{"Carla", "Gomez", "Sales", map[string]int{"Spanish": 5, "English": 4}},
		{"Dario", "Conti", "Sales", map[string]int{"Italian": 4}},
		{"Elena", "Rossi", "Support", map[string]int{"Technical": 5, "English": 4}},
		{"Fabio", "Greco", "Support", map[string]int{"Technical": 3, "Italian": 5}},
		{"Giulia", "Bruno", "Support", map[string]int{"Technical": 4, "Spanish": 3}},
		{"Hugo", "Martin", "Support", map[string]int{"Technical": 2, "English": 5}},
		{"Irene", "Fontana", "Billing", map[string]int{"Billing": 5, "Italian": 4}},
		{"Jonas", "Weber", "Billing", map[string]int{"Billing": 4, "English": 4}},
		{"Katia", "Marino", "Billing", map[string]int{"Billing": 3, "Spanish": 4}},
		{"Luca", "Costa", "Billing", map[string]int{"Billing": 2, "Italian": 5}},
	}
	seedQueues = []struct {
		name, ext, team, skill string
		strategy               switchboard.Strategy
	}{
		{"Sales Queue", "8001", "Sales", "", switchboard.StrategyRingAll},
		{"Support Queue", "8002", "Support", "Technical", switchboard.StrategyLeastRecent},
		{"Billing Queue", "8003", "Billing", "Billing", switchboard.StrategyRRMemory},
	}
	// seedNumbers route to a queue (by name) or an agent (by e-mail).
	seedNumbers = []struct{ number, label, target string }{
		{"+14155550100", "Sales line", "Sales Queue"},
		{"+14155550101", "Support line", "Support Queue"},
		{"+14155550102", "Billing line", "Billing Queue"},
		{"+14155550110", "Alice direct", "alice.moretti@demo.example"},
		{"+14155550111", "Elena direct", "elena.rossi@demo.example"},
		{"+14155550112", "Irene direct", "irene.fontana@demo.example"},
	}
	// dialects lists a key per API dialect with how to present it.
	dialects = []struct {
		name, path, style string
		served            bool
	}{
		{"native", "/v1", "Authorization: Bearer %s", true},
		{"voiso", "/api/v4", "Authorization: Bearer %s", true},
		{"voxloud", "/api/v1", "Voverc-Auth: %s", true},
		{"voice360", "/v3/voice/{account_id}", "X-API-Key: %s", true},
		{"ujet", "/apps/api/v1", "Authorization: Basic %s", true},
	}
)

// Center is the seeded demo contact center: its tenant, the numbers the
// traffic calls and the keys it prints.
type Center struct {
	tenant  switchboard.Tenant
	numbers []string          // the DIDs routed to queues, for the traffic generator
	keys    map[string]string // dialect -> secret
	counts  map[string]int
	// keysNote says where the keys came from: kept, new, or why they will
	// not survive a restart.
	keysNote string
}

// KeyOptions says where the demo keeps its secrets and whether to replace
// them.
type KeyOptions struct {
	// File holds the secrets between starts; empty keeps them nowhere.
	File string
	// Rotate revokes the kept keys and mints new ones.
	Rotate bool
}

// Seed creates whatever part of the demo tenant is missing in s, signs in
// nine of its twelve agents, and gives it one working key per dialect (see
// KeyOptions).
func Seed(ctx context.Context, s switchboard.Store, ko KeyOptions) (*Center, error) {
	t, err := s.TenantBySlug(ctx, Slug)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		t, err = s.CreateTenant(ctx, switchboard.Tenant{Slug: Slug, Name: "Demo Contact Center",
			AdminEmail: "admin@demo.example", Timezone: "Europe/Rome", Currency: "EUR", BalanceCents: 10000})
	}
	if err != nil {
		return nil, err
	}
	d := &Center{tenant: t, keys: map[string]string{}, counts: map[string]int{}}
	id := t.ID

	teams := map[string]int64{}
	existingTeams, err := switchboard.All(ctx, s.Teams, id)
	if err != nil {
		return nil, err
	}
	for _, x := range existingTeams {
		teams[x.Name] = x.ID
	}
	for _, dt := range seedTeams {
		if _, ok := teams[dt.name]; ok {
			continue
		}
		team := switchboard.Team{Name: dt.name}
		if dt.parent != "" {
			p := teams[dt.parent]
			team.ParentID = &p
		}
		created, err := s.CreateTeam(ctx, id, team)
		if err != nil {
			return nil, fmt.Errorf("team %s: %w", dt.name, err)
		}
		teams[dt.name] = created.ID
	}

	skills := map[string]int64{}
	existingSkills, err := switchboard.All(ctx, s.Skills, id)
	if err != nil {
		return nil, err
	}
	for _, x := range existingSkills {
		skills[x.Name] = x.ID
	}
	for _, name := range seedSkills {
		if _, ok := skills[name]; !ok {
			created, err := s.CreateSkill(ctx, id, switchboard.Skill{Name: name})
			if err != nil {
				return nil, fmt.Errorf("skill %s: %w", name, err)
			}
			skills[name] = created.ID
		}
	}

	statuses, err := switchboard.All(ctx, s.Statuses, id)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"Lunch", "Training", "Back Office"} {
		found := false
		for _, st := range statuses {
			found = found || st.Name == name
		}
		if !found {
			if _, err := s.CreateStatus(ctx, id, switchboard.AgentStatus{Name: name}); err != nil {
				return nil, fmt.Errorf("status %s: %w", name, err)
			}
		}
	}

	users := map[string]int64{}
	byTeam := map[string][]int64{}
	var signIn []int64
	for i, a := range seedAgents {
		email := strings.ToLower(a.first + "." + a.last + "@demo.example")
		u, err := s.UserByEmail(ctx, id, email)
		if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
			nu := switchboard.User{Email: email, FirstName: a.first, LastName: a.last,
				Extension: fmt.Sprintf("%d", 1001+i), AgentNumber: fmt.Sprintf("A%03d", i+1),
				Location: "Turin", TeamIDs: []int64{teams[a.team]}, TimeZone: "Europe/Rome",
				PhoneNumbers: []string{fmt.Sprintf("+1415555%04d", 200+i)}}
			if i%4 == 0 {
				nu.Roles = []string{switchboard.RoleAgent, switchboard.RoleSupervisor}
			}
			for name, level := range a.skills {
				nu.Skills = append(nu.Skills, switchboard.UserSkill{SkillID: skills[name], Proficiency: level})
			}
			u, err = s.CreateUser(ctx, id, nu)
		}
		if err != nil {
			return nil, fmt.Errorf("agent %s: %w", email, err)
		}
		if i < 9 {
			signIn = append(signIn, u.ID) // three stay Offline, to show the difference
		}
		users[email] = u.ID
		byTeam[a.team] = append(byTeam[a.team], u.ID)
	}

	queues := map[string]int64{}
	existingQueues, err := switchboard.All(ctx, s.Queues, id)
	if err != nil {
		return nil, err
	}
	for _, x := range existingQueues {
		queues[x.Name] = x.ID
	}
	for _, dq := range seedQueues {
		if _, ok := queues[dq.name]; ok {
			continue
		}
		q := switchboard.Queue{Name: dq.name, Extension: dq.ext, Strategy: dq.strategy, WrapUpSeconds: 10,
			MaxLength: 20, Language: "en"}
		if dq.skill != "" {
			q.RequiredSkills = []switchboard.QueueSkill{{SkillID: skills[dq.skill], MinProficiency: 1}}
		}
		created, err := s.CreateQueue(ctx, id, q)
		if err != nil {
			return nil, fmt.Errorf("queue %s: %w", dq.name, err)
		}
		queues[dq.name] = created.ID
		for i, uid := range byTeam[dq.team] {
			if _, err := s.AddQueueMember(ctx, id, switchboard.QueueMember{QueueID: created.ID, UserID: uid, Penalty: i / 2}); err != nil {
				return nil, fmt.Errorf("queue %s member: %w", dq.name, err)
			}
		}
	}

	numbers, err := switchboard.All(ctx, s.PhoneNumbers, id)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, n := range numbers {
		have[n.Number] = true
	}
	for _, dn := range seedNumbers {
		if _, ok := queues[dn.target]; ok {
			d.numbers = append(d.numbers, dn.number)
		}
		if have[dn.number] {
			continue
		}
		n := switchboard.PhoneNumber{Number: dn.number, Label: dn.label, SMSEnabled: true}
		if qid, ok := queues[dn.target]; ok {
			n.QueueID = &qid
		} else {
			uid := users[dn.target]
			n.UserID = &uid
		}
		if _, err := s.CreatePhoneNumber(ctx, id, n); err != nil {
			return nil, fmt.Errorf("number %s: %w", dn.number, err)
		}
	}

	for _, uid := range signIn {
		if p, err := s.Presence(ctx, id, uid); err == nil && p.Status == switchboard.StatusOffline {
			if _, err := s.SetPresence(ctx, id, uid, switchboard.StatusAvailable, false); err != nil {
				return nil, fmt.Errorf("sign in demo agent: %w", err)
			}
		}
	}

	first := users[strings.ToLower(seedAgents[0].first+"."+seedAgents[0].last+"@demo.example")]
	if err := d.seedKeys(ctx, s, first, ko); err != nil {
		return nil, err
	}
	d.counts = map[string]int{"teams": len(teams), "skills": len(skills), "agents": len(users),
		"queues": len(queues), "phone numbers": len(seedNumbers)}
	return d, nil
}
