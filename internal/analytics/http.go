package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"time"

	"switchboard"
)

// HTTPTranscriber is a client of an OpenAI/Whisper-compatible transcription
// server (OpenAI's API, faster-whisper-server, whisper.cpp's server,
// LocalAI…): POST {URL}/v1/audio/transcriptions, multipart/form-data with
// file, model, language (when given) and response_format=verbose_json, and
// Authorization: Bearer Key when a key is set. From the answer it reads
// language, duration and segments (start, end, text); an answer with text
// but no segments becomes one segment over the whole audio.
//
// A two-channel WAV recording (every SIP recording: customer left, agent
// right) is split when SplitChannels is set: each channel goes to the
// server alone as a mono WAV, its segments are labelled customer (left) or
// agent (right), and the two lists are merged by start time. The recording
// is spooled to a temporary file for that, since it is read twice. Anything
// else goes as it is, and its segments' speaker is unknown.
type HTTPTranscriber struct {
	// URL is the server's base URL, without /v1 (http://127.0.0.1:8000).
	URL string
	// Key is sent as a bearer token; empty sends none.
	Key string
	// Model is the form's model field (default whisper-1).
	Model string
	// SplitChannels transcribes the two channels of a stereo WAV apart.
	SplitChannels bool
	// Timeout bounds one request (default 10 minutes); Client, when set,
	// is used instead of a client with that timeout.
	Timeout time.Duration
	Client  *http.Client
	// TempDir holds the spooled recordings ("" is os.TempDir).
	TempDir string
}

// Transcribe implements switchboard.Transcriber.
func (h *HTTPTranscriber) Transcribe(ctx context.Context, audio io.Reader, contentType, language string) (switchboard.Transcript, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if !h.SplitChannels || (mt != "audio/wav" && mt != "audio/x-wav" && mt != "audio/wave") {
		t, err := h.post(ctx, audio, contentType, language, "recording"+extension(mt))
		return t, err
	}
	spool, err := os.CreateTemp(h.TempDir, "switchboard-analytics-*.wav")
	if err != nil {
		return switchboard.Transcript{}, fmt.Errorf("spool the recording: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	if _, err := io.Copy(spool, audio); err != nil {
		return switchboard.Transcript{}, fmt.Errorf("spool the recording: %w", err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return switchboard.Transcript{}, fmt.Errorf("spool the recording: %w", err)
	}
	f, err := readWAVHeader(spool)
	if err != nil {
		return switchboard.Transcript{}, fmt.Errorf("recording: %w", err)
	}
	dataAt, err := spool.Seek(0, io.SeekCurrent)
	if err != nil {
		return switchboard.Transcript{}, fmt.Errorf("spool the recording: %w", err)
	}
	if f.Channels != 2 {
		if _, err := spool.Seek(0, io.SeekStart); err != nil {
			return switchboard.Transcript{}, fmt.Errorf("spool the recording: %w", err)
		}
		return h.post(ctx, spool, contentType, language, "recording.wav")
	}
	out := switchboard.Transcript{Segments: []switchboard.TranscriptSegment{}}
	for ch, who := range []switchboard.Speaker{switchboard.SpeakerCustomer, switchboard.SpeakerAgent} {
		pr, pw := io.Pipe()
		go func() {
			pw.CloseWithError(monoWAV(pw, io.NewSectionReader(spool, dataAt, f.DataSize), f, ch))
		}()
		t, err := h.post(ctx, pr, "audio/wav", language, fmt.Sprintf("recording-%s.wav", who))
		pr.CloseWithError(io.ErrClosedPipe) // ends the writer if post stopped early
		if err != nil {
			return out, fmt.Errorf("%s channel: %w", who, err)
		}
		for _, s := range t.Segments {
			s.Speaker = who
			out.Segments = append(out.Segments, s)
		}
		if out.Language == "" {
			out.Language = t.Language
		}
		out.Duration = max(out.Duration, t.Duration)
	}
	slices.SortStableFunc(out.Segments, func(a, b switchboard.TranscriptSegment) int { return cmpFloat(a.Start, b.Start) })
	if len(out.Segments) > switchboard.MaxTranscriptSegments {
		out.Segments = out.Segments[:switchboard.MaxTranscriptSegments]
	}
	return out, nil
}

func extension(mediaType string) string {
	switch mediaType {
	case "audio/wav", "audio/x-wav", "audio/wave":
		return ".wav"
	case "audio/mpeg":
		return ".mp3"
	case "audio/ogg":
		return ".ogg"
	}
	return ""
}

// verboseJSON is the part of a verbose_json answer read here.
type verboseJSON struct {
	Language string  `json:"language"`
	Duration float64 `json:"duration"`
	Text     string  `json:"text"`
	Segments []struct {
		Start float64 `json:"start"`
		End   float64 `json:"end"`
		Text  string  `json:"text"`
	} `json:"segments"`
}

// post sends one audio file to the server, streaming the multipart body,
// and reads its transcript (speakers unknown).
func (h *HTTPTranscriber) post(ctx context.Context, audio io.Reader, contentType, language, filename string) (switchboard.Transcript, error) {
	t := switchboard.Transcript{Segments: []switchboard.TranscriptSegment{}}
	model := h.Model
	if model == "" {
		model = "whisper-1"
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			for _, f := range [][2]string{{"model", model}, {"language", language}, {"response_format", "verbose_json"}} {
				if f[1] == "" {
					continue
				}
				if err := mw.WriteField(f[0], f[1]); err != nil {
					return err
				}
			}
			hdr := textproto.MIMEHeader{}
			hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
			hdr.Set("Content-Type", contentType)
			part, err := mw.CreatePart(hdr)
			if err != nil {
				return err
			}
			if _, err := io.Copy(part, audio); err != nil {
				return fmt.Errorf("read the recording: %w", err)
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(h.URL, "/")+"/v1/audio/transcriptions", pr)
	if err != nil {
		return t, fmt.Errorf("transcription request: %w", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	if h.Key != "" {
		req.Header.Set("Authorization", "Bearer "+h.Key)
	}
	client := h.Client
	if client == nil {
		timeout := h.Timeout
		if timeout <= 0 {
			timeout = 10 * time.Minute
		}
		client = &http.Client{Timeout: timeout}
	}
	res, err := client.Do(req)
	if err != nil {
		return t, fmt.Errorf("transcription server: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return t, fmt.Errorf("transcription server answered %d, then: %w", res.StatusCode, err)
	}
	if res.StatusCode/100 != 2 {
		return t, fmt.Errorf("transcription server answered %d: %s", res.StatusCode, errorText(body))
	}
	var v verboseJSON
	if err := json.Unmarshal(body, &v); err != nil {
		return t, fmt.Errorf("transcription server answered %d with what is not verbose_json: %w", res.StatusCode, err)
	}
	t.Language, t.Duration = v.Language, v.Duration
	for _, s := range v.Segments {
		text := strings.TrimSpace(s.Text)
		if text == "" {
			continue
		}
		start, end := max(s.Start, 0), max(s.End, s.Start, 0)
		t.Segments = append(t.Segments, switchboard.TranscriptSegment{Speaker: switchboard.SpeakerUnknown, Start: start, End: end, Text: text})
		if len(t.Segments) == switchboard.MaxTranscriptSegments {
			break
		}
	}
	if len(v.Segments) == 0 && strings.TrimSpace(v.Text) != "" {
		t.Segments = append(t.Segments, switchboard.TranscriptSegment{Speaker: switchboard.SpeakerUnknown, End: max(v.Duration, 0),
			Text: strings.TrimSpace(v.Text)})
	}
	return t, nil
}

// errorText is what an error answer says: OpenAI's {"error":{"message"}},
// FastAPI's {"detail"}, or the start of the body.
func errorText(body []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
		Detail any `json:"detail"`
	}
	if json.Unmarshal(body, &e) == nil {
		if e.Error.Message != "" {
			return e.Error.Message
		}
		if e.Detail != nil {
			return fmt.Sprint(e.Detail)
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	if s == "" {
		return "(no body)"
	}
	return s
}
