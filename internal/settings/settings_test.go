package settings

import (
	"errors"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type config struct {
	Name     string
	Rate     float64
	Burst    int
	Max      int64
	Demo     bool
	Timeout  time.Duration
	Allow    []netip.Prefix
	Schedule []time.Duration
}

func (c *config) bind() []Setting {
	return []Setting{
		{Name: "name", Value: String(&c.Name)}, {Name: "rate", Value: Float(&c.Rate)}, {Name: "burst", Value: Int(&c.Burst)},
		{Name: "max-bytes", Value: Int64(&c.Max)}, {Name: "demo", Value: Bool(&c.Demo)}, {Name: "timeout", Value: Duration(&c.Timeout)},
		{Name: "allow-cidr", Value: Prefixes(&c.Allow)}, {Name: "retry-schedule", Value: Durations(&c.Schedule)},
	}
}

func load(t *testing.T, env map[string]string, known []string, args ...string) (config, error) {
	t.Helper()
	c := config{Name: "default", Burst: 1}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	err := Source{Prefix: "APP_", Getenv: func(k string) string { return env[k] }, Known: known}.Load(fs, args, c.bind())
	return c, err
}

// TestPrecedence: defaults, then the file, then the environment, then the
// flags; numbers and arrays in the file read as on the command line.
func TestPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.json")
	os.WriteFile(file, []byte(`{"name": "file", "rate": 2.5, "burst": 3, "max_bytes": 1048576, "demo": true,
		"allow_cidr": ["10.0.0.0/8", "127.0.0.1/8"], "retry_schedule": ["0s", "5s"], "addr": "skipped"}`), 0o600)
	c, err := load(t, map[string]string{"APP_CONFIG": file, "APP_BURST": "4", "APP_TIMEOUT": "3s"}, []string{"addr"}, "--timeout", "7s", "--allow-cidr", "192.168.1.0/24")
	if err != nil {
		t.Fatal(err)
	}
	want := config{Name: "file", Rate: 2.5, Burst: 4, Max: 1 << 20, Demo: true, Timeout: 7 * time.Second,
		Allow:    []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("192.168.1.0/24")},
		Schedule: []time.Duration{0, 5 * time.Second}}
	if c.Name != want.Name || c.Rate != want.Rate || c.Burst != want.Burst || c.Max != want.Max || !c.Demo ||
		c.Timeout != want.Timeout || len(c.Allow) != 3 || c.Allow[1] != want.Allow[1] || c.Allow[2] != want.Allow[2] || len(c.Schedule) != 2 || c.Schedule[1] != want.Schedule[1] {
		t.Errorf("loaded %+v\nwant   %+v", c, want)
	}
	// --config on the command line wins over APP_CONFIG.
	other := filepath.Join(t.TempDir(), "other.json")
	os.WriteFile(other, []byte(`{"name": "other"}`), 0o600)
	if c, err := load(t, map[string]string{"APP_CONFIG": file}, []string{"addr"}, "--config="+other); err != nil || c.Name != "other" {
		t.Errorf("--config=%s: name %q, %v", other, c.Name, err)
	}
}

func TestMistakes(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		f, _ := os.CreateTemp(dir, "*.json")
		f.WriteString(body)
		f.Close()
		return f.Name()
	}
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"APP_CONFIG": write(`{"nmae": "x"}`)}, nil, `unknown setting "nmae"`},
		{map[string]string{"APP_CONFIG": write(`{"burst": "many"}`)}, nil, "burst"},
		{map[string]string{"APP_CONFIG": write(`[1]`)}, nil, "config file"},
		{map[string]string{"APP_CONFIG": filepath.Join(dir, "missing.json")}, nil, "config file"},
		{map[string]string{"APP_RATE": "fast"}, nil, "APP_RATE"},
		{nil, []string{"--retry-schedule", "5s,-1s"}, "-1s"},
		{nil, []string{"--allow-cidr", "10.0.0.1"}, "CIDR"},
		{nil, []string{"--nope"}, "nope"},
	} {
		if _, err := load(t, tc.env, nil, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: %v, want an error with %q", tc.env, tc.args, err, tc.want)
		}
	}
	// Asking for help reads nothing, so a broken setting cannot hide it.
	if _, err := load(t, map[string]string{"APP_CONFIG": write(`{"nmae": 1}`), "APP_RATE": "fast"}, nil, "--name", "x", "-h"); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
	if WantsHelp([]string{"--", "-h"}) || !WantsHelp([]string{"--name", "x", "--help"}) {
		t.Error("WantsHelp looks past --, or misses --help")
	}
}
