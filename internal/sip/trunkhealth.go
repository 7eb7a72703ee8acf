package sip

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"switchboard"
)

// healthConfig is what a trunk's checks depend on: a change of any of it
// restarts them (and so re-registers).
type healthConfig struct {
	uri                switchboard.TrunkURI
	username, password string
	register           bool
	interval           time.Duration
}

// healthConfigOf says whether t is checked, and how.
func healthConfigOf(t switchboard.Trunk, uri switchboard.TrunkURI) (healthConfig, bool) {
	c := healthConfig{uri: uri, username: t.Username, password: t.Password, register: t.Register && t.Username != "",
		interval: time.Duration(t.OptionsIntervalSeconds) * time.Second}
	return c, t.Enabled && uri.Host != "" && (c.register || c.interval > 0)
}

// Run keeps the outbound registrations and OPTIONS checks of the trunks
// that ask for them, through client, until ctx ends; then it unregisters
// (each within two seconds) and returns. It follows Set, Update and Remove:
// a trunk whose URI, credentials or checks change is checked afresh, one
// removed or disabled is unregistered.
//
// Each checked trunk has its own goroutine: registrations are refreshed
// before they expire (half-way, or a minute before for long ones), retried
// after a failure with a backoff doubling from RetryMin to RetryMax, and
// OPTIONS go out every OptionsIntervalSeconds. A trunk is down while its
// registration fails or its last OPTIONS went unanswered (or drew a 5xx or
// 6xx: any other answer shows the carrier is there); Outbound refuses a
// down trunk with ErrTrunkDown.
func (ts *Trunks) Run(ctx context.Context, client *sipgo.Client) error {
	type worker struct {
		cfg    healthConfig
		cancel context.CancelFunc
		done   chan struct{}
	}
	workers := map[int64]*worker{}
	stop := func(ids []int64) {
		for _, id := range ids {
			workers[id].cancel()
		}
		for _, id := range ids {
			<-workers[id].done
			delete(workers, id)
		}
	}
	for {
		want := map[int64]healthConfig{}
		entries := map[int64]*trunkEntry{}
		ts.mu.RLock()
		for id, e := range ts.byID {
			if cfg, ok := healthConfigOf(e.t, e.uri); ok {
				want[id], entries[id] = cfg, e
			}
		}
		ts.mu.RUnlock()
		var gone []int64
		for id, w := range workers {
			if cfg, ok := want[id]; !ok || cfg != w.cfg {
				gone = append(gone, id)
			}
		}
		stop(gone)
		for id, cfg := range want {
			if _, ok := workers[id]; ok {
				continue
			}
			wctx, cancel := context.WithCancel(ctx)
			w := &worker{cfg: cfg, cancel: cancel, done: make(chan struct{})}
			workers[id] = w
			go func(e *trunkEntry) {
				defer close(w.done)
				ts.check(wctx, client, e, cfg)
			}(entries[id])
		}
		select {
		case <-ctx.Done():
			ids := make([]int64, 0, len(workers))
			for id := range workers {
				ids = append(ids, id)
			}
			stop(ids)
			return nil
		case <-ts.changed:
		}
	}
}

// check runs one trunk's registration and OPTIONS until ctx ends.
func (ts *Trunks) check(ctx context.Context, client *sipgo.Client, e *trunkEntry, cfg healthConfig) {
	e.setHealth(func(h *switchboard.TrunkStatus, f *healthFacts) {
		*f = healthFacts{}
		*h = switchboard.TrunkStatus{State: switchboard.TrunkUnknown}
	})
	var reg *sip.Request
	if cfg.register {
		reg = ts.newRegister(cfg)
	}
	registered := false
	failures := 0
	now := time.Now()
	nextReg, nextOpt := now, now
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			if registered {
				uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				if _, err := ts.register(uctx, client, reg, cfg, 0); err != nil {
					ts.opt.Log.Info("trunk unregister failed", "host", cfg.uri.Host, "err", err)
				}
				cancel()
			}
			e.setHealth(func(h *switchboard.TrunkStatus, f *healthFacts) {
				*f = healthFacts{}
				*h = switchboard.TrunkStatus{State: switchboard.TrunkUnknown}
			})
			return
		case <-timer.C:
		}
		if reg != nil && !time.Now().Before(nextReg) {
			granted, err := ts.register(ctx, client, reg, cfg, ts.opt.RegisterExpiry)
			if ctx.Err() != nil {
				continue
			}
			at := time.Now()
			if err != nil {
				failures++
				backoff := ts.opt.RetryMax
				if failures < 30 {
					backoff = min(ts.opt.RetryMin<<(failures-1), ts.opt.RetryMax)
				}
				nextReg, registered = at.Add(backoff), false
			} else {
				failures, registered = 0, true
				nextReg = at.Add(max(granted/2, granted-time.Minute))
			}
			until := at.Add(granted)
			e.setHealth(func(h *switchboard.TrunkStatus, f *healthFacts) {
				h.LastCheckAt = &at
				h.Registered = err == nil
				h.RegisteredUntil = nil
				if err == nil {
					h.RegisteredUntil = &until
					f.reg = factUp
				} else {
					f.reg, f.regErr = factDown, "REGISTER: "+err.Error()
				}
			})
		}
		if cfg.interval > 0 && !time.Now().Before(nextOpt) {
			rtt, err := ts.options(ctx, client, cfg)
			if ctx.Err() != nil {
				continue
			}
			at := time.Now()
			nextOpt = at.Add(cfg.interval)
			e.setHealth(func(h *switchboard.TrunkStatus, f *healthFacts) {
				h.LastCheckAt = &at
				if err == nil {
					h.RTTMillis, f.opt = rtt.Milliseconds(), factUp
				} else {
					f.opt, f.optErr = factDown, "OPTIONS: "+err.Error()
				}
			})
		}
		var next time.Time
		if reg != nil {
			next = nextReg
		}
		if cfg.interval > 0 && (next.IsZero() || nextOpt.Before(next)) {
			next = nextOpt
		}
		timer.Reset(time.Until(next))
	}
}

// healthFacts are the outcomes a trunk's state is made of.
type healthFacts struct {
	reg, opt       int8 // factUnknown, factUp or factDown
	regErr, optErr string
}

const (
	factUnknown int8 = iota
	factUp
	factDown
)

// setHealth changes the trunk's health under its lock and derives its
// state: down while either check fails (LastError says which), up once
// one succeeded and none fails.
func (e *trunkEntry) setHealth(fn func(*switchboard.TrunkStatus, *healthFacts)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fn(&e.health, &e.facts)
	f := e.facts
	switch {
	case f.reg == factDown:
		e.health.State, e.health.LastError = switchboard.TrunkDown, f.regErr
	case f.opt == factDown:
		e.health.State, e.health.LastError = switchboard.TrunkDown, f.optErr
	case f.reg == factUp || f.opt == factUp:
		e.health.State, e.health.LastError = switchboard.TrunkUp, ""
	default:
		e.health.State = switchboard.TrunkUnknown
	}
}

// newRegister builds the trunk's REGISTER, kept across refreshes so that
// they share its Call-ID and From tag with a rising CSeq (RFC 3261 10.2.4).
func (ts *Trunks) newRegister(cfg healthConfig) *sip.Request {
	recipient := trunkRecipient(cfg.uri, "")
	aor := sip.Uri{Scheme: recipient.Scheme, User: cfg.username, Host: recipient.Host}
	req := sip.NewRequest(sip.REGISTER, recipient)
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	contact := ts.opt.Contact
	contact.User = cfg.username
	contact.UriParams, contact.Headers = contact.UriParams.Clone(), nil
	if contact.Host == "" {
		contact.Scheme, contact.Host = recipient.Scheme, "localhost"
	}
	callID := sip.CallIDHeader(uuid.NewString())
	cseq := &sip.CSeqHeader{SeqNo: 1, MethodName: sip.REGISTER}
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	req.AppendHeader(&callID)
	req.AppendHeader(cseq)
	req.AppendHeader(&maxFwd)
	req.AppendHeader(&sip.ContactHeader{Address: contact, Params: sip.NewParams()})
	return req
}

// register sends req asking for expiry (0 unregisters), answering one
// digest challenge, and returns the lifetime the carrier granted.
func (ts *Trunks) register(ctx context.Context, client *sipgo.Client, req *sip.Request, cfg healthConfig, expiry time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, ts.opt.RegisterTimeout)
	defer cancel()
	exp := sip.ExpiresHeader(uint32(expiry / time.Second))
	req.RemoveHeader("Expires")
	req.AppendHeader(&exp)
	req.RemoveHeader("Via")
	req.RemoveHeader("Authorization")
	req.RemoveHeader("Proxy-Authorization")
	res, err := client.Do(ctx, req, sipgo.ClientRequestRegisterBuild)
	if err != nil {
		return 0, fmt.Errorf("no answer: %w", err)
	}
	if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
		res, err = client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: cfg.username, Password: cfg.password})
		if err != nil {
			return 0, fmt.Errorf("no answer to the authenticated request: %w", err)
		}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return 0, fmt.Errorf("%d %s", res.StatusCode, res.Reason)
	}
	granted := expiry
	if h := res.GetHeader("Expires"); h != nil {
		if v, err := strconv.Atoi(h.Value()); err == nil && v >= 0 {
			granted = time.Duration(v) * time.Second
		}
	}
	// A Contact of ours in the answer carries the lifetime granted to it.
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok || c.Address.User != cfg.username {
			continue
		}
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				granted = time.Duration(n) * time.Second
			}
		}
	}
	if expiry > 0 && granted <= 0 {
		return 0, fmt.Errorf("the carrier granted no registration time")
	}
	return granted, nil
}

// options sends one OPTIONS to the trunk and returns its round trip. Any
// final answer below 500 shows the carrier is there (many answer OPTIONS
// with 401, 404 or 405); 5xx and 6xx, or none within the timeout, do not.
func (ts *Trunks) options(ctx context.Context, client *sipgo.Client, cfg healthConfig) (time.Duration, error) {
	timeout := min(ts.opt.OptionsTimeout, cfg.interval)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req := sip.NewRequest(sip.OPTIONS, trunkRecipient(cfg.uri, ""))
	start := time.Now()
	res, err := client.Do(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("no answer within %s", timeout)
	}
	if res.StatusCode >= 500 {
		return 0, fmt.Errorf("%d %s", res.StatusCode, res.Reason)
	}
	return time.Since(start), nil
}
