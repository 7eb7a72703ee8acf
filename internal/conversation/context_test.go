package conversation

import (
	"testing"
	"time"

	"switchboard"
)

// AddContext merges unsigned data as given and signed data once verified
// with the profile's secret, each with conversation.updated; a token that
// does not verify changes nothing.
func TestAddContext(t *testing.T) {
	f := newFixture(t, 1)
	prof, err := f.db.CreateChannelProfile(f.ctx, f.tenant, switchboard.ChannelProfile{Channel: switchboard.ChannelWebChat,
		Name: "Site", QueueID: &f.sales.ID, SigningSecret: "s3cret", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := f.svc.Start(f.ctx, f.tenant, switchboard.Conversation{Channel: switchboard.ChannelWebChat, ProfileID: &prof.ID,
		EndUser: switchboard.EndUser{Identifier: "u-1"}, Context: switchboard.ConversationContext{Unsigned: map[string]any{"a": "1"}}}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	before := len(f.events(c.ID))
	got, claims, err := f.svc.AddContext(f.ctx, f.tenant, c.ID, "", map[string]any{"b": "2", "a": "replaced"})
	if err != nil || claims != nil || got.Context.Unsigned["a"] != "replaced" || got.Context.Unsigned["b"] != "2" {
		t.Fatalf("unsigned: %+v %v (%v)", got.Context, claims, err)
	}
	token := signHS256(t, "s3cret", map[string]any{"custom_data": map[string]any{"tier": "gold"}, "exp": time.Now().Add(time.Hour).Unix()})
	got, claims, err = f.svc.AddContext(f.ctx, f.tenant, c.ID, token, nil)
	if err != nil || claims["custom_data"] == nil || got.Context.Signed["custom_data"] == nil || got.Context.Unsigned["b"] != "2" {
		t.Fatalf("signed: %+v %v (%v)", got.Context, claims, err)
	}
	for _, bad := range []string{signHS256(t, "other", map[string]any{"x": 1}),
		signHS256(t, "s3cret", map[string]any{"x": 1, "exp": time.Now().Add(-time.Minute).Unix()}), "not-a-jwt"} {
		if _, _, err := f.svc.AddContext(f.ctx, f.tenant, c.ID, bad, map[string]any{"c": 3}); switchboard.ErrorFields(err)["context.signed"] == "" {
			t.Errorf("bad token %q: %v", bad, err)
		}
	}
	if got := f.get(c.ID); got.Context.Unsigned["c"] != nil || got.Context.Signed["x"] != nil {
		t.Errorf("a refused token changed the context: %+v", got.Context)
	}
	updated := 0
	for _, e := range f.events(c.ID)[before:] {
		if e == switchboard.EventConversationUpdated {
			updated++
		}
	}
	if updated != 2 {
		t.Errorf("%d conversation.updated since start, want one per accepted AddContext: %v", updated, f.events(c.ID)[before:])
	}
	// Without a profile secret, a signed context cannot be verified.
	plain, _ := f.webChat(f.sales, "v2")
	if _, _, err := f.svc.AddContext(f.ctx, f.tenant, plain.ID, token, nil); switchboard.ErrorFields(err)["context.signed"] == "" {
		t.Errorf("no secret: %v", err)
	}
}
