package conversation

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/google/uuid"

	"switchboard"
)

// NewUpload implements switchboard.Conversations: a pending attachment of
// an open conversation, with a random upload token (32 bytes, base64url;
// only its SHA-256 is stored) good for UploadTTL.
func (s *Service) NewUpload(ctx context.Context, tenantID, conversationID int64, kind switchboard.MessageKind, contentType, name string) (switchboard.Attachment, string, error) {
	p := switchboard.Problems{}
	limits, ok := switchboard.AttachmentLimits[kind]
	if !ok {
		p.Add("kind", "must be photo, video or file")
	}
	ct := mediaType(contentType)
	switch {
	case ct == "":
		p.Add("content_type", "is required")
	case ok && !allowedType(limits.ContentTypes, ct):
		p.Add("content_type", "is not accepted for a "+string(kind)+": use "+strings.Join(limits.ContentTypes, ", "))
	}
	name = strings.TrimSpace(name)
	if len(name) > 255 || strings.ContainsAny(name, "/\\\x00") {
		p.Add("name", "must be a file name of at most 255 characters, without slashes")
	}
	if err := p.Err(); err != nil {
		return switchboard.Attachment{}, "", err
	}
	c, err := s.store.Conversation(ctx, tenantID, conversationID)
	if err != nil {
		return switchboard.Attachment{}, "", err
	}
	if c.Status.Ended() {
		return switchboard.Attachment{}, "", wrongStatus(c, "sent files")
	}
	token, hash := newToken()
	now := s.now().UTC()
	a, err := s.store.CreateAttachment(ctx, tenantID, switchboard.Attachment{TenantID: tenantID, ConversationID: conversationID,
		Kind: kind, ContentType: ct, Name: name, Status: switchboard.AttachmentPending, TokenHash: hash,
		ExpiresAt: now.Add(s.opt.UploadTTL), CreatedAt: now})
	if err != nil {
		return a, "", err
	}
	return a, token, nil
}

// Upload implements switchboard.Conversations. The token is spent by a
// successful upload; the bytes go to the blob store under
// tenant/yyyy/mm/uuid.
func (s *Service) Upload(ctx context.Context, token, contentType string, r io.Reader) (switchboard.Attachment, error) {
	gone := switchboard.Errorf(switchboard.CodeNotFound, "the upload link is unknown, used or expired")
	if token == "" {
		return switchboard.Attachment{}, gone
	}
	a, err := s.store.AttachmentByToken(ctx, hashToken(token))
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeNotFound:
		return a, gone
	case err != nil:
		return a, err
	case a.Status != switchboard.AttachmentPending || !s.now().Before(a.ExpiresAt):
		return switchboard.Attachment{}, gone
	}
	if ct := mediaType(contentType); ct != a.ContentType {
		return a, invalid("content_type", "must be "+a.ContentType+", as announced for this upload")
	}
	if s.opt.Blobs == nil {
		return a, switchboard.Errorf(switchboard.CodeUnavailable, "attachments are not stored on this server")
	}
	limit := switchboard.AttachmentLimits[a.Kind].MaxBytes
	id := a.UUID
	if id == "" {
		id = uuid.NewString()
	}
	now := s.now().UTC()
	key := fmt.Sprintf("%d/%04d/%02d/%s", a.TenantID, now.Year(), int(now.Month()), id)
	size, sum, err := s.opt.Blobs.Put(ctx, key, r, limit)
	if errors.Is(err, switchboard.ErrTooLarge) {
		why := fmt.Sprintf("is larger than %d MB, the limit for a %s", limit>>20, a.Kind)
		return a, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "the file " + why, Fields: map[string]string{"file": why}}
	}
	if err != nil {
		return a, fmt.Errorf("store attachment %d: %w", a.ID, err)
	}
	if size == 0 {
		s.opt.Blobs.Delete(context.WithoutCancel(ctx), key)
		return a, invalid("file", "is empty")
	}
	done, err := s.store.CompleteAttachment(ctx, a.TenantID, a.ID, size, sum, key)
	if err != nil {
		s.opt.Blobs.Delete(context.WithoutCancel(ctx), key)
		return done, err
	}
	s.hub.wake(a.ConversationID)
	return done, nil
}

// OpenAttachment implements switchboard.Conversations.
func (s *Service) OpenAttachment(ctx context.Context, tenantID, id int64) (switchboard.Attachment, io.ReadCloser, error) {
	a, err := s.store.Attachment(ctx, tenantID, id)
	if err != nil {
		return a, nil, err
	}
	if a.Status != switchboard.AttachmentReady {
		return a, nil, switchboard.Errorf(switchboard.CodeNotFound, "attachment %d has not been uploaded", id)
	}
	if s.opt.Blobs == nil {
		return a, nil, switchboard.Errorf(switchboard.CodeUnavailable, "attachments are not stored on this server")
	}
	rc, err := s.opt.Blobs.Open(ctx, a.Key)
	return a, rc, err
}

// EndUserConversation implements switchboard.Conversations. An unknown
// conversation and a wrong token answer alike (CodeUnauthorized), so the
// end-user API does not tell which conversations exist.
func (s *Service) EndUserConversation(ctx context.Context, uuid, token string) (switchboard.Conversation, error) {
	refused := switchboard.Errorf(switchboard.CodeUnauthorized, "the conversation's token is missing or wrong")
	if uuid == "" || token == "" {
		return switchboard.Conversation{}, refused
	}
	c, err := s.store.ConversationByUUID(ctx, 0, uuid)
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeNotFound:
		return switchboard.Conversation{}, refused
	case err != nil:
		return switchboard.Conversation{}, err
	case len(c.TokenHash) == 0 || subtle.ConstantTimeCompare(c.TokenHash, hashToken(token)) != 1:
		return switchboard.Conversation{}, refused
	}
	return c, nil
}

// mediaType is a content type without its parameters, lowercased; "" when
// it does not parse.
func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(strings.TrimSpace(ct))
	if err != nil {
		return ""
	}
	return mt
}

// allowedType matches ct against the kind's list: entries ending in "/" or
// "." are prefixes, the others exact types.
func allowedType(list []string, ct string) bool {
	for _, t := range list {
		if strings.HasSuffix(t, "/") || strings.HasSuffix(t, ".") {
			if strings.HasPrefix(ct, t) {
				return true
			}
		} else if ct == t {
			return true
		}
	}
	return false
}
