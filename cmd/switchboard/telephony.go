package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
	"switchboard/internal/callcenter"
	"switchboard/internal/dialer"
	"switchboard/internal/engine"
	"switchboard/internal/native"
	"switchboard/internal/sim"
	"switchboard/internal/sip"
	"switchboard/internal/sqlstore"
)

// calls is the call service and the driver it runs on, as serve wires them.
type calls struct {
	*callcenter.Service
	// sim is the simulated telephony's control surface (--telephony sim).
	sim *sim.Control
	// sip is the SIP driver with its registrar and trunks (--telephony sip).
	sip *sipParts
	// ended counts the calls that ended here, by disposition (nil: not
	// counted).
	ended *prometheus.CounterVec
}

// sipParts are the pieces of the SIP telephony that run beside the call
// service.
type sipParts struct {
	store     *sqlstore.DB
	driver    *sip.Driver
	registrar *sip.Registrar
	trunks    *sip.Trunks
	guard     *sip.Guard
	log       *slog.Logger

	stop func()          // ends the background loops
	wg   *sync.WaitGroup // the background loops
}

// newCalls builds the telephony driver --telephony names and the call
// service on it.
func newCalls(cfg Config, store *sqlstore.DB, log *slog.Logger) (*calls, error) {
	c := &calls{}
	ended := func(d switchboard.Disposition) {
		if c.ended != nil { // set by metrics.Register
			c.ended.WithLabelValues(string(d)).Inc()
		}
	}
	if cfg.Telephony == "sip" {
		parts, err := newSIP(cfg, store, log, c, ended)
		if err != nil {
			return nil, err
		}
		c.sip = parts
		return c, nil
	}
	drv := sim.New(engine.RealClock{})
	c.Service = callcenter.New(callcenter.Options{Store: store, Driver: drv, Log: log, Ended: ended,
		ChatOfferTimeout: cfg.ChatOfferTimeout, MaxChatsOnCall: cfg.MaxChatsOnCall})
	drv.SetEngine(c.Engine())
	c.sim = sim.NewControl(drv, c.Service)
	return c, nil
}

// newSIP builds the SIP driver, its registrar (agents' phones), its trunks
// (carriers) and the guard in front of them, and the call service on it.
func newSIP(cfg Config, store *sqlstore.DB, log *slog.Logger, c *calls, ended func(switchboard.Disposition)) (*sipParts, error) {
	lo, hi, err := cfg.rtpRange()
	if err != nil {
		return nil, fmt.Errorf("--rtp-ports %w", err)
	}
	var cert *tls.Certificate
	if cfg.SIPTLSCert != "" {
		kp, err := tls.LoadX509KeyPair(cfg.SIPTLSCert, cfg.SIPTLSKey)
		if err != nil {
			return nil, fmt.Errorf("--sip-tls-cert/--sip-tls-key: %w", err)
		}
		cert = &kp
	}
	var listen []string
	for _, l := range strings.Split(cfg.SIPListen, ",") {
		if l = strings.TrimSpace(l); l != "" {
			listen = append(listen, l)
		}
	}
	p := &sipParts{store: store, log: log}
	p.trunks = sip.NewTrunks(sip.TrunksOptions{Numbers: store, Log: log})
	p.guard = sip.NewGuard(sip.GuardOptions{Logger: log, Trusted: cfg.SIPTrusted, Known: func(a netip.Addr) bool {
		if _, ok := p.trunks.MatchInbound(a); ok {
			return true
		}
		return p.registrar.KnownSource(a) || p.driver.Peer(a)
	}})
	p.registrar = sip.NewRegistrar(store, sip.RegistrarOptions{Realm: cfg.SIPRealm, Bindings: store, Guard: p.guard, Logger: log,
		SignedIn: func(acct switchboard.SIPAccount, from netip.Addr) { recordSIPSignIn(store, log, acct, from) }})
	p.driver, err = sip.New(sip.Options{Listen: listen, Certificate: cert, External: cfg.SIPExternal, RTPPorts: [2]int{lo, hi},
		RTPTimeout: cfg.RTPTimeout, Recordings: cfg.recordingsDir(), Prompts: cfg.PromptsDir,
		UserAgent: "Switchboard", Phones: p.registrar, Carriers: p.trunks, Guard: p.guard.Middleware, Log: log,
		Route: func(ctx context.Context, tenantID int64, dialled string) (string, error) {
			return c.Route(ctx, tenantID, dialled)
		},
		Resolve: func(ctx context.Context, tenantID int64, target string) (string, error) {
			return c.TransferTarget(ctx, tenantID, target)
		}})
	if err != nil {
		return nil, err
	}
	c.Service = callcenter.New(callcenter.Options{Store: store, Driver: p.driver, Log: log, Ended: ended, Registrations: true,
		ChatOfferTimeout: cfg.ChatOfferTimeout, MaxChatsOnCall: cfg.MaxChatsOnCall,
		OnEvent: func(ctx context.Context, e switchboard.Event) {
			if err := p.trunks.Apply(ctx, store, e); err != nil && ctx.Err() == nil {
				log.Error("sip: follow trunks", "event", e.Type, "err", err)
			}
			if e.Type == switchboard.EventUserDeactivated {
				// A deactivated agent's phones stop ringing at once, not when
				// their registrations lapse.
				if u, err := store.User(ctx, e.TenantID, e.SubjectID); err == nil && u.Extension != "" {
					p.registrar.Unregister(callcenter.DeviceName(u.TenantID, u.Extension), u.SIPUsername)
				}
			}
		}})
	p.driver.SetEngine(c.Engine())
	p.registrar.OnChange(func(device string, registered bool) { c.Engine().SetReachable(device, registered) })
	return p, nil
}

// Start starts the call service and, with SIP, first loads the phones'
// registrations and the trunks (so that agents whose phones are registered
// are offered calls at once), then opens the SIP listeners and starts the
// registrar's and the trunks' loops.
func (c *calls) Start(ctx context.Context, lastSeen time.Time) error {
	if c.sip == nil {
		return c.Service.Start(ctx, lastSeen)
	}
	p := c.sip
	if err := p.registrar.Load(ctx); err != nil {
		return err
	}
	if err := p.trunks.Load(ctx, p.store); err != nil {
		return err
	}
	if err := c.Service.Start(ctx, lastSeen); err != nil {
		return err
	}
	if err := p.driver.Start(ctx); err != nil {
		return err
	}
	client, err := p.driver.Client()
	if err != nil {
		return fmt.Errorf("sip: client: %w", err)
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	p.stop, p.wg = stop, &sync.WaitGroup{}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		p.registrar.Run(bg, time.Second)
	}()
	go func() {
		defer p.wg.Done()
		if err := p.trunks.Run(bg, client); err != nil && bg.Err() == nil {
			p.log.Error("sip: trunk health checks stopped", "err", err)
		}
	}()
	contact := p.driver.Contact()
	p.log.Info("sip: telephony up", "contact", contact.String(), "realm", p.registrar.Realm())
	return nil
}

// Close stops the SIP loops, then the call service (which closes the
// driver).
func (c *calls) Close(ctx context.Context) error {
	if c.sip != nil && c.sip.stop != nil {
		c.sip.stop()
		c.sip.wg.Wait()
	}
	return c.Service.Close(ctx)
}

// simulator is the simulator's control surface, or nil (not a nil
// *sim.Control) when the telephony is real, so that /v1/sim says so.
func (c *calls) simulator() switchboard.Simulator {
	if c.sim == nil {
		return nil
	}
	return c.sim
}

// trunkHealth is what GET /v1/trunks/{id}/status reports from, or nil.
func (c *calls) trunkHealth() native.TrunkHealth {
	if c.sip == nil {
		return nil
	}
	return c.sip.trunks
}

// registerMetrics adds the SIP telephony's series to reg: legs in progress,
// registered phones, and what the registrar and the guard turned away.
func (c *calls) registerMetrics(reg prometheus.Registerer) {
	if c.sip == nil {
		return
	}
	p := c.sip
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	reg.MustRegister(
		gauge("switchboard_sip_legs", "SIP call legs in progress (a caller bridged to an agent is two).", func() float64 { return float64(p.driver.Legs()) }),
		gauge("switchboard_sip_devices_registered", "Agents' phones (devices) with a live registration.", func() float64 { return float64(p.registrar.Stats().Devices) }),
		gauge("switchboard_sip_bindings", "Live registrations (a device may have several phones).", func() float64 { return float64(p.registrar.Stats().Bindings) }),
		counter("switchboard_sip_registers_total", "REGISTER requests answered.", func() float64 { return float64(p.registrar.Stats().Registers) }),
		counter("switchboard_sip_auth_failures_total", "Digest authentications that failed (wrong password or unknown user).", func() float64 { return float64(p.guard.Stats().AuthFailures) }),
		counter("switchboard_sip_invalid_total", "Malformed SIP requests refused or dropped.", func() float64 { return float64(p.guard.Stats().Invalid) }),
		counter("switchboard_sip_scanner_total", "Requests from scanner user agents.", func() float64 { return float64(p.guard.Stats().Scanners) }),
		counter("switchboard_sip_rate_limited_total", "Requests dropped by the per-source rate limits.", func() float64 { return float64(p.guard.Stats().RateLimited) }),
		counter("switchboard_sip_locked_out_total", "Requests dropped from sources locked out after failed digests.", func() float64 { return float64(p.guard.Stats().LockedOut) }),
	)
}

// registerDialerMetrics serves the dialer's figures, read at each scrape.
func registerDialerMetrics(reg prometheus.Registerer, d *dialer.Service) {
	gauge := func(name, help string, f func(dialer.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(d.Stats()) })
	}
	counter := func(name, help string, f func(dialer.Stats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return f(d.Stats()) })
	}
	reg.MustRegister(
		gauge("switchboard_dialer_campaigns_running", "Campaigns the dialer runs on this server.", func(s dialer.Stats) float64 { return float64(s.Campaigns) }),
		gauge("switchboard_dialer_dials_in_progress", "Campaign dials ringing, or answered and not ended.", func(s dialer.Stats) float64 { return float64(s.InFlight) }),
		gauge("switchboard_dialer_preview_offers", "Leads offered to agents in preview now.", func(s dialer.Stats) float64 { return float64(s.Offers) }),
		counter("switchboard_dialer_dials_total", "Campaign dials placed.", func(s dialer.Stats) float64 { return float64(s.Dials) }),
		counter("switchboard_dialer_blocked_total", "Leads a rule refused before a dial (DNC, consent, emergency, unknown zone, calling hours).",
			func(s dialer.Stats) float64 { return float64(s.Blocked) }),
		&dialOutcomes{d: d},
	)
}

// dialOutcomes is the counter of dial outcomes by outcome.
type dialOutcomes struct{ d *dialer.Service }

var descDialOutcomes = prometheus.NewDesc("switchboard_dialer_outcomes_total",
	"Campaign dials ended, by outcome (connected, abandoned, machine, no_answer, busy, invalid_number, failed, hung_up).", []string{"outcome"}, nil)

func (o *dialOutcomes) Describe(ch chan<- *prometheus.Desc) { ch <- descDialOutcomes }

func (o *dialOutcomes) Collect(ch chan<- prometheus.Metric) {
	for outcome, n := range o.d.Stats().Outcomes {
		ch <- prometheus.MustNewConstMetric(descDialOutcomes, prometheus.CounterValue, float64(n), string(outcome))
	}
}

// recordSIPSignIn records an agent's phone registering as a sign-in from
// its address (for the UJET dialect's force logout by address and its
// users' last_login_time).
func recordSIPSignIn(store *sqlstore.DB, log *slog.Logger, acct switchboard.SIPAccount, from netip.Addr) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := store.RecordSignIn(ctx, acct.TenantID, acct.UserID, from.String(), switchboard.SessionSIP); err != nil {
		log.Warn("sip: record sign-in", "tenant_id", acct.TenantID, "user_id", acct.UserID, "error", err)
	}
}
