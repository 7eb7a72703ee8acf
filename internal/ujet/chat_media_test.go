package ujet

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// postUpload posts a presigned upload's form (its fields, then the file)
// to its URL on this server, without credentials.
func (w *chatWorld) postUpload(t *testing.T, up PresignedUpload, contentType string, file []byte) answer {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, k := range []string{"key", "token", "Content-Type", "expires_at"} {
		v := up.Fields[k]
		if k == "Content-Type" && contentType != "" {
			v = contentType
		}
		mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("file", "upload.bin")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(file)
	mw.Close()
	// The URL names the public server; the test server stands for it.
	u := strings.Replace(up.URL, "http://ujet.test", w.url, 1)
	res, err := http.Post(u, mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: bytes.TrimSpace(b)}
}

// A photo and a video go up through their presigned uploads, are attached,
// listed and downloaded byte for byte; the limits (JPEG, 2 MB, 5 minutes,
// one file per URL) are UJET's.
func TestChatMediaUploads(t *testing.T) {
	w := newChatWorld(t)
	c := w.startChat(t)
	chat := "chats/" + itoa(c.ID)

	a := w.ok(t, http.StatusOK, "POST", chat+"/photos/upload", nil)
	checkShape(t, "presigned upload", a.body, map[string]string{"url": "string", "fields": "object"})
	var up PresignedUpload
	a.decode(t, &up)
	if up.URL != "http://ujet.test/apps/api/v1/chat_uploads" || up.Fields["key"] == "" || up.Fields["token"] == "" ||
		up.Fields["Content-Type"] != "image/jpeg" {
		t.Fatalf("presigned upload %s", a.body)
	}
	if exp, err := time.Parse(time.RFC3339, up.Fields["expires_at"]); err != nil || time.Until(exp) > UploadTTL || time.Until(exp) < UploadTTL-time.Minute {
		t.Errorf("expires_at %q, want about 5 minutes from now", up.Fields["expires_at"])
	}
	// Attaching before the upload is refused.
	if a := w.call(t, "POST", chat+"/photos", map[string]any{"photo": []any{map[string]any{"s3_path": up.Fields["key"], "photo_type": "photo"}}}); a.status != 400 ||
		!strings.HasSuffix(a.message(t), "has not been uploaded") {
		t.Errorf("attach before upload: %d %s", a.status, a.body)
	}
	if a := w.postUpload(t, up, "image/png", []byte("png")); a.status != 400 || a.message(t) != "Only JPG files are accepted" {
		t.Errorf("png upload: %d %s", a.status, a.body)
	}
	if a := w.postUpload(t, up, "", bytes.Repeat([]byte{0xff}, 2<<20+1)); a.status != 400 ||
		a.message(t) != "Your proposed upload exceeds the maximum allowed size of 2 MB" {
		t.Errorf("large upload: %d %.200s", a.status, a.body)
	}
	bad := up
	bad.Fields = map[string]string{"key": up.Fields["key"], "token": "forged", "Content-Type": "image/jpeg"}
	if a := w.postUpload(t, bad, "", []byte("x")); a.status != 403 || a.message(t) != "Request has expired" {
		t.Errorf("forged token: %d %s", a.status, a.body)
	}
	photo := append([]byte{0xff, 0xd8, 0xff}, bytes.Repeat([]byte("jpeg"), 100)...)
	if a := w.postUpload(t, up, "", photo); a.status != http.StatusNoContent {
		t.Fatalf("photo upload: %d %s", a.status, a.body)
	}
	if a := w.postUpload(t, up, "", photo); a.status != 403 {
		t.Errorf("second file on one URL: %d %s", a.status, a.body)
	}

	// The seed's attach body (one photo listed twice is attached once).
	a = w.ok(t, http.StatusOK, "POST", chat+"/photos", `{ "photo": [ { "s3_path": "`+up.Fields["key"]+`", "photo_type": "screenshot" }, { "s3_path": "`+up.Fields["key"]+`", "photo_type": "screenshot" } ] }`)
	var attached []MediaOut
	a.decode(t, &attached)
	if len(attached) != 2 || attached[0].MediaID == 0 || attached[0].MediaID != attached[1].MediaID ||
		attached[0].URL != "http://ujet.test/apps/api/v1/chats/"+itoa(c.ID)+"/media/"+itoa(attached[0].MediaID) {
		t.Fatalf("attached %s", a.body)
	}
	a = w.ok(t, http.StatusOK, "GET", chat+"/photos", nil)
	var photos []MediaOut
	a.decode(t, &photos)
	if len(photos) != 1 || photos[0].MediaID != attached[0].MediaID || photos[0].PhotoType != "screenshot" {
		t.Errorf("photos %s", a.body)
	}
	a = w.ok(t, http.StatusOK, "GET", chat+"/media/"+itoa(attached[0].MediaID), nil)
	if !bytes.Equal(a.body, bytes.TrimSpace(photo)) || a.header.Get("Content-Type") != "image/jpeg" || a.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("download: %d bytes, headers %v", len(a.body), a.header)
	}
	// The end user's photo message is in the transcript, by media id.
	a = w.ok(t, http.StatusOK, "POST", chat+"/message", map[string]any{"message": map[string]any{"type": "photo", "content": map[string]any{"media_id": attached[0].MediaID}}})
	if !strings.Contains(string(a.body), `"media_id":`+itoa(attached[0].MediaID)) {
		t.Errorf("photo message %s", a.body)
	}
	// The seed's form: media_id beside content.
	a = w.ok(t, http.StatusOK, "POST", chat+"/message", `{ "from_user_id": "`+itoa(w.endUser.ID)+`", "message": { "type": "photo", "content": "look", "media_id": "`+itoa(attached[0].MediaID)+`" } }`)
	if !strings.Contains(string(a.body), `"content":{"text":"look","media_id":`+itoa(attached[0].MediaID)+`}`) {
		t.Errorf("seed-form photo message %s", a.body)
	}

	// A video: MP4, attached as one object; an expired URL is refused.
	a = w.ok(t, http.StatusOK, "POST", chat+"/videos/upload", nil)
	var vup PresignedUpload
	a.decode(t, &vup)
	if vup.Fields["Content-Type"] != "video/mp4" || !strings.Contains(vup.Fields["key"], "/videos/") {
		t.Fatalf("video upload %s", a.body)
	}
	video := bytes.Repeat([]byte("mp4!"), 1000)
	if a := w.postUpload(t, vup, "", video); a.status != http.StatusNoContent {
		t.Fatalf("video upload: %d %s", a.status, a.body)
	}
	a = w.ok(t, http.StatusOK, "POST", chat+"/videos", `{ "video": { "s3_path": "`+vup.Fields["key"]+`" } }`)
	var vid MediaOut
	a.decode(t, &vid)
	a = w.ok(t, http.StatusOK, "GET", chat+"/videos", nil)
	if !strings.Contains(string(a.body), `"media_id":`+itoa(vid.MediaID)) || strings.Contains(string(a.body), "photo_type") {
		t.Errorf("videos %s", a.body)
	}
	a = w.ok(t, http.StatusOK, "POST", chat+"/photos/upload", nil)
	var late PresignedUpload
	a.decode(t, &late)
	w.skew.Store(int64(UploadTTL + time.Second))
	if a := w.postUpload(t, late, "", photo); a.status != 403 || a.message(t) != "Request has expired" {
		t.Errorf("expired upload: %d %s", a.status, a.body)
	}
	// Another company cannot attach or read this chat's media.
	if a := w.do(t, "GET", chat+"/media/"+itoa(vid.MediaID), w.other.Slug, w.otherKey, nil); a.status != 404 {
		t.Errorf("another company's download: %d", a.status)
	}
	if a := w.call(t, "GET", chat+"/media/99999", nil); a.status != 404 {
		t.Errorf("unknown media: %d", a.status)
	}
}

// The dialect's document builds with the chat routes, the upload target
// public and the presigned-upload routes not replayed.
func TestChatRoutesDocumented(t *testing.T) {
	w := newChatWorld(t)
	res, err := http.Get(w.url + "/apps/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("openapi: %d %.300s", res.StatusCode, b)
	}
	for _, p := range []string{"/apps/api/v1/sms", "/apps/api/v1/chats/{id}/escalations/{escalation_id}", "/apps/api/v1/chat_uploads",
		"/apps/api/v1/chats/{id}/media/{media_id}", "/apps/api/v1/chats/{id}/custom_data"} {
		if !strings.Contains(string(b), `"`+p+`"`) {
			t.Errorf("openapi lacks %s", p)
		}
	}
	api := New(Options{Store: w.store})
	for _, r := range api.Routes() {
		if r.Path == "/apps/api/v1/openapi.json" {
			continue
		}
		if r.Public != (r.Path == "/apps/api/v1/chat_uploads") {
			t.Errorf("%s %s public=%v", r.Method, r.Path, r.Public)
		}
	}
}
