package sim_test

import (
	"bytes"
	"encoding/binary"
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
