package audio

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand, so that arrival times are
// exact.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// TestRecorderAlignsSidesByTime records a caller who talks for a second, a
// silent gap (hold) of two seconds on both sides, and an agent who talks for
// one more second, and checks the file lasts the four seconds and each
// side's audio sits where it was said.
func TestRecorderAlignsSidesByTime(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	path := filepath.Join(t.TempDir(), "r.wav")
	r, err := CreateRecorder(path, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	loud := make([]int16, FrameSamples)
	for i := range loud {
		loud[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/Rate))
	}
	frame := PCMA.Encode(nil, loud)
	for range 50 { // one second of the caller
		clk.t = clk.t.Add(20 * time.Millisecond)
		r.Write(Left, PCMA, frame)
	}
	clk.t = clk.t.Add(2 * time.Second)
	for range 50 { // one second of the agent, µ-law
		clk.t = clk.t.Add(20 * time.Millisecond)
		r.Write(Right, PCMU, PCMU.Encode(nil, loud))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !bytes.Equal(b[:WAVHeaderSize], StereoHeader(int64(len(b)-WAVHeaderSize))) {
		t.Fatalf("header %x does not describe %d data bytes", b[:WAVHeaderSize], len(b)-WAVHeaderSize)
	}
	secs := float64(len(b)-WAVHeaderSize) / 4 / Rate
	if math.Abs(secs-4) > 0.03 {
		t.Fatalf("the recording lasts %.3f s; the call was recorded for 4 s", secs)
	}
	rms := func(side int, from, to float64) float64 {
		var sum float64
		n := 0
		for i := int(from * Rate); i < int(to*Rate); i++ {
			v := float64(int16(binary.LittleEndian.Uint16(b[WAVHeaderSize+4*i+2*side:])))
			sum += v * v
			n++
		}
		return math.Sqrt(sum / float64(n))
	}
	if l, rr := rms(Left, 0.05, 0.95), rms(Right, 0.05, 0.95); l < 3000 || rr > 10 {
		t.Errorf("first second: caller RMS %.0f, agent %.0f; want the caller only", l, rr)
	}
	if l, rr := rms(Left, 1.1, 2.9), rms(Right, 1.1, 2.9); l > 10 || rr > 10 {
		t.Errorf("the gap: caller RMS %.0f, agent %.0f; want silence", l, rr)
	}
	if l, rr := rms(Left, 3.05, 3.95), rms(Right, 3.05, 3.95); l > 10 || rr < 3000 {
		t.Errorf("last second: caller RMS %.0f, agent %.0f; want the agent only", l, rr)
	}
}

// TestReadWAVRefusesWhatItCannotPlay checks that a prompt in another format
// is refused with the format to convert to, and that one written as mono
// 8 kHz reads back sample for sample.
func TestReadWAVRefusesWhatItCannotPlay(t *testing.T) {
	var b bytes.Buffer
	b.Write(wavHeader(1, 2*FrameSamples))
	for i := range FrameSamples {
		binary.Write(&b, binary.LittleEndian, int16(i*10))
	}
	p, err := ReadWAV("x", bytes.NewReader(b.Bytes()))
	if err != nil || p.Frames() != 1 || p.samples[7] != 70 {
		t.Fatalf("mono 8 kHz prompt: %v, %+v", err, p)
	}
	bad := wavHeader(1, 0)
	binary.LittleEndian.PutUint32(bad[24:], 44100)
	if _, err := ReadWAV("y", bytes.NewReader(bad)); err == nil || !bytes.Contains([]byte(err.Error()), []byte("8000 Hz")) {
		t.Errorf("a 44.1 kHz prompt: %v", err)
	}
	if _, err := ReadWAV("z", bytes.NewReader([]byte("not a wav"))); err == nil {
		t.Error("garbage was read as a prompt")
	}
}

// TestGeneratedPromptsAreWholeFrames checks the built-in prompts.
func TestGeneratedPromptsAreWholeFrames(t *testing.T) {
	for _, p := range []*Prompt{HoldMusic(), Ringback(), Beep()} {
		if p.Frames() < 10 || len(p.Frame(PCMU, p.Frames()+3)) != FrameSamples {
			t.Errorf("%s: %d frames", p.Name, p.Frames())
		}
	}
}
