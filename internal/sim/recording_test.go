package sim_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"switchboard/internal/sim"
)

func TestWriteRecording(t *testing.T) {
	var b bytes.Buffer
	if err := sim.WriteRecording(&b, 2500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	if int64(len(data)) != sim.RecordingSize(2500*time.Millisecond) || len(data) != 44+2*20000 {
		t.Fatalf("size %d", len(data))
	}
	if string(data[0:4]) != "RIFF" || string(data[8:16]) != "WAVEfmt " || string(data[36:40]) != "data" {
		t.Errorf("not a WAV header: %q", data[:44])
	}
	if rate := binary.LittleEndian.Uint32(data[24:]); rate != 8000 {
		t.Errorf("rate %d", rate)
	}
	if got := binary.LittleEndian.Uint32(data[40:]); got != 40000 {
		t.Errorf("data size %d", got)
	}
	silent := true
	for i := 44; i < len(data); i += 2 {
		silent = silent && data[i] == 0 && data[i+1] == 0
	}
	if silent {
		t.Errorf("the recording is silence")
	}
}

func TestWriteFax(t *testing.T) {
	var b bytes.Buffer
	if err := sim.WriteFax(&b, 3, "+390687654321", "+390112121212", time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	pdf := b.String()
	if !strings.HasPrefix(pdf, "%PDF-1.4\n") || !strings.HasSuffix(pdf, "%%EOF\n") || strings.Count(pdf, "/Type /Page ") != 3 ||
		!strings.Contains(pdf, "/Count 3") || !strings.Contains(pdf, "page 3 of 3") {
		t.Fatalf("not a 3-page PDF:\n%s", pdf)
	}
	// Every xref offset points at its object.
	start := strings.LastIndex(pdf, "startxref\n")
	var xref int
	fmt.Sscan(pdf[start+len("startxref\n"):], &xref)
	lines := strings.Split(pdf[xref:], "\n")
	for i := 1; i < 9; i++ {
		var off int
		fmt.Sscanf(lines[2+i], "%d", &off)
		if want := fmt.Sprintf("%d 0 obj", i); !strings.HasPrefix(pdf[off:], want) {
			t.Errorf("xref entry %d points at %q", i, pdf[off:off+10])
		}
	}
}
