package demo

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
)

// Print shows what a newcomer needs: where each API is (under base, the
// server's URL), the key for it, and commands to paste.
func (d *Center) Print(w io.Writer, base, adminToken string) {
	fmt.Fprintf(w, "\nSwitchboard demo tenant %q (id %d) is ready: %d agents, %d teams, %d queues, %d skills, %d phone numbers.\n\n",
		d.tenant.Slug, d.tenant.ID, d.counts["agents"], d.counts["teams"], d.counts["queues"], d.counts["skills"], d.counts["phone numbers"])
	fmt.Fprintf(w, "%-9s %-42s %s\n", "dialect", "base URL", "credential header")
	for _, dd := range dialects {
		secret := d.keys[dd.name]
		if dd.name == "ujet" {
			secret = base64.StdEncoding.EncodeToString([]byte(d.tenant.Slug + ":" + secret))
		}
		note := ""
		if !dd.served {
			note = "   (dialect not served yet)"
		}
		path := strings.ReplaceAll(dd.path, "{account_id}", fmt.Sprint(d.tenant.ID))
		fmt.Fprintf(w, "%-9s %-42s %s%s\n", dd.name, base+path, fmt.Sprintf(dd.style, secret), note)
		if dd.name == "voice360" {
			if uk := d.keys["voice360 user"]; uk != "" {
				fmt.Fprintf(w, "%-9s %-42s X-API-Key: %s   (user key of extension %s: its own user's routes only)\n", "", "", uk, "1001")
			}
		}
	}
	fmt.Fprintf(w, "\nKeys: %s.\n", d.keysNote)
	fmt.Fprintf(w, "\nPlatform admin token (for /v1/admin/...): %s\n", adminToken)
	key := d.keys["native"]
	fmt.Fprintf(w, "\nTry:\n")
	fmt.Fprintf(w, "  curl -s -H 'Authorization: Bearer %s' '%s/v1/users?limit=3'\n", key, base)
	fmt.Fprintf(w, "  curl -s -H 'Authorization: Bearer %s' %s/v1/queues\n", key, base)
	fmt.Fprintf(w, "  curl -s -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \\\n", key)
	fmt.Fprintf(w, "       -d '{\"email\":\"new.agent@demo.example\",\"first_name\":\"New\",\"last_name\":\"Agent\",\"extension\":\"1099\"}' %s/v1/users\n", base)
	fmt.Fprintf(w, "  curl -s -H 'Authorization: Bearer %s' %s/v1/metrics\n", key, base)
	fmt.Fprintf(w, "  curl -s %s/v1/openapi.json | head\n", base)
	fmt.Fprintf(w, "  curl -s -u '%s:%s' '%s/apps/api/v1/calls?per=3'   # UJET: the slug as user, the key as password\n\n",
		d.tenant.Slug, d.keys["ujet"], base)
}

// Call is one simulated inbound call of the demo traffic.
type Call struct {
	From, To string
	// Talk is how long the caller talks once answered; Patience how long
	// they wait for an agent before hanging up.
	Talk, Patience time.Duration
}

// Traffic places simulated calls into the demo queues through place until
// ctx ends: Poisson arrivals every 30 s on average, talk of about a minute,
// callers who give up after two minutes, so a newcomer sees queues, answers
// and abandons. It returns at once when no number routes to a queue.
func (d *Center) Traffic(ctx context.Context, place func(ctx context.Context, tenantID int64, c Call) error, log *slog.Logger) {
	if len(d.numbers) == 0 {
		return
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for {
		wait := time.Duration(rng.ExpFloat64() * float64(30*time.Second))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		talk := min(time.Duration(rng.ExpFloat64()*float64(time.Minute)), 3*time.Minute) + 5*time.Second
		from := fmt.Sprintf("+1212555%04d", rng.IntN(10000))
		to := d.numbers[rng.IntN(len(d.numbers))]
		if err := place(ctx, d.tenant.ID, Call{From: from, To: to, Talk: talk, Patience: 2 * time.Minute}); err != nil && ctx.Err() == nil {
			log.Warn("demo traffic", "err", err)
		}
	}
}
