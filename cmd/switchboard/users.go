package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"switchboard"
	"switchboard/internal/userimport"
)

// userCreate prints the new user as one JSON object.
func (m *Main) userCreate(ctx context.Context, args []string) error {
	var slug, teams, roles string
	var u switchboard.User
	return m.withStore(ctx, "user create", args, false, func(fs *flag.FlagSet) {
		fs.StringVar(&slug, "tenant", "", "slug of the tenant (required)")
		fs.StringVar(&u.Email, "email", "", "e-mail address, the user's login (required)")
		fs.StringVar(&u.FirstName, "first-name", "", "first name")
		fs.StringVar(&u.LastName, "last-name", "", "last name")
		fs.StringVar(&u.Extension, "extension", "", "internal extension, digits only")
		fs.StringVar(&u.AgentNumber, "agent-number", "", "agent number shown in reports")
		fs.StringVar(&u.Location, "location", "", "site or city")
		fs.StringVar(&roles, "roles", "agent", "comma-separated roles: agent, supervisor, admin")
		fs.StringVar(&teams, "teams", "", "comma-separated team names the user belongs to")
	}, func(*flag.FlagSet) error {
		t, err := m.tenant(ctx, slug)
		if err != nil {
			return err
		}
		u.Roles = userimport.SplitList(roles)
		if u.TeamIDs, err = userimport.TeamIDs(ctx, m.store, t.ID, userimport.SplitList(teams)); err != nil {
			return err
		}
		created, err := m.store.CreateUser(ctx, t.ID, u)
		if err != nil {
			return describe(err)
		}
		return m.printJSON(created)
	})
}

func (m *Main) tenant(ctx context.Context, slug string) (switchboard.Tenant, error) {
	if slug == "" {
		return switchboard.Tenant{}, usageError{errors.New("--tenant is required")}
	}
	t, err := m.store.TenantBySlug(ctx, slug)
	if err != nil {
		return t, describe(err)
	}
	return t, nil
}

// userImport imports users from a file (see userimport) and prints the
// result on stdout and progress on stderr. It exits non-zero when any row
// failed, so scripts notice, and prints the result either way.
func (m *Main) userImport(ctx context.Context, args []string) error {
	var slug, format string
	var quiet bool
	return m.withStore(ctx, "user import", args, true, func(fs *flag.FlagSet) {
		fs.StringVar(&slug, "tenant", "", "slug of the tenant (required)")
		fs.StringVar(&format, "format", "", "json or csv; by default csv for *.csv files, else json")
		fs.BoolVar(&quiet, "quiet", false, "do not print progress on standard error")
	}, func(fs *flag.FlagSet) error {
		if fs.NArg() != 1 {
			return usageError{errors.New("give exactly one file to import after the flags (- for standard input)")}
		}
		path := fs.Arg(0)
		t, err := m.tenant(ctx, slug)
		if err != nil {
			return err
		}
		if format != "" && format != "json" && format != "csv" {
			return usageError{fmt.Errorf("--format must be json or csv, not %q", format)}
		}
		rows, rowErrs, err := userimport.ReadFile(path, format, m.Stdin)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		last := time.Now()
		res := userimport.Import(ctx, m.store, t.ID, rows, rowErrs, func(i int, res userimport.Result, err error) {
			if err != nil {
				fmt.Fprintf(m.Stderr, "row %d (%s): %s\n", i+1, rows[i].Email, userimport.Reason(err))
			}
			if !quiet && (time.Since(last) > time.Second || i+1 == len(rows)) {
				fmt.Fprintf(m.Stderr, "progress: %d/%d rows, %d created, %d failed\n", i+1, len(rows), res.Created, res.Failed)
				last = time.Now()
			}
		})
		if err := m.printJSON(res); err != nil {
			return err
		}
		if res.Failed > 0 {
			return fmt.Errorf("%d of %d rows failed", res.Failed, len(rows))
		}
		return nil
	})
}
