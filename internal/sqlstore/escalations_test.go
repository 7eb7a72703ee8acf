package sqlstore_test

import (
	"context"
	"encoding/json"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore"
)

// Escalations are stored with their conversation.escalat* events, listed
// per conversation oldest first, changed only in status, deflection
// channel and reason, and kept within their tenant.
func TestConversationEscalations(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newConvFixture(t, db)
		a := mustConversation(t, db, f.tn.ID, f.webChat("va"))
		b := mustConversation(t, db, f.tn.ID, f.webChat("vb"))

		if _, err := db.CreateEscalation(ctx, f.tn.ID, switchboard.ConversationEscalation{ConversationID: a.ID, Kind: "robot",
			Status: switchboard.EscalationPending}); switchboard.ErrorCode(err) != switchboard.CodeInvalid {
			t.Errorf("unknown kind: %v", err)
		}
		if _, err := db.CreateEscalation(ctx, f.other.ID, switchboard.ConversationEscalation{ConversationID: a.ID,
			Kind: switchboard.EscalationVirtualAgent, Status: switchboard.EscalationEscalated}); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Errorf("another tenant's conversation: %v", err)
		}
		e1, err := db.CreateEscalation(ctx, f.tn.ID, switchboard.ConversationEscalation{ConversationID: a.ID,
			Kind: switchboard.EscalationOverCapacity, Reason: "queue full", Status: switchboard.EscalationPending})
		if err != nil {
			t.Fatal(err)
		}
		e2, err := db.CreateEscalation(ctx, f.tn.ID, switchboard.ConversationEscalation{ConversationID: a.ID,
			Kind: switchboard.EscalationVirtualAgent, Force: true, Status: switchboard.EscalationEscalated})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateEscalation(ctx, f.tn.ID, switchboard.ConversationEscalation{ConversationID: b.ID,
			Kind: switchboard.EscalationVirtualAgent, Status: switchboard.EscalationEscalated}); err != nil {
			t.Fatal(err)
		}
		list, err := db.Escalations(ctx, f.tn.ID, a.ID)
		if err != nil || len(list) != 2 || list[0].ID != e1.ID || list[1].ID != e2.ID || !list[1].Force || list[0].Reason != "queue full" {
			t.Fatalf("escalations of a: %+v (%v)", list, err)
		}
		if got, err := db.Escalation(ctx, f.tn.ID, e1.ID); err != nil || got.Kind != switchboard.EscalationOverCapacity ||
			!got.CreatedAt.Equal(e1.CreatedAt) {
			t.Errorf("escalation %+v (%v)", got, err)
		}
		if _, err := db.Escalation(ctx, f.other.ID, e1.ID); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Errorf("another tenant reads it: %v", err)
		}

		up, err := db.UpdateEscalationFunc(ctx, f.tn.ID, e1.ID, func(e *switchboard.ConversationEscalation) error {
			e.Status, e.DeflectionChannel = switchboard.EscalationEscalated, switchboard.DeflectHumanAgent
			e.Kind, e.ConversationID = switchboard.EscalationVirtualAgent, b.ID // not changeable: put back
			return nil
		})
		if err != nil || up.Status != switchboard.EscalationEscalated || up.DeflectionChannel != "human_agent" ||
			up.Kind != switchboard.EscalationOverCapacity || up.ConversationID != a.ID {
			t.Errorf("updated %+v (%v)", up, err)
		}
		if _, err := db.UpdateEscalationFunc(ctx, f.tn.ID, e1.ID, func(e *switchboard.ConversationEscalation) error {
			e.DeflectionChannel = "pigeon"
			return nil
		}); switchboard.ErrorCode(err) != switchboard.CodeInvalid {
			t.Errorf("unknown deflection channel: %v", err)
		}

		events, err := db.Events(ctx, f.tn.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range events {
			if e.SubjectType == "conversation_escalation" {
				types = append(types, e.Type)
				if e.SubjectID == e1.ID && e.Type == switchboard.EventConversationEscalationUpdated {
					var p switchboard.ConversationEscalation
					if err := json.Unmarshal(e.Payload, &p); err != nil || p.DeflectionChannel != "human_agent" || p.ConversationID != a.ID {
						t.Errorf("payload %s (%v)", e.Payload, err)
					}
				}
			}
		}
		if len(types) != 4 || types[3] != switchboard.EventConversationEscalationUpdated || types[0] != switchboard.EventConversationEscalated {
			t.Errorf("escalation events %v", types)
		}
	})
}
