package analytics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/audio"
)

// whisperServer speaks the shape of OpenAI's POST /v1/audio/transcriptions
// on 127.0.0.1: it checks the multipart form as the API documents it, reads
// the WAV file it was sent, and answers verbose_json with one segment per
// second of sound, saying which of its audio it heard (its channels, its
// length, the RMS of its samples) so that the test can check what arrived.
type whisperServer struct {
	*httptest.Server
	key string

	mu       sync.Mutex
	requests []whisperRequest
	fail     []int // statuses to answer first, one per request
}

type whisperRequest struct {
	model, language, format, filename, contentType string
	channels                                       int
	seconds                                        float64
}

func newWhisperServer(t *testing.T, key string) *whisperServer {
	ws := &whisperServer{key: key}
	ws.Server = httptest.NewServer(http.HandlerFunc(ws.serve))
	t.Cleanup(ws.Close)
	return ws
}

func (ws *whisperServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/transcriptions" {
		http.Error(w, `{"error":{"message":"no such route"}}`, http.StatusNotFound)
		return
	}
	if ws.key != "" && r.Header.Get("Authorization") != "Bearer "+ws.key {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}`)
		return
	}
	ws.mu.Lock()
	if len(ws.fail) > 0 {
		status := ws.fail[0]
		ws.fail = ws.fail[1:]
		ws.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, `{"detail":"model is loading"}`)
		return
	}
	ws.mu.Unlock()
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		http.Error(w, `{"error":{"message":"bad form"}}`, http.StatusBadRequest)
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		http.Error(w, `{"error":{"message":"file is required"}}`, http.StatusBadRequest)
		return
	}
	defer file.Close()
	req := whisperRequest{model: r.FormValue("model"), language: r.FormValue("language"), format: r.FormValue("response_format"),
		filename: hdr.Filename, contentType: hdr.Header.Get("Content-Type")}
	f, err := readWAVHeader(file)
	if err != nil {
		http.Error(w, `{"error":{"message":"unreadable audio"}}`, http.StatusBadRequest)
		return
	}
	req.channels = f.Channels
	fr := newFrameReader(file, f)
	frame := make([]int16, f.Channels)
	type second struct {
		n   int
		sum float64
	}
	var secs []second
	for i := 0; fr.next(frame); i++ {
		if i%f.Rate == 0 {
			secs = append(secs, second{})
		}
		s := &secs[len(secs)-1]
		s.n++
		for _, v := range frame {
			s.sum += float64(v) * float64(v)
		}
	}
	req.seconds = float64(len(secs))
	ws.mu.Lock()
	ws.requests = append(ws.requests, req)
	ws.mu.Unlock()
	type segment struct {
		ID    int     `json:"id"`
		Seek  int     `json:"seek"`
		Start float64 `json:"start"`
		End   float64 `json:"end"`
		Text  string  `json:"text"`
	}
	out := struct {
		Task     string    `json:"task"`
		Language string    `json:"language"`
		Duration float64   `json:"duration"`
		Text     string    `json:"text"`
		Segments []segment `json:"segments"`
	}{Task: "transcribe", Language: "english", Duration: req.seconds, Segments: []segment{}}
	for i, s := range secs {
		if math.Sqrt(s.sum/float64(s.n*f.Channels)) < 100 {
			continue
		}
		out.Segments = append(out.Segments, segment{ID: len(out.Segments), Start: float64(i), End: float64(i + 1),
			Text: fmt.Sprintf(" sound in %s at %d s", strings.TrimSuffix(hdr.Filename, ".wav"), i)})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func TestHTTPTranscriberMono(t *testing.T) {
	ws := newWhisperServer(t, "sk-test")
	h := &HTTPTranscriber{URL: ws.URL + "/", Key: "sk-test", Model: "whisper-large-v3"}
	rec := simRecording(t, 3*time.Second)
	tr, err := h.Transcribe(context.Background(), bytes.NewReader(rec), "audio/wav", "en")
	if err != nil {
		t.Fatal(err)
	}
	if len(ws.requests) != 1 {
		t.Fatalf("%d requests, want 1", len(ws.requests))
	}
	got := ws.requests[0]
	if got != (whisperRequest{model: "whisper-large-v3", language: "en", format: "verbose_json", filename: "recording.wav",
		contentType: "audio/wav", channels: 1, seconds: 3}) {
		t.Errorf("the server got %+v", got)
	}
	if tr.Language != "english" || tr.Duration != 3 || len(tr.Segments) != 3 {
		t.Fatalf("transcript %+v", tr)
	}
	if s := tr.Segments[2]; s != (switchboard.TranscriptSegment{Speaker: unk, Start: 2, End: 3, Text: "sound in recording at 2 s"}) {
		t.Errorf("segment %+v (text trimmed, speaker unknown)", s)
	}
}

func TestHTTPTranscriberSplitsTwoChannels(t *testing.T) {
	ws := newWhisperServer(t, "")
	h := &HTTPTranscriber{URL: ws.URL, SplitChannels: true, TempDir: t.TempDir()}
	type span = struct {
		side       int
		start, end float64
	}
	// The customer (left) speaks in seconds 0 and 3, the agent (right) in 1-2.
	rec := stereoRecording(4, span{audio.Left, 0, 1}, span{audio.Right, 1, 3}, span{audio.Left, 3, 4})
	tr, err := h.Transcribe(context.Background(), bytes.NewReader(rec), "audio/wav", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ws.requests) != 2 {
		t.Fatalf("%d requests, want one per channel", len(ws.requests))
	}
	for i, name := range []string{"recording-customer.wav", "recording-agent.wav"} {
		r := ws.requests[i]
		if r.channels != 1 || r.seconds != 4 || r.filename != name || r.model != "whisper-1" || r.language != "" {
			t.Errorf("request %d: %+v, want a mono %s of 4 s, model whisper-1, no language", i, r, name)
		}
	}
	want := []switchboard.TranscriptSegment{
		seg(cust, 0, 1, "sound in recording-customer at 0 s"),
		seg(agent, 1, 2, "sound in recording-agent at 1 s"),
		seg(agent, 2, 3, "sound in recording-agent at 2 s"),
		seg(cust, 3, 4, "sound in recording-customer at 3 s"),
	}
	if len(tr.Segments) != len(want) {
		t.Fatalf("segments %+v, want %+v", tr.Segments, want)
	}
	for i := range want {
		if tr.Segments[i] != want[i] {
			t.Errorf("segment %d = %+v, want %+v", i, tr.Segments[i], want[i])
		}
	}
}

func TestHTTPTranscriberErrors(t *testing.T) {
	ws := newWhisperServer(t, "sk-right")
	rec := simRecording(t, time.Second)
	_, err := (&HTTPTranscriber{URL: ws.URL, Key: "sk-wrong"}).Transcribe(context.Background(), bytes.NewReader(rec), "audio/wav", "")
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "Incorrect API key provided") {
		t.Errorf("a wrong key: %v, want the status and the server's message", err)
	}
	if strings.Contains(fmt.Sprint(err), "sk-wrong") {
		t.Errorf("the error shows the key: %v", err)
	}
	ws.fail = []int{503}
	_, err = (&HTTPTranscriber{URL: ws.URL, Key: "sk-right"}).Transcribe(context.Background(), bytes.NewReader(rec), "audio/wav", "")
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "model is loading") {
		t.Errorf("a 503: %v", err)
	}
	_, err = (&HTTPTranscriber{URL: ws.URL + "/elsewhere", Key: "sk-right"}).Transcribe(context.Background(), bytes.NewReader(rec), "audio/wav", "")
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a wrong URL: %v", err)
	}

	// Not verbose_json, and a server slower than the timeout.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Query().Get("slow") != "" || strings.HasPrefix(r.URL.Path, "/slow") {
			<-r.Context().Done()
			return
		}
		io.WriteString(w, "plain text transcript")
	}))
	defer other.Close()
	_, err = (&HTTPTranscriber{URL: other.URL}).Transcribe(context.Background(), bytes.NewReader(rec), "audio/wav", "")
	if err == nil || !strings.Contains(err.Error(), "not verbose_json") {
		t.Errorf("a text answer: %v", err)
	}
	_, err = (&HTTPTranscriber{URL: other.URL + "/slow", Timeout: 50 * time.Millisecond}).Transcribe(context.Background(), bytes.NewReader(rec), "audio/wav", "")
	if err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("a server slower than the timeout: %v", err)
	}
}
