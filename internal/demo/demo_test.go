package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestSeedIsIdempotent seeds twice into one real database and finds every
// object once, the same keys kept in a private file, and working keys.
func TestSeedIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})
	file := filepath.Join(t.TempDir(), "demo-keys.json")
	first, err := Seed(ctx, s, KeyOptions{File: file})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Seed(ctx, s, KeyOptions{File: file})
	if err != nil {
		t.Fatal(err)
	}
	id := first.tenant.ID
	if second.tenant.ID != id || len(first.keys) != len(dialects)+1 {
		t.Fatalf("tenants %d and %d, keys %v", id, second.tenant.ID, first.keys)
	}
	for name, secret := range first.keys {
		if second.keys[name] != secret {
			t.Errorf("key %s changed between seeds", name)
		}
		if k, err := s.AuthenticateKey(ctx, secret); err != nil || k.TenantID != id {
			t.Errorf("key %s does not authenticate: %v", name, err)
		}
	}
	if !strings.Contains(second.keysNote, "kept from the previous start") {
		t.Errorf("second seed's note: %q", second.keysNote)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v; want mode 0600", fi, err)
	}
	for what, want := range map[string]int{"users": len(seedAgents), "teams": len(seedTeams), "queues": len(seedQueues), "numbers": len(seedNumbers)} {
		var n int
		switch what {
		case "users":
			p, _ := s.Users(ctx, id, switchboard.UserFilter{}, switchboard.ListOptions{Limit: 100})
			n = len(p.Items)
		case "teams":
			all, _ := switchboard.All(ctx, s.Teams, id)
			n = len(all)
		case "queues":
			all, _ := switchboard.All(ctx, s.Queues, id)
			n = len(all)
		case "numbers":
			all, _ := switchboard.All(ctx, s.PhoneNumbers, id)
			n = len(all)
		}
		if n != want {
			t.Errorf("%d %s after two seeds, want %d", n, what, want)
		}
	}
	if len(second.numbers) != 3 {
		t.Errorf("traffic numbers %v, want the three queue lines", second.numbers)
	}

	rotated, err := Seed(ctx, s, KeyOptions{File: file, Rotate: true})
	if err != nil {
		t.Fatal(err)
	}
	if rotated.keys["native"] == first.keys["native"] {
		t.Error("Rotate kept the native key")
	}
	if _, err := s.AuthenticateKey(ctx, first.keys["native"]); err == nil {
		t.Error("the rotated-out key still authenticates")
	}
	keys, _ := switchboard.All(ctx, s.APIKeys, id)
	live := 0
	for _, k := range keys {
		if k.RevokedAt == nil {
			live++
		}
	}
	if live != len(dialects)+1 {
		t.Errorf("%d live demo keys after rotating, want %d", live, len(dialects)+1)
	}

	var out bytes.Buffer
	rotated.Print(&out, "http://127.0.0.1:1", "admintoken")
	for _, want := range []string{"12 agents, 3 teams, 3 queues", rotated.keys["native"], "admintoken", "http://127.0.0.1:1/v3/voice/"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Print lacks %q:\n%s", want, out.String())
		}
	}
}

// TestSeedWithoutKeyFile mints new keys on every seed when there is nowhere
// to keep them, and revokes the previous ones.
func TestSeedWithoutKeyFile(t *testing.T) {
	ctx := context.Background()
	s := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})
	a, err := Seed(ctx, s, KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Seed(ctx, s, KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.keys["native"] == b.keys["native"] || !strings.Contains(b.keysNote, "nowhere to keep them") {
		t.Errorf("keys %q then %q, note %q", a.keys["native"], b.keys["native"], b.keysNote)
	}
	if _, err := s.AuthenticateKey(ctx, a.keys["native"]); err == nil {
		t.Error("the first seed's key still authenticates")
	}
}

func TestKeysPath(t *testing.T) {
	env := func(k string) string {
		if k == "XDG_DATA_HOME" {
			return "/data"
		}
		return ""
	}
	for db, want := range map[string]string{
		"sqlite:/var/lib/sb.db":           "/var/lib/sb.db.demo-keys.json",
		"sqlite:file:/x/sb.db?_txlock=1":  "/x/sb.db.demo-keys.json",
		"sqlite::memory:":                 "",
		"sqlite:file:x?mode=memory":       "",
		"postgres://u:p@host/db":          "/data/switchboard/demo-keys-",
		"postgres://u:p@host/other":       "/data/switchboard/demo-keys-",
		"not a database url at all (bad)": "",
	} {
		got := KeysPath(db, env)
		if !strings.HasPrefix(got, want) || (want == "") != (got == "") {
			t.Errorf("KeysPath(%q) = %q, want %q…", db, got, want)
		}
	}
	if KeysPath("postgres://u:p@host/db", env) == KeysPath("postgres://u:p@host/other", env) {
		t.Error("two PostgreSQL databases share a key file")
	}
}
