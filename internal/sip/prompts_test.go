package sip

import (
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"switchboard/internal/audio"
)

// writeWAV writes frames 20 ms frames of mono 8 kHz silence.
func writeWAV(t *testing.T, path string, frames int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	n := frames * audio.FrameSamples
	h := audio.StereoHeader(0)
	binary.LittleEndian.PutUint16(h[22:], 1) // mono
	binary.LittleEndian.PutUint32(h[28:], audio.Rate*2)
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint32(h[40:], uint32(2*n))
	binary.LittleEndian.PutUint32(h[4:], uint32(36+2*n))
	if err := os.WriteFile(path, append(h, make([]byte, 2*n)...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPromptsComeFromTheTenantThenTheShelf checks which file a media name
// plays: a tenant's own music before the shared one, menu prompts by the
// name the engine gives, and the generated defaults for a missing file, an
// unreadable one, or a name that tries to leave the directory.
func TestPromptsComeFromTheTenantThenTheShelf(t *testing.T) {
	dir := t.TempDir()
	writeWAV(t, filepath.Join(dir, "moh", "t3-jazz.wav"), 7)
	writeWAV(t, filepath.Join(dir, "moh", "jazz.wav"), 11)
	writeWAV(t, filepath.Join(dir, "prompts", "t3-welcome.wav"), 13)
	os.WriteFile(filepath.Join(dir, "moh", "broken.wav"), []byte("RIFF nonsense"), 0o644)
	c := newPromptCache(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, tc := range []struct {
		name   string
		tenant int64
		frames int
	}{
		{"moh:jazz", 3, 7},
		{"moh:jazz", 4, 11},
		{"prompt:t3-welcome", 3, 13},
		{"moh:missing", 3, audio.HoldMusic().Frames()},
		{"moh:broken", 3, audio.HoldMusic().Frames()},
		{"moh:../moh/jazz", 3, audio.HoldMusic().Frames()},
		{"prompt:t3-absent", 3, audio.Beep().Frames()},
		{"ringback", 3, audio.Ringback().Frames()},
	} {
		if got := c.get(tc.name, tc.tenant).Frames(); got != tc.frames {
			t.Errorf("%s for tenant %d: %d frames, want %d", tc.name, tc.tenant, got, tc.frames)
		}
	}
}
