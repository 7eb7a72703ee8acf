package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/native"
	"switchboard/internal/sqlstore"
	"switchboard/internal/voice360"
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
	// keysNote says where the keys came from: kept, new, or why they will
	// not survive a restart.
	keysNote string
}

// demoKeyOptions says where the demo keeps its secrets and whether to replace
// them.
type demoKeyOptions struct {
	// File holds the secrets between starts; empty keeps them nowhere.
	File string
	// Rotate revokes the kept keys and mints new ones.
	Rotate bool
}

func seedDemo(ctx context.Context, s *sqlstore.DB, ko demoKeyOptions) (*demo, error) {
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

	first := users[strings.ToLower(demoAgents[0].first+"."+demoAgents[0].last+"@demo.example")]
	if err := d.seedKeys(ctx, s, first, ko); err != nil {
		return nil, err
	}
	d.counts = map[string]int{"teams": len(teams), "skills": len(skills), "agents": len(users),
		"queues": len(queues), "phone numbers": len(demoNumbers)}
	return d, nil
}

// demoKeys is the file that keeps the demo's secrets from one start to the
// next, so that a $KEY pasted from one start's output keeps working after a
// restart. The store keeps only hashes, so the secrets must live somewhere;
// they are random (nothing is derived from guessable data such as the slug or
// the database path), and the file is readable by its owner only (0600). It
// sits beside the database, which anyone able to read it could use anyway.
type demoKeys struct {
	TenantID int64             `json:"tenant_id"`
	Keys     map[string]string `json:"keys"` // "native", …, "voice360 user" -> secret
}

// demoKeysPath is where the demo keeps its secrets for database db: next to
// a SQLite file (PATH.demo-keys.json), or for PostgreSQL in the data
// directory, named after the database so that two databases do not share
// keys. An in-memory database has no such place.
func demoKeysPath(db string, getenv func(string) string) string {
	engine, dsn, err := sqlstore.ParseURL(db)
	if err != nil {
		return ""
	}
	if engine == sqlstore.SQLite {
		path, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
		if path == "" || strings.Contains(path, ":memory:") || strings.Contains(dsn, "mode=memory") {
			return ""
		}
		return path + ".demo-keys.json"
	}
	dir := getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "share")
	}
	sum := sha256.Sum256([]byte(db))
	return filepath.Join(dir, "switchboard", "demo-keys-"+hex.EncodeToString(sum[:8])+".json")
}

// seedKeys gives the demo one working key per dialect and a Voice360 user key
// of user: the ones kept in ko.File when they still work (and ko.Rotate is
// off), new ones otherwise. Every other demo key is revoked, so there is
// never a pile of them.
func (d *demo) seedKeys(ctx context.Context, s *sqlstore.DB, user int64, ko demoKeyOptions) error {
	id := d.tenant.ID
	var kept demoKeys
	if ko.File != "" && !ko.Rotate {
		if raw, err := os.ReadFile(ko.File); err == nil {
			json.Unmarshal(raw, &kept) // a damaged file only costs new keys
			if fi, err := os.Stat(ko.File); err == nil && fi.Mode().Perm()&0o077 != 0 {
				os.Chmod(ko.File, 0o600) // loosened by hand: the secrets are the owner's alone
			}
		}
	}
	want := map[string]switchboard.APIKey{}
	for _, dd := range demoDialects {
		k := switchboard.APIKey{Name: "demo " + dd.name}
		if dd.name == "voice360" {
			k.SecretPrefix = voice360.SecretPrefix // a developer key, as Voice360 spells them
		}
		want[dd.name] = k
	}
	// The user key gets the scopes every user key gets (switchboard.UserKeyScopes).
	want["voice360 user"] = switchboard.APIKey{Name: "demo voice360 user", UserID: &user}

	keep := map[int64]bool{}
	if kept.TenantID == id {
		for name, secret := range kept.Keys {
			w, ok := want[name]
			if !ok {
				continue
			}
			k, err := s.AuthenticateKey(ctx, secret)
			if err != nil || k.TenantID != id || k.Name != w.Name || !sameUser(k.UserID, w.UserID) ||
				(k.UserID != nil && !slices.Equal(k.Scopes, switchboard.UserKeyScopes)) {
				continue
			}
			d.keys[name], keep[k.ID] = secret, true
		}
	}
	keys, err := switchboard.All(ctx, s.APIKeys, id)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if strings.HasPrefix(k.Name, "demo ") && k.RevokedAt == nil && !keep[k.ID] {
			if _, err := s.RevokeAPIKey(ctx, id, k.ID); err != nil {
				return err
			}
		}
	}
	minted := 0
	for name, k := range want {
		if _, ok := d.keys[name]; ok {
			continue
		}
		nk, err := s.CreateAPIKey(ctx, id, k)
		if k.UserID != nil && switchboard.ErrorCode(err) == switchboard.CodeInvalid {
			continue // the agent was deactivated: no user key to show
		}
		if err != nil {
			return fmt.Errorf("demo key %s: %w", name, err)
		}
		d.keys[name] = nk.Secret
		minted++
	}
	switch {
	case ko.File == "":
		d.keysNote = "new keys (nowhere to keep them: they change on every start)"
		return nil
	case minted == 0:
		d.keysNote = "kept from the previous start in " + ko.File + "; --demo-rotate-keys replaces them"
		return nil
	}
	raw, _ := json.MarshalIndent(demoKeys{TenantID: id, Keys: d.keys}, "", "  ")
	if err := writePrivate(ko.File, raw); err != nil {
		d.keysNote = fmt.Sprintf("new keys, which will change on the next start: %v", err)
		return nil
	}
	d.keysNote = "new keys, kept in " + ko.File + " for the next starts; --demo-rotate-keys replaces them"
	return nil
}

func sameUser(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// writePrivate replaces path with data, readable by its owner only, so that a
// reader never sees half a file.
func writePrivate(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
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
			if uk := d.keys["voice360 user"]; uk != "" {
				fmt.Fprintf(w, "%-9s %-42s X-API-Key: %s   (user key of extension %s: its own user's routes only)\n", "", "", uk, "1001")
			}
		}
	}
	fmt.Fprintf(w, "\nKeys: %s.\n", d.keysNote)
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
func (d *demo) traffic(ctx context.Context, cc *calls, log *slog.Logger) {
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
