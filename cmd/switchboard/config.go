package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the server. It is filled once, in this order:
// defaults, then the JSON file named by --config (or SWITCHBOARD_CONFIG), then
// SWITCHBOARD_* environment variables, then flags; and then passed explicitly
// to whatever needs it. Nothing reads configuration from anywhere else.
type Config struct {
	Addr string
	DB   string
	// MetricsAddr is where /metrics is served, apart from the API; empty
	// serves it nowhere. MetricsToken, when set, is required as a bearer token.
	MetricsAddr     string
	MetricsToken    string
	AdminToken      string
	LogFormat       string
	LogLevel        string
	RateLimit       float64
	RateBurst       int
	MaxBodyBytes    int64
	AuthCacheTTL    time.Duration
	ShutdownTimeout time.Duration
	Demo            bool
	DemoTraffic     bool
	// DemoRotateKeys makes --demo revoke its keys and print new ones, which
	// otherwise stay the same from one start to the next.
	DemoRotateKeys bool

	WebhookAllowCIDRs    []netip.Prefix
	WebhookTimeout       time.Duration
	WebhookWorkers       int
	WebhookPerEndpoint   int
	WebhookEndpointRate  float64
	WebhookSchedule      []time.Duration
	WebhookDisableAfter  time.Duration
	WebhookDisableEvents int
	WebhookPoll          time.Duration
	// WebhookMaxPerTenant and WebhookMaxEventTypes bound what one tenant's
	// subscriptions cost every event it records.
	WebhookMaxPerTenant  int
	WebhookMaxEventTypes int
	SMTPAddr             string
	SMTPFrom             string
	// PublicURL is the base URL clients reach the server at; empty means
	// http:// and the listening address.
	PublicURL string

	SMSProvider string
	// Telephony names the telephony driver calls run on.
	Telephony       string
	SMSGatewayURL   string
	SMSGatewayToken string
	SMSSimReceipt   time.Duration
	// Voice360RateLimit is the Voice360 dialect's requests per minute per
	// key; Voice360PublicRateLimit per client address on its public routes.
	Voice360RateLimit       int
	Voice360PublicRateLimit int

	// TenantWriteRate and TenantWriteBurst bound the mutating requests of one
	// tenant across all its keys and dialects, so that no tenant can take the
	// store's writer from the others.
	TenantWriteRate  float64
	TenantWriteBurst int
	// Streams… bound the event streams (see native.StreamLimits).
	StreamsPerKey      int
	StreamsPerTenant   int
	StreamWriteTimeout time.Duration
	StreamMaxLifetime  time.Duration
}

// setting describes one Config field on every surface: its flag, its variable,
// its key in the config file and its documentation.
type setting struct {
	name  string // flag name and config-file key (with - replaced by _)
	doc   string
	value flag.Value
}

func (s setting) env() string {
	return "SWITCHBOARD_" + strings.ToUpper(strings.ReplaceAll(s.name, "-", "_"))
}

// defaultDB is a SQLite file in the user's data directory, so a plain
// "switchboard serve" keeps its data between runs without any setup.
func defaultDB() string {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "sqlite:switchboard.db"
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return "sqlite:" + filepath.Join(dir, "switchboard", "switchboard.db")
}

// defaultMetricsAddr serves metrics on loopback only: they describe every
// tenant's traffic, so exposing them is a decision to take explicitly.
const defaultMetricsAddr = "127.0.0.1:9090"

func defaultConfig() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		MetricsAddr:     defaultMetricsAddr,
		DB:              defaultDB(),
		LogFormat:       "text",
		LogLevel:        "info",
		RateLimit:       20,
		RateBurst:       40,
		MaxBodyBytes:    1 << 20,
		AuthCacheTTL:    5 * time.Second,
		ShutdownTimeout: 15 * time.Second,
		DemoTraffic:     true,

		WebhookTimeout:          15 * time.Second,
		WebhookWorkers:          64,
		WebhookPerEndpoint:      8,
		WebhookSchedule:         []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour},
		WebhookDisableAfter:     5 * 24 * time.Hour,
		WebhookDisableEvents:    100,
		WebhookPoll:             time.Second,
		WebhookMaxPerTenant:     20,
		WebhookMaxEventTypes:    50,
		SMTPFrom:                "switchboard@localhost",
		SMSProvider:             "sim",
		Telephony:               "sim",
		SMSSimReceipt:           time.Second,
		Voice360RateLimit:       1000,
		Voice360PublicRateLimit: 100,
		TenantWriteRate:         50,
		TenantWriteBurst:        100,
		StreamsPerKey:           5,
		StreamsPerTenant:        20,
		StreamWriteTimeout:      30 * time.Second,
		StreamMaxLifetime:       time.Hour,
	}
}

// settings binds c's fields. dbOnly limits them to the database, for the
// administration commands.
func (c *Config) settings(dbOnly bool) []setting {
	db := []setting{{"db", "database URL: sqlite:PATH or postgres://user:pass@host/db", (*stringValue)(&c.DB)}}
	if dbOnly {
		return db
	}
	return append(db,
		setting{"addr", "address to listen on, host:port (port 0 picks a free one)", (*stringValue)(&c.Addr)},
		setting{"metrics-addr", "address of the separate listener serving Prometheus /metrics, host:port (loopback by default; empty disables it)", (*stringValue)(&c.MetricsAddr)},
		setting{"metrics-token", "bearer token /metrics requires; empty requires none (keep --metrics-addr private then)", (*stringValue)(&c.MetricsToken)},
		setting{"public-url", "base URL clients reach this server at, for links sent out such as recording URLs in webhooks (default http:// and the listening address)", (*stringValue)(&c.PublicURL)},
		setting{"admin-token", "bearer token of the platform-admin API under /v1/admin; empty disables it", (*stringValue)(&c.AdminToken)},
		setting{"log-format", "access and server log format: text or json", (*stringValue)(&c.LogFormat)},
		setting{"log-level", "least severe log level written: debug, info, warn or error", (*stringValue)(&c.LogLevel)},
		setting{"rate-limit", "requests per second allowed per API key on average; 0 disables the limit", (*floatValue)(&c.RateLimit)},
		setting{"rate-burst", "requests an API key may send at once above its rate", (*intValue)(&c.RateBurst)},
		setting{"max-body-bytes", "largest request body accepted, in bytes", (*int64Value)(&c.MaxBodyBytes)},
		setting{"auth-cache-ttl", "how long a verified API key is trusted before it is checked again (revocation on another node waits this long)", (*durationValue)(&c.AuthCacheTTL)},
		setting{"shutdown-timeout", "how long in-flight requests may finish after SIGTERM", (*durationValue)(&c.ShutdownTimeout)},
		setting{"demo", "seed the demo tenant (idempotently) and print a key per dialect", (*boolValue)(&c.Demo)},
		setting{"demo-traffic", "with --demo, place a simulated call into a demo queue every half minute or so", (*boolValue)(&c.DemoTraffic)},
		setting{"demo-rotate-keys", "with --demo, revoke the demo keys and print new ones (they are otherwise kept from start to start)", (*boolValue)(&c.DemoRotateKeys)},
		setting{"webhook-allow-cidr", "a non-public address range webhooks may reach, e.g. 127.0.0.0/8 or 10.1.0.0/16 (repeatable; env: comma-separated)", (*prefixList)(&c.WebhookAllowCIDRs)},
		setting{"webhook-timeout", "how long one webhook attempt may take", (*durationValue)(&c.WebhookTimeout)},
		setting{"webhook-workers", "webhook attempts in flight at once, across all endpoints", (*intValue)(&c.WebhookWorkers)},
		setting{"webhook-per-endpoint", "webhook attempts in flight at once to one subscription", (*intValue)(&c.WebhookPerEndpoint)},
		setting{"webhook-endpoint-rate", "webhook attempts per second to one subscription; 0 for no limit", (*floatValue)(&c.WebhookEndpointRate)},
		setting{"webhook-retry-schedule", "comma-separated delays before each webhook attempt; its length is the most attempts", (*durationList)(&c.WebhookSchedule)},
		setting{"webhook-disable-after", "disable a webhook whose deliveries have all failed for this long; 0 never", (*durationValue)(&c.WebhookDisableAfter)},
		setting{"webhook-disable-failed-events", "disable a webhook after this many events in a row failed every attempt; 0 never", (*intValue)(&c.WebhookDisableEvents)},
		setting{"webhook-max-per-tenant", "the most webhook subscriptions one tenant may have", (*intValue)(&c.WebhookMaxPerTenant)},
		setting{"webhook-max-event-types", "the most event types one webhook subscription may list", (*intValue)(&c.WebhookMaxEventTypes)},
		setting{"webhook-poll", "how often the webhook dispatcher looks for due deliveries written by other nodes", (*durationValue)(&c.WebhookPoll)},
		setting{"smtp-addr", "host:port of the mail relay for webhook-disabled notices; empty sends none", (*stringValue)(&c.SMTPAddr)},
		setting{"smtp-from", "sender address of notification e-mails", (*stringValue)(&c.SMTPFrom)},
		setting{"telephony", "the telephony driver calls run on: sim (simulated phones and callers, driven through /v1/sim)", (*stringValue)(&c.Telephony)},
		setting{"sms-provider", "where text messages go: sim (simulated, delivered after --sms-sim-receipt-delay) or http (POSTed to --sms-gateway-url)", (*stringValue)(&c.SMSProvider)},
		setting{"sms-gateway-url", "with --sms-provider http, the gateway URL each message is POSTed to as JSON", (*stringValue)(&c.SMSGatewayURL)},
		setting{"sms-gateway-token", "with --sms-provider http, sent as Authorization: Bearer to the gateway", (*stringValue)(&c.SMSGatewayToken)},
		setting{"sms-sim-receipt-delay", "with --sms-provider sim, how long until a sent message is reported delivered", (*durationValue)(&c.SMSSimReceipt)},
		setting{"voice360-rate-limit", "Voice360 dialect: requests per minute per API key", (*intValue)(&c.Voice360RateLimit)},
		setting{"voice360-public-rate-limit", "Voice360 dialect: requests per minute per client address on the public status routes", (*intValue)(&c.Voice360PublicRateLimit)},
		setting{"tenant-write-rate", "changes (POST, PUT, PATCH, DELETE) per second one tenant may make on average, across all its keys and dialects; 0 disables the limit", (*floatValue)(&c.TenantWriteRate)},
		setting{"tenant-write-burst", "changes one tenant may make at once above --tenant-write-rate", (*intValue)(&c.TenantWriteBurst)},
		setting{"stream-per-key", "event streams (GET /v1/events/stream) one API key may hold open at once", (*intValue)(&c.StreamsPerKey)},
		setting{"stream-per-tenant", "event streams one tenant may hold open at once across its keys", (*intValue)(&c.StreamsPerTenant)},
		setting{"stream-write-timeout", "how long an event stream's client may leave a write unread before the stream is cut", (*durationValue)(&c.StreamWriteTimeout)},
		setting{"stream-max-lifetime", "how long an event stream lives before the server ends it (clients reconnect with Last-Event-ID)", (*durationValue)(&c.StreamMaxLifetime)},
	)
}

// load applies the config file, the environment and then args to c.
//
// The flags are defined before anything is applied, so that help shows the
// built-in defaults; asking for help (-h, --help) returns flag.ErrHelp before
// the file or the environment are read, so that a broken setting never hides
// the help. The administration commands (dbOnly) take only the database from
// the same config file serve reads, and skip its other keys.
func (c *Config) load(fs *flag.FlagSet, args []string, dbOnly bool, getenv func(string) string) error {
	settings := c.settings(dbOnly)
	for _, s := range settings {
		fs.Var(s.value, s.name, s.doc+" (env "+s.env()+")")
	}
	var ignored string
	fs.StringVar(&ignored, "config", "", "JSON file of settings, keyed by flag name with _ for - (env SWITCHBOARD_CONFIG)")
	if wantsHelp(args) {
		return flag.ErrHelp
	}
	known := map[string]bool{}
	for _, s := range (&Config{}).settings(false) {
		known[strings.ReplaceAll(s.name, "-", "_")] = true
	}
	file := getenv("SWITCHBOARD_CONFIG")
	for i, a := range args {
		switch {
		case a == "--config" || a == "-config":
			if i+1 < len(args) {
				file = args[i+1]
			}
		case strings.HasPrefix(a, "--config="), strings.HasPrefix(a, "-config="):
			_, file, _ = strings.Cut(a, "=")
		}
	}
	if file != "" {
		if err := c.loadFile(file, settings, known); err != nil {
			return err
		}
	}
	for _, s := range settings {
		if v := getenv(s.env()); v != "" {
			if err := s.value.Set(v); err != nil {
				return fmt.Errorf("%s=%q: %w", s.env(), v, err)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	return c.validate(dbOnly)
}

// wantsHelp reports whether args ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// loadFile applies a JSON config file. Keys that no command knows are errors:
// a misspelt setting that silently does nothing is worse than a refusal to
// start. Keys in known that this command does not take (serve's addr for
// migrate) are skipped, so one file serves every command. Numbers keep their
// literal text and arrays become comma-separated lists, as on the command line.
func (c *Config) loadFile(path string, settings []setting, known map[string]bool) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var values map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&values); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	byKey := map[string]setting{}
	for _, s := range settings {
		byKey[strings.ReplaceAll(s.name, "-", "_")] = s
	}
	for k, v := range values {
		s, ok := byKey[k]
		if !ok && known[k] {
			continue
		}
		if !ok {
			return fmt.Errorf("config file %s: unknown setting %q", path, k)
		}
		text := fmt.Sprint(v)
		if list, isList := v.([]any); isList {
			parts := make([]string, len(list))
			for i, e := range list {
				parts[i] = fmt.Sprint(e)
			}
			text = strings.Join(parts, ",")
		}
		if err := s.value.Set(text); err != nil {
			return fmt.Errorf("config file %s: %s: %w", path, k, err)
		}
	}
	return nil
}

func (c *Config) validate(dbOnly bool) error {
	var errs []error
	if c.DB == "" {
		errs = append(errs, errors.New("--db is required"))
	}
	if dbOnly {
		return errors.Join(errs...)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level must be debug, info, warn or error, not %q", c.LogLevel))
	}
	if c.RateLimit < 0 {
		errs = append(errs, errors.New("--rate-limit must not be negative"))
	}
	if c.RateBurst < 1 {
		errs = append(errs, errors.New("--rate-burst must be at least 1"))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, errors.New("--max-body-bytes must be at least 1024"))
	}
	if c.AuthCacheTTL < 0 || c.ShutdownTimeout < 0 || c.WebhookDisableAfter < 0 {
		errs = append(errs, errors.New("durations must not be negative"))
	}
	if c.WebhookTimeout < 100*time.Millisecond {
		errs = append(errs, errors.New("--webhook-timeout must be at least 100ms"))
	}
	if c.WebhookWorkers < 1 || c.WebhookPerEndpoint < 1 {
		errs = append(errs, errors.New("--webhook-workers and --webhook-per-endpoint must be at least 1"))
	}
	if c.WebhookEndpointRate < 0 || c.WebhookDisableEvents < 0 {
		errs = append(errs, errors.New("--webhook-endpoint-rate and --webhook-disable-failed-events must not be negative"))
	}
	if len(c.WebhookSchedule) == 0 || len(c.WebhookSchedule) > 20 {
		errs = append(errs, errors.New("--webhook-retry-schedule must list 1 to 20 delays"))
	}
	if c.Telephony != "sim" {
		errs = append(errs, fmt.Errorf("--telephony must be sim (the only driver built in), not %q", c.Telephony))
	}
	switch {
	case c.SMSProvider != "sim" && c.SMSProvider != "http":
		errs = append(errs, fmt.Errorf("--sms-provider must be sim or http, not %q", c.SMSProvider))
	case c.SMSProvider == "http":
		if u, err := url.Parse(c.SMSGatewayURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, errors.New("--sms-gateway-url must be an http:// or https:// URL with --sms-provider http"))
		}
	}
	if c.Voice360RateLimit < 1 || c.Voice360PublicRateLimit < 1 {
		errs = append(errs, errors.New("--voice360-rate-limit and --voice360-public-rate-limit must be at least 1"))
	}
	if c.WebhookPoll < 10*time.Millisecond {
		errs = append(errs, errors.New("--webhook-poll must be at least 10ms"))
	}
	if c.TenantWriteRate < 0 {
		errs = append(errs, errors.New("--tenant-write-rate must not be negative"))
	}
	if c.TenantWriteBurst < 1 {
		errs = append(errs, errors.New("--tenant-write-burst must be at least 1"))
	}
	if c.StreamsPerKey < 1 || c.StreamsPerTenant < 1 {
		errs = append(errs, errors.New("--stream-per-key and --stream-per-tenant must be at least 1"))
	}
	if c.StreamWriteTimeout < 100*time.Millisecond {
		errs = append(errs, errors.New("--stream-write-timeout must be at least 100ms"))
	}
	if c.StreamMaxLifetime < time.Second {
		errs = append(errs, errors.New("--stream-max-lifetime must be at least 1s"))
	}
	if c.WebhookMaxPerTenant < 1 || c.WebhookMaxEventTypes < 1 {
		errs = append(errs, errors.New("--webhook-max-per-tenant and --webhook-max-event-types must be at least 1"))
	}
	return errors.Join(errs...)
}

type (
	stringValue   string
	boolValue     bool
	intValue      int
	int64Value    int64
	floatValue    float64
	durationValue time.Duration
)

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }
func (v *stringValue) String() string     { return string(*v) }

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	*v = boolValue(b)
	return err
}
func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	*v = intValue(n)
	return err
}
func (v *intValue) String() string { return strconv.Itoa(int(*v)) }

func (v *int64Value) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	*v = int64Value(n)
	return err
}
func (v *int64Value) String() string { return strconv.FormatInt(int64(*v), 10) }

func (v *floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	*v = floatValue(f)
	return err
}
func (v *floatValue) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 64) }

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	*v = durationValue(d)
	return err
}
func (v *durationValue) String() string { return time.Duration(*v).String() }

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("switchboard", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// prefixList is a repeatable flag of CIDR prefixes; each value may itself be a
// comma-separated list, which is how the environment variable carries several.
type prefixList []netip.Prefix

func (v *prefixList) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return fmt.Errorf("%q is not a CIDR prefix such as 127.0.0.0/8", part)
		}
		*v = append(*v, p.Masked())
	}
	return nil
}

func (v *prefixList) String() string {
	parts := make([]string, len(*v))
	for i, p := range *v {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

// durationList is a comma-separated list of durations; setting it replaces
// the whole list.
type durationList []time.Duration

func (v *durationList) Set(s string) error {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d < 0 {
			return fmt.Errorf("%q is not a duration such as 5s or 2h", part)
		}
		out = append(out, d)
	}
	*v = out
	return nil
}

func (v *durationList) String() string {
	parts := make([]string, len(*v))
	for i, d := range *v {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}
