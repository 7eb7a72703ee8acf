package native

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"switchboard"
)

// TestSIPPassword sets, generates and rotates a user's SIP password over
// HTTP: the password is never in an answer but the generated one, and the
// store keeps the hash the registrar checks.
func TestSIPPassword(t *testing.T) {
	ta := newTestAPI(t, nil)
	a := newFixture(t, ta.store, "acme")
	ctx := context.Background()
	hashOf := func(user, password string) string {
		h, _ := switchboard.SIPDigestHA1(user, switchboard.DefaultSIPRealm, password)
		return h
	}
	stored := func(user string) string {
		t.Helper()
		accts, err := ta.store.SIPAccounts(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		if len(accts) != 1 {
			return ""
		}
		return accts[0].HA1
	}

	res := ta.do(t, "POST", "/v1/users", a.key, map[string]any{"email": "sip@acme.test", "first_name": "Sip",
		"extension": "3001", "sip_password": "chosen-pw"})
	if res.status != 201 || strings.Contains(string(res.body), "chosen-pw") {
		t.Fatalf("create user: %d %s", res.status, res.body)
	}
	var u switchboard.User
	res.decode(t, &u)
	if stored("3001") != hashOf("3001", "chosen-pw") {
		t.Fatal("the chosen password is not the stored hash")
	}

	// Generated: shown once, in this answer only.
	path := fmt.Sprintf("/v1/users/%d/sip_password", u.ID)
	res = ta.do(t, "POST", path, a.key, nil)
	var gen struct {
		UserID      int64  `json:"user_id"`
		SIPUsername string `json:"sip_username"`
		SIPPassword string `json:"sip_password"`
	}
	res.decode(t, &gen)
	if res.status != 200 || gen.UserID != u.ID || gen.SIPUsername != "3001" || len(gen.SIPPassword) < 20 {
		t.Fatalf("generate: %d %s", res.status, res.body)
	}
	if stored("3001") != hashOf("3001", gen.SIPPassword) {
		t.Fatal("the generated password is not the stored hash")
	}
	again := ta.do(t, "POST", path, a.key, nil)
	var gen2 struct {
		SIPPassword string `json:"sip_password"`
	}
	again.decode(t, &gen2)
	if again.status != 200 || gen2.SIPPassword == gen.SIPPassword {
		t.Fatalf("second generation: %d %s", again.status, again.body)
	}
	get := ta.do(t, "GET", fmt.Sprintf("/v1/users/%d", u.ID), a.key, nil)
	for _, secret := range []string{"chosen-pw", gen.SIPPassword, gen2.SIPPassword, "sip_password"} {
		if strings.Contains(string(get.body), secret) {
			t.Errorf("GET user shows %q: %s", secret, get.body)
		}
	}
	list := ta.do(t, "GET", "/v1/users", a.key, nil)
	if strings.Contains(string(list.body), gen2.SIPPassword) || strings.Contains(string(list.body), "sip_password") {
		t.Errorf("user list shows the password: %s", list.body)
	}

	// A new sip_username needs a new password: the hash covers the name.
	res = ta.do(t, "PATCH", fmt.Sprintf("/v1/users/%d", u.ID), a.key, map[string]any{"sip_username": "sipuser"})
	if res.status != 422 {
		t.Fatalf("rename without password: %d %s", res.status, res.body)
	}
	if e := res.errorBody(t); e.Fields["sip_password"] == "" {
		t.Errorf("rename without password names %v, want sip_password", e.Fields)
	}
	res = ta.do(t, "PATCH", fmt.Sprintf("/v1/users/%d", u.ID), a.key, map[string]any{"sip_username": "sipuser",
		"sip_password": "renamed-pw"})
	if res.status != 200 || strings.Contains(string(res.body), "renamed-pw") {
		t.Fatalf("rename with password: %d %s", res.status, res.body)
	}
	if stored("sipuser") != hashOf("sipuser", "renamed-pw") || stored("3001") != "" {
		t.Error("the rename did not move the hash to the new name")
	}

	// A user without a SIP username cannot get a password.
	res = ta.do(t, "POST", "/v1/users", a.key, map[string]any{"email": "nosip@acme.test", "first_name": "No"})
	var bare switchboard.User
	res.decode(t, &bare)
	res = ta.do(t, "POST", fmt.Sprintf("/v1/users/%d/sip_password", bare.ID), a.key, nil)
	if res.status != 422 || res.errorBody(t).Fields["sip_username"] == "" {
		t.Errorf("generate without a username: %d %s", res.status, res.body)
	}
	// Another tenant's user does not exist here.
	b := newFixture(t, ta.store, "beta")
	if res := ta.do(t, "POST", fmt.Sprintf("/v1/users/%d/sip_password", b.user), a.key, nil); res.status != 404 {
		t.Errorf("another tenant's user: %d %s", res.status, res.body)
	}
}
