package native

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
)

// uploadRequest asks for an upload URL for a photo, video or file.
type uploadRequest struct {
	// Kind is photo, video or file; each has its size limit and content
	// types (switchboard.AttachmentLimits).
	Kind        switchboard.MessageKind `json:"kind" limit:"16"`
	ContentType string                  `json:"content_type" limit:"200"`
	Name        string                  `json:"name" limit:"255"`
}

// uploadSlot is a pending attachment and where to PUT its bytes: the URL's
// token is the credential (no API key), good until expires_at and for one
// upload.
type uploadSlot struct {
	Attachment switchboard.Attachment `json:"attachment"`
	UploadURL  string                 `json:"upload_url"`
	ExpiresAt  time.Time              `json:"expires_at"`
}

// uploadReadTimeout bounds how long an upload's body may take to arrive.
const uploadReadTimeout = 10 * time.Minute

// maxUpload is the largest body PUT /v1/uploads/{token} reads: the largest
// kind's limit and a little, so that the service names the kind's own
// limit for anything larger than that kind allows.
func maxUpload() int64 {
	var n int64
	for _, l := range switchboard.AttachmentLimits {
		n = max(n, l.MaxBytes)
	}
	return n + 1<<10
}

// newUpload creates a pending attachment of the conversation.
func newUpload(ctx context.Context, svc switchboard.Conversations, tenantID, conversationID int64, in *uploadRequest) (uploadSlot, error) {
	switch in.Kind {
	case switchboard.KindPhoto, switchboard.KindVideo, switchboard.KindFile:
	default:
		return uploadSlot{}, invalid("kind", "must be photo, video or file")
	}
	if strings.TrimSpace(in.ContentType) == "" {
		return uploadSlot{}, invalid("content_type", "is required (image/png, video/mp4, application/pdf …)")
	}
	att, token, err := svc.NewUpload(ctx, tenantID, conversationID, in.Kind, in.ContentType, in.Name)
	if err != nil {
		return uploadSlot{}, err
	}
	return uploadSlot{Attachment: att, UploadURL: "/v1/uploads/" + token, ExpiresAt: att.ExpiresAt}, nil
}

func (a *API) attachmentRoutes() {
	read, manage := switchboard.ScopeMessagesRead, switchboard.ScopeMessagesManage
	const tag = "Conversations"
	handle(a, route{Method: "POST", Path: "/v1/conversations/{id}/uploads", Summary: "Get an upload URL for a photo, video or file to send in a conversation",
		Doc: "Creates a pending attachment and answers the URL to PUT its bytes to (no API key: the URL's token is the credential), " +
			"good until expires_at. Once uploaded, send it with POST /v1/conversations/{id}/messages and its attachment_id. " +
			"Idempotency-Key is not honoured here: the upload URL is a credential, never kept in clear.",
		Tag: tag, Scope: manage, Status: http.StatusCreated, User: userChecked, Replay: httpapi.ReplayOff},
		func(ctx context.Context, c *call, in *uploadRequest) (uploadSlot, error) {
			svc, cv, err := a.conversation(ctx, c)
			if err != nil {
				return uploadSlot{}, err
			}
			return newUpload(ctx, svc, c.tenantID(), cv.ID, in)
		})
	handleRaw(a, route{Method: "PUT", Path: "/v1/uploads/{token}", Summary: "Upload an attachment's bytes (the body, with its Content-Type)",
		Doc: "No API key: the token from upload_url is the credential, for one upload before it expires. The body is the file itself; " +
			"its size and type must fit the attachment's kind (422 naming the limit otherwise). Answers the attachment, now ready.",
		Tag: tag, Access: endUser, MaxBody: maxUpload(), RawBody: true}, reflect.TypeFor[switchboard.Attachment](),
		func(w http.ResponseWriter, r *http.Request, c *call) {
			svc, err := a.conversations()
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			// A large file on a slow line may take longer than the server's
			// read timeout; the size limit bounds what it can hold.
			http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadReadTimeout))
			att, err := svc.Upload(r.Context(), r.PathValue("token"), r.Header.Get("Content-Type"), r.Body)
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			httpapi.WriteJSON(w, http.StatusOK, att)
		})
	handleRaw(a, route{Method: "GET", Path: "/v1/attachments/{id}/content", Summary: "An attachment's bytes, with their content type",
		Doc: "A user key reaches the attachments of the conversations its user holds or held.", Tag: tag, Scope: read, User: userChecked,
		Binary: true}, nil,
		func(w http.ResponseWriter, r *http.Request, c *call) {
			ctx := r.Context()
			svc, err := a.conversations()
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			id, err := c.pathID("id")
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			att, body, err := svc.OpenAttachment(ctx, c.tenantID(), id)
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			defer body.Close()
			if self := c.userKeyID(); self != 0 {
				cv, err := svc.Conversation(ctx, c.tenantID(), att.ConversationID)
				if err == nil && (cv.AgentID == nil || *cv.AgentID != self) {
					err = switchboard.Errorf(switchboard.CodeForbidden, "a user key reaches only the attachments of conversations its own user holds or held")
				}
				if err != nil {
					a.writeError(w, r, err)
					return
				}
			}
			a.serveAttachment(w, r, att, body)
		})
}

// serveAttachment writes an attachment's bytes. The bytes are someone's
// upload: the browser is told not to guess their type and not to run
// anything in them, and files are offered as downloads rather than shown.
func (a *API) serveAttachment(w http.ResponseWriter, r *http.Request, att switchboard.Attachment, body io.Reader) {
	h := w.Header()
	h.Set("Content-Type", att.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=3600")
	if att.Size > 0 {
		h.Set("Content-Length", strconv.FormatInt(att.Size, 10))
	}
	name := att.Name
	if name == "" {
		name = fmt.Sprintf("attachment-%d", att.ID)
	}
	disposition := "inline"
	if att.Kind == switchboard.KindFile {
		disposition = "attachment"
	}
	if v := mime.FormatMediaType(disposition, map[string]string{"filename": name}); v != "" {
		disposition = v
	}
	h.Set("Content-Disposition", disposition)
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, body); err != nil && r.Context().Err() == nil {
		a.opt.Log.Warn("attachment download cut short", "attachment_id", att.ID, "err", err)
	}
}

// handleRaw registers a route that reads or writes bytes rather than JSON
// (uploads, downloads); result documents a JSON answer when it has one.
func handleRaw(a *API, rt route, result reflect.Type, serve func(http.ResponseWriter, *http.Request, *call)) {
	e := rt.endpoint()
	e.Result = result
	a.table.HandleRaw(&e, serve)
}
