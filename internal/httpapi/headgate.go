package httpapi

import (
	"context"
	"sync"
)

// headGate shares reads of one tenant's event sequence among the requests
// that wait for one at the same time. A request may only use a read that
// started after it arrived (one that started earlier may predate a write
// the client saw acknowledged), so a request arriving while a read runs
// joins the next round, which starts when the running one ends and serves
// everyone who joined it: under load a tenant's reads cost one point read
// per round instead of one per request, and never one older than the
// request.
type headGate struct {
	mu      sync.Mutex
	tenants map[int64]*tenantGate
}

type tenantGate struct {
	mu               sync.Mutex
	running, waiting *headRound
}

// headRound is one read of the sequence and who waits for it.
type headRound struct {
	done chan struct{}
	seq  int64
	err  error
}

func (g *headGate) of(tenantID int64) *tenantGate {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.tenants == nil {
		g.tenants = map[int64]*tenantGate{}
	}
	t, ok := g.tenants[tenantID]
	if !ok {
		t = &tenantGate{}
		g.tenants[tenantID] = t
	}
	return t
}

// head returns the tenant's sequence as read by a read that started after
// the call did.
func (g *headGate) head(ctx context.Context, tenantID int64, read TenantHead) (int64, error) {
	t := g.of(tenantID)
	t.mu.Lock()
	if t.running == nil {
		r := &headRound{done: make(chan struct{})}
		t.running = r
		t.mu.Unlock()
		return t.lead(ctx, r, tenantID, read)
	}
	if r := t.waiting; r != nil {
		t.mu.Unlock()
		<-r.done
		return r.seq, r.err
	}
	// The first to wait leads the next round: it starts when the running
	// read ends, with everyone who joined it meanwhile.
	r := &headRound{done: make(chan struct{})}
	t.waiting = r
	prev := t.running
	t.mu.Unlock()
	<-prev.done
	t.mu.Lock()
	t.running, t.waiting = r, nil
	t.mu.Unlock()
	return t.lead(ctx, r, tenantID, read)
}

// lead runs round r's read for everyone in it. The read does not stop when
// the leader's request goes away: the others still wait for it.
func (t *tenantGate) lead(ctx context.Context, r *headRound, tenantID int64, read TenantHead) (int64, error) {
	r.seq, r.err = read(context.WithoutCancel(ctx), tenantID)
	close(r.done)
	t.mu.Lock()
	if t.running == r {
		t.running = nil
	}
	t.mu.Unlock()
	return r.seq, r.err
}
