package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// runCLI runs one command and returns its stdout, stderr and exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	m, out, errOut := newMain(nil)
	err := m.Run(context.Background(), args)
	code := 0
	if err != nil {
		code = exitCode(err)
	}
	return out.String(), errOut.String(), code
}

// TestHelpEverywhere: help of every command and subcommand, however asked
// for, goes to stdout and exits 0.
func TestHelpEverywhere(t *testing.T) {
	for _, args := range [][]string{
		{"help"}, {"--help"}, {"-h"}, {"-help"},
		{"serve", "-h"}, {"serve", "--help"}, {"serve", "-help"}, {"serve", "--addr", "x", "--help"},
		{"migrate", "--help"}, {"simulate", "--help"}, {"simulate-chat", "--help"}, {"seed-calls", "--help"},
		{"tenant", "--help"}, {"tenant", "-h"}, {"tenant", "help"}, {"tenant", "create", "--help"},
		{"key", "--help"}, {"key", "create", "-h"},
		{"user", "--help"}, {"user", "create", "--help"}, {"user", "import", "--help"},
		{"help", "serve"}, {"help", "tenant"}, {"help", "tenant", "create"}, {"help", "user", "import"},
	} {
		out, errOut, code := runCLI(t, args...)
		if code != 0 || !strings.Contains(out, "Usage: switchboard") || errOut != "" || strings.Contains(out+errOut, "help requested") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	// A command's help lists its flags with their variables.
	if out, _, _ := runCLI(t, "serve", "--help"); !strings.Contains(out, "-metrics-addr") || !strings.Contains(out, "SWITCHBOARD_DB") {
		t.Errorf("serve help lacks its flags:\n%s", out)
	}
	if out, _, _ := runCLI(t, "tenant", "--help"); !strings.Contains(out, "create") {
		t.Errorf("tenant help lacks its subcommands:\n%s", out)
	}
	// A broken config file does not hide the help.
	if _, _, code := runCLI(t, "serve", "--config", "/nonexistent.json", "-h"); code != 0 {
		t.Errorf("help with a missing config file: exit %d", code)
	}
}

// TestCLIMistakes: what is not a command or flag exits 2 and says so on
// stderr, pointing at the help.
func TestCLIMistakes(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "no command given"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"tenant"}, "tenant needs a subcommand"},
		{[]string{"tenant", "delete"}, `unknown command "tenant delete"`},
		{[]string{"serve", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"migrate", "--addr", "127.0.0.1:1"}, "flag provided but not defined: -addr"},
		{[]string{"simulate", "--agents", "x"}, "invalid value"},
	} {
		m, out, errOut := newMain(nil)
		err := m.Run(context.Background(), c.args)
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), c.want) || out.String() != "" {
			t.Errorf("%q: %v (exit %d), stdout %q, stderr %q", c.args, err, exitCode(err), out, errOut)
		}
		if strings.HasPrefix(c.want, "flag") && !strings.Contains(err.Error(), "-h\" for its flags") {
			t.Errorf("%q: the error does not point at the help: %v", c.args, err)
		}
	}
}

// TestVersion: version and --version print the version and the commit.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		out, errOut, code := runCLI(t, args...)
		if code != 0 || !strings.HasPrefix(out, "switchboard "+switchboard.Version+" (commit ") || errOut != "" {
			t.Errorf("%q: exit %d, %q %q", args, code, out, errOut)
		}
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout (%v): the built binary's commit is not checked", err)
	}
	bin := filepath.Join(t.TempDir(), "switchboard")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.Contains(string(out), "(commit "+strings.TrimSpace(string(head))) {
		t.Errorf("--version of a binary built at %s: %q %v", head, out, err)
	}
}

// TestOneConfigFileForEveryCommand: the config file serve reads works for
// migrate and the other administration commands too (they skip serve's keys),
// numbers and lists in it are read as on the command line, and a key no
// command knows is still refused.
func TestOneConfigFileForEveryCommand(t *testing.T) {
	db := sqlstoretest.SQLiteURL(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "switchboard.json")
	os.WriteFile(file, []byte(`{"db": "`+db+`", "addr": "127.0.0.1:0", "metrics_addr": "", "max_body_bytes": 2097152,
		"webhook_allow_cidr": ["127.0.0.0/8", "10.1.0.0/16"], "demo": false, "rate_limit": 2.5}`), 0o600)
	if _, errOut, code := runCLI(t, "migrate", "--config", file); code != 0 {
		t.Fatalf("migrate --config: exit %d: %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "tenant", "create", "--config", file, "--slug", "acme", "--name", "Acme"); code != 0 {
		t.Fatalf("tenant create --config: exit %d: %s", code, errOut)
	}
	m, _, _ := newMain(map[string]string{"SWITCHBOARD_CONFIG": file})
	if err := m.Start(context.Background(), nil); err != nil {
		t.Fatalf("serve with the config file: %v", err)
	}
	defer m.Close()
	if c := m.Config; c.MaxBodyBytes != 2097152 || len(c.WebhookAllowCIDRs) != 2 || c.RateLimit != 2.5 || m.MetricsAddr() != "" {
		t.Errorf("serve read %+v", c)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"db": "`+db+`", "adr": "127.0.0.1:0"}`), 0o600)
	for _, args := range [][]string{{"migrate", "--config", bad}, {"serve", "--config", bad}} {
		if _, _, code := runCLI(t, args...); code == 0 {
			t.Errorf("%q accepted the unknown key adr", args)
		}
	}
}

// TestMigrateReportsWhatItApplied: a first migrate lists the migrations it
// applied, a second one says nothing was pending; a ~ in the path is the home
// directory, not a directory named ~.
func TestMigrateReportsWhatItApplied(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	wd := t.TempDir()
	t.Chdir(wd)
	out, errOut, code := runCLI(t, "migrate", "--db", "sqlite:~/data/x.db")
	if code != 0 || !strings.Contains(out, "applied 0001_init.sql") || !strings.Contains(out, "applied 0007_restart.sql") || strings.Contains(out, "no migration") {
		t.Fatalf("first migrate: exit %d, %q %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(home, "data", "x.db")); err != nil {
		t.Errorf("the database is not in the home directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(wd, "~")); err == nil {
		t.Errorf("migrate created a directory named ~")
	}
	out, _, code = runCLI(t, "migrate", "--db", "sqlite:~/data/x.db")
	if code != 0 || strings.Contains(out, "applied 0") || !strings.Contains(out, "no migration was pending") {
		t.Errorf("second migrate: exit %d, %q", code, out)
	}
	// serve and the other commands take the same path.
	if _, errOut, code := runCLI(t, "tenant", "create", "--db", "~/data/x.db", "--slug", "t1", "--name", "T"); code != 0 {
		t.Errorf("tenant create on ~/data/x.db: %s", errOut)
	}
}
