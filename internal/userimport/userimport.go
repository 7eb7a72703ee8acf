// Package userimport creates a tenant's users in bulk from a JSON array or a
// CSV file, as "switchboard user import" does: rows are read and created one
// by one, so that a bad row is reported with its number and reason while the
// others go in, and a script can fix and retry exactly the rows that failed.
package userimport

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"switchboard"
)

// Store is what an import needs of the store.
type Store interface {
	CreateUser(ctx context.Context, tenantID int64, u switchboard.User) (switchboard.User, error)
	Teams(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.Team], error)
}

// Row is one user of an import file, in the shape of the native API's user,
// with teams given by name since ids differ between installations.
type Row struct {
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

// Result is the outcome of an import: counts, and each failed row with its
// reason.
type Result struct {
	Created int        `json:"created"`
	Failed  int        `json:"failed"`
	Errors  []RowError `json:"errors"`
}

// RowError is why one row was not imported.
type RowError struct {
	Row   int    `json:"row"` // 1-based, not counting a CSV header
	Email string `json:"email"`
	Error string `json:"error"`
}

// Import creates rows in the tenant one by one. A row whose reading failed
// (its entry in readErrs) or whose creation fails is counted and recorded
// with its reason, and the rest go on. report, when not nil, is called after
// each row i (0-based) with the result so far and that row's error.
func Import(ctx context.Context, s Store, tenantID int64, rows []Row, readErrs map[int]error, report func(i int, res Result, err error)) Result {
	res := Result{Errors: []RowError{}}
	for i, row := range rows {
		err := readErrs[i]
		if err == nil {
			err = create(ctx, s, tenantID, row)
		}
		if err != nil {
			res.Failed++
			res.Errors = append(res.Errors, RowError{Row: i + 1, Email: row.Email, Error: Reason(err)})
		} else {
			res.Created++
		}
		if report != nil {
			report(i, res, err)
		}
	}
	return res
}

// Reason is err for a person at a terminal: a store error's message and
// fields without its machine code.
func Reason(err error) string {
	return strings.TrimPrefix(err.Error(), string(switchboard.ErrorCode(err))+": ")
}

func create(ctx context.Context, s Store, tenantID int64, row Row) error {
	teams, err := TeamIDs(ctx, s, tenantID, row.Teams)
	if err != nil {
		return err
	}
	_, err = s.CreateUser(ctx, tenantID, switchboard.User{Email: row.Email, FirstName: row.FirstName,
		LastName: row.LastName, Extension: row.Extension, AgentNumber: row.AgentNumber, Location: row.Location,
		Roles: row.Roles, TeamIDs: teams, PhoneNumbers: row.PhoneNumbers, TimeZone: row.TimeZone, MaxChats: row.MaxChats})
	return err
}

// TeamIDs resolves team names (in any case) to ids, naming any that does not
// exist.
func TeamIDs(ctx context.Context, s Store, tenantID int64, names []string) ([]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	teams, err := switchboard.All(ctx, s.Teams, tenantID)
	if err != nil {
		return nil, err
	}
	byName := map[string]int64{}
	for _, t := range teams {
		byName[strings.ToLower(t.Name)] = t.ID
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

// SplitList splits a list cell or flag value at commas, semicolons or bars,
// dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '|' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ReadFile reads the rows of the file at path, or of stdin when path is "-",
// in format; an empty format means csv for a *.csv path and json otherwise.
func ReadFile(path, format string, stdin io.Reader) ([]Row, map[int]error, error) {
	if format == "" {
		format = "json"
		if strings.HasSuffix(strings.ToLower(path), ".csv") {
			format = "csv"
		}
	}
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		stdin = f
	}
	return Read(stdin, format)
}

// Read reads rows in format "json" or "csv". A row that cannot be read is an
// entry of the returned map, keyed by its index, and the others are still
// returned; the error is for input that cannot be read at all.
func Read(r io.Reader, format string) ([]Row, map[int]error, error) {
	switch format {
	case "json":
		return readJSON(r)
	case "csv":
		return readCSV(r)
	}
	return nil, nil, fmt.Errorf("the format must be json or csv, not %q", format)
}

// readJSON reads a JSON array of users. Each element is decoded on its own,
// so one malformed row is that row's error rather than the whole file's.
func readJSON(r io.Reader) ([]Row, map[int]error, error) {
	var raw []json.RawMessage
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, nil, fmt.Errorf("want a JSON array of users: %w", err)
	}
	rows := make([]Row, len(raw))
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

// Columns are the columns a CSV import may have, in any order; list columns
// hold values separated by ; or |.
var Columns = []string{"email", "first_name", "last_name", "extension", "agent_number", "location", "roles",
	"teams", "phone_numbers", "time_zone", "max_chats"}

// readCSV reads a CSV file whose header names the columns.
func readCSV(r io.Reader) ([]Row, map[int]error, error) {
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
		for _, c := range Columns {
			known = known || c == h
		}
		if !known {
			return nil, nil, fmt.Errorf("unknown CSV column %q; known columns: %s", h, strings.Join(Columns, ", "))
		}
		col[h] = i
	}
	if _, ok := col["email"]; !ok {
		return nil, nil, errors.New("the CSV header has no email column")
	}
	var rows []Row
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
		row := Row{Email: get("email"), FirstName: get("first_name"), LastName: get("last_name"),
			Extension: get("extension"), AgentNumber: get("agent_number"), Location: get("location"),
			Roles: SplitList(get("roles")), Teams: SplitList(get("teams")), PhoneNumbers: SplitList(get("phone_numbers")),
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
