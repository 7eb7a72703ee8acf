package userimport

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

func TestReadCSV(t *testing.T) {
	in := "\ufeffEmail, teams ,max_chats\n" +
		"a@x.test,Sales;support|  ,2\n" +
		"b@x.test,,many\n" +
		"c@x.test\n"
	rows, errs, err := Read(strings.NewReader(in), "csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Email != "a@x.test" || strings.Join(rows[0].Teams, "/") != "Sales/support" || rows[0].MaxChats != 2 {
		t.Fatalf("rows %+v", rows)
	}
	if len(errs) != 1 || errs[1] == nil || !strings.Contains(errs[1].Error(), "max_chats") {
		t.Errorf("row errors %v, want one for row 2's max_chats", errs)
	}
	for in, want := range map[string]string{
		"email,nick\n":   `unknown CSV column "nick"`,
		"first_name\n":   "no email column",
		"":               "read CSV header",
		"email\n\"a,b\n": "",
	} {
		_, _, err := Read(strings.NewReader(in), "csv")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Read(%q): %v, want an error with %q", in, err, want)
		}
	}
}

func TestReadJSON(t *testing.T) {
	rows, errs, err := Read(strings.NewReader(`[{"email":"a@x.test","roles":["agent"]},{"email":"b@x.test","nick":"b"},7]`), "json")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Roles[0] != "agent" || rows[1].Email != "b@x.test" || len(errs) != 2 || errs[0] != nil {
		t.Fatalf("rows %+v, errors %v", rows, errs)
	}
	if _, _, err := Read(strings.NewReader(`{"email":"a@x.test"}`), "json"); err == nil {
		t.Error("an object instead of an array was read")
	}
	if _, _, err := Read(strings.NewReader(`[]`), "xml"); err == nil {
		t.Error("an unknown format was read")
	}
}

// TestImport creates users in a real store: teams by name in any case, and a
// failed row recorded with its number and reason while the others go in.
func TestImport(t *testing.T) {
	ctx := context.Background()
	s := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})
	tenant, err := s.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	team, err := s.CreateTeam(ctx, tenant.ID, switchboard.Team{Name: "Sales"})
	if err != nil {
		t.Fatal(err)
	}
	rows := []Row{
		{Email: "ann@acme.test", FirstName: "Ann", Teams: []string{"sales"}},
		{Email: "bob@acme.test", Teams: []string{"Nope"}},
		{Email: "not an e-mail", FirstName: "X"},
		{Email: "read@acme.test"},
		{Email: "cid@acme.test", FirstName: "Cid", Extension: "1002"},
	}
	var reports int
	res := Import(ctx, s, tenant.ID, rows, map[int]error{3: errorString("bad row")}, func(i int, res Result, err error) {
		reports++
		if res.Created+res.Failed != i+1 {
			t.Errorf("report %d: %+v", i, res)
		}
	})
	if res.Created != 2 || res.Failed != 3 || reports != 5 {
		t.Fatalf("result %+v after %d reports", res, reports)
	}
	for i, want := range map[int]string{0: `team "Nope"`, 1: "email", 2: "bad row"} {
		if e := res.Errors[i]; e.Row != []int{2, 3, 4}[i] || !strings.Contains(e.Error, want) || strings.HasPrefix(e.Error, "invalid") {
			t.Errorf("error %d: %+v, want row %d naming %q", i, e, []int{2, 3, 4}[i], want)
		}
	}
	u, err := s.UserByEmail(ctx, tenant.ID, "ann@acme.test")
	if err != nil || len(u.TeamIDs) != 1 || u.TeamIDs[0] != team.ID {
		t.Errorf("ann: %+v, %v; want in team %d", u, err, team.ID)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// TestReadFile: the format follows the file's extension unless given, and
// "-" reads standard input.
func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agents.CSV")
	os.WriteFile(path, []byte("email\na@x.test\n"), 0o600)
	if rows, _, err := ReadFile(path, "", nil); err != nil || len(rows) != 1 || rows[0].Email != "a@x.test" {
		t.Errorf("a .CSV file: %+v, %v", rows, err)
	}
	if _, _, err := ReadFile(path, "json", nil); err == nil {
		t.Error("a CSV file read as JSON")
	}
	if rows, _, err := ReadFile("-", "", strings.NewReader(`[{"email":"b@x.test"}]`)); err != nil || len(rows) != 1 || rows[0].Email != "b@x.test" {
		t.Errorf("standard input: %+v, %v", rows, err)
	}
	if _, _, err := ReadFile(filepath.Join(t.TempDir(), "missing.json"), "", nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}
