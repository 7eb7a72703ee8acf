package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/native"
	"switchboard/internal/sqlstore"
)

// The demo tenant: enough of a contact center to try every API against, seeded
// idempotently (each object is created only when missing) so that restarting
// with --demo never duplicates anything. Its phone numbers are in the +1 555
// 01xx range reserved for fiction.

const demoSlug = "demo"

type demoAgent struct {
	first, last, team string
	skills            map[string]int
}

var (
	demoTeams  = []struct{ name, parent string }{{"Sales", ""}, {"Support", ""}, {"Billing", "Support"}}
	demoSkills = []string{"English", "Italian", "Spanish", "Billing", "Technical"}
	demoAgents = []demoAgent{
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
	demoQueues = []struct {
		name, ext, team, skill string
		strategy               switchboard.Strategy
	}{
		{"Sales Queue", "8001", "Sales", "", switchboard.StrategyRingAll},
		{"Support Queue", "8002", "Support", "Technical", switchboard.StrategyLeastRecent},
		{"Billing Queue", "8003", "Billing", "Billing", switchboard.StrategyRRMemory},
	}
	// demoNumbers route to a queue (by name) or an agent (by e-mail).
	demoNumbers = []struct{ number, label, target string }{
		{"+14155550100", "Sales line", "Sales Queue"},
		{"+14155550101", "Support line", "Support Queue"},
		{"+14155550102", "Billing line", "Billing Queue"},
		{"+14155550110", "Alice direct", "alice.moretti@demo.example"},
		{"+14155550111", "Elena direct", "elena.rossi@demo.example"},
		{"+14155550112", "Irene direct", "irene.fontana@demo.example"},
	}
	// demoDialects lists a key per API dialect with how to present it.
	demoDialects = []struct {
		name, path, style string
		served            bool
	}{
		{"native", "/v1", "Authorization: Bearer %s", true},
		{"voiso", "/api/v4", "Authorization: Bearer %s", false},
		{"voxloud", "/api/v1", "Voverc-Auth: %s", true},
		{"voice360", "/v3/voice/{account_id}", "X-API-Key: %s", true},
		{"ujet", "/apps/api/v1", "Authorization: Basic %s", false},
	}
)

type demo struct {
	tenant  switchboard.Tenant
	numbers []string          // the DIDs routed to queues, for the traffic generator
	keys    map[string]string // dialect -> secret
	counts  map[string]int
}

func seedDemo(ctx context.Context, s *sqlstore.DB) (*demo, error) {
	t, err := s.TenantBySlug(ctx, demoSlug)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		t, err = s.CreateTenant(ctx, switchboard.Tenant{Slug: demoSlug, Name: "Demo Contact Center",
			AdminEmail: "admin@demo.example", Timezone: "Europe/Rome", Currency: "EUR", BalanceCents: 10000})
	}
	if err != nil {
		return nil, err
	}
	d := &demo{tenant: t, keys: map[string]string{}, counts: map[string]int{}}
	id := t.ID

	teams := map[string]int64{}
	existingTeams, err := switchboard.All(ctx, s.Teams, id)
	if err != nil {
		return nil, err
	}
	for _, x := range existingTeams {
		teams[x.Name] = x.ID
	}
	for _, dt := range demoTeams {
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
	for _, name := range demoSkills {
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
	for i, a := range demoAgents {
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
	for _, dq := range demoQueues {
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
	for _, dn := range demoNumbers {
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

	// Keys are shown only once, so each start revokes the previous demo keys
	// and mints fresh ones: one working key per dialect, never a pile of them.
	keys, err := switchboard.All(ctx, s.APIKeys, id)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if strings.HasPrefix(k.Name, "demo ") && k.RevokedAt == nil {
			if _, err := s.RevokeAPIKey(ctx, id, k.ID); err != nil {
				return nil, err
			}
		}
	}
	for _, dd := range demoDialects {
		k := switchboard.APIKey{Name: "demo " + dd.name}
		if dd.name == "voice360" {
			k.SecretPrefix = switchboard.SecretPrefixVoice360Dev // a developer key, as Voice360 spells them
		}
		nk, err := s.CreateAPIKey(ctx, id, k)
		if err != nil {
			return nil, err
		}
		d.keys[dd.name] = nk.Secret
	}
	// A Voice360 user key: the first agent's own.
	first := users[strings.ToLower(demoAgents[0].first+"."+demoAgents[0].last+"@demo.example")]
	uk, err := s.CreateAPIKey(ctx, id, switchboard.APIKey{Name: "demo voice360 user", UserID: &first})
	if err != nil {
		return nil, err
	}
	d.keys["voice360 user"] = uk.Secret
	d.counts = map[string]int{"teams": len(teams), "skills": len(skills), "agents": len(users),
		"queues": len(queues), "phone numbers": len(demoNumbers)}
	return d, nil
}

// print shows what a newcomer needs: where each API is, the key for it, and
// commands to paste.
func (d *demo) print(w io.Writer, base, adminToken string) {
	fmt.Fprintf(w, "\nSwitchboard demo tenant %q (id %d) is ready: %d agents, %d teams, %d queues, %d skills, %d phone numbers.\n\n",
		d.tenant.Slug, d.tenant.ID, d.counts["agents"], d.counts["teams"], d.counts["queues"], d.counts["skills"], d.counts["phone numbers"])
	fmt.Fprintf(w, "%-9s %-42s %s\n", "dialect", "base URL", "credential header")
	for _, dd := range demoDialects {
		secret := d.keys[dd.name]
		if dd.name == "ujet" {
			secret = base64.StdEncoding.EncodeToString([]byte(d.tenant.Slug + ":" + secret))
		}
		note := ""
		if !dd.served {
			note = "   (dialect not served yet)"
		}
		path := strings.ReplaceAll(dd.path, "{account_id}", fmt.Sprint(d.tenant.ID))
		fmt.Fprintf(w, "%-9s %-42s %s%s\n", dd.name, base+path, fmt.Sprintf(dd.style, secret), note)
		if dd.name == "voice360" {
			fmt.Fprintf(w, "%-9s %-42s X-API-Key: %s   (user key of extension %s: /user/* only)\n", "", "", d.keys["voice360 user"], "1001")
		}
	}
	fmt.Fprintf(w, "\nPlatform admin token (for /v1/admin/...): %s\n", adminToken)
	key := d.keys["native"]
	fmt.Fprintf(w, "\nTry:\n")
	fmt.Fprintf(w, "  curl -s -H 'Authorization: Bearer %s' '%s/v1/users?limit=3'\n", key, base)
	fmt.Fprintf(w, "  curl -s -H 'Authorization: Bearer %s' %s/v1/queues\n", key, base)
	fmt.Fprintf(w, "  curl -s -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \\\n", key)
	fmt.Fprintf(w, "       -d '{\"email\":\"new.agent@demo.example\",\"first_name\":\"New\",\"last_name\":\"Agent\",\"extension\":\"1099\"}' %s/v1/users\n", base)
	fmt.Fprintf(w, "  curl -s -H 'Authorization: Bearer %s' %s/v1/metrics\n", key, base)
	fmt.Fprintf(w, "  curl -s %s/v1/openapi.json | head\n\n", base)
}

// traffic places simulated calls into the demo queues until ctx ends: Poisson
// arrivals every 30 s on average, talk of about a minute, callers who give up
// after two minutes, so a newcomer sees queues, answers and abandons.
func (d *demo) traffic(ctx context.Context, cc *callCenter, log *slog.Logger) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for {
		wait := time.Duration(rng.ExpFloat64() * float64(30*time.Second))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		talk := min(time.Duration(rng.ExpFloat64()*float64(time.Minute)), 3*time.Minute) + 5*time.Second
		from := fmt.Sprintf("+1212555%04d", rng.IntN(10000))
		to := d.numbers[rng.IntN(len(d.numbers))]
		if _, err := cc.SimulateCall(ctx, d.tenant.ID, native.SimCall{From: from, To: to, Talk: talk, Patience: 2 * time.Minute}); err != nil && ctx.Err() == nil {
			log.Warn("demo traffic", "err", err)
		}
	}
}
