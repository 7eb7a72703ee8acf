package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/internal/phone"
)

// Trunks holds the carriers' trunks of every tenant as the driver uses
// them: which trunk an inbound request comes from, which one an outbound
// call leaves through (within the trunk's concurrent-call and calls-per-
// second limits), how the dialled and presented numbers are written for the
// carrier, and (Run) the outbound registrations and OPTIONS health checks.
//
// The driver loads the trunks with Set at start (Store.AllTrunks) and
// follows trunk.* events with Update and Remove. All methods are safe for
// concurrent use; matching and limits take no lock shared with the health
// checks' network round trips.
type Trunks struct {
	opt TrunksOptions

	mu       sync.RWMutex
	byID     map[int64]*trunkEntry
	prefixes map[netip.Prefix][]*trunkEntry // enabled trunks listing the prefix, by id
	bits4    []int                          // prefix lengths in use, longest first
	bits6    []int
	byUser   map[string]*trunkEntry // enabled trunks by inbound username
	defaults map[int64]*trunkEntry  // tenant -> its enabled default outbound trunk
	// outbound lists each tenant's enabled trunks that place calls, its
	// default first and then by id: the order a failing call switches in.
	outbound map[int64][]*trunkEntry
	// changed wakes Run to start, restart or stop health checks.
	changed chan struct{}
}

// TrunksOptions configures Trunks; zero values take the defaults.
type TrunksOptions struct {
	// Numbers finds which tenant owns a dialled number (InboundTenant).
	Numbers NumberOwner
	// Contact is where carriers reach this server: the advertised address of
	// the SIP listener, put in outbound REGISTERs' Contact (user: the
	// trunk's username). Registrations need it.
	Contact sip.Uri
	// RegisterExpiry is the registration lifetime asked for (1 h).
	RegisterExpiry time.Duration
	// RetryMin and RetryMax bound the backoff after a failed registration
	// (1 s doubling to 5 min).
	RetryMin, RetryMax time.Duration
	// OptionsTimeout bounds an OPTIONS round trip (5 s, and never more than
	// the trunk's interval); RegisterTimeout a REGISTER with its challenge
	// (10 s), so that an unreachable carrier does not hold the trunk's
	// checks for the 32 s of a UDP transaction.
	OptionsTimeout, RegisterTimeout time.Duration
	// Now is the clock of the calls-per-second limit (time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// trunkEntry is one trunk with its live state. t and uri change only under
// Trunks.mu; the limits and the health under the entry's own mutex.
type trunkEntry struct {
	t   switchboard.Trunk
	uri switchboard.TrunkURI

	mu     sync.Mutex
	active int
	// starts holds the times of the last CallsPerSecond outbound calls, a
	// ring whose oldest entry is at next: a call may start when that one is
	// at least a second old, so no second ever holds more than the limit.
	starts []time.Time
	next   int
	health switchboard.TrunkStatus
	facts  healthFacts
}

// NewTrunks returns an empty table.
func NewTrunks(opt TrunksOptions) *Trunks {
	if opt.RegisterExpiry <= 0 {
		opt.RegisterExpiry = time.Hour
	}
	if opt.RetryMin <= 0 {
		opt.RetryMin = time.Second
	}
	if opt.RetryMax <= 0 {
		opt.RetryMax = 5 * time.Minute
	}
	if opt.OptionsTimeout <= 0 {
		opt.OptionsTimeout = 5 * time.Second
	}
	if opt.RegisterTimeout <= 0 {
		opt.RegisterTimeout = 10 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	return &Trunks{opt: opt, byID: map[int64]*trunkEntry{}, changed: make(chan struct{}, 1)}
}

// Set replaces every trunk with list (Store.AllTrunks). Calls in progress
// through a trunk that stays keep counting against its limits.
func (ts *Trunks) Set(list []switchboard.Trunk) {
	ts.mu.Lock()
	keep := make(map[int64]bool, len(list))
	for _, t := range list {
		keep[t.ID] = true
		ts.put(t)
	}
	for id := range ts.byID {
		if !keep[id] {
			delete(ts.byID, id)
		}
	}
	ts.reindex()
	ts.mu.Unlock()
	ts.wake()
}

// Update adds or replaces one trunk (trunk.created, trunk.updated).
func (ts *Trunks) Update(t switchboard.Trunk) {
	ts.mu.Lock()
	ts.put(t)
	ts.reindex()
	ts.mu.Unlock()
	ts.wake()
}

// Remove forgets a trunk (trunk.deleted).
func (ts *Trunks) Remove(id int64) {
	ts.mu.Lock()
	delete(ts.byID, id)
	ts.reindex()
	ts.mu.Unlock()
	ts.wake()
}

func (ts *Trunks) wake() {
	select {
	case ts.changed <- struct{}{}:
	default:
	}
}

// TrunkStore is what Trunks reads from the store (sqlstore.DB has it).
type TrunkStore interface {
	AllTrunks(ctx context.Context) ([]switchboard.Trunk, error)
	Trunk(ctx context.Context, tenantID, id int64) (switchboard.Trunk, error)
}

// Load replaces the table with every trunk in the store. The driver calls
// it at start, after reading the event heads it then follows the log from
// (Apply), so that a change committed in between is applied again rather
// than missed.
func (ts *Trunks) Load(ctx context.Context, store TrunkStore) error {
	list, err := store.AllTrunks(ctx)
	if err != nil {
		return fmt.Errorf("load trunks: %w", err)
	}
	ts.Set(list)
	return nil
}

// Apply follows one event of the log (the body of an eventtail.Handler):
// a trunk.* event re-reads its trunk, since the event's payload leaves the
// passwords out, and a trunk gone by then is removed; other events are
// ignored.
func (ts *Trunks) Apply(ctx context.Context, store TrunkStore, e switchboard.Event) error {
	switch e.Type {
	case switchboard.EventTrunkCreated, switchboard.EventTrunkUpdated:
		t, err := store.Trunk(ctx, e.TenantID, e.SubjectID)
		if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
			ts.Remove(e.SubjectID)
			return nil
		}
		if err != nil {
			return fmt.Errorf("reload trunk %d: %w", e.SubjectID, err)
		}
		ts.Update(t)
	case switchboard.EventTrunkDeleted:
		ts.Remove(e.SubjectID)
	}
	return nil
}

// put stores t under ts.mu, keeping the entry (and so its counters) of a
// trunk already known.
func (ts *Trunks) put(t switchboard.Trunk) {
	uri, _ := switchboard.ParseTrunkURI(t.OutboundURI) // validated when stored; a bad one leaves uri empty
	t.InboundAddresses = slices.Clone(t.InboundAddresses)
	e := ts.byID[t.ID]
	if e == nil {
		e = &trunkEntry{health: switchboard.TrunkStatus{State: switchboard.TrunkUnknown}}
		ts.byID[t.ID] = e
	}
	e.t, e.uri = t, uri
}

// reindex rebuilds the lookup maps from byID, under ts.mu.
func (ts *Trunks) reindex() {
	ts.prefixes = map[netip.Prefix][]*trunkEntry{}
	ts.byUser = map[string]*trunkEntry{}
	ts.defaults = map[int64]*trunkEntry{}
	ts.outbound = map[int64][]*trunkEntry{}
	ids := make([]int64, 0, len(ts.byID))
	for id := range ts.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	bits4, bits6 := map[int]bool{}, map[int]bool{}
	for _, id := range ids {
		e := ts.byID[id]
		if !e.t.Enabled {
			continue
		}
		for _, a := range e.t.InboundAddresses {
			p, err := switchboard.ParseTrunkAddress(a)
			if err != nil {
				continue
			}
			ts.prefixes[p] = append(ts.prefixes[p], e)
			if p.Addr().Is4() {
				bits4[p.Bits()] = true
			} else {
				bits6[p.Bits()] = true
			}
		}
		if e.t.InboundUsername != "" {
			ts.byUser[e.t.InboundUsername] = e
		}
		if e.t.DefaultOutbound && e.t.OutboundURI != "" {
			if _, ok := ts.defaults[e.t.TenantID]; !ok {
				ts.defaults[e.t.TenantID] = e
			}
		}
		if e.t.OutboundURI != "" {
			ts.outbound[e.t.TenantID] = append(ts.outbound[e.t.TenantID], e)
		}
	}
	for tenant, list := range ts.outbound {
		if d := ts.defaults[tenant]; d != nil {
			i := slices.Index(list, d)
			ts.outbound[tenant] = append(append([]*trunkEntry{d}, list[:i]...), list[i+1:]...)
		}
	}
	ts.bits4, ts.bits6 = longestFirst(bits4), longestFirst(bits6)
}

func longestFirst(set map[int]bool) []int {
	out := make([]int, 0, len(set))
	for b := range set {
		out = append(out, b)
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// MatchInbound finds the enabled trunk whose inbound addresses hold src.
// The most specific prefix wins; when trunks (of one tenant or several)
// list the same prefix, the oldest trunk (lowest id) wins, so the answer
// never depends on load order. Where carriers are shared between tenants,
// prefer MatchInboundTenant with the tenant the dialled DID belongs to.
func (ts *Trunks) MatchInbound(src netip.Addr) (switchboard.Trunk, bool) {
	return ts.match(src, 0)
}

// MatchInboundTenant is MatchInbound among one tenant's trunks: the check
// for an INVITE whose Request-URI names a DID of tenantID, which is the
// tenant's call only if it comes from one of the tenant's trunks.
func (ts *Trunks) MatchInboundTenant(tenantID int64, src netip.Addr) (switchboard.Trunk, bool) {
	return ts.match(src, tenantID)
}

func (ts *Trunks) match(src netip.Addr, tenantID int64) (switchboard.Trunk, bool) {
	src = src.Unmap()
	if !src.IsValid() {
		return switchboard.Trunk{}, false
	}
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	bits := ts.bits4
	if src.Is6() {
		bits = ts.bits6
	}
	for _, b := range bits {
		p, err := src.WithZone("").Prefix(b)
		if err != nil {
			continue
		}
		for _, e := range ts.prefixes[p] {
			if tenantID == 0 || e.t.TenantID == tenantID {
				return e.t, true
			}
		}
	}
	return switchboard.Trunk{}, false
}

// MatchCredentials finds the enabled trunk whose carrier authenticates with
// username (Trunk.InboundUsername, unique across tenants), for carriers
// without fixed addresses: the driver challenges their INVITE and checks
// the answer against the trunk's InboundPassword.
func (ts *Trunks) MatchCredentials(username string) (switchboard.Trunk, bool) {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	if e, ok := ts.byUser[username]; ok {
		return e.t, true
	}
	return switchboard.Trunk{}, false
}

// Trunk returns the trunk id as last set, enabled or not.
func (ts *Trunks) Trunk(id int64) (switchboard.Trunk, bool) {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	if e, ok := ts.byID[id]; ok {
		return e.t, true
	}
	return switchboard.Trunk{}, false
}

// Errors of Outbound and OutboundVia. The driver fails the leg with the
// SIP status and cause TrunkErrorStatus gives.
var (
	// ErrNoTrunk: the tenant has no enabled default outbound trunk (or not
	// the one asked for).
	ErrNoTrunk = errors.New("no enabled outbound trunk")
	// ErrTrunkBusy: the trunk already carries max_concurrent_calls calls.
	ErrTrunkBusy = errors.New("trunk at its concurrent-call limit")
	// ErrTrunkRate: calls_per_second calls already started within the last
	// second.
	ErrTrunkRate = errors.New("trunk at its calls-per-second limit")
	// ErrTrunkDown: the trunk's health check or registration is failing.
	ErrTrunkDown = errors.New("trunk is down")
)

// TrunkErrorStatus maps an error of Outbound or Inbound to the SIP final
// status to answer or report and a cause for the call record: 503 Service
// Unavailable for every outbound trunk condition (as a proxy answers when no
// route can take the call now), 403 for an INVITE from no trunk of the
// number's tenant, 404 for a number nobody has, 500 for anything else.
func TrunkErrorStatus(err error) (status int, cause string) {
	switch {
	case errors.Is(err, ErrNotFromTrunk):
		return sip.StatusForbidden, "not from a trunk"
	case errors.Is(err, ErrUnknownDID):
		return sip.StatusNotFound, "unknown number"
	case errors.Is(err, ErrNoTrunk):
		return sip.StatusServiceUnavailable, "no outbound trunk"
	case errors.Is(err, ErrTrunkBusy):
		return sip.StatusServiceUnavailable, "trunk concurrent-call limit"
	case errors.Is(err, ErrTrunkRate):
		return sip.StatusServiceUnavailable, "trunk calls-per-second limit"
	case errors.Is(err, ErrTrunkDown):
		return sip.StatusServiceUnavailable, "trunk down"
	}
	return sip.StatusInternalServerError, "trunk error"
}

// Outbound takes a call slot on the tenant's default outbound trunk. The
// caller must call release once the call has ended (or failed to start);
// release may be called more than once. It fails with ErrNoTrunk,
// ErrTrunkDown, ErrTrunkBusy or ErrTrunkRate (wrapped, naming the trunk).
func (ts *Trunks) Outbound(tenantID int64) (switchboard.Trunk, func(), error) {
	ts.mu.RLock()
	e := ts.defaults[tenantID]
	ts.mu.RUnlock()
	if e == nil {
		return switchboard.Trunk{}, func() {}, fmt.Errorf("tenant %d: %w", tenantID, ErrNoTrunk)
	}
	return ts.take(e)
}

// OutboundVia is Outbound through one named trunk of the tenant.
func (ts *Trunks) OutboundVia(tenantID, trunkID int64) (switchboard.Trunk, func(), error) {
	ts.mu.RLock()
	e := ts.byID[trunkID]
	ts.mu.RUnlock()
	if e == nil || e.t.TenantID != tenantID || !e.t.Enabled || e.t.OutboundURI == "" {
		return switchboard.Trunk{}, func() {}, fmt.Errorf("tenant %d trunk %d: %w", tenantID, trunkID, ErrNoTrunk)
	}
	return ts.take(e)
}

func (ts *Trunks) take(e *trunkEntry) (switchboard.Trunk, func(), error) {
	ts.mu.RLock()
	t := e.t
	ts.mu.RUnlock()
	now := ts.opt.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.health.State == switchboard.TrunkDown:
		return t, func() {}, fmt.Errorf("trunk %q: %w: %s", t.Name, ErrTrunkDown, e.health.LastError)
	case t.MaxConcurrentCalls > 0 && e.active >= t.MaxConcurrentCalls:
		return t, func() {}, fmt.Errorf("trunk %q (%d calls): %w", t.Name, t.MaxConcurrentCalls, ErrTrunkBusy)
	}
	if cps := t.CallsPerSecond; cps > 0 {
		if len(e.starts) != cps { // the limit changed: start the window afresh
			e.starts, e.next = make([]time.Time, cps), 0
		}
		if oldest := e.starts[e.next]; !oldest.IsZero() && now.Sub(oldest) < time.Second {
			return t, func() {}, fmt.Errorf("trunk %q (%d calls/s): %w", t.Name, cps, ErrTrunkRate)
		}
		e.starts[e.next] = now
		e.next = (e.next + 1) % cps
	}
	e.active++
	var once sync.Once
	return t, func() {
		once.Do(func() {
			e.mu.Lock()
			e.active--
			e.mu.Unlock()
		})
	}, nil
}

// The driver finds its carriers through Trunks.
var _ Carriers = (*Trunks)(nil)

// InboundTenant implements Carriers with Inbound, the numbers' owners
// found in ts.Numbers: the tenant is the dialled number's, so tenants that
// share a carrier's addresses each get their own calls.
func (ts *Trunks) InboundTenant(ctx context.Context, src netip.Addr, req *sip.Request) (int64, error) {
	if ts.opt.Numbers == nil {
		return 0, fmt.Errorf("%s: %w", src, ErrNotFromTrunk)
	}
	t, _, err := ts.Inbound(ctx, ts.opt.Numbers, src, req)
	return t.TenantID, err
}

// RouteOutbound implements Carriers: a slot on the tenant's default
// outbound trunk (Outbound), and the call written for its carrier (Dial,
// numbers read as international). Route.Release gives the slot back; on an
// error there is nothing to release.
func (ts *Trunks) RouteOutbound(tenantID int64, number, callerID string) (Route, error) {
	t, release, err := ts.Outbound(tenantID)
	if err != nil {
		return Route{}, err
	}
	return routeVia(t, release, number, callerID)
}

func routeVia(t switchboard.Trunk, release func(), number, callerID string) (Route, error) {
	d, err := Dial(t, number, callerID, "")
	if err != nil {
		release()
		return Route{}, err
	}
	return Route{URI: d.Recipient, Username: d.Auth.Username, Password: d.Auth.Password, CallerID: d.CallerID, Release: release,
		TrunkID: t.ID}, nil
}

// The driver switches failing calls through Trunks.
var _ AlternateCarriers = (*Trunks)(nil)

// RouteAlternate implements AlternateCarriers: a slot on the tenant's next
// outbound trunk not tried yet (its default first, then the others by id),
// skipping trunks that are down or at a limit. It fails with ErrNoTrunk
// when none is left.
func (ts *Trunks) RouteAlternate(tenantID int64, number, callerID string, tried []int64) (Route, error) {
	ts.mu.RLock()
	list := slices.Clone(ts.outbound[tenantID])
	ts.mu.RUnlock()
	var last error
	for _, e := range list {
		if slices.Contains(tried, e.t.ID) {
			continue
		}
		t, release, err := ts.take(e)
		if err != nil {
			last = err
			continue
		}
		return routeVia(t, release, number, callerID)
	}
	if last != nil {
		return Route{}, fmt.Errorf("tenant %d: no other trunk: %w", tenantID, last)
	}
	return Route{}, fmt.Errorf("tenant %d: no other trunk: %w", tenantID, ErrNoTrunk)
}

// TrunkStatus reports the trunk's health as this node sees it, with its
// calls in progress; false when the trunk is unknown here. It serves the
// native API's GET /v1/trunks/{id}/status (native.TrunkHealth).
func (ts *Trunks) TrunkStatus(id int64) (switchboard.TrunkStatus, bool) {
	ts.mu.RLock()
	e := ts.byID[id]
	var enabled bool
	if e != nil {
		enabled = e.t.Enabled
	}
	ts.mu.RUnlock()
	if e == nil {
		return switchboard.TrunkStatus{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.health
	st.ActiveCalls = e.active
	if !enabled {
		st.State = switchboard.TrunkDisabled
	}
	return st, true
}

// OutboundDial is what the driver needs to send a call through a trunk.
type OutboundDial struct {
	// Recipient is the INVITE's Request-URI (and To): the dialled number
	// at the trunk's host, port and transport.
	Recipient sip.Uri
	// CallerID is the From user: the number presented, per the trunk's
	// caller-id rule ("anonymous" when the call has no number to show).
	CallerID string
	// Auth answers the carrier's digest challenge (empty for IP auth).
	Auth sipgo.DigestAuth
}

// Dial writes an outbound call for trunk t: the dialled number in E.164
// (region reads national numbers, "" takes bare digits as international),
// then without its "+" if the trunk strips it, after the trunk's prefix;
// the caller id by the trunk's rule (its fixed number, or the call's own
// number callerID), written the same way but without the prefix.
func Dial(t switchboard.Trunk, number, callerID, region string) (OutboundDial, error) {
	var d OutboundDial
	u, err := switchboard.ParseTrunkURI(t.OutboundURI)
	if err != nil {
		return d, fmt.Errorf("trunk %q outbound_uri: %w", t.Name, err)
	}
	e164, err := phone.Normalize(number, region)
	if err != nil {
		return d, fmt.Errorf("dialled number: %w", err)
	}
	d.Recipient = trunkRecipient(u, t.Prefix+carrierNumber(t, e164))
	from := t.CallerID
	if from == "" || from == switchboard.CallerIDFromCall {
		from = callerID
	}
	if n, err := phone.Normalize(from, region); err == nil {
		d.CallerID = carrierNumber(t, n)
	} else {
		d.CallerID = "anonymous"
	}
	if t.Username != "" {
		d.Auth = sipgo.DigestAuth{Username: t.Username, Password: t.Password}
	}
	return d, nil
}

// carrierNumber is an E.164 number as the trunk's carrier wants it.
func carrierNumber(t switchboard.Trunk, e164 string) string {
	if t.StripPlus {
		return strings.TrimPrefix(e164, "+")
	}
	return e164
}

// trunkRecipient is the trunk's URI with user as its user part.
func trunkRecipient(u switchboard.TrunkURI, user string) sip.Uri {
	host := u.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // sipgo keeps an IPv6 host in its brackets
	}
	r := sip.Uri{Scheme: "sip", User: user, Host: host, Port: u.Port, UriParams: sip.NewParams(), Headers: sip.NewParams()}
	if u.Secure {
		r.Scheme = "sips"
	}
	if u.Transport != "" {
		r.UriParams.Add("transport", u.Transport)
	}
	return r
}
