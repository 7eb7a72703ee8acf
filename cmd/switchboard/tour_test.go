package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"switchboard/internal/sqlstore/sqlstoretest"
)

// tourStep is one numbered step of the README's five-minute tour: the shell
// commands it shows (its ```sh blocks and inline `curl …` spans) and the flags
// it tells the reader to restart the server with.
type tourStep struct {
	n        int
	commands []string
	restart  []string
}

var (
	tourFence   = regexp.MustCompile("(?s)```sh\n(.*?)\n\\s*```")
	tourInline  = regexp.MustCompile("`(curl [^`]+)`")
	tourRestart = regexp.MustCompile("restart with\\s+`([^`]+)`")
	tourNumber  = regexp.MustCompile(`(?m)^(\d+)\. `)
)

// readTour parses the "A five-minute tour" section of README.md.
func readTour(t *testing.T) []tourStep {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "## A five-minute tour\n")
	if !ok {
		t.Fatal(`README.md has no "## A five-minute tour" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	starts := tourNumber.FindAllStringSubmatchIndex(section, -1)
	var steps []tourStep
	for i, m := range starts {
		end := len(section)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		text := section[m[0]:end]
		var st tourStep
		fmt.Sscan(section[m[2]:m[3]], &st.n)
		for _, b := range tourFence.FindAllStringSubmatch(text, -1) {
			for _, line := range strings.Split(b[1], "\n") {
				if line = strings.TrimSpace(line); line != "" {
					st.commands = append(st.commands, line)
				}
			}
		}
		for _, c := range tourInline.FindAllStringSubmatch(tourFence.ReplaceAllString(text, ""), -1) {
			st.commands = append(st.commands, c[1])
		}
		if r := tourRestart.FindStringSubmatch(text); r != nil {
			st.restart = strings.Fields(r[1])
		}
		steps = append(steps, st)
	}
	return steps
}

// tourCurl makes the tour's curl lines fail loudly: an HTTP error fails the
// command, every answer's status is reported on stderr, and a stream (-N) is
// cut after a few seconds, which counts as success once its 200 is in.
const tourCurl = `set -e
curl() {
	local extra=(--fail-with-body -S -w '%{stderr}[tour] HTTP %{http_code}\n')
	local a
	for a in "$@"; do [[ $a == -N ]] && extra+=(--max-time 3); done
	local rc=0
	command curl "${extra[@]}" "$@" || rc=$?
	[[ $rc == 28 ]] && return 0
	return $rc
}
`

// demoKeyLine finds the secret on a line of the demo's output that starts
// with label (native, voxloud, …), or on the user-key line when label is
// "user".
func demoKeyLine(out, label string) string {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case label == "user" && strings.Contains(line, "(user key of extension") && len(f) >= 2:
			return f[1]
		case len(f) >= 5 && f[0] == label:
			return f[4]
		}
	}
	return ""
}

// TestReadmeTour follows the README's five-minute tour literally, steps 2 to
// 8, with bash and curl against a real "serve --demo", restarting the server
// where the tour says to: the $KEY taken from the first start's output must
// keep working after the restart. It also shows the demo's keys staying the
// same from start to start until --demo-rotate-keys, and the demo's user key
// following the rule of user keys.
func TestReadmeTour(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("SWITCHBOARD_TEST_REQUIRE_CLIENTS") != "" {
				t.Fatalf("%s is required to follow the README's tour: %v", tool, err)
			}
			t.Skipf("%s is not installed: skipping the README tour (set SWITCHBOARD_TEST_REQUIRE_CLIENTS to make this fail)", tool)
		}
	}
	steps := readTour(t)
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db, dataDir, workDir := mk(t), t.TempDir(), t.TempDir()
			env := map[string]string{"XDG_DATA_HOME": dataDir}
			var m *Main
			start := func(extra ...string) (base string, out string) {
				t.Helper()
				if m != nil {
					m.Close()
				}
				var stdout *syncBuffer
				m, stdout, _ = newMain(env)
				args := append([]string{"--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--log-level", "warn",
					"--db", db, "--demo", "--demo-traffic=false"}, extra...)
				if err := m.Start(context.Background(), args); err != nil {
					t.Fatalf("serve %v: %v", args, err)
				}
				t.Cleanup(func() { m.Close() })
				return "http://" + m.Addr(), stdout.String()
			}
			base, out := start()
			key := demoKeyLine(out, "native")
			if !strings.HasPrefix(key, "sbk_") {
				t.Fatalf("no native key in the demo output:\n%s", out)
			}
			var vars []string // the tour's variable assignments so far
			ran := 0
			for _, st := range steps {
				if st.n < 2 || st.n > 8 {
					continue
				}
				if st.restart != nil {
					var again string
					base, again = start(st.restart...)
					if k := demoKeyLine(again, "native"); k != key {
						t.Errorf("step %d: the restart printed native key %q, not the %q of the first start", st.n, k, key)
					}
				}
				for _, c := range st.commands {
					c = strings.ReplaceAll(c, "http://127.0.0.1:8080", base)
					c = strings.ReplaceAll(c, "sbk_…", key)
					if regexp.MustCompile(`^[A-Za-z_]\w*=`).MatchString(c) {
						vars = append(vars, c)
						continue
					}
					ran++
					cmd := exec.Command("bash", "-c", tourCurl+strings.Join(vars, "\n")+"\n"+c)
					cmd.Dir = workDir
					var stdout, stderr bytes.Buffer
					cmd.Stdout, cmd.Stderr = &stdout, &stderr
					err := cmd.Run()
					statuses := regexp.MustCompile(`\[tour\] HTTP (\d+)`).FindAllStringSubmatch(stderr.String(), -1)
					ok := err == nil && len(statuses) > 0
					for _, s := range statuses {
						ok = ok && s[1] >= "200" && s[1] < "300"
					}
					if !ok {
						t.Errorf("step %d: %s\nfailed (%v): %s\n%.500s", st.n, c, err, stderr.String(), stdout.String())
					}
				}
			}
			t.Logf("ran %d commands of the tour", ran)
			if ran < 12 {
				t.Fatalf("ran %d commands of the tour; the README parser found too few", ran)
			}

			// The demo's user key is one agent's, not a tenant admin's.
			_, out = start()
			user := demoKeyLine(out, "user")
			uc := client{t: t, base: "http://" + m.Addr(), key: user}
			for _, p := range []string{"/v1/users", "/v1/api_keys", "/v1/webhooks"} {
				if status, body := uc.do("GET", p, nil); status != 403 {
					t.Errorf("the demo's user key on GET %s: %d %v", p, status, body)
				}
			}
			if status, body := uc.do("POST", "/v1/api_keys", map[string]any{}); status != 403 {
				t.Errorf("the demo's user key minting a key: %d %v", status, body)
			}
			var account int64
			fmt.Sscan(regexp.MustCompile(`\(id (\d+)\)`).FindStringSubmatch(out + "(id 0)")[1], &account)
			if status, raw, _ := (&v360{t: t, base: "http://" + m.Addr(), account: account}).do("GET", "/user/profile", user, nil); status != 200 {
				t.Errorf("the demo's user key on /user/profile: %d %s", status, raw)
			}

			// Rotation only on request: the old keys stop, the new ones stay.
			_, out = start("--demo-rotate-keys")
			rotated := demoKeyLine(out, "native")
			if rotated == key || !strings.HasPrefix(rotated, "sbk_") {
				t.Fatalf("--demo-rotate-keys printed %q (was %q)", rotated, key)
			}
			c := client{t: t, base: "http://" + m.Addr(), key: key}
			if status, _ := c.do("GET", "/v1/users", nil); status != 401 {
				t.Errorf("a rotated-out demo key: %d, want 401", status)
			}
			_, out = start()
			if k := demoKeyLine(out, "native"); k != rotated {
				t.Errorf("after rotation the next start printed %q, want %q", k, rotated)
			}
			if status, _ := (client{t: t, base: "http://" + m.Addr(), key: rotated}).do("GET", "/v1/users", nil); status != 200 {
				t.Errorf("the rotated demo key does not work after a restart: %d", status)
			}
			if name == "sqlite" {
				path := strings.TrimPrefix(db, "sqlite:") + ".demo-keys.json"
				if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("demo keys file %s: %v, %v; want mode 0600", path, fi, err)
				}
			} else if files, _ := filepath.Glob(filepath.Join(dataDir, "switchboard", "demo-keys-*.json")); len(files) != 1 {
				t.Errorf("demo keys files in the data directory: %v", files)
			}
		})
	}
}
