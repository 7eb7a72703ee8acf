package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// send makes one request with the credential header each dialect documents
// and returns the status, the Retry-After header and the decoded body.
func send(t *testing.T, hc *http.Client, method, url, header, key string, body any) (int, string, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set(header, key)
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v map[string]any
	raw, _ := io.ReadAll(res.Body)
	json.Unmarshal(raw, &v)
	return res.StatusCode, res.Header.Get("Retry-After"), v
}

// TestTenantWriteLimitEveryDialect checks that one tenant's writes share one
// budget across its keys and the native, Voxloud and Voice360 dialects, that
// beyond it each dialect answers 429 with Retry-After in its own envelope,
// that reads and other tenants are not held back, and that the budget
// refills.
func TestTenantWriteLimitEveryDialect(t *testing.T) {
	m, base, _ := startServer(t, "--db", sqlstoretest.SQLiteURL(t), "--metrics-addr", "", "--rate-limit", "0",
		"--tenant-write-rate", "0.2", "--tenant-write-burst", "3")
	ctx := context.Background()
	acme, _ := m.store.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	beta, _ := m.store.CreateTenant(ctx, switchboard.Tenant{Slug: "beta", Name: "Beta"})
	k1, _ := newKey(t, m, acme.ID, switchboard.ScopeAll)
	k2, _ := newKey(t, m, acme.ID, switchboard.ScopeAll)
	kb, _ := newKey(t, m, beta.ID, switchboard.ScopeAll)
	hc := http.DefaultClient
	bearer := func(k string) string { return "Bearer " + k }
	skill := func(key string, i int) (int, string, map[string]any) {
		return send(t, hc, "POST", base+"/v1/skills", "Authorization", bearer(key), map[string]any{"name": fmt.Sprint("skill-", i)})
	}
	for i := range 3 {
		key := []string{k1, k2, k1}[i]
		if status, _, body := skill(key, i); status != 201 {
			t.Fatalf("write %d within the burst: %d %v", i, status, body)
		}
	}
	// The burst is spent, by two keys together: every dialect refuses (each
	// refusal is held up to a second; the next token is 5 s away).
	status, retry, body := skill(k2, 10)
	if e, _ := body["error"].(map[string]any); status != 429 || retry == "" || e["code"] != string(switchboard.CodeRateLimited) {
		t.Errorf("native over the tenant's budget: %d Retry-After %q %v", status, retry, body)
	}
	status, retry, body = send(t, hc, "POST", base+"/api/v1/contacts", "Voverc-Auth", k1, map[string]any{"first_name": "Ann", "primary_phone": "+390111234567"})
	if status != 429 || retry == "" || body["status"] != float64(429) || body["message"] == "" {
		t.Errorf("Voxloud over the tenant's budget: %d Retry-After %q %v", status, retry, body)
	}
	status, retry, body = send(t, hc, "DELETE", fmt.Sprintf("%s/v3/voice/%d/webhooks/999999", base, acme.ID), "X-API-Key", k2, nil)
	if status != 429 || retry == "" || body["error"] != true || body["message"] == "" {
		t.Errorf("Voice360 over the tenant's budget: %d Retry-After %q %v", status, retry, body)
	}
	// Reads go on; another tenant writes.
	if status, _, body := send(t, hc, "GET", base+"/v1/skills", "Authorization", bearer(k1), nil); status != 200 {
		t.Errorf("a read after the write budget is spent: %d %v", status, body)
	}
	if status, _, body := skill(kb, 0); status != 201 {
		t.Errorf("another tenant's write: %d %v", status, body)
	}
	// The budget refills at its rate.
	secs, _ := strconv.Atoi(retry)
	time.Sleep(time.Duration(max(secs, 1))*time.Second + 100*time.Millisecond)
	if status, _, body := skill(k1, 20); status != 201 {
		t.Errorf("a write after Retry-After: %d %v", status, body)
	}
}

// p50 returns the median of ds.
func p50(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(10 * time.Microsecond)
}

// p99 returns the 99th percentile of ds.
func p99(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)*99+99)/100-1]
}

// TestNoisyTenantLeavesOthersWrites measures one tenant's write latency idle,
// then while another tenant writes as fast as 32 connections over 4 keys can
// for 5 seconds, on SQLite's single writer with the default tenant write
// limit and no per-key limit, and checks that the quiet tenant's p99 stays
// within 5× of its idle p99.
func TestNoisyTenantLeavesOthersWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 10 seconds of load")
	}
	if raceEnabled {
		t.Skip("a latency measurement means nothing under the race detector; .ci/run runs it alone without -race")
	}
	m, base, _ := startServer(t, "--db", sqlstoretest.SQLiteURL(t), "--metrics-addr", "", "--rate-limit", "0")
	ctx := context.Background()
	quiet, _ := m.store.CreateTenant(ctx, switchboard.Tenant{Slug: "quiet", Name: "Quiet"})
	noisy, _ := m.store.CreateTenant(ctx, switchboard.Tenant{Slug: "noisy", Name: "Noisy"})
	quietKey, _ := newKey(t, m, quiet.ID, switchboard.ScopeAll)
	var noisyKeys []string
	for range 4 {
		k, _ := newKey(t, m, noisy.ID, switchboard.ScopeAll)
		noisyKeys = append(noisyKeys, k)
	}

	// The quiet tenant writes at a steady 30 a second, under its own limit.
	quietClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	n := 0
	sample := func(d time.Duration) []time.Duration {
		var out []time.Duration
		tick := time.NewTicker(33 * time.Millisecond)
		defer tick.Stop()
		for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
			n++
			start := time.Now()
			status, _, body := send(t, quietClient, "POST", base+"/v1/skills", "Authorization", "Bearer "+quietKey, map[string]any{"name": fmt.Sprint("quiet-", n)})
			out = append(out, time.Since(start))
			if status != 201 {
				t.Fatalf("quiet write: %d %v", status, body)
			}
		}
		return out
	}
	sample(time.Second) // warm up connections and statements
	idle := sample(4 * time.Second)

	loadCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var admitted, refused, other atomic.Int64
	noisyClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for i := range 32 {
		wg.Add(1)
		go func() {
			// Writes until the load phase ends, ignoring Retry-After.
			defer wg.Done()
			key := noisyKeys[i%len(noisyKeys)]
			for j := 0; loadCtx.Err() == nil; j++ {
				b, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("noisy-%d-%d", i, j)})
				req, _ := http.NewRequestWithContext(loadCtx, "POST", base+"/v1/skills", bytes.NewReader(b))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				res, err := noisyClient.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				switch res.StatusCode {
				case 201:
					admitted.Add(1)
				case 429:
					refused.Add(1)
				default:
					other.Add(1)
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond) // the noisy tenant's burst goes first
	loaded := sample(4800 * time.Millisecond)
	stop()
	wg.Wait()

	idleP99, loadedP99 := p99(idle), p99(loaded)
	t.Logf("quiet tenant writes: idle p50 %s p99 %s (%d samples), under load p50 %s p99 %s (%d samples), p99 ratio %.1f; noisy tenant: %d written, %d refused (429), %d other",
		p50(idle), idleP99.Round(10*time.Microsecond), len(idle), p50(loaded), loadedP99.Round(10*time.Microsecond), len(loaded),
		float64(loadedP99)/float64(idleP99), admitted.Load(), refused.Load(), other.Load())
	if admitted.Load() == 0 || refused.Load() == 0 {
		t.Fatalf("the noisy tenant did not load the server: %d written, %d refused", admitted.Load(), refused.Load())
	}
	// The default limit admits 50 writes a second after a burst of 100.
	if limit := int64(100 + 50*6); admitted.Load() > limit {
		t.Errorf("the noisy tenant wrote %d times in 5 s, more than its limit allows (%d)", admitted.Load(), limit)
	}
	if loadedP99 > 5*idleP99 {
		t.Errorf("the quiet tenant's p99 write latency went from %s idle to %s with a noisy neighbour: more than 5×", idleP99, loadedP99)
	}
}
