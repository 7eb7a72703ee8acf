package conversation

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"switchboard"
)

func TestHTTPProviderSends(t *testing.T) {
	var got OutboundMessage
	var sig string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sig = r.Header.Get("X-Switchboard-Signature")
		if want := "sha256=" + Sign("s3cret", body); !hmac.Equal([]byte(sig), []byte(want)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "not json", http.StatusUnsupportedMediaType)
			return
		}
		if err := json.Unmarshal(body, &got); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Write([]byte(`{"id":"wamid.1"}`))
	}))
	defer srv.Close()
	p := &HTTPProvider{URL: srv.URL, Secret: "s3cret"}
	m := OutboundMessage{ID: "42", TenantID: 7, Channel: switchboard.ChannelWhatsApp, From: "+15550001", To: "+15550002",
		Text: "Your order 12 ships today", Template: &OutboundTemplate{Name: "shipping", Language: "en", Params: []string{"12"}}}
	id, err := p.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if id != "wamid.1" {
		t.Fatalf("provider id %q, want wamid.1", id)
	}
	m.TenantID = 0 // not on the wire
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("the gateway received (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
		t.Errorf("signature header %q", sig)
	}
}

func TestHTTPProviderFailures(t *testing.T) {
	// release lets the slow handler go once its client gave up, so that
	// the server closes.
	release := make(chan struct{})
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		timeout time.Duration
		want    string
	}{
		{"status named", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusBadGateway) }, 0, "502"},
		{"no id", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) }, 0, "without a message id"},
		{"not json", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`ok`)) }, 0, "without a message id"},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}, 50 * time.Millisecond, "unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			p := &HTTPProvider{URL: srv.URL, Secret: "x", Timeout: tc.timeout}
			_, err := p.Send(context.Background(), OutboundMessage{ID: "1", Text: "hi"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one naming %q", err, tc.want)
			}
			if tc.timeout > 0 {
				close(release)
			}
		})
	}
}

func TestVerifyContext(t *testing.T) {
	profile := &switchboard.ChannelProfile{SigningSecret: "widget-secret"}
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		t.Helper()
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := sign(jwt.SigningMethodHS256, []byte("widget-secret"), jwt.MapClaims{"customer_id": "c-9", "exp": time.Now().Add(time.Hour).Unix()})
	claims, err := verifyContext(good, profile)
	if err != nil {
		t.Fatalf("good token: %v", err)
	}
	if claims["customer_id"] != "c-9" {
		t.Errorf("claims %v", claims)
	}
	for name, tok := range map[string]string{
		"wrong secret": sign(jwt.SigningMethodHS256, []byte("other"), jwt.MapClaims{"a": 1}),
		"alg none":     sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"a": 1}),
		"HS512":        sign(jwt.SigningMethodHS512, []byte("widget-secret"), jwt.MapClaims{"a": 1}),
		"expired":      sign(jwt.SigningMethodHS256, []byte("widget-secret"), jwt.MapClaims{"exp": time.Now().Add(-time.Minute).Unix()}),
		"garbage":      "not.a.jwt",
	} {
		if _, err := verifyContext(tok, profile); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := verifyContext(good, &switchboard.ChannelProfile{}); err == nil {
		t.Error("a profile without secret verified a token")
	}
	if _, err := verifyContext(good, nil); err == nil {
		t.Error("no profile verified a token")
	}
}

func TestRenderTemplate(t *testing.T) {
	text, params, err := renderTemplate("Hi {{1}}, order {{2}} ships {{ 2 }}.", map[string]string{"1": "Ann", "2": "A-7"})
	if err != nil {
		t.Fatal(err)
	}
	if text != "Hi Ann, order A-7 ships A-7." || !cmp.Equal(params, []string{"Ann", "A-7"}) {
		t.Fatalf("rendered %q %v", text, params)
	}
	_, _, err = renderTemplate("Hi {{1}} {{3}}", map[string]string{"1": "x"})
	if f := switchboard.ErrorFields(err); f["template.params.2"] == "" || f["template.params.3"] == "" {
		t.Fatalf("missing params: %v", err)
	}
	if text, _, err := renderTemplate("no params", nil); err != nil || text != "no params" {
		t.Fatalf("plain body: %q %v", text, err)
	}
}

func TestAllowedType(t *testing.T) {
	photo := switchboard.AttachmentLimits[switchboard.KindPhoto].ContentTypes
	file := switchboard.AttachmentLimits[switchboard.KindFile].ContentTypes
	for _, tc := range []struct {
		list []string
		ct   string
		want bool
	}{
		{photo, "image/png", true},
		{photo, "image/svg+xml", false},
		{photo, "video/mp4", false},
		{file, "image/svg+xml", true},
		{file, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", true},
		{file, "application/x-sh", false},
	} {
		if got := allowedType(tc.list, tc.ct); got != tc.want {
			t.Errorf("allowedType(%s) = %v", tc.ct, got)
		}
	}
	if mediaType("Image/PNG; charset=x") != "image/png" {
		t.Error("mediaType does not drop parameters")
	}
}
