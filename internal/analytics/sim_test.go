package analytics

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/audio"
	"switchboard/internal/sim"
)

// simRecording is the simulator's recording of a call connected for talk.
func simRecording(t *testing.T, talk time.Duration) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := sim.WriteRecording(&b, talk); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// stereoRecording is a two-channel 8 kHz recording in which, for each
// span, one side (audio.Left: the customer, audio.Right: the agent) plays a
// tone and the other is silent; between spans both are silent.
func stereoRecording(seconds float64, spans ...struct {
	side       int
	start, end float64
}) []byte {
	n := int(seconds * audio.Rate)
	data := make([]byte, 0, 4*n)
	for i := range n {
		var v [2]int16
		at := float64(i) / audio.Rate
		for _, s := range spans {
			if at >= s.start && at < s.end {
				v[s.side] = int16(8000 * math.Sin(2*math.Pi*500*at))
			}
		}
		data = binary.LittleEndian.AppendUint16(data, uint16(v[0]))
		data = binary.LittleEndian.AppendUint16(data, uint16(v[1]))
	}
	return append(audio.StereoHeader(int64(len(data))), data...)
}

func TestSimTranscriberOnTheSimulatorsRecording(t *testing.T) {
	// 13 s: turns of 2 s, the customer first, the last one 1 s long; 13
	// modulo 3 picks the second script (delivery).
	tr, err := SimTranscriber{}.Transcribe(context.Background(), bytes.NewReader(simRecording(t, 13*time.Second)), "audio/wav", "de")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Language != "en" || tr.Duration != 13 || len(tr.Segments) != 7 {
		t.Fatalf("transcript %+v, want 7 turns over 13 s in en", tr)
	}
	for i, s := range tr.Segments {
		want := cust
		if i%2 == 1 {
			want = agent
		}
		end := float64(2*i + 2)
		if i == 6 {
			end = 13
		}
		if s.Speaker != want || s.Start != float64(2*i) || s.End != end || s.Text == "" {
			t.Errorf("segment %d = %+v, want %s from %d to %v", i, s, want, 2*i, end)
		}
	}
	// The customer's 4 turns: two opening lines, two closing lines; the
	// agent's 3: two opening lines, one closing line (at most half).
	if tr.Segments[0].Text != "Hello, I need to know where my order is, it was due yesterday." ||
		tr.Segments[6].Text != "That's all, goodbye." ||
		tr.Segments[5].Text != "Is there anything else I can do for you? Have a nice day!" {
		t.Errorf("lines: %q … %q, %q", tr.Segments[0].Text, tr.Segments[5].Text, tr.Segments[6].Text)
	}
	again, _ := SimTranscriber{}.Transcribe(context.Background(), bytes.NewReader(simRecording(t, 13*time.Second)), "audio/wav", "")
	for i := range again.Segments {
		if again.Segments[i] != tr.Segments[i] {
			t.Fatalf("the same recording transcribed twice differs at %d: %+v vs %+v", i, again.Segments[i], tr.Segments[i])
		}
	}
	r := Analyse(tr)
	if !strings.HasPrefix(r.Summary, "Customer: Hello, I need to know where my order is") || !strings.Contains(r.Summary, "Agent: Is there anything else") {
		t.Errorf("summary %q", r.Summary)
	}
}

func TestSimTranscriberOnATwoChannelRecording(t *testing.T) {
	type span = struct {
		side       int
		start, end float64
	}
	rec := stereoRecording(9, span{audio.Right, 0, 2}, span{audio.Left, 2, 5}, span{audio.Right, 6, 8})
	tr, err := SimTranscriber{}.Transcribe(context.Background(), bytes.NewReader(rec), "audio/wav", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []switchboard.TranscriptSegment{seg(agent, 0, 2, ""), seg(cust, 2, 5, ""), seg(agent, 6, 8, "")}
	if len(tr.Segments) != len(want) || tr.Duration != 9 {
		t.Fatalf("transcript %+v, want %d segments over 9 s", tr, len(want))
	}
	for i, w := range want {
		s := tr.Segments[i]
		if s.Speaker != w.Speaker || s.Start != w.Start || s.End != w.End {
			t.Errorf("segment %d = %+v, want %+v", i, s, w)
		}
	}
	// 9 s modulo 3 picks the billing script; the agent speaks first.
	if tr.Segments[0].Text != "Thank you for calling, this is Sam. How can I help you today?" {
		t.Errorf("the agent's first line %q", tr.Segments[0].Text)
	}
}

func TestSimTranscriberRefusesWhatIsNotAWAV(t *testing.T) {
	if _, err := (SimTranscriber{}).Transcribe(context.Background(), strings.NewReader("ID3 an mp3"), "audio/mpeg", ""); err == nil {
		t.Fatal("an mp3 was transcribed")
	}
}
