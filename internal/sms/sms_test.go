package sms_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/sms"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

func setup(t *testing.T) (*sqlstore.DB, switchboard.Tenant, switchboard.User) {
	ctx := context.Background()
	db := sqlstoretest.Open(t, sqlstoretest.SQLiteURL(t), sqlstore.Options{})
	tn, _ := db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	other, _ := db.CreateTenant(ctx, switchboard.Tenant{Slug: "other", Name: "Other"})
	u, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"})
	u2, _ := db.CreateUser(ctx, tn.ID, switchboard.User{Email: "bob@acme.test", FirstName: "Bob"})
	for _, n := range []switchboard.PhoneNumber{{Number: "+15559876543", SMSEnabled: true}, {Number: "+15559876544"},
		{Number: "+15559876545", SMSEnabled: true, UserID: &u2.ID}} {
		if _, err := db.CreatePhoneNumber(ctx, tn.ID, n); err != nil {
			t.Fatal(err)
		}
	}
	db.CreatePhoneNumber(ctx, other.ID, switchboard.PhoneNumber{Number: "+15559876546", SMSEnabled: true})
	return db, tn, u
}

func TestSimSendReceiveAndReceipt(t *testing.T) {
	ctx := context.Background()
	db, tn, u := setup(t)
	sim := &sms.Sim{ReceiptDelay: 10 * time.Millisecond}
	svc := sms.NewService(db, sim, nil)
	sim.Attach(svc)
	m, err := svc.Send(ctx, sms.Outbound{TenantID: tn.ID, UserID: &u.ID, From: "+15559876543", To: "+1 555 123 4567", Body: "Hello from Voice360!"})
	if err != nil || m.Status != switchboard.MessageSent || m.ProviderID == "" || m.To != "+15551234567" {
		t.Fatalf("Send = %+v, %v", m, err)
	}
	if sent := sim.Sent(); len(sent) != 1 || sent[0].Body != "Hello from Voice360!" {
		t.Errorf("simulator got %+v", sent)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _ := db.Message(ctx, tn.ID, m.ID)
		if got.Status == switchboard.MessageDelivered && got.DeliveredAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never delivered: %+v", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, tc := range []struct {
		why   string
		o     sms.Outbound
		field string
	}{
		{"a number without SMS", sms.Outbound{TenantID: tn.ID, From: "+15559876544", To: "+15551234567", Body: "x"}, "from"},
		{"another tenant's number", sms.Outbound{TenantID: tn.ID, From: "+15559876546", To: "+15551234567", Body: "x"}, "from"},
		{"another user's number", sms.Outbound{TenantID: tn.ID, UserID: &u.ID, From: "+15559876545", To: "+15551234567", Body: "x"}, "from"},
		{"a bad recipient", sms.Outbound{TenantID: tn.ID, From: "+15559876543", To: "12", Body: "x"}, "to"},
		{"no text", sms.Outbound{TenantID: tn.ID, From: "+15559876543", To: "+15551234567"}, "message"},
	} {
		_, err := svc.Send(ctx, tc.o)
		var se *switchboard.Error
		if !asError(err, &se) || se.Fields[tc.field] == "" {
			t.Errorf("%s: %v, want an error on %s", tc.why, err, tc.field)
		}
	}
	in, err := svc.Receive(ctx, sms.Inbound{From: "+15551234567", To: "+15559876543", Body: "Hi back", ProviderID: "gw-9"})
	if err != nil || in.TenantID != tn.ID || in.Status != switchboard.MessageReceived {
		t.Errorf("Receive = %+v, %v", in, err)
	}
	if _, err := svc.Receive(ctx, sms.Inbound{From: "+15551234567", To: "+15550000000", Body: "lost"}); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
		t.Errorf("a message to nobody's number: %v", err)
	}
	if _, err := svc.Receipt(ctx, tn.ID, "gw-9", true, ""); switchboard.ErrorCode(err) != switchboard.CodeConflict {
		t.Errorf("a receipt for an inbound message: %v", err)
	}
}

func asError(err error, se **switchboard.Error) bool {
	e, ok := err.(*switchboard.Error)
	*se = e
	return ok
}

func TestHTTPGateway(t *testing.T) {
	ctx := context.Background()
	db, tn, _ := setup(t)
	var got map[string]any
	var auth string
	fail := false
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &got)
		auth = r.Header.Get("Authorization")
		if fail {
			http.Error(w, "no credit", http.StatusPaymentRequired)
			return
		}
		w.Write([]byte(`{"id":"gw-42"}`))
	}))
	defer gw.Close()
	svc := sms.NewService(db, &sms.HTTP{URL: gw.URL, Token: "t0ken"}, nil)
	m, err := svc.Send(ctx, sms.Outbound{TenantID: tn.ID, From: "+15559876543", To: "+15551234567", Body: "Hello"})
	if err != nil || m.Status != switchboard.MessageSent || m.ProviderID != "gw-42" {
		t.Fatalf("Send = %+v, %v", m, err)
	}
	if got["id"] != m.UUID || got["from"] != "+15559876543" || got["to"] != "+15551234567" || got["body"] != "Hello" || auth != "Bearer t0ken" {
		t.Errorf("gateway got %v with %q", got, auth)
	}
	if m, err = svc.Receipt(ctx, tn.ID, "gw-42", false, "handset off"); err != nil || m.Status != switchboard.MessageFailed || m.Error != "handset off" {
		t.Errorf("failed receipt = %+v, %v", m, err)
	}
	fail = true
	if m, err = svc.Send(ctx, sms.Outbound{TenantID: tn.ID, From: "+15559876543", To: "+15551234567", Body: "Hello"}); err != nil ||
		m.Status != switchboard.MessageFailed || m.Error == "" {
		t.Errorf("refused by the gateway = %+v, %v", m, err)
	}
}

// TestReceiptFasterThanSend has the simulator report delivery at once, before
// Send has recorded the provider's answer: no receipt may be lost.
func TestReceiptFasterThanSend(t *testing.T) {
	ctx := context.Background()
	db, tn, _ := setup(t)
	sim := &sms.Sim{ReceiptDelay: 0}
	svc := sms.NewService(db, sim, nil)
	sim.Attach(svc)
	var ids []int64
	for range 5 {
		m, err := svc.Send(ctx, sms.Outbound{TenantID: tn.ID, From: "+15559876543", To: "+15551234567", Body: "quick"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range ids {
		for {
			m, _ := db.Message(ctx, tn.ID, id)
			if m.Status == switchboard.MessageDelivered {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("message %d stuck as %s", id, m.Status)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// TestSendRefusesOptedOut: a number that opted out (STOP) gets no SMS
// until it opts back in, and the refusal names consent.
func TestSendRefusesOptedOut(t *testing.T) {
	ctx := context.Background()
	db, tn, _ := setup(t)
	sim := &sms.Sim{ReceiptDelay: -1}
	svc := sms.NewService(db, sim, nil)
	o := sms.Outbound{TenantID: tn.ID, From: "+15559876543", To: "+15551234567", Body: "offer"}
	if _, err := db.SetConsent(ctx, switchboard.Consent{TenantID: tn.ID, Number: "+15551234567", OptedOut: true,
		Channel: switchboard.ChannelSMS, Source: "keyword", Keyword: "STOP", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Send(ctx, o)
	if switchboard.ErrorCode(err) != switchboard.CodeInvalid || !strings.Contains(switchboard.ErrorFields(err)["to"], "consent") ||
		!strings.Contains(switchboard.ErrorMessage(err), "consent") {
		t.Fatalf("Send to an opted-out number: %v", err)
	}
	if len(sim.Sent()) != 0 {
		t.Fatal("the provider got a message for an opted-out number")
	}
	if _, err := db.SetConsent(ctx, switchboard.Consent{TenantID: tn.ID, Number: "+15551234567", OptedOut: false,
		Channel: switchboard.ChannelSMS, Source: "keyword", Keyword: "START", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if m, err := svc.Send(ctx, o); err != nil || m.Status != switchboard.MessageSent {
		t.Fatalf("Send after START: %+v %v", m, err)
	}
}
