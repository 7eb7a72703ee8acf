package conversation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
)

// TestUploads: an upload link takes the announced type within the kind's
// limit once, before it expires; the photo is then sent and read back.
func TestUploads(t *testing.T) {
	f := newFixture(t, 1)
	a := f.agents[0]
	c, _ := f.webChat(f.sales, "v1")

	_, _, err := f.svc.NewUpload(f.ctx, f.tenant, c.ID, switchboard.KindPhoto, "application/x-msdownload", "x.exe")
	if switchboard.ErrorFields(err)["content_type"] == "" {
		t.Fatalf("an executable as a photo: %v", err)
	}
	_, _, err = f.svc.NewUpload(f.ctx, f.tenant, c.ID, "sticker", "image/png", "x.png")
	if switchboard.ErrorFields(err)["kind"] == "" {
		t.Fatalf("an unknown kind: %v", err)
	}

	att, tok, err := f.svc.NewUpload(f.ctx, f.tenant, c.ID, switchboard.KindPhoto, "image/png", "receipt.png")
	if err != nil {
		t.Fatal(err)
	}
	if att.Status != switchboard.AttachmentPending || tok == "" || !att.ExpiresAt.After(time.Now()) {
		t.Fatalf("new upload %+v", att)
	}
	// Sending it before the upload is refused.
	_, err = f.svc.Send(f.ctx, f.tenant, c.ID, switchboard.ConversationMessage{Direction: switchboard.Inbound, Kind: switchboard.KindPhoto, AttachmentID: &att.ID})
	if switchboard.ErrorFields(err)["attachment_id"] == "" {
		t.Fatalf("a pending attachment was sent: %v", err)
	}
	_, err = f.svc.Upload(f.ctx, tok, "image/jpeg", strings.NewReader("jpeg"))
	if switchboard.ErrorFields(err)["content_type"] == "" {
		t.Fatalf("another content type: %v", err)
	}
	_, err = f.svc.Upload(f.ctx, tok, "image/png", io.LimitReader(zeros{}, 10<<20+1))
	if switchboard.ErrorCode(err) != switchboard.CodeInvalid || !strings.Contains(switchboard.ErrorMessage(err), "larger than 10 MB") {
		t.Fatalf("an 10 MB + 1 byte photo: %v", err)
	}
	body := []byte("\x89PNG fake image bytes")
	done, err := f.svc.Upload(f.ctx, tok, "image/png", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if done.Status != switchboard.AttachmentReady || done.Size != int64(len(body)) || done.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("uploaded %+v", done)
	}
	if !strings.HasPrefix(done.Key, fmt.Sprintf("%d/", f.tenant)) {
		t.Errorf("blob key %q is not under the tenant", done.Key)
	}
	_, err = f.svc.Upload(f.ctx, tok, "image/png", bytes.NewReader(body))
	wantCode(t, err, switchboard.CodeNotFound) // spent

	m, err := f.svc.Send(f.ctx, f.tenant, c.ID, switchboard.ConversationMessage{Direction: switchboard.Inbound, Kind: switchboard.KindPhoto, AttachmentID: &done.ID})
	if err != nil {
		t.Fatal(err)
	}
	if m.AttachmentID == nil || *m.AttachmentID != done.ID {
		t.Fatalf("photo message %+v", m)
	}
	_, rc, err := f.svc.OpenAttachment(f.ctx, f.tenant, done.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("read back %q", got)
	}
	// The agent sends a photo the same way.
	att2, tok2, err := f.svc.NewUpload(f.ctx, f.tenant, c.ID, switchboard.KindPhoto, "image/jpeg", "map.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Upload(f.ctx, tok2, "image/jpeg", strings.NewReader("jpeg bytes")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Send(f.ctx, f.tenant, c.ID, switchboard.ConversationMessage{Direction: switchboard.Outbound, AgentID: &a, Kind: switchboard.KindPhoto, AttachmentID: &att2.ID}); err != nil {
		t.Fatal(err)
	}

	// An upload link expires.
	_, tok3, err := f.svc.NewUpload(f.ctx, f.tenant, c.ID, switchboard.KindFile, "application/pdf", "terms.pdf")
	if err != nil {
		t.Fatal(err)
	}
	f.skew.Store(int64(16 * time.Minute))
	_, err = f.svc.Upload(f.ctx, tok3, "application/pdf", strings.NewReader("%PDF"))
	wantCode(t, err, switchboard.CodeNotFound)
}

// TestRestart: a new engine and service over the same store put held
// conversations back with their agent and queued ones back in their
// queue; a deactivated agent's conversation waits in the queue again.
func TestRestart(t *testing.T) {
	f := newFixture(t, 2)
	a, b := f.agents[0], f.agents[1]
	f.status(b, "Break", false)
	var held []int64
	for i := range 3 {
		c, _ := f.webChat(f.sales, "v"+itoa(int64(i)))
		held = append(held, c.ID)
	}
	if _, err := f.say(held[0], a, "on it"); err != nil {
		t.Fatal(err)
	}
	waiting, _ := f.webChat(f.sales, "v-waiting")
	dismissed, _ := f.webChat(f.supp, "v-dismissed")
	f.wantStatus(waiting.ID, switchboard.ConversationQueued, 0)
	f.status(b, switchboard.StatusAvailable, true)
	f.wantStatus(waiting.ID, switchboard.ConversationAssigned, b)
	f.wantStatus(dismissed.ID, switchboard.ConversationAssigned, b)
	if _, err := f.svc.Dismiss(f.ctx, f.tenant, dismissed.ID); err != nil {
		t.Fatal(err)
	}
	// b leaves the company while holding the waiting one.
	if _, err := f.db.UpdateUserFunc(f.ctx, f.tenant, b, func(u *switchboard.User) error {
		u.DeactivatedAt = ptr(time.Now())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.eng.Close()

	f.agents = []int64{a} // the new engine knows only a
	f.boot()
	got := f.holds(a)
	for _, id := range held {
		if !contains(got, id) {
			t.Fatalf("after restart agent holds %v, want %v", got, held)
		}
	}
	f.wantStatus(held[0], switchboard.ConversationInProgress, a)
	f.wantStatus(waiting.ID, switchboard.ConversationQueued, 0)
	if live, _ := f.eng.QueueLive(f.tenant, f.sales.ID); live.ChatsWaiting != 1 {
		t.Fatalf("chats waiting %d after restart, want 1", live.ChatsWaiting)
	}
	f.wantStatus(dismissed.ID, switchboard.ConversationDismissed, 0)
	// The restored agent works on as before: finishing frees a slot for
	// the waiting one.
	if _, err := f.svc.Finish(f.ctx, f.tenant, held[1], switchboard.SideAgent, ""); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(31 * time.Second)
	f.wantStatus(waiting.ID, switchboard.ConversationAssigned, a)
}

// TestSimulate runs scripted end users against a scripted agent: those
// who get an answer leave satisfied, the one nobody takes abandons.
func TestSimulate(t *testing.T) {
	f := newFixture(t, 1)
	a := f.agents[0]
	f.eng.SetMaxChats(a, 2)
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	// The agent answers whatever they hold, once.
	var wg sync.WaitGroup
	wg.Add(1)
	stop := make(chan struct{})
	go func() {
		defer wg.Done()
		answered := map[int64]bool{}
		for {
			for _, id := range f.eng.AgentChats(a) {
				if !answered[id] {
					if _, err := f.say(id, a, "hello, agent here"); err == nil {
						answered[id] = true
					}
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	users := []SimulatedEndUser{
		{Messages: 2, Gap: 10 * time.Millisecond},
		{Messages: 3, Gap: 5 * time.Millisecond, Text: func(i int) string { return fmt.Sprintf("line %d", i) }},
		{Messages: 1, Abandon: 50 * time.Millisecond},
	}
	// The third arrives when the agent holds two (max 2): it abandons.
	rep, err := f.svc.Simulate(ctx, f.tenant, f.sales.ID, users[:2])
	if err != nil {
		t.Fatal(err)
	}
	f.status(a, "Break", false)
	rep2, err := f.svc.Simulate(ctx, f.tenant, f.sales.ID, users[2:])
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Started != 2 || rep.Answered != 2 || rep2.Abandoned != 1 || rep.Failed+rep2.Failed != 0 {
		t.Fatalf("reports %+v %+v", rep, rep2)
	}
	for _, id := range rep.IDs {
		c := f.get(id)
		if c.Status != switchboard.ConversationFinished || c.EndedBy != switchboard.SideEndUser {
			t.Errorf("answered conversation %d ended %s by %s", id, c.Status, c.EndedBy)
		}
	}
	if c := f.get(rep2.IDs[0]); c.Status != switchboard.ConversationAbandoned {
		t.Errorf("unanswered conversation ended %s", c.Status)
	}
}
