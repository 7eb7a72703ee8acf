package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard/internal/settings"
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
	MetricsAddr  string
	MetricsToken string
	AdminToken   string
	LogFormat    string
	LogLevel     string
	RateLimit    float64
	RateBurst    int
	MaxBodyBytes int64
	AuthCacheTTL time.Duration
	// ResponseCacheBytes bounds the memory of the cache of read answers
	// (httpapi.ResponseCache); 0 turns it off.
	ResponseCacheBytes int64
	ShutdownTimeout    time.Duration
	Demo               bool
	DemoTraffic        bool
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
	// BillingHoldMinutes is the talk time a connected call holds of a
	// prepaid balance (internal/billing).
	BillingHoldMinutes int
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
	Telephony string
	// SIP… configure --telephony sip (see the README's "Real telephony").
	SIPListen     string // comma-separated transport:host:port
	SIPExternal   string
	SIPRealm      string
	SIPTLSCert    string
	SIPTLSKey     string
	SIPTrusted    []netip.Prefix
	RTPPorts      string // LO-HI
	RTPTimeout    time.Duration
	RecordingsDir string
	PromptsDir    string

	SMSGatewayURL   string
	SMSGatewayToken string
	SMSSimReceipt   time.Duration

	// Conversations (chat and messaging threads): see the README's
	// "Conversations".
	AttachmentsDir   string
	UploadTTL        time.Duration
	ChatOfferTimeout time.Duration
	MaxChatsOnCall   int
	WhatsAppProvider string
	WhatsAppURL      string
	WhatsAppSecret   string
	// WebChatRateLimit is the web-chat end-user API's requests per minute
	// per client address.
	WebChatRateLimit int
	// Voice360RateLimit is the Voice360 dialect's requests per minute per
	// key; Voice360PublicRateLimit per client address on its public routes.
	Voice360RateLimit       int
	Voice360PublicRateLimit int
	// UJETRateLimit is the UJET dialect's requests per second per tenant
	// (UJET limits each customer); 0 disables it.
	UJETRateLimit float64

	// TenantWriteRate and TenantWriteBurst bound the mutating requests of one
	// tenant across all its keys and dialects, so that no tenant can take the
	// store's writer from the others.
	TenantWriteRate  float64
	TenantWriteBurst int
	// Analytics… configure speech analytics (see the README's "Speech
	// analytics"): the transcription provider (off, sim or http), the
	// Whisper-compatible server's base URL, key and model, the language
	// hint and how many calls are analysed at once.
	AnalyticsProvider    string
	AnalyticsURL         string
	AnalyticsKey         string
	AnalyticsModel       string
	AnalyticsLanguage    string
	AnalyticsConcurrency int
	// Streams… bound the event streams (see native.StreamLimits).
	StreamsPerKey      int
	StreamsPerTenant   int
	StreamWriteTimeout time.Duration
	StreamMaxLifetime  time.Duration
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
		Addr:               "127.0.0.1:8080",
		MetricsAddr:        defaultMetricsAddr,
		DB:                 defaultDB(),
		LogFormat:          "text",
		LogLevel:           "info",
		RateLimit:          20,
		RateBurst:          40,
		MaxBodyBytes:       1 << 20,
		AuthCacheTTL:       5 * time.Second,
		ResponseCacheBytes: 32 << 20,
		ShutdownTimeout:    15 * time.Second,
		DemoTraffic:        true,

		WebhookTimeout:          15 * time.Second,
		WebhookWorkers:          64,
		WebhookPerEndpoint:      8,
		WebhookSchedule:         []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour},
		WebhookDisableAfter:     5 * 24 * time.Hour,
		WebhookDisableEvents:    100,
		WebhookPoll:             time.Second,
		BillingHoldMinutes:      10,
		WebhookMaxPerTenant:     20,
		WebhookMaxEventTypes:    50,
		SMTPFrom:                "switchboard@localhost",
		SMSProvider:             "sim",
		Telephony:               "sim",
		SIPListen:               "udp:0.0.0.0:5060,tcp:0.0.0.0:5060",
		SIPRealm:                "switchboard",
		RTPPorts:                "10000-20000",
		RTPTimeout:              time.Minute,
		SMSSimReceipt:           time.Second,
		UploadTTL:               15 * time.Minute,
		ChatOfferTimeout:        time.Minute,
		MaxChatsOnCall:          1,
		WhatsAppProvider:        "sim",
		WebChatRateLimit:        300,
		Voice360RateLimit:       1000,
		Voice360PublicRateLimit: 100,
		UJETRateLimit:           10,
		TenantWriteRate:         50,
		TenantWriteBurst:        100,
		StreamsPerKey:           5,
		StreamsPerTenant:        20,
		StreamWriteTimeout:      30 * time.Second,
		StreamMaxLifetime:       time.Hour,
		AnalyticsProvider:       "off",
		AnalyticsModel:          "whisper-1",
		AnalyticsConcurrency:    2,
	}
}

// bind binds c's fields to their flags, variables and file keys. dbOnly
// limits them to the database, for the administration commands.
func (c *Config) bind(dbOnly bool) []settings.Setting {
	setting := func(name, doc string, v flag.Value) settings.Setting {
		return settings.Setting{Name: name, Doc: doc, Value: v}
	}
	db := []settings.Setting{setting("db", "database URL: sqlite:PATH or postgres://user:pass@host/db", settings.String(&c.DB))}
	if dbOnly {
		return db
	}
	return append(db,
		setting("addr", "address to listen on, host:port (port 0 picks a free one)", settings.String(&c.Addr)),
		setting("metrics-addr", "address of the separate listener serving Prometheus /metrics, host:port (loopback by default; empty disables it)", settings.String(&c.MetricsAddr)),
		setting("metrics-token", "bearer token /metrics requires; empty requires none (keep --metrics-addr private then)", settings.String(&c.MetricsToken)),
		setting("public-url", "base URL clients reach this server at, for links sent out such as recording URLs in webhooks (default http:// and the listening address)", settings.String(&c.PublicURL)),
		setting("admin-token", "bearer token of the platform-admin API under /v1/admin; empty disables it", settings.String(&c.AdminToken)),
		setting("log-format", "access and server log format: text or json", settings.String(&c.LogFormat)),
		setting("log-level", "least severe log level written: debug, info, warn or error", settings.String(&c.LogLevel)),
		setting("rate-limit", "requests per second allowed per API key on average; 0 disables the limit", settings.Float(&c.RateLimit)),
		setting("rate-burst", "requests an API key may send at once above its rate", settings.Int(&c.RateBurst)),
		setting("max-body-bytes", "largest request body accepted, in bytes", settings.Int64(&c.MaxBodyBytes)),
		setting("auth-cache-ttl", "how long a verified API key is trusted before it is checked again (revocation on another node waits this long)", settings.Duration(&c.AuthCacheTTL)),
		setting("response-cache-bytes", "memory for answers to repeated reads of unchanged data, in bytes; each is checked against the tenant's event sequence on every request, so writes through any node show at once; 0 turns the cache off", settings.Int64(&c.ResponseCacheBytes)),
		setting("shutdown-timeout", "how long in-flight requests may finish after SIGTERM", settings.Duration(&c.ShutdownTimeout)),
		setting("demo", "seed the demo tenant (idempotently) and print a key per dialect", settings.Bool(&c.Demo)),
		setting("demo-traffic", "with --demo, place a simulated call into a demo queue every half minute or so", settings.Bool(&c.DemoTraffic)),
		setting("demo-rotate-keys", "with --demo, revoke the demo keys and print new ones (they are otherwise kept from start to start)", settings.Bool(&c.DemoRotateKeys)),
		setting("webhook-allow-cidr", "a non-public address range webhooks may reach, e.g. 127.0.0.0/8 or 10.1.0.0/16 (repeatable; env: comma-separated)", settings.Prefixes(&c.WebhookAllowCIDRs)),
		setting("webhook-timeout", "how long one webhook attempt may take", settings.Duration(&c.WebhookTimeout)),
		setting("webhook-workers", "webhook attempts in flight at once, across all endpoints", settings.Int(&c.WebhookWorkers)),
		setting("webhook-per-endpoint", "webhook attempts in flight at once to one subscription", settings.Int(&c.WebhookPerEndpoint)),
		setting("webhook-endpoint-rate", "webhook attempts per second to one subscription; 0 for no limit", settings.Float(&c.WebhookEndpointRate)),
		setting("webhook-retry-schedule", "comma-separated delays before each webhook attempt; its length is the most attempts", settings.Durations(&c.WebhookSchedule)),
		setting("webhook-disable-after", "disable a webhook whose deliveries have all failed for this long; 0 never", settings.Duration(&c.WebhookDisableAfter)),
		setting("webhook-disable-failed-events", "disable a webhook after this many events in a row failed every attempt; 0 never", settings.Int(&c.WebhookDisableEvents)),
		setting("webhook-max-per-tenant", "the most webhook subscriptions one tenant may have", settings.Int(&c.WebhookMaxPerTenant)),
		setting("webhook-max-event-types", "the most event types one webhook subscription may list", settings.Int(&c.WebhookMaxEventTypes)),
		setting("billing-hold-minutes", "talk time a connected call holds of a prepaid balance until it ends", settings.Int(&c.BillingHoldMinutes)),
		setting("webhook-poll", "how often the webhook dispatcher looks for due deliveries written by other nodes", settings.Duration(&c.WebhookPoll)),
		setting("smtp-addr", "host:port of the mail relay for webhook-disabled notices; empty sends none", settings.String(&c.SMTPAddr)),
		setting("smtp-from", "sender address of notification e-mails", settings.String(&c.SMTPFrom)),
		setting("telephony", "the telephony driver calls run on: sim (simulated phones and callers, driven through /v1/sim) or sip (real phones and carriers)", settings.String(&c.Telephony)),
		setting("sip-listen", "with --telephony sip, the SIP listeners, comma-separated transport:host:port (udp, tcp, tls, ws, wss), e.g. udp:0.0.0.0:5060,tls:0.0.0.0:5061", settings.String(&c.SIPListen)),
		setting("sip-external", "with --telephony sip, the public address phones and carriers reach this server at, put in Contact headers and SDP when it is behind NAT; empty: the listen address", settings.String(&c.SIPExternal)),
		setting("sip-realm", "the digest realm phones authenticate in; SIP passwords are stored hashed with it, so changing it needs every SIP password set again", settings.String(&c.SIPRealm)),
		setting("sip-trusted-cidr", "with --telephony sip, a network whose SIP sources are never locked out or rate-limited by the guard, e.g. an office LAN or the carrier's range (repeatable; env: comma-separated)", settings.Prefixes(&c.SIPTrusted)),
		setting("sip-tls-cert", "with tls or wss listeners, the PEM certificate file (chain first)", settings.String(&c.SIPTLSCert)),
		setting("sip-tls-key", "with tls or wss listeners, the PEM private key file", settings.String(&c.SIPTLSKey)),
		setting("rtp-ports", "with --telephony sip, the UDP port range for media, LO-HI (each call uses two ports per leg; open it in the firewall)", settings.String(&c.RTPPorts)),
		setting("rtp-timeout", "with --telephony sip, end a connected call whose far end has sent no audio for this long; 0 never", settings.Duration(&c.RTPTimeout)),
		setting("recordings-dir", "with --telephony sip, where call recordings are written (two-channel WAV, one file per call); empty: a recordings directory beside the SQLite database, or ./recordings", settings.String(&c.RecordingsDir)),
		setting("prompts-dir", "with --telephony sip, a directory of 8 kHz 16-bit mono WAV files: moh/<name>.wav is a queue's music on hold, prompts/t<tenant id>-<name>.wav the prompt a menu of that tenant names; missing ones play generated defaults", settings.String(&c.PromptsDir)),
		setting("sms-provider", "where text messages go: sim (simulated, delivered after --sms-sim-receipt-delay) or http (POSTed to --sms-gateway-url)", settings.String(&c.SMSProvider)),
		setting("sms-gateway-url", "with --sms-provider http, the gateway URL each message is POSTed to as JSON", settings.String(&c.SMSGatewayURL)),
		setting("sms-gateway-token", "with --sms-provider http, sent as Authorization: Bearer to the gateway", settings.String(&c.SMSGatewayToken)),
		setting("attachments-dir", "where the files sent in conversations (photos, videos, documents) are kept; empty: an attachments directory beside the SQLite database, or ./attachments", settings.String(&c.AttachmentsDir)),
		setting("upload-ttl", "how long an attachment's upload URL stays good", settings.Duration(&c.UploadTTL)),
		setting("chat-offer-timeout", "how long an agent has to accept a conversation offered to them before it is offered to another; 0: offers are final", settings.Duration(&c.ChatOfferTimeout)),
		setting("max-chats-on-call", "how many conversations an agent may hold while on a call (a call is offered only to agents holding at most this many); 0: calls and chats do not mix", settings.Int(&c.MaxChatsOnCall)),
		setting("webchat-rate-limit", "requests per minute one client address may make to the web-chat end-user API (/v1/webchat, uploads), which takes no API key", settings.Int(&c.WebChatRateLimit)),
		setting("whatsapp-provider", "where WhatsApp-style messages go: sim (simulated, delivered then read after a second each) or http (POSTed to --whatsapp-url)", settings.String(&c.WhatsAppProvider)),
		setting("whatsapp-url", "with --whatsapp-provider http, the provider URL each message is POSTed to as JSON", settings.String(&c.WhatsAppURL)),
		setting("whatsapp-secret", "with --whatsapp-provider http, the key of the X-Switchboard-Signature HMAC-SHA256 of each request body", settings.String(&c.WhatsAppSecret)),
		setting("sms-sim-receipt-delay", "with --sms-provider sim, how long until a sent message is reported delivered", settings.Duration(&c.SMSSimReceipt)),
		setting("voice360-rate-limit", "Voice360 dialect: requests per minute per API key", settings.Int(&c.Voice360RateLimit)),
		setting("voice360-public-rate-limit", "Voice360 dialect: requests per minute per client address on the public status routes", settings.Int(&c.Voice360PublicRateLimit)),
		setting("ujet-rate-limit", "UJET dialect: requests per second per tenant (UJET's documented 10; 1 is the seed's older limit); 0 disables the limit", settings.Float(&c.UJETRateLimit)),
		setting("tenant-write-rate", "changes (POST, PUT, PATCH, DELETE) per second one tenant may make on average, across all its keys and dialects; 0 disables the limit", settings.Float(&c.TenantWriteRate)),
		setting("tenant-write-burst", "changes one tenant may make at once above --tenant-write-rate", settings.Int(&c.TenantWriteBurst)),
		setting("analytics-provider", "speech analytics of recorded calls: off, sim (a scripted transcript over the turns heard; for the simulator) or http (an OpenAI/Whisper-compatible server at --analytics-url)", settings.String(&c.AnalyticsProvider)),
		setting("analytics-url", "with --analytics-provider http, the transcription server's base URL (recordings are POSTed to URL/v1/audio/transcriptions)", settings.String(&c.AnalyticsURL)),
		setting("analytics-key", "with --analytics-provider http, sent as Authorization: Bearer to the transcription server; empty sends none", settings.String(&c.AnalyticsKey)),
		setting("analytics-model", "with --analytics-provider http, the model the transcription server is asked for", settings.String(&c.AnalyticsModel)),
		setting("analytics-language", "the language of the calls as an ISO-639-1 code, a hint to the transcription provider; empty lets it detect", settings.String(&c.AnalyticsLanguage)),
		setting("analytics-concurrency", "recordings analysed at once", settings.Int(&c.AnalyticsConcurrency)),
		setting("stream-per-key", "event streams (GET /v1/events/stream) one API key may hold open at once", settings.Int(&c.StreamsPerKey)),
		setting("stream-per-tenant", "event streams one tenant may hold open at once across its keys", settings.Int(&c.StreamsPerTenant)),
		setting("stream-write-timeout", "how long an event stream's client may leave a write unread before the stream is cut", settings.Duration(&c.StreamWriteTimeout)),
		setting("stream-max-lifetime", "how long an event stream lives before the server ends it (clients reconnect with Last-Event-ID)", settings.Duration(&c.StreamMaxLifetime)),
	)
}

// load applies the config file, the environment and then args to c, and
// validates the result (see settings.Source.Load). The administration
// commands (dbOnly) take only the database from the same config file serve
// reads, and skip its other keys.
func (c *Config) load(fs *flag.FlagSet, args []string, dbOnly bool, getenv func(string) string) error {
	var known []string
	for _, s := range (&Config{}).bind(false) {
		known = append(known, s.Key())
	}
	src := settings.Source{Prefix: "SWITCHBOARD_", Getenv: getenv, Known: known}
	if err := src.Load(fs, args, c.bind(dbOnly)); err != nil {
		return err
	}
	return c.validate(dbOnly)
}

// validate names every setting that is out of range, not only the first.
func (c *Config) validate(dbOnly bool) error {
	var errs []error
	check := func(bad bool, format string, args ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.DB == "", "--db is required")
	if dbOnly {
		return errors.Join(errs...)
	}
	check(c.LogFormat != "text" && c.LogFormat != "json", "--log-format must be text or json, not %q", c.LogFormat)
	check(!slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel), "--log-level must be debug, info, warn or error, not %q", c.LogLevel)
	check(c.RateLimit < 0, "--rate-limit must not be negative")
	check(c.RateBurst < 1, "--rate-burst must be at least 1")
	check(c.MaxBodyBytes < 1024, "--max-body-bytes must be at least 1024")
	check(c.ResponseCacheBytes < 0, "--response-cache-bytes must not be negative")
	check(c.AuthCacheTTL < 0 || c.ShutdownTimeout < 0 || c.WebhookDisableAfter < 0, "durations must not be negative")
	check(c.WebhookTimeout < 100*time.Millisecond, "--webhook-timeout must be at least 100ms")
	check(c.WebhookWorkers < 1 || c.WebhookPerEndpoint < 1, "--webhook-workers and --webhook-per-endpoint must be at least 1")
	check(c.WebhookEndpointRate < 0 || c.WebhookDisableEvents < 0, "--webhook-endpoint-rate and --webhook-disable-failed-events must not be negative")
	check(len(c.WebhookSchedule) == 0 || len(c.WebhookSchedule) > 20, "--webhook-retry-schedule must list 1 to 20 delays")
	check(c.Telephony != "sim" && c.Telephony != "sip", "--telephony must be sim or sip, not %q", c.Telephony)
	if c.Telephony == "sip" {
		_, _, err := c.rtpRange()
		check(err != nil, "--rtp-ports: %v", err)
		check(strings.TrimSpace(c.SIPListen) == "", "--sip-listen needs at least one transport:host:port")
		check((c.SIPTLSCert == "") != (c.SIPTLSKey == ""), "--sip-tls-cert and --sip-tls-key go together")
		check(c.RTPTimeout < 0, "--rtp-timeout must not be negative")
		check(strings.TrimSpace(c.SIPRealm) == "", "--sip-realm must not be empty")
	}
	check(c.SMSProvider != "sim" && c.SMSProvider != "http", "--sms-provider must be sim or http, not %q", c.SMSProvider)
	if c.SMSProvider == "http" {
		u, err := url.Parse(c.SMSGatewayURL)
		check(err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "",
			"--sms-gateway-url must be an http:// or https:// URL with --sms-provider http")
	}
	check(c.UploadTTL < time.Minute || c.UploadTTL > 24*time.Hour, "--upload-ttl must be between 1m and 24h")
	check(c.WebChatRateLimit < 1, "--webchat-rate-limit must be at least 1")
	check(c.ChatOfferTimeout < 0, "--chat-offer-timeout must not be negative")
	check(c.MaxChatsOnCall < 0 || c.MaxChatsOnCall > 50, "--max-chats-on-call must be between 0 and 50")
	check(c.WhatsAppProvider != "sim" && c.WhatsAppProvider != "http", "--whatsapp-provider must be sim or http, not %q", c.WhatsAppProvider)
	if c.WhatsAppProvider == "http" {
		u, err := url.Parse(c.WhatsAppURL)
		check(err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "",
			"--whatsapp-url must be an http:// or https:// URL with --whatsapp-provider http")
	}
	check(c.Voice360RateLimit < 1 || c.Voice360PublicRateLimit < 1, "--voice360-rate-limit and --voice360-public-rate-limit must be at least 1")
	check(c.UJETRateLimit < 0, "--ujet-rate-limit must not be negative")
	check(c.WebhookPoll < 10*time.Millisecond, "--webhook-poll must be at least 10ms")
	check(c.BillingHoldMinutes < 1 || c.BillingHoldMinutes > 1440, "--billing-hold-minutes must be between 1 and 1440")
	check(c.TenantWriteRate < 0, "--tenant-write-rate must not be negative")
	check(c.TenantWriteBurst < 1, "--tenant-write-burst must be at least 1")
	check(c.StreamsPerKey < 1 || c.StreamsPerTenant < 1, "--stream-per-key and --stream-per-tenant must be at least 1")
	check(c.StreamWriteTimeout < 100*time.Millisecond, "--stream-write-timeout must be at least 100ms")
	check(c.StreamMaxLifetime < time.Second, "--stream-max-lifetime must be at least 1s")
	check(c.AnalyticsProvider != "off" && c.AnalyticsProvider != "sim" && c.AnalyticsProvider != "http",
		"--analytics-provider must be off, sim or http, not %q", c.AnalyticsProvider)
	if c.AnalyticsProvider == "http" {
		u, err := url.Parse(c.AnalyticsURL)
		check(err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "",
			"--analytics-url must be an http:// or https:// URL with --analytics-provider http")
		check(strings.TrimSpace(c.AnalyticsModel) == "", "--analytics-model must not be empty with --analytics-provider http")
	}
	check(c.AnalyticsConcurrency < 1 || c.AnalyticsConcurrency > 64, "--analytics-concurrency must be between 1 and 64")
	check(c.WebhookMaxPerTenant < 1 || c.WebhookMaxEventTypes < 1, "--webhook-max-per-tenant and --webhook-max-event-types must be at least 1")
	return errors.Join(errs...)
}

// rtpRange parses --rtp-ports.
func (c *Config) rtpRange() (lo, hi int, err error) {
	a, b, ok := strings.Cut(c.RTPPorts, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 1024 || hi > 65535 || hi-lo < 3 {
		return 0, 0, fmt.Errorf("%q: want LO-HI, two port numbers from 1024 to 65535 at least 4 apart", c.RTPPorts)
	}
	return lo, hi, nil
}

// recordingsDir is --recordings-dir, or a directory beside a SQLite
// database.
func (c *Config) recordingsDir() string {
	if c.RecordingsDir != "" {
		return c.RecordingsDir
	}
	return c.besideDB("recordings")
}

// attachmentsDir is --attachments-dir, or a directory beside a SQLite
// database.
func (c *Config) attachmentsDir() string {
	if c.AttachmentsDir != "" {
		return c.AttachmentsDir
	}
	return c.besideDB("attachments")
}

// besideDB is the directory name beside a SQLite database file, or name
// itself (relative to the working directory) for other databases.
func (c *Config) besideDB(name string) string {
	if path, ok := strings.CutPrefix(c.DB, "sqlite:"); ok {
		path, _, _ = strings.Cut(path, "?")
		path = strings.TrimPrefix(path, "file:")
		if path != "" && path != ":memory:" {
			return filepath.Join(filepath.Dir(path), name)
		}
	}
	return name
}
