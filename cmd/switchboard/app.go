package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/analytics"
	"switchboard/internal/billing"
	"switchboard/internal/blobdir"
	"switchboard/internal/conversation"
	"switchboard/internal/demo"
	"switchboard/internal/dialer"
	"switchboard/internal/engine"
	"switchboard/internal/httpapi"
	"switchboard/internal/metrics"
	"switchboard/internal/native"
	"switchboard/internal/settings"
	"switchboard/internal/sms"
	"switchboard/internal/sqlstore"
	"switchboard/internal/ujet"
	"switchboard/internal/voice360"
	"switchboard/internal/voiso"
	"switchboard/internal/voxloud"
	"switchboard/internal/webhook"
)

// Main is the program with its inputs and outputs made explicit, so that tests
// run the real server and the real commands in-process.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads the environment; tests replace it to stay hermetic.
	Getenv func(string) string

	Config Config
	log    *slog.Logger
	store  *sqlstore.DB
	server *http.Server
	ln     net.Listener
	served chan error

	stopDispatch func()                // ends the webhook dispatcher once it has written its last outcomes
	calls        *calls                // the call service and its driver; nil until started
	dialer       *dialer.Service       // the campaigns' dialer; nil until started
	analytics    *analytics.Service    // speech analytics of recorded calls; nil when off or not started
	convs        *conversation.Service // chats and message threads; nil until started
	billing      *billing.Service      // charges calls to prepaid balances; nil until started
	stopTraffic  func()                // ends the demo's traffic generator
	lock         *sqlstore.NodeLock
	metrics      *httpapi.Metrics
	// responseCache keeps answers to repeated reads (nil when turned off).
	responseCache *httpapi.ResponseCache
	metricsSrv    *http.Server
	metricsLn     net.Listener
	stopBeat      func() // ends the heartbeat after writing a last one
	// ujet is the UJET dialect, whose background jobs (bulk users, force
	// logout, pending sign-outs) stopUJET ends.
	ujet     *ujet.API
	stopUJET func()
}

// NewMain returns a Main on the given streams and the process environment.
func NewMain(stdin io.Reader, stdout, stderr io.Writer) *Main {
	return &Main{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv, Config: defaultConfig()}
}

// usageError marks errors in how the command was called; they exit with 2.
type usageError struct{ error }

func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const helpText = `Switchboard: a self-hostable contact-center platform.

Usage: switchboard COMMAND [flags]

Commands:
  serve            run the HTTP server (add --demo for a ready-made demo tenant)
  migrate          apply pending database migrations and exit
  tenant create    create a tenant; prints it as JSON
  key create       create an API key; prints only its secret
  user create      create a user; prints it as JSON
  user import      import users from a JSON array or a CSV file
  seed-calls       load a generated history of call records (for benchmarks)
  simulate         run an M/M/N queue through the engine in virtual time, beside Erlang C
  simulate-dialer  run an outbound campaign on the simulator in virtual time, beside progressive
  simulate-chat    run chatting end users and agents through the chat routing in virtual time
  version          print the version and the commit it was built from (also --version)
  help [COMMAND]   print this help, or a command's

Run "switchboard COMMAND -h" for the flags of a command. Every flag can also be
set with a SWITCHBOARD_* environment variable or in a JSON --config file.
`

// Run runs the command named by args[0]. For serve it returns when ctx is done
// and the server has shut down. Asking any command for help (-h, --help,
// "help COMMAND") prints it to stdout and succeeds.
func (m *Main) Run(ctx context.Context, args []string) error {
	if err := m.run(ctx, args); !errors.Is(err, errHelpShown) {
		return err
	}
	return nil
}

func (m *Main) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, helpText)
		return usageError{errors.New("no command given")}
	}
	cmd, rest := args[0], args[1:]
	if subs, ok := groups[cmd]; ok {
		switch {
		case len(rest) == 0:
			fmt.Fprint(m.Stderr, groupHelp(cmd))
			return usageError{fmt.Errorf("%s needs a subcommand: %s", cmd, strings.Join(subs, " or "))}
		case settings.WantsHelp(rest[:1]) || rest[0] == "help":
			fmt.Fprint(m.Stdout, groupHelp(cmd))
			return nil
		}
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	if cmd == "help" && len(rest) > 0 {
		// "help serve" is "serve -h"; "help tenant create" is "tenant create -h".
		return m.run(ctx, append(rest, "-h"))
	}
	switch cmd {
	case "serve":
		if err := m.Start(ctx, rest); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
		case err := <-m.served:
			m.Close()
			return err
		}
		return m.Close()
	case "migrate":
		return m.withStore(ctx, "migrate", rest, false, nil, func(fs *flag.FlagSet) error {
			applied := m.store.AppliedMigrations()
			for _, v := range applied {
				fmt.Fprintln(m.Stdout, "applied", v)
			}
			if len(applied) == 0 {
				fmt.Fprintln(m.Stdout, "database is up to date: no migration was pending")
			} else {
				fmt.Fprintf(m.Stdout, "database is up to date: applied %d migrations\n", len(applied))
			}
			return nil
		})
	case "tenant create":
		return m.tenantCreate(ctx, rest)
	case "key create":
		return m.keyCreate(ctx, rest)
	case "user create":
		return m.userCreate(ctx, rest)
	case "user import":
		return m.userImport(ctx, rest)
	case "simulate":
		return m.simulate(ctx, rest)
	case "simulate-dialer":
		return m.simulateDialer(ctx, rest)
	case "simulate-chat":
		return m.simulateChat(ctx, rest)
	case "seed-calls":
		return m.seedCalls(ctx, rest)
	case "version", "--version", "-version":
		fmt.Fprintf(m.Stdout, "switchboard %s\n", switchboard.BuildInfo())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(m.Stdout, helpText)
		return nil
	}
	fmt.Fprint(m.Stderr, helpText)
	return usageError{fmt.Errorf("unknown command %q", strings.Join(args[:min(2, len(args))], " "))}
}

func (m *Main) newLogger() *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(m.Config.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if m.Config.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(m.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(m.Stderr, opts))
}

// Start opens the store, builds the server and starts listening; it returns
// once the server accepts connections (see Addr). Close stops it.
func (m *Main) Start(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	if err := m.parseFlags(fs, args, false); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	m.log = m.newLogger()
	store, err := sqlstore.Open(ctx, m.Config.DB, sqlstore.Options{Logger: m.log, MaxWebhooksPerTenant: m.Config.WebhookMaxPerTenant,
		SIPRealm: m.Config.SIPRealm})
	if err != nil {
		return err
	}
	m.store = store
	if m.lock, err = store.LockCallControl(ctx); err != nil {
		store.Close()
		m.store = nil
		return fmt.Errorf("refusing to start: %w", err)
	}
	if m.Config.Demo && m.Config.AdminToken == "" {
		m.Config.AdminToken = demo.AdminToken()
	}
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		m.Close()
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	m.ln = ln
	if m.Config.PublicURL == "" {
		m.Config.PublicURL = "http://" + ln.Addr().String()
	}
	var d *demo.Center
	if m.Config.Demo {
		if d, err = demo.Seed(ctx, store, demo.KeyOptions{File: demo.KeysPath(m.Config.DB, m.Getenv), Rotate: m.Config.DemoRotateKeys}); err != nil {
			ln.Close()
			m.Close()
			return fmt.Errorf("seed demo tenant: %w", err)
		}
		d.Print(m.Stdout, "http://"+ln.Addr().String(), m.Config.AdminToken)
	}
	m.server = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	}
	guard := webhook.NewGuard(m.Config.WebhookAllowCIDRs)
	cc, err := newCalls(m.Config, store, m.log)
	if err != nil {
		ln.Close()
		m.Close()
		return err
	}
	m.metrics = httpapi.NewMetrics()
	cc.ended = metrics.Register(m.metrics.Registry(), metrics.Options{Engine: cc.Stats, Behind: cc.Behind, Store: store, Log: m.log})
	cc.registerMetrics(m.metrics.Registry())
	dial := dialer.NewService(dialer.ServiceOptions{Store: store, Engine: cc.Engine(), Clock: engine.RealClock{}, Log: m.log})
	registerDialerMetrics(m.metrics.Registry(), dial)
	messenger := m.messenger()
	convs, err := m.conversations(cc, messenger)
	if err != nil {
		ln.Close()
		m.Close()
		return err
	}
	var dialects httpapi.Dialects
	m.server.Handler, dialects = m.handler(guard, cc, dial, messenger, convs)
	if err := m.startMetrics(); err != nil {
		ln.Close()
		m.Close()
		return err
	}
	m.startDispatcher(guard, dialects)
	if err := m.startCallCenter(ctx, cc); err != nil {
		ln.Close()
		m.Close()
		return err
	}
	// Calls are billed where they run, from the event log.
	if m.billing, err = billing.Start(ctx, store, billing.Options{HoldMinutes: m.Config.BillingHoldMinutes, Log: m.log}); err != nil {
		ln.Close()
		m.Close()
		return err
	}
	// Conversations are routed by the call engine: they are put back into
	// it once it has loaded the queues and agents.
	m.convs = convs
	if err := convs.Open(ctx); err != nil {
		ln.Close()
		m.Close()
		return err
	}
	// The dialer runs where the calls run: it starts once the call service
	// holds call control and has loaded the queues it dials for.
	m.dialer = dial
	if err := dial.Start(ctx); err != nil {
		ln.Close()
		m.Close()
		return err
	}
	// The UJET dialect's jobs log agents out through the call service's
	// view of who is busy, so they start after it.
	m.stopUJET = background(m.ujet.Run)
	// Speech analytics reads recordings through the call service, so it
	// starts after it (and closes before it).
	if err := m.startAnalytics(ctx, cc); err != nil {
		ln.Close()
		m.Close()
		return err
	}
	if d != nil && m.Config.DemoTraffic && cc.sim != nil { // real telephony has real callers
		place := func(ctx context.Context, tenantID int64, c demo.Call) error {
			_, err := cc.sim.PlaceCall(ctx, tenantID, switchboard.SimulatedCall{From: c.From, To: c.To, Talk: c.Talk, Patience: c.Patience})
			return err
		}
		m.stopTraffic = background(func(ctx context.Context) { d.Traffic(ctx, place, m.log) })
	}
	served, srv := make(chan error, 1), m.server
	m.served = served
	go func() {
		// This goroutine lives until Close shuts the server down. It uses its
		// own copies: Close clears the fields while it may still be starting.
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			served <- fmt.Errorf("serve: %w", err)
		}
		close(served)
	}()
	m.log.Info("switchboard listening", "addr", "http://"+ln.Addr().String(), "db", sqlstore.RedactURL(m.Config.DB),
		"engine", store.Engine(), "version", switchboard.Version)
	return nil
}

// startAnalytics starts speech analytics on the provider
// --analytics-provider names, unless it is off.
func (m *Main) startAnalytics(ctx context.Context, cc *calls) error {
	var tr switchboard.Transcriber
	switch m.Config.AnalyticsProvider {
	case "sim":
		tr = analytics.SimTranscriber{}
	case "http":
		tr = &analytics.HTTPTranscriber{URL: m.Config.AnalyticsURL, Key: m.Config.AnalyticsKey, Model: m.Config.AnalyticsModel,
			SplitChannels: true}
	default:
		return nil
	}
	svc := analytics.New(analytics.Options{Store: m.store, Recordings: cc, Transcriber: tr, Provider: m.Config.AnalyticsProvider,
		Language: m.Config.AnalyticsLanguage, Concurrency: m.Config.AnalyticsConcurrency, Log: m.log})
	if err := svc.Start(ctx); err != nil {
		return err
	}
	m.analytics = svc
	return nil
}

// messenger starts the messaging service on the configured SMS provider.
func (m *Main) messenger() *sms.Service {
	if m.Config.SMSProvider == "http" {
		return sms.NewService(m.store, &sms.HTTP{URL: m.Config.SMSGatewayURL, Token: m.Config.SMSGatewayToken}, m.log)
	}
	sim := &sms.Sim{ReceiptDelay: m.Config.SMSSimReceipt}
	svc := sms.NewService(m.store, sim, m.log)
	sim.Attach(svc)
	return svc
}

// conversations builds the conversation service on the call engine (which
// routes conversations as it routes calls), the messaging service (the sms
// channel; its hooks thread inbound texts and receipts into conversations),
// the attachments directory and the WhatsApp provider.
func (m *Main) conversations(cc *calls, messenger *sms.Service) (*conversation.Service, error) {
	blobs, err := blobdir.New(m.Config.attachmentsDir())
	if err != nil {
		return nil, fmt.Errorf("attachments: %w", err)
	}
	var wa conversation.Provider
	var simWA *conversation.SimProvider
	if m.Config.WhatsAppProvider == "http" {
		wa = &conversation.HTTPProvider{URL: m.Config.WhatsAppURL, Secret: m.Config.WhatsAppSecret}
	} else {
		simWA = &conversation.SimProvider{DeliveredAfter: time.Second, ReadAfter: 2 * time.Second}
		wa = simWA
	}
	svc := conversation.New(conversation.Options{Store: m.store, Router: cc.Engine(), SMS: messenger, Blobs: blobs,
		Providers: map[switchboard.ConversationChannel]conversation.Provider{switchboard.ChannelWhatsApp: wa},
		UploadTTL: m.Config.UploadTTL, Log: m.log})
	if simWA != nil {
		simWA.Attach(svc)
	}
	messenger.SetHooks(sms.Hooks{
		Received: func(ctx context.Context, msg switchboard.Message) error {
			_, err := svc.Inbound(ctx, msg.TenantID, switchboard.ChannelSMS, msg.From, msg.To, msg.Body, msg.ProviderID)
			return err
		},
		Receipt: func(ctx context.Context, msg switchboard.Message) error {
			status := switchboard.ReceiptDelivered
			if msg.Status == switchboard.MessageFailed {
				status = switchboard.ReceiptFailed
			}
			_, err := svc.Receipt(ctx, msg.TenantID, msg.ProviderID, status, msg.Error)
			if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
				return nil // a plain SMS, in no conversation
			}
			return err
		},
	})
	return svc, nil
}

// orNil keeps a nil service a nil interface, which the routes test for.
func orNil(c *conversation.Service) switchboard.Conversations {
	if c == nil {
		return nil
	}
	return c
}

// handler assembles every surface of the server on one mux.
func (m *Main) handler(guard *webhook.Guard, cc *calls, dial *dialer.Service, messenger *sms.Service, convs *conversation.Service) (http.Handler, httpapi.Dialects) {
	obs := &httpapi.Observer{Log: m.log, Metrics: m.metrics, MaxBody: m.Config.MaxBodyBytes}
	auth := httpapi.NewAuthenticator(m.store, m.Config.AuthCacheTTL, m.log)
	// One limiter for the dialects that share per-key buckets, with the
	// per-tenant write buckets every dialect (Voice360 too) charges.
	limiter := httpapi.NewRateLimiter(m.Config.RateLimit, m.Config.RateBurst).
		WithTenantWrites(m.Config.TenantWriteRate, m.Config.TenantWriteBurst)
	policy := &webhook.Policy{Guard: guard, MaxEventTypes: m.Config.WebhookMaxEventTypes}
	idem := &httpapi.Idempotency{Store: m.store, Log: m.log}
	// One cache of read answers for every dialect, checked against the
	// tenant's event sequence on each request (see httpapi.ResponseCache).
	cache := httpapi.NewResponseCache(m.store.EventHead, m.Config.ResponseCacheBytes)
	m.responseCache = cache
	m.metrics.ObserveCache(cache)

	// The vendor dialects, one line each; native, which lets subscriptions
	// of every dialect be made, comes after them.
	vendors := httpapi.Dialects{
		voxloud.New(voxloud.Options{Store: m.store, Auth: auth, Limiter: limiter, Calls: cc, WebhookPolicy: policy,
			PublicURL: m.Config.PublicURL, Log: m.log, Idempotency: idem, Cache: cache}),
		voice360.New(voice360.Options{Store: m.store, Auth: auth, PerMinute: m.Config.Voice360RateLimit,
			TenantWrites:    limiter.TenantWrites(),
			PublicPerMinute: m.Config.Voice360PublicRateLimit, Calls: cc, Messenger: messenger, WebhookPolicy: policy,
			PublicURL: m.Config.PublicURL, Log: m.log, Idempotency: idem, Cache: cache}),
		voiso.New(voiso.Options{Store: m.store, Auth: auth, Limiter: limiter, Calls: cc, Dialer: dial, Conversations: orNil(convs),
			WebhookPolicy: policy, PublicURL: m.Config.PublicURL, SIPDomain: m.Config.SIPRealm, Log: m.log, Idempotency: idem, Cache: cache}),
		ujet.New(ujet.Options{Store: m.store, Auth: auth, Limiter: ujetLimiter(m.Config.UJETRateLimit), TenantWrites: limiter.TenantWrites(),
			Calls: cc, Dialer: dial, Conversations: orNil(convs), WebhookPolicy: policy, PublicURL: m.Config.PublicURL,
			SIPDomain: m.Config.SIPRealm, Log: m.log, Idempotency: idem, Cache: cache}),
	}
	for _, d := range vendors {
		if u, ok := d.(*ujet.API); ok {
			m.ujet = u // its background jobs start with the call service
		}
	}
	api := native.New(native.Options{Store: m.store, Auth: auth, Limiter: limiter, AdminToken: m.Config.AdminToken,
		WebhookPolicy: policy, Calls: cc, Dialer: dial, Simulator: cc.simulator(), TrunkHealth: cc.trunkHealth(), Messenger: messenger, Conversations: orNil(convs), WebChatPerMinute: m.Config.WebChatRateLimit, Log: m.log, Idempotency: idem, Cache: cache,
		Streams: native.StreamLimits{PerKey: m.Config.StreamsPerKey, PerTenant: m.Config.StreamsPerTenant,
			WriteTimeout: m.Config.StreamWriteTimeout, MaxLifetime: m.Config.StreamMaxLifetime},
		DialectEvents: vendors.Events(), DialectDefaults: vendors.WebhookDefaults(), SecretPrefixes: vendors.SecretPrefixes()})
	dialects := append(httpapi.Dialects{api}, vendors...)
	auth.AcceptHeaders(dialects.KeyHeaders()...)
	cache.VaryOn(dialects.KeyHeaders()...)
	policy.Dialects = dialects.Names()

	// Shutdown ends the event streams, which would otherwise hold it for
	// its whole timeout.
	m.server.RegisterOnShutdown(api.CloseStreams)

	mux := http.NewServeMux()
	dialects.Mount(mux, obs)
	mux.Handle("GET /healthz", httpapi.Health(switchboard.Version))
	mux.Handle("GET /readyz", httpapi.Ready(m.log, httpapi.ReadyCheck{Reason: "database does not answer", Check: m.store.Ping},
		httpapi.ReadyCheck{Reason: "call changes are not being recorded", Check: func(context.Context) error { return cc.Health() }}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"name": "switchboard", "version": switchboard.Version,
			"native_api": "/v1", "openapi": "/v1/openapi.json", "voxloud_api": "/api/v1", "voxloud_openapi": "/api/v1/openapi.json",
			"voice360_api": "/v3/voice/{account_id}", "voice360_openapi": "/v3/voice/openapi.json",
			"voiso_api": "/api/v4", "voiso_openapi": "/api/v4/openapi.json",
			"ujet_api": "/apps/api/v1", "ujet_openapi": "/apps/api/v1/openapi.json"})
	})
	return mux, dialects
}

// ujetLimiter is the UJET dialect's per-tenant request limiter: perSecond on
// average with bursts of as many (at least one); nil when limiting is off.
func ujetLimiter(perSecond float64) *httpapi.RateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return httpapi.NewRateLimiter(perSecond, max(1, int(math.Ceil(perSecond))))
}

// startMetrics serves /metrics on its own listener, --metrics-addr, so that
// the public API never shows them: they describe every tenant's traffic. With
// --metrics-token the scraper must send it as a bearer token. When the default
// address is taken (another server on this host) the server runs without
// metrics and says so; an address the operator chose must be free.
func (m *Main) startMetrics() error {
	if m.Config.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.Config.MetricsAddr)
	if err != nil && m.Config.MetricsAddr == defaultMetricsAddr {
		m.log.Warn("metrics are not served: the default --metrics-addr is taken; set another one, or empty to silence this",
			"metrics_addr", m.Config.MetricsAddr, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("listen for metrics on %s: %w", m.Config.MetricsAddr, err)
	}
	m.metricsSrv, m.metricsLn = m.metrics.Serve(ln, m.Config.MetricsToken, m.log), ln
	m.log.Info("serving metrics", "addr", "http://"+ln.Addr().String()+"/metrics", "token_required", m.Config.MetricsToken != "")
	return nil
}

// MetricsAddr is the address /metrics is served on, or "" when it is not.
func (m *Main) MetricsAddr() string {
	if m.metricsLn == nil {
		return ""
	}
	return m.metricsLn.Addr().String()
}

// startDispatcher runs the webhook dispatcher until Close.
func (m *Main) startDispatcher(guard *webhook.Guard, dialects httpapi.Dialects) {
	var notifier webhook.Notifier
	if m.Config.SMTPAddr != "" {
		notifier = &webhook.SMTP{Addr: m.Config.SMTPAddr, From: m.Config.SMTPFrom}
	}
	d := webhook.New(webhook.Options{
		Store: m.store, Log: m.log, Guard: guard, Notifier: notifier,
		Schedule: m.Config.WebhookSchedule, Timeout: m.Config.WebhookTimeout,
		Workers: m.Config.WebhookWorkers, PerEndpoint: m.Config.WebhookPerEndpoint,
		EndpointRate: m.Config.WebhookEndpointRate, Poll: m.Config.WebhookPoll,
		Disable:   switchboard.DisablePolicy{After: m.Config.WebhookDisableAfter, Deliveries: int64(m.Config.WebhookDisableEvents)},
		Renderers: dialects.Renderers(),
	})
	m.stopDispatch = background(func(ctx context.Context) { d.Run(ctx) })
}

// background runs fn until the returned stop cancels its context; stop waits
// for fn to return (the dispatcher writing its last outcomes, say).
func background(fn func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
	}()
	return func() { cancel(); <-done }
}

// startCallCenter starts the call service: it closes the calls the previous
// run left open, as of the moment that run was last known alive (so that its
// downtime is not talk time), loads the store into the engine and follows the
// event log until Close.
func (m *Main) startCallCenter(ctx context.Context, cc *calls) error {
	lastSeen, _, err := m.store.LastHeartbeat(ctx, sqlstore.CallControlNode) // zero when none: end them now
	if err != nil {
		return err
	}
	stopBeat, err := m.store.KeepCallControl(ctx, m.lock, sqlstore.CallControlNode, sqlstore.HeartbeatInterval, m.log)
	if err != nil {
		return err
	}
	m.stopBeat = func() { m.lock = stopBeat() }
	m.calls = cc
	return cc.Start(ctx, lastSeen)
}

// Addr is the address the server listens on, e.g. "127.0.0.1:41234".
func (m *Main) Addr() string { return m.ln.Addr().String() }

// Close stops accepting requests, lets in-flight ones finish within the
// shutdown timeout, and closes the store. It is safe to call more than once.
func (m *Main) Close() error {
	var err error
	stop := func(f *func()) {
		if *f != nil {
			(*f)()
			*f = nil
		}
	}
	stop(&m.stopTraffic)
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		defer cancel()
		m.log.Info("shutting down", "timeout", m.Config.ShutdownTimeout)
		err = m.server.Shutdown(ctx)
		m.server = nil
	}
	if m.metricsSrv != nil {
		err = errors.Join(err, m.metricsSrv.Close())
		m.metricsSrv = nil
	}
	stop(&m.stopDispatch)
	stop(&m.stopUJET)
	if m.dialer != nil {
		// The dialer stops before the engine: no dial starts on an engine
		// that is closing, and imports stop at their next batch.
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		err = errors.Join(err, m.dialer.Close(ctx))
		cancel()
		m.dialer = nil
	}
	if m.analytics != nil {
		// Analyses in flight are cut (they stay due for the next start)
		// before the call service, which reads their recordings, stops.
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		err = errors.Join(err, m.analytics.Close(ctx))
		cancel()
		m.analytics = nil
	}
	if m.convs != nil {
		// The routing decisions the engine reported are recorded before
		// the engine stops.
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		err = errors.Join(err, m.convs.Close(ctx))
		cancel()
		m.convs = nil
	}
	if m.calls != nil {
		// The engine and the driver stop before the store closes, and every
		// change they made is written first.
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		err = errors.Join(err, m.calls.Close(ctx))
		cancel()
		m.calls = nil
	}
	if m.billing != nil {
		// After the calls: their last events are written; what is not
		// billed yet is billed from the saved position at the next start.
		err = errors.Join(err, m.billing.Close())
		m.billing = nil
	}
	stop(&m.stopBeat)
	if m.lock != nil {
		err = errors.Join(err, m.lock.Release())
		m.lock = nil
	}
	if m.store != nil {
		err = errors.Join(err, m.store.Close())
		m.store = nil
	}
	return err
}
