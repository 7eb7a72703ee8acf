package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/userimport"
)

// withStore parses the command's flags (define adds its own beside --db), opens
// the store, and runs fn with it. Positional arguments are refused unless
// positional is set.
func (m *Main) withStore(ctx context.Context, name string, args []string, positional bool, define func(fs *flag.FlagSet), fn func(fs *flag.FlagSet) error) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if define != nil {
		define(fs)
	}
	if err := m.parseFlags(fs, args, true); err != nil {
		return err
	}
	if fs.NArg() > 0 && !positional {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	log := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := sqlstore.Open(ctx, m.Config.DB, sqlstore.Options{Logger: log, SIPRealm: m.Config.SIPRealm})
	if err != nil {
		return err
	}
	defer store.Close()
	m.store = store
	defer func() { m.store = nil }()
	return fn(fs)
}

func (m *Main) printJSON(v any) error {
	enc := json.NewEncoder(m.Stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// tenantCreate prints the new tenant as one JSON object and nothing else, so
// scripts can read its id.
func (m *Main) tenantCreate(ctx context.Context, args []string) error {
	var t switchboard.Tenant
	return m.withStore(ctx, "tenant create", args, false, func(fs *flag.FlagSet) {
		fs.StringVar(&t.Slug, "slug", "", "tenant slug: lower-case letters, digits and hyphens (required)")
		fs.StringVar(&t.Name, "name", "", "tenant display name (required)")
		fs.StringVar(&t.AdminEmail, "admin-email", "", "e-mail of the tenant's administrator")
		fs.StringVar(&t.Timezone, "timezone", "UTC", "IANA time zone of the contact center")
		fs.StringVar(&t.Currency, "currency", "USD", "ISO 4217 billing currency")
	}, func(*flag.FlagSet) error {
		created, err := m.store.CreateTenant(ctx, t)
		if err != nil {
			return describe(err)
		}
		return m.printJSON(created)
	})
}

// keyCreate prints only the secret, so that KEY=$(switchboard key create …)
// works. A key made with --user follows the rule of every user key (see
// switchboard.UserKeyScopes): never a tenant administrator.
func (m *Main) keyCreate(ctx context.Context, args []string) error {
	var slug, email, scopes, name string
	return m.withStore(ctx, "key create", args, false, func(fs *flag.FlagSet) {
		fs.StringVar(&slug, "tenant", "", "slug of the tenant the key belongs to (required)")
		fs.StringVar(&email, "user", "", "e-mail of the user the key acts as (optional): a user key, which reaches only that user's own routes")
		fs.StringVar(&scopes, "scopes", "", "comma-separated scopes; empty grants every scope ("+strings.Join(switchboard.Scopes[1:], ", ")+
			"), or for a user key every scope a user key may carry ("+strings.Join(switchboard.UserKeyScopes, ", ")+")")
		fs.StringVar(&name, "name", "", "a name to recognise the key by")
	}, func(*flag.FlagSet) error {
		t, err := m.tenant(ctx, slug)
		if err != nil {
			return err
		}
		k := switchboard.APIKey{Name: name}
		if email != "" {
			u, err := m.store.UserByEmail(ctx, t.ID, strings.ToLower(email))
			if err != nil {
				return describe(err)
			}
			k.UserID = &u.ID
		}
		for _, s := range strings.Split(scopes, ",") {
			if s = strings.TrimSpace(s); s != "" {
				k.Scopes = append(k.Scopes, s)
			}
		}
		created, err := m.store.CreateAPIKey(ctx, t.ID, k)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintln(m.Stdout, created.Secret)
		return nil
	})
}

// describe renders a store error for a terminal, naming the bad fields.
func describe(err error) error { return errors.New(userimport.Reason(err)) }
