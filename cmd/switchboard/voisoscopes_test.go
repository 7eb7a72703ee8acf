package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestKeyCreateVoisoScope is the issue's contract for keys: `key create
// --scopes voice.call.manage` prints a key whose stored scopes are exactly
// that, which reaches no route needing another scope; a name that is no
// scope is refused.
func TestKeyCreateVoisoScope(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	if _, err := run(t, "", "tenant", "create", "--db", db, "--slug", "acme", "--name", "Acme"); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "key", "create", "--db", db, "--tenant", "acme", "--scopes", "voice.call.manage")
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSuffix(out, "\n")
	if strings.ContainsAny(secret, " \n{") || !strings.HasPrefix(secret, switchboard.SecretPrefixDefault) {
		t.Fatalf("key create printed %q, want only the secret", out)
	}
	if _, err := run(t, "", "key", "create", "--db", db, "--tenant", "acme", "--scopes", "voice.call.launch"); err == nil ||
		!strings.Contains(err.Error(), "scopes") {
		t.Errorf("key create --scopes voice.call.launch: %v, want a refusal naming scopes", err)
	}

	m, base, _ := startServer(t, "--db", db)
	k, err := m.store.AuthenticateKey(context.Background(), secret)
	if err != nil || !slices.Equal(k.Scopes, []string{switchboard.ScopeVoiceCallManage}) {
		t.Fatalf("the key's scopes are %v (%v), want exactly voice.call.manage", k.Scopes, err)
	}
	if !k.Allows(switchboard.ScopeVoiceCallManage) || k.Allows(switchboard.ScopeCallsManage) || k.Allows(switchboard.ScopeCallsRead) {
		t.Errorf("the key allows voice.call.manage %v, calls.manage %v, calls.read %v", k.Allows(switchboard.ScopeVoiceCallManage),
			k.Allows(switchboard.ScopeCallsManage), k.Allows(switchboard.ScopeCallsRead))
	}
	c := client{t: t, base: base, key: secret}
	for _, r := range []struct{ method, path string }{{"GET", "/v1/calls"}, {"POST", "/v1/calls"}, {"GET", "/v1/users"}, {"GET", "/v1/tenant"}} {
		if status, body := c.do(r.method, r.path, map[string]any{}); status != 403 {
			t.Errorf("%s %s with a voice.call.manage key: %d %v, want 403", r.method, r.path, status, body)
		}
	}
}
