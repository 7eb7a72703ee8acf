package conversation

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
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
