package webhook_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/webhook"
)

// selfSigning is a test dialect that signs its deliveries itself: one
// header naming every secret it was given, and the timestamp.
type selfSigning struct{ countingRenderer }

func (s *selfSigning) SignatureHeaders(secrets []string, now time.Time, body []byte) (http.Header, error) {
	h := http.Header{}
	h.Set("X-Own-Signature", strings.Join(secrets, "|")+"/"+string(body))
	h.Set("X-Own-Timestamp", now.UTC().Format(time.RFC3339))
	return h, nil
}

// A SigningRenderer's headers replace the Standard Webhooks ones for its
// subscriptions, with the previous secret while a rotation overlaps; a
// native subscription to the same event keeps the standard signature.
func TestSigningRendererChoosesItsHeaders(t *testing.T) {
	rc := newReceiver(t, func(int, http.ResponseWriter) {})
	r := newRig(t, webhook.Options{Schedule: []time.Duration{0}, Renderers: map[string]webhook.Renderer{"own": &selfSigning{}}})
	own := r.subscribe(t, switchboard.Webhook{URL: rc.URL + "/own", Dialect: "own", EventTypes: []string{"call.*"}})
	native := r.subscribe(t, switchboard.Webhook{URL: rc.URL + "/native", EventTypes: []string{"call.*"}})
	rotated, err := r.db.RotateWebhookSecret(context.Background(), r.tenant.ID, own.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r.emit(t, "call.ended")
	waitFor(t, "both deliveries", func() bool { return rc.count() == 2 })
	for _, g := range rc.all() {
		if g.header.Get("X-Own-Signature") != "" {
			want := rotated.Secret + "|" + own.Secret + "/" + string(g.body)
			if got := g.header.Get("X-Own-Signature"); got != want {
				t.Errorf("own signature %q, want %q", got, want)
			}
			for _, k := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
				if g.header.Get(k) != "" {
					t.Errorf("the self-signing dialect's delivery carries %s", k)
				}
			}
			if g.header.Get("X-Own-Timestamp") == "" {
				t.Errorf("no X-Own-Timestamp")
			}
			continue
		}
		if !verify(native.Secret, g.header, g.body) || g.header.Get("webhook-id") == "" {
			t.Errorf("the native delivery lost its Standard Webhooks signature: %v", g.header)
		}
	}
}
