package sqlstore_test

import (
	"context"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore"
)

func TestMessages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn := mustTenant(t, db, "acme")
		other := mustTenant(t, db, "other")
		n, err := db.CreatePhoneNumber(ctx, tn.ID, switchboard.PhoneNumber{Number: "+15559876543", SMSEnabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := db.NumberOwner(ctx, "+15559876543"); err != nil || got.ID != n.ID || got.TenantID != tn.ID {
			t.Errorf("NumberOwner = %+v, %v", got, err)
		}
		_, err = db.NumberOwner(ctx, "+15550000000")
		wantCode(t, "nobody's number", err, switchboard.CodeNotFound)

		_, err = db.CreateMessage(ctx, switchboard.Message{TenantID: tn.ID, Direction: switchboard.Outbound, From: "+15559876543", To: "+15551234567"})
		wantField(t, "empty body", err, switchboard.CodeInvalid, "message")
		m, err := db.CreateMessage(ctx, switchboard.Message{TenantID: tn.ID, Direction: switchboard.Outbound, From: "+15559876543",
			To: "+15551234567", Body: "Hello", Status: switchboard.MessageQueued})
		if err != nil || m.ID == 0 || m.UUID == "" {
			t.Fatalf("CreateMessage = %+v, %v", m, err)
		}
		m.Status, m.ProviderID = switchboard.MessageSent, "prov-1"
		if m, err = db.UpdateMessage(ctx, m); err != nil || m.Status != switchboard.MessageSent || m.Body != "Hello" {
			t.Fatalf("UpdateMessage = %+v, %v", m, err)
		}
		if got, err := db.MessageByProviderID(ctx, tn.ID, "prov-1"); err != nil || got.ID != m.ID {
			t.Errorf("MessageByProviderID = %+v, %v", got, err)
		}
		_, err = db.MessageByProviderID(ctx, other.ID, "prov-1")
		wantCode(t, "provider id across tenants", err, switchboard.CodeNotFound)
		_, err = db.Message(ctx, other.ID, m.ID)
		wantCode(t, "message across tenants", err, switchboard.CodeNotFound)
		in, _ := db.CreateMessage(ctx, switchboard.Message{TenantID: tn.ID, Direction: switchboard.Inbound, From: "+15551234567",
			To: "+15559876543", Body: "Hi back", Status: switchboard.MessageReceived})
		p, err := db.Messages(ctx, tn.ID, switchboard.MessageFilter{Number: "+15551234567"}, switchboard.ListOptions{})
		if err != nil || p.Total != 2 || p.Items[0].ID != in.ID {
			t.Errorf("Messages, newest first = %+v, %v", p, err)
		}
		evs, _ := db.Events(ctx, tn.ID, 0, 100)
		var types []string
		for _, e := range evs {
			if e.SubjectType == "message" {
				types = append(types, e.Type)
			}
		}
		if len(types) != 3 || types[0] != switchboard.EventSMSQueued || types[1] != switchboard.EventSMSSent || types[2] != switchboard.EventSMSReceived {
			t.Errorf("message events %v", types)
		}
	})
}
