package ujet

// Chat media: UJET hands out a presigned storage upload (url + fields, S3's
// POST form), the client posts the file there, then attaches it to the
// chat by its key (s3_path). Here the storage is this server: the upload
// target is POST /apps/api/v1/chat_uploads, which takes the form with the
// fields it was given and the file, and stores it through the conversation
// service's uploads (its BlobStore). The key names the attachment
// (tenant, chat, attachment id and UUID); the token field is the
// credential, good for one file and UploadTTL.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/internal/httpapi"
)

// UploadTTL is how long an upload URL is good, as UJET's are.
const UploadTTL = 5 * time.Minute

// mediaKinds are UJET's chat media: JPEG photos up to 2 MB, MP4 videos up
// to 20 MB.
var mediaKinds = map[switchboard.MessageKind]struct {
	contentType, ext string
	maxBytes         int64
}{
	switchboard.KindPhoto: {"image/jpeg", "jpg", 2 << 20},
	switchboard.KindVideo: {"video/mp4", "mp4", 20 << 20},
}

// uploadPath is the upload target, under the dialect's prefix.
const uploadPath = "chat_uploads"

func (a *API) chatMediaRoutes() []route {
	read, manage := switchboard.ScopeMessagesRead, switchboard.ScopeMessagesManage
	return []route{
		handler(route{Method: "POST", Path: "chats/{id}/photos/upload", Summary: "Get a presigned upload URL for a photo (JPEG, at most 2 MB)",
			Scope: manage, Doc: "Answers url and fields: POST a multipart form with every field, then the file as \"file\", " +
				"to url within 5 minutes; then attach it with POST /chats/{id}/photos and s3_path = fields.key. " +
				"Idempotency-Key is not honoured: the token is a credential, never kept in clear.", Replay: httpapi.ReplayOff},
			func(ctx context.Context, c *call, _ *noBody) (PresignedUpload, error) {
				return a.presign(ctx, c, switchboard.KindPhoto)
			}),
		handler(route{Method: "POST", Path: "chats/{id}/videos/upload", Summary: "Get a presigned upload URL for a video (MP4, at most 20 MB)",
			Scope: manage, Replay: httpapi.ReplayOff}, func(ctx context.Context, c *call, _ *noBody) (PresignedUpload, error) {
			return a.presign(ctx, c, switchboard.KindVideo)
		}),
		rawHandler(route{Method: "POST", Path: uploadPath, Summary: "The upload target of presigned chat media uploads",
			Doc: "No credentials: the form's token field is one. multipart/form-data with the fields of the presigned upload, " +
				"then the file as \"file\". Answers 204.", Public: true, Status: http.StatusNoContent,
			MaxBody: mediaKinds[switchboard.KindVideo].maxBytes + 64<<10}, nil, nil, a.receiveUpload),
		handler(route{Method: "POST", Path: "chats/{id}/photos", Summary: "Attach uploaded photos to a chat", Scope: manage},
			a.attachPhotos),
		handler(route{Method: "POST", Path: "chats/{id}/videos", Summary: "Attach an uploaded video to a chat", Scope: manage},
			a.attachVideo),
		handler(route{Method: "GET", Path: "chats/{id}/photos", Summary: "The photos attached to a chat", Scope: read},
			func(ctx context.Context, c *call, _ *noBody) ([]MediaOut, error) {
				return a.chatMedia(ctx, c, switchboard.KindPhoto)
			}),
		handler(route{Method: "GET", Path: "chats/{id}/videos", Summary: "The videos attached to a chat", Scope: read},
			func(ctx context.Context, c *call, _ *noBody) ([]MediaOut, error) {
				return a.chatMedia(ctx, c, switchboard.KindVideo)
			}),
		rawHandler(route{Method: "GET", Path: "chats/{id}/media/{media_id}", Summary: "Download a chat's photo or video", Scope: read},
			nil, nil, a.downloadMedia),
	}
}

// PresignedUpload is where and how to upload one file.
type PresignedUpload struct {
	URL    string            `json:"url"`
	Fields map[string]string `json:"fields"`
}

// mediaKey names attachment att of the tenant's chat: tenant/chats/chat/
// kind/id-uuid.ext.
func mediaKey(att switchboard.Attachment) string {
	return fmt.Sprintf("%d/chats/%d/%ss/%d-%s.%s", att.TenantID, att.ConversationID, att.Kind, att.ID, att.UUID, mediaKinds[att.Kind].ext)
}

// mediaRef is what a key names.
type mediaRef struct {
	tenantID, chatID, id int64
	kind                 switchboard.MessageKind
	uuid                 string
}

// parseMediaKey reads a key made by mediaKey.
func parseMediaKey(key string) (mediaRef, bool) {
	parts := strings.Split(strings.TrimPrefix(strings.TrimSpace(key), "/"), "/")
	if len(parts) != 5 || parts[1] != "chats" {
		return mediaRef{}, false
	}
	var r mediaRef
	var err1, err2 error
	r.tenantID, err1 = strconv.ParseInt(parts[0], 10, 64)
	r.chatID, err2 = strconv.ParseInt(parts[2], 10, 64)
	r.kind = switchboard.MessageKind(strings.TrimSuffix(parts[3], "s"))
	k, ok := mediaKinds[r.kind]
	name, found := strings.CutSuffix(parts[4], "."+k.ext)
	idStr, uuid, dash := strings.Cut(name, "-")
	id, err3 := strconv.ParseInt(idStr, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || !ok || !found || !dash || uuid == "" {
		return mediaRef{}, false
	}
	r.id, r.uuid = id, uuid
	return r, true
}

func (a *API) presign(ctx context.Context, c *call, kind switchboard.MessageKind) (PresignedUpload, error) {
	svc, cv, err := a.chat(ctx, c)
	if err != nil {
		return PresignedUpload{}, err
	}
	if cv.Status.Ended() {
		return PresignedUpload{}, badRequest(textEnded)
	}
	k := mediaKinds[kind]
	att, token, err := svc.NewUpload(ctx, c.tenantID(), cv.ID, kind, k.contentType, string(kind)+"."+k.ext)
	if err != nil {
		return PresignedUpload{}, err
	}
	expires := att.CreatedAt.Add(UploadTTL)
	if att.ExpiresAt.Before(expires) {
		expires = att.ExpiresAt
	}
	return PresignedUpload{URL: absURL(a.opt.PublicURL, prefix+uploadPath), Fields: map[string]string{
		"key": mediaKey(att), "token": token, "Content-Type": k.contentType, "expires_at": millis(expires),
		"content_length_range": "1," + strconv.FormatInt(k.maxBytes, 10)}}, nil
}

// receiveUpload takes a presigned upload: the fields, then the file.
func (a *API) receiveUpload(w http.ResponseWriter, c *call) {
	r := c.r
	fail := func(err error) { a.writeError(w, r, err) }
	svc, err := a.conversations()
	if err != nil {
		fail(err)
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		fail(badRequest("the upload must be multipart/form-data: the fields, then the file"))
		return
	}
	// A large video on a slow line may take longer than the server's read
	// timeout; the body limit bounds what it can hold.
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(10 * time.Minute))
	mr := multipart.NewReader(r.Body, params["boundary"])
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			fail(badRequest("file is required"))
			return
		}
		if err != nil {
			fail(badRequest("the upload is not a valid multipart form"))
			return
		}
		if part.FormName() != "file" {
			v, err := readAllLimited(part, 8<<10)
			if err != nil {
				fail(badRequest("field " + part.FormName() + " is too long"))
				return
			}
			fields[part.FormName()] = string(v)
			continue
		}
		if err := a.storeUpload(r.Context(), svc, fields, part); err != nil {
			fail(err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
}

// storeUpload checks the upload's key and token against its attachment and
// stores the file; nil answers 204.
func (a *API) storeUpload(ctx context.Context, svc switchboard.Conversations, fields map[string]string, file *multipart.Part) error {
	ref, ok := parseMediaKey(fields["key"])
	if !ok {
		return badRequest("key is invalid")
	}
	if fields["token"] == "" {
		return missing("token")
	}
	att, err := a.opt.Store.Attachment(ctx, ref.tenantID, ref.id)
	gone := message(switchboard.CodeForbidden, "Request has expired")
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeNotFound:
		return gone
	case err != nil:
		return err
	case att.UUID != ref.uuid || att.ConversationID != ref.chatID || att.Kind != ref.kind:
		return gone
	case !a.now().Before(att.CreatedAt.Add(UploadTTL)):
		return gone
	}
	k := mediaKinds[att.Kind]
	ct := fields["Content-Type"]
	if ct == "" {
		ct = file.Header.Get("Content-Type")
	}
	if mt, _, _ := mime.ParseMediaType(ct); mt != k.contentType {
		return badRequest(fmt.Sprintf("Only %s files are accepted", strings.ToUpper(k.ext)))
	}
	b, err := readAllLimited(file, k.maxBytes)
	if switchboard.ErrorCode(err) == switchboard.CodeTooLarge {
		return badRequest(fmt.Sprintf("Your proposed upload exceeds the maximum allowed size of %d MB", k.maxBytes>>20))
	} else if err != nil {
		return badRequest("the upload was cut short")
	}
	if _, err := svc.Upload(ctx, fields["token"], ct, bytes.NewReader(b)); err != nil {
		if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
			return gone
		}
		return err
	}
	return nil
}

// MediaOut is a chat's photo or video: its media id (which GET
// /chats/{id}/media/{media_id} downloads) and URL.
type MediaOut struct {
	ID        int64  `json:"id"`
	MediaID   int64  `json:"media_id"`
	PhotoType string `json:"photo_type,omitempty"`
	URL       string `json:"url"`
}

// attachPhotosBody is POST /chats/{id}/photos.
type attachPhotosBody struct {
	// Photo is a list of {"s3_path","photo_type"} (one object is read as a
	// list of one).
	Photo json.RawMessage `json:"photo"`
}

type photoRef struct {
	S3Path    string `json:"s3_path"`
	PhotoType string `json:"photo_type"`
}

// attachVideoBody is POST /chats/{id}/videos.
type attachVideoBody struct {
	Video *videoRef `json:"video"`
}

type videoRef struct {
	S3Path string `json:"s3_path" limit:"500"`
}

// maxPhotos bounds one attach.
const maxPhotos = 10

// photoTypes are the photo types UJET names; photo is the default.
var photoTypes = map[string]bool{"photo": true, "screenshot": true, "document": true, "selfie": true}

func (a *API) attachPhotos(ctx context.Context, c *call, in *attachPhotosBody) ([]MediaOut, error) {
	raw := bytes.TrimSpace(in.Photo)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, missing("photo")
	}
	var refs []photoRef
	if raw[0] == '{' {
		var one photoRef
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, badRequest("photo must be a list of {\"s3_path\", \"photo_type\"}")
		}
		refs = []photoRef{one}
	} else if err := json.Unmarshal(raw, &refs); err != nil {
		return nil, badRequest("photo must be a list of {\"s3_path\", \"photo_type\"}")
	}
	if len(refs) == 0 || len(refs) > maxPhotos {
		return nil, badRequest("photo must hold 1 to " + strconv.Itoa(maxPhotos) + " photos")
	}
	for i := range refs {
		if refs[i].PhotoType == "" {
			refs[i].PhotoType = "photo"
		}
		if !photoTypes[refs[i].PhotoType] {
			return nil, badRequest("photo_type must be photo, screenshot, document or selfie")
		}
	}
	out := []MediaOut{}
	for _, ref := range refs {
		m, err := a.attach(ctx, c, switchboard.KindPhoto, ref.S3Path, ref.PhotoType)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (a *API) attachVideo(ctx context.Context, c *call, in *attachVideoBody) (MediaOut, error) {
	if in.Video == nil || strings.TrimSpace(in.Video.S3Path) == "" {
		return MediaOut{}, missing("video")
	}
	return a.attach(ctx, c, switchboard.KindVideo, in.Video.S3Path, "")
}

// mediaClientID is the client id of the message that attaches an upload:
// one message per attachment (a repeated attach is the same message), with
// the photo's type.
func mediaClientID(attID int64, photoType string) string {
	return "ujet-media:" + strconv.FormatInt(attID, 10) + ":" + photoType
}

// attach shares an uploaded file in the chat, as the end user's message.
func (a *API) attach(ctx context.Context, c *call, kind switchboard.MessageKind, key, photoType string) (MediaOut, error) {
	svc, cv, err := a.chat(ctx, c)
	if err != nil {
		return MediaOut{}, err
	}
	ref, ok := parseMediaKey(key)
	if !ok || ref.tenantID != c.tenantID() || ref.chatID != cv.ID || ref.kind != kind {
		return MediaOut{}, badRequest("s3_path " + key + " is not found")
	}
	att, err := a.opt.Store.Attachment(ctx, c.tenantID(), ref.id)
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeNotFound || (err == nil && att.UUID != ref.uuid):
		return MediaOut{}, badRequest("s3_path " + key + " is not found")
	case err != nil:
		return MediaOut{}, err
	case att.Status != switchboard.AttachmentReady:
		return MediaOut{}, badRequest("s3_path " + key + " has not been uploaded")
	}
	if cv.Status.Ended() {
		return MediaOut{}, badRequest(textEnded)
	}
	_, err = svc.Send(ctx, c.tenantID(), cv.ID, switchboard.ConversationMessage{Direction: switchboard.Inbound, Kind: kind,
		AttachmentID: &att.ID, ClientID: mediaClientID(att.ID, photoType)})
	if err != nil {
		return MediaOut{}, err
	}
	return a.mediaOut(cv.ID, att.ID, photoType), nil
}

func (a *API) mediaOut(chatID, attID int64, photoType string) MediaOut {
	return MediaOut{ID: attID, MediaID: attID, PhotoType: photoType,
		URL: absURL(a.opt.PublicURL, fmt.Sprintf("%schats/%d/media/%d", prefix, chatID, attID))}
}

// chatMedia lists the chat's attached media of kind, in the order they
// were attached (each attachment once).
func (a *API) chatMedia(ctx context.Context, c *call, kind switchboard.MessageKind) ([]MediaOut, error) {
	svc, cv, err := a.chat(ctx, c)
	if err != nil {
		return nil, err
	}
	out := []MediaOut{}
	seen := map[int64]bool{}
	var after int64
	for {
		msgs, err := svc.Messages(ctx, c.tenantID(), cv.ID, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			after = m.Seq
			if m.Kind != kind || m.AttachmentID == nil || seen[*m.AttachmentID] {
				continue
			}
			seen[*m.AttachmentID] = true
			photoType := ""
			if kind == switchboard.KindPhoto {
				photoType = "photo"
				if parts := strings.SplitN(m.ClientID, ":", 3); len(parts) == 3 && parts[0] == "ujet-media" && photoTypes[parts[2]] {
					photoType = parts[2]
				}
			}
			out = append(out, a.mediaOut(cv.ID, *m.AttachmentID, photoType))
		}
		if len(msgs) < 1000 {
			return out, nil
		}
	}
}

// downloadMedia serves a chat's photo or video. The bytes are someone's
// upload: the browser is told not to guess their type nor run them.
func (a *API) downloadMedia(w http.ResponseWriter, c *call) {
	ctx := c.r.Context()
	fail := func(err error) { a.writeError(w, c.r, err) }
	svc, cv, err := a.chat(ctx, c)
	if err != nil {
		fail(err)
		return
	}
	mid, err := pathID(c, "media_id")
	if err != nil {
		fail(err)
		return
	}
	att, body, err := svc.OpenAttachment(ctx, c.tenantID(), mid)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		fail(notFound())
		return
	} else if err != nil {
		fail(err)
		return
	}
	defer body.Close()
	if att.ConversationID != cv.ID {
		fail(notFound())
		return
	}
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
		name = fmt.Sprintf("media-%d", att.ID)
	}
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, body); err != nil && ctx.Err() == nil {
		a.opt.Log.Warn("ujet: media download cut short", "media_id", att.ID, "err", err)
	}
}
