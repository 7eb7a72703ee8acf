package sqlstore_test

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// ha1 is the digest A1 hash of a SIP password as RFC 2617 defines it,
// computed here independently of the store.
func ha1(user, realm, password string) string {
	h := md5.Sum([]byte(user + ":" + realm + ":" + password))
	return hex.EncodeToString(h[:])
}

func TestSIPAccounts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		acme, other := mustTenant(t, db, "acme"), mustTenant(t, db, "other")
		ann, err := db.CreateUser(ctx, acme.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann",
			Extension: "1001", SIPPassword: "pw-acme"})
		if err != nil {
			t.Fatal(err)
		}
		if ann.SIPPassword != "" {
			t.Errorf("CreateUser returned the SIP password %q", ann.SIPPassword)
		}
		bob, err := db.CreateUser(ctx, other.ID, switchboard.User{Email: "bob@other.test", FirstName: "Bob",
			Extension: "1001", SIPPassword: "pw-other"})
		if err != nil {
			t.Fatal(err)
		}
		// No password: cannot register, so not an account.
		nopw, err := db.CreateUser(ctx, other.ID, switchboard.User{Email: "nopw@other.test", FirstName: "N",
			Extension: "2002"})
		if err != nil {
			t.Fatal(err)
		}
		accts, err := db.SIPAccounts(ctx, "1001")
		if err != nil {
			t.Fatal(err)
		}
		if len(accts) != 2 {
			t.Fatalf("SIPAccounts(1001) = %+v, want one per tenant", accts)
		}
		want := map[int64]string{acme.ID: "pw-acme", other.ID: "pw-other"}
		for _, a := range accts {
			if a.Realm != switchboard.DefaultSIPRealm || a.HA1 != ha1("1001", a.Realm, want[a.TenantID]) ||
				a.Extension != "1001" || a.Username != "1001" || len(a.HA1SHA256) != 64 {
				t.Errorf("account %+v: wrong hashes or identity", a)
			}
			if (a.TenantID == acme.ID && (a.TenantSlug != "acme" || a.UserID != ann.ID)) ||
				(a.TenantID == other.ID && (a.TenantSlug != "other" || a.UserID != bob.ID)) {
				t.Errorf("account %+v: wrong tenant or user", a)
			}
		}
		if accts, err := db.SIPAccounts(ctx, "2002"); err != nil || len(accts) != 0 {
			t.Errorf("SIPAccounts(2002) without a password = %+v, %v", accts, err)
		}

		// A new name without a new password is refused: the hash covers
		// the old name.
		_, err = db.UpdateUserFunc(ctx, acme.ID, ann.ID, func(u *switchboard.User) error {
			u.SIPUsername = "ann"
			return nil
		})
		wantField(t, "rename without password", err, switchboard.CodeInvalid, "sip_password")
		if _, err := db.UpdateUserFunc(ctx, acme.ID, ann.ID, func(u *switchboard.User) error {
			u.SIPUsername, u.SIPPassword = "ann", "pw-renamed"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		accts, err = db.SIPAccounts(ctx, "ann")
		if err != nil || len(accts) != 1 || accts[0].HA1 != ha1("ann", switchboard.DefaultSIPRealm, "pw-renamed") {
			t.Fatalf("SIPAccounts(ann) after rename = %+v, %v", accts, err)
		}
		if accts, _ := db.SIPAccounts(ctx, "1001"); len(accts) != 1 || accts[0].TenantID != other.ID {
			t.Errorf("SIPAccounts(1001) after rename = %+v, want only the other tenant's", accts)
		}
		// A user with no password may change its name freely.
		if _, err := db.UpdateUserFunc(ctx, other.ID, nopw.ID, func(u *switchboard.User) error {
			u.SIPUsername = "nopw"
			return nil
		}); err != nil {
			t.Errorf("rename of a user without a password: %v", err)
		}

		// Deactivated users cannot register.
		now := time.Now()
		if _, err := db.UpdateUserFunc(ctx, other.ID, bob.ID, func(u *switchboard.User) error {
			u.DeactivatedAt = &now
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if accts, _ := db.SIPAccounts(ctx, "1001"); len(accts) != 0 {
			t.Errorf("SIPAccounts(1001) after deactivation = %+v", accts)
		}

		// A password needs a name to be hashed with.
		_, err = db.CreateUser(ctx, acme.ID, switchboard.User{Email: "x@acme.test", FirstName: "X", SIPPassword: "pw"})
		wantField(t, "password without username", err, switchboard.CodeInvalid, "sip_password")
	})
}

func TestSIPAccountsRealm(t *testing.T) {
	ctx := context.Background()
	db := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{SIPRealm: "pbx.example"})
	tn := mustTenant(t, db, "acme")
	if _, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "a@acme.test", FirstName: "A", Extension: "7",
		SIPPassword: "pw"}); err != nil {
		t.Fatal(err)
	}
	accts, err := db.SIPAccounts(ctx, "7")
	if err != nil || len(accts) != 1 || accts[0].Realm != "pbx.example" || accts[0].HA1 != ha1("7", "pbx.example", "pw") {
		t.Fatalf("SIPAccounts = %+v, %v", accts, err)
	}
}

// TestSIPPasswordMigration puts a database back to before migration 0012,
// with a plaintext password, and checks that migrating hashes it and drops
// the plaintext column.
func TestSIPPasswordMigration(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			url := mk(t)
			db := sqlstoretest.Open(t, url, sqlstore.Options{})
			tn := mustTenant(t, db, "acme")
			u, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "a@acme.test", FirstName: "A", Extension: "1001"})
			if err != nil {
				t.Fatal(err)
			}
			db.Close()

			engine, dsn, err := sqlstore.ParseURL(url)
			if err != nil {
				t.Fatal(err)
			}
			driver, bind := "sqlite", "?"
			if engine == sqlstore.Postgres {
				driver, bind = "pgx", "$1"
			}
			raw, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			for _, q := range []string{
				"DROP TABLE sip_bindings",
				"DROP INDEX users_sip_account",
				"ALTER TABLE users DROP COLUMN sip_realm",
				"ALTER TABLE users DROP COLUMN sip_ha1",
				"ALTER TABLE users DROP COLUMN sip_ha1_sha256",
				"ALTER TABLE users ADD COLUMN sip_password TEXT NOT NULL DEFAULT ''",
				"UPDATE users SET sip_password = 'plain-old'",
				"DELETE FROM schema_migrations WHERE version = '0012_sip_ha1.sql'",
			} {
				if _, err := raw.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}

			db = sqlstoretest.Open(t, url, sqlstore.Options{})
			if got := db.AppliedMigrations(); len(got) != 1 || got[0] != "0012_sip_ha1.sql" {
				t.Fatalf("applied %v, want 0012 only", got)
			}
			accts, err := db.SIPAccounts(ctx, "1001")
			if err != nil || len(accts) != 1 || accts[0].UserID != u.ID ||
				accts[0].HA1 != ha1("1001", switchboard.DefaultSIPRealm, "plain-old") {
				t.Fatalf("SIPAccounts after migration = %+v, %v", accts, err)
			}
			var n int
			err = raw.QueryRowContext(ctx, "SELECT COUNT(sip_password) FROM users WHERE id = "+bind, u.ID).Scan(&n)
			if err == nil || !strings.Contains(err.Error(), "sip_password") {
				t.Errorf("the plaintext column survived the migration (err %v)", err)
			}
		})
	}
}

func TestSIPBindings(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		b := func(device, contact string, in time.Duration) switchboard.SIPBinding {
			return switchboard.SIPBinding{Device: device, Contact: contact, Source: "192.0.2.7:5062", Transport: "UDP",
				ExpiresAt: now.Add(in), CallID: "c-" + contact, UserAgent: "Yealink"}
		}
		first := map[string][]switchboard.SIPBinding{
			"t1:1001": {b("t1:1001", "sip:1001@10.0.0.5:5060", time.Hour), b("t1:1001", "sip:1001@10.0.0.6:5060", time.Minute)},
			"t2:1001": {b("t2:1001", "sip:1001@10.0.0.9:5060", time.Hour)},
		}
		if err := db.SaveSIPBindings(ctx, first); err != nil {
			t.Fatal(err)
		}
		got, err := db.SIPBindings(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		want := []switchboard.SIPBinding{first["t1:1001"][1], first["t1:1001"][0], first["t2:1001"][0]}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("SIPBindings (-want +got):\n%s", diff)
		}
		// A device's bindings are replaced as a whole; one with none has
		// them removed; the other device is untouched.
		if err := db.SaveSIPBindings(ctx, map[string][]switchboard.SIPBinding{
			"t1:1001": {b("t1:1001", "sip:1001@10.0.0.5:5060", 2*time.Hour)}, "t2:1001": nil}); err != nil {
			t.Fatal(err)
		}
		got, _ = db.SIPBindings(ctx, now)
		if len(got) != 1 || got[0].Contact != "sip:1001@10.0.0.5:5060" || !got[0].ExpiresAt.Equal(now.Add(2*time.Hour)) {
			t.Fatalf("after replacing: %+v", got)
		}
		// Expired bindings are not listed.
		if got, _ := db.SIPBindings(ctx, now.Add(3*time.Hour)); len(got) != 0 {
			t.Errorf("SIPBindings after expiry = %+v", got)
		}
	})
}
