package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"switchboard"
)

// userFlags binds the user fields that make sense on a command line.
func userFlags(fs *flag.FlagSet, u *switchboard.User, teams, roles *string) {
	fs.StringVar(&u.Email, "email", "", "e-mail address, the user's login (required)")
	fs.StringVar(&u.FirstName, "first-name", "", "first name")
	fs.StringVar(&u.LastName, "last-name", "", "last name")
	fs.StringVar(&u.Extension, "extension", "", "internal extension, digits only")
	fs.StringVar(&u.AgentNumber, "agent-number", "", "agent number shown in reports")
	fs.StringVar(&u.Location, "location", "", "site or city")
	fs.StringVar(roles, "roles", "agent", "comma-separated roles: agent, supervisor, admin")
	fs.StringVar(teams, "teams", "", "comma-separated team names the user belongs to")
}

func (m *Main) userCreate(ctx context.Context, args []string) error {
	var slug, teams, roles string
	var u switchboard.User
	return m.withStore(ctx, "user create", args, false, func(fs *flag.FlagSet) {
		fs.StringVar(&slug, "tenant", "", "slug of the tenant (required)")
		userFlags(fs, &u, &teams, &roles)
	}, func(*flag.FlagSet) error {
		t, err := m.tenant(ctx, slug)
		if err != nil {
			return err
		}
		u.Roles = splitList(roles)
		if u.TeamIDs, err = m.teamIDs(ctx, t.ID, splitList(teams)); err != nil {
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

// teamIDs resolves team names to ids, naming any that does not exist.
func (m *Main) teamIDs(ctx context.Context, tenantID int64, names []string) ([]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	byName := map[string]int64{}
	opt := switchboard.ListOptions{Limit: switchboard.MaxPageLimit}
	for {
		page, err := m.store.Teams(ctx, tenantID, opt)
		if err != nil {
			return nil, err
		}
		for _, t := range page.Items {
			byName[strings.ToLower(t.Name)] = t.ID
		}
		if page.NextCursor == "" {
			break
		}
		opt.Cursor = page.NextCursor
	}
	ids := make([]int64, 0, len(names))
	for _, n := range names {
		id, ok := byName[strings.ToLower(n)]
		if !ok {
			return nil, fmt.Errorf("team %q does not exist", n)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '|' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// importRow is one user of an import file, in the shape of the native API's
// user, with teams given by name since ids differ between installations.
type importRow struct {
	Email        string   `json:"email"`
	FirstName    string   `json:"first_name"`
	LastName     string   `json:"last_name"`
	Extension    string   `json:"extension"`
	AgentNumber  string   `json:"agent_number"`
	Location     string   `json:"location"`
	Roles        []string `json:"roles"`
	Teams        []string `json:"teams"`
	PhoneNumbers []string `json:"phone_numbers"`
	TimeZone     string   `json:"time_zone"`
	MaxChats     int      `json:"max_chats"`
}

// importResult is what user import prints on stdout: counts, and each failed
// row with its reason, so a script can fix and retry exactly those rows.
type importResult struct {
	Created int           `json:"created"`
	Failed  int           `json:"failed"`
	Errors  []importError `json:"errors"`
}

type importError struct {
	Row   int    `json:"row"` // 1-based, not counting a CSV header
	Email string `json:"email"`
	Error string `json:"error"`
}

// userImport creates users from a file, row by row: a bad row is reported with
// its number and reason and the rest go on. It exits non-zero when any row
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
		if format == "" {
			format = "json"
			if strings.HasSuffix(strings.ToLower(path), ".csv") {
				format = "csv"
			}
		}
		in := m.Stdin
		if path != "-" {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		}
		var rows []importRow
		var rowErrs map[int]error
		switch format {
		case "json":
			rows, rowErrs, err = readJSONRows(in)
		case "csv":
			rows, rowErrs, err = readCSVRows(in)
		default:
			return usageError{fmt.Errorf("--format must be json or csv, not %q", format)}
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		res := importResult{Errors: []importError{}}
		last := time.Now()
		for i, row := range rows {
			err := rowErrs[i]
			if err == nil {
				err = m.importUser(ctx, t.ID, row)
			}
			if err != nil {
				res.Failed++
				res.Errors = append(res.Errors, importError{Row: i + 1, Email: row.Email, Error: describe(err).Error()})
				fmt.Fprintf(m.Stderr, "row %d (%s): %v\n", i+1, row.Email, describe(err))
			} else {
				res.Created++
			}
			if !quiet && (time.Since(last) > time.Second || i+1 == len(rows)) {
				fmt.Fprintf(m.Stderr, "progress: %d/%d rows, %d created, %d failed\n", i+1, len(rows), res.Created, res.Failed)
				last = time.Now()
			}
		}
		if err := m.printJSON(res); err != nil {
			return err
		}
		if res.Failed > 0 {
			return fmt.Errorf("%d of %d rows failed", res.Failed, len(rows))
		}
		return nil
	})
}

func (m *Main) importUser(ctx context.Context, tenantID int64, row importRow) error {
	teams, err := m.teamIDs(ctx, tenantID, row.Teams)
	if err != nil {
		return err
	}
	_, err = m.store.CreateUser(ctx, tenantID, switchboard.User{Email: row.Email, FirstName: row.FirstName,
		LastName: row.LastName, Extension: row.Extension, AgentNumber: row.AgentNumber, Location: row.Location,
		Roles: row.Roles, TeamIDs: teams, PhoneNumbers: row.PhoneNumbers, TimeZone: row.TimeZone, MaxChats: row.MaxChats})
	return err
}

// readJSONRows reads a JSON array of users. Each element is decoded on its own,
// so one malformed row is that row's error rather than the whole file's.
func readJSONRows(r io.Reader) ([]importRow, map[int]error, error) {
	var raw []json.RawMessage
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, nil, fmt.Errorf("want a JSON array of users: %w", err)
	}
	rows := make([]importRow, len(raw))
	errs := map[int]error{}
	for i, el := range raw {
		dec := json.NewDecoder(strings.NewReader(string(el)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rows[i]); err != nil {
			errs[i] = err
		}
	}
	return rows, errs, nil
}

// csvColumns are the columns a CSV import may have; list columns hold values
// separated by ; or |.
var csvColumns = []string{"email", "first_name", "last_name", "extension", "agent_number", "location", "roles",
	"teams", "phone_numbers", "time_zone", "max_chats"}

// readCSVRows reads a CSV file whose header names the columns, in any order.
func readCSVRows(r io.Reader) ([]importRow, map[int]error, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("read CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		known := false
		for _, c := range csvColumns {
			known = known || c == h
		}
		if !known {
			return nil, nil, fmt.Errorf("unknown CSV column %q; known columns: %s", h, strings.Join(csvColumns, ", "))
		}
		col[h] = i
	}
	if _, ok := col["email"]; !ok {
		return nil, nil, errors.New("the CSV header has no email column")
	}
	var rows []importRow
	errs := map[int]error{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row := importRow{Email: get("email"), FirstName: get("first_name"), LastName: get("last_name"),
			Extension: get("extension"), AgentNumber: get("agent_number"), Location: get("location"),
			Roles: splitList(get("roles")), Teams: splitList(get("teams")), PhoneNumbers: splitList(get("phone_numbers")),
			TimeZone: get("time_zone")}
		if v := get("max_chats"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs[len(rows)] = fmt.Errorf("max_chats must be an integer, not %q", v)
			}
			row.MaxChats = n
		}
		rows = append(rows, row)
	}
	return rows, errs, nil
}
