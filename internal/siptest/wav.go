package siptest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// WAV is a decoded PCM WAV file: what a recording endpoint returned or a
// softphone wrote.
type WAV struct {
	SampleRate int
	Channels   int
	Bits       int
	// Samples holds each channel's samples scaled to [-1, 1].
	Samples [][]float64
}

// ParseWAV decodes a RIFF/WAVE file of 8- or 16-bit integer PCM. It reads
// the chunks in order and tolerates a data size larger than the file (a
// writer that never patched its header), taking what is there.
func ParseWAV(b []byte) (*WAV, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, errors.New("siptest: not a RIFF/WAVE file")
	}
	w := &WAV{}
	var data []byte
	haveFmt := false
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8:]
		if size > len(body) || size < 0 {
			size = len(body)
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, errors.New("siptest: short fmt chunk")
			}
			format := binary.LittleEndian.Uint16(body[0:])
			if format != 1 && format != 0xfffe {
				return nil, fmt.Errorf("siptest: WAV format %d is not PCM", format)
			}
			w.Channels = int(binary.LittleEndian.Uint16(body[2:]))
			w.SampleRate = int(binary.LittleEndian.Uint32(body[4:]))
			w.Bits = int(binary.LittleEndian.Uint16(body[14:]))
			haveFmt = true
		case "data":
			data = body
		}
		p += 8 + size + size%2
	}
	if !haveFmt || data == nil {
		return nil, errors.New("siptest: WAV lacks a fmt or data chunk")
	}
	if w.Channels < 1 || w.SampleRate < 1 || (w.Bits != 8 && w.Bits != 16) {
		return nil, fmt.Errorf("siptest: unsupported WAV: %d channels, %d Hz, %d bits", w.Channels, w.SampleRate, w.Bits)
	}
	frame := w.Channels * w.Bits / 8
	n := len(data) / frame
	w.Samples = make([][]float64, w.Channels)
	for c := range w.Samples {
		w.Samples[c] = make([]float64, n)
	}
	for i := range n {
		for c := range w.Channels {
			off := i*frame + c*w.Bits/8
			if w.Bits == 16 {
				w.Samples[c][i] = float64(int16(binary.LittleEndian.Uint16(data[off:]))) / 32768
			} else {
				w.Samples[c][i] = (float64(data[off]) - 128) / 128
			}
		}
	}
	return w, nil
}

// Duration is the length of the audio.
func (w *WAV) Duration() time.Duration {
	if len(w.Samples) == 0 {
		return 0
	}
	return time.Duration(len(w.Samples[0])) * time.Second / time.Duration(w.SampleRate)
}

// Span is a stretch of a channel, from From for Length (0: to the end).
type Span struct{ From, Length time.Duration }

func (w *WAV) span(ch int, s Span) []float64 {
	x := w.Samples[ch]
	lo := int(s.From * time.Duration(w.SampleRate) / time.Second)
	hi := len(x)
	if s.Length > 0 {
		hi = min(hi, lo+int(s.Length*time.Duration(w.SampleRate)/time.Second))
	}
	if lo >= hi {
		return nil
	}
	return x[lo:hi]
}

// RMS is the root-mean-square level of a channel over a span, 0 to 1
// (a full-scale sine is 0.707).
func (w *WAV) RMS(ch int, s Span) float64 {
	x := w.span(ch, s)
	if len(x) == 0 {
		return 0
	}
	var sum float64
	for _, v := range x {
		sum += v * v
	}
	return math.Sqrt(sum / float64(len(x)))
}

// ToneLevel is the amplitude of the hz component of a channel over a span,
// by the Goertzel algorithm: about the sine's peak amplitude when the tone is
// there and near 0 when it is not, whatever else the channel carries.
func (w *WAV) ToneLevel(ch int, hz float64, s Span) float64 {
	return goertzel(w.span(ch, s), hz, w.SampleRate)
}

// goertzel is the amplitude of the hz component of x.
func goertzel(x []float64, hz float64, rate int) float64 {
	if len(x) == 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*hz/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s0 := v + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(math.Max(power, 0)) / float64(len(x))
}

// ToneLevelWindowed is ToneLevel averaged over consecutive windows of the
// span, each analysed on its own: a tone whose phase jumps between windows
// (a recorder that places frames by arrival, a relay that restarts a
// stream) still counts fully, where one Goertzel over the whole span would
// let the pieces cancel.
func (w *WAV) ToneLevelWindowed(ch int, hz float64, s Span, window time.Duration) float64 {
	x := w.span(ch, s)
	n := int(window * time.Duration(w.SampleRate) / time.Second)
	if n < 1 || len(x) < n {
		return w.ToneLevel(ch, hz, s)
	}
	var sum float64
	count := 0
	for i := 0; i+n <= len(x); i += n {
		sum += goertzel(x[i:i+n], hz, w.SampleRate)
		count++
	}
	return sum / float64(count)
}

// ActiveFraction is the share of 20 ms windows of a channel whose RMS is
// above threshold: near 1 for a channel carrying a tone throughout, near 0
// for silence, in between for a channel that went quiet part of the time
// (hold, a gap in the relay).
func (w *WAV) ActiveFraction(ch int, threshold float64) float64 {
	win := w.SampleRate / 50
	x := w.Samples[ch]
	if len(x) < win {
		return 0
	}
	active, total := 0, 0
	for i := 0; i+win <= len(x); i += win {
		var sum float64
		for _, v := range x[i : i+win] {
			sum += v * v
		}
		if math.Sqrt(sum/float64(win)) > threshold {
			active++
		}
		total++
	}
	return float64(active) / float64(total)
}

// DominantHz is the frequency, in 10 Hz steps from 100 Hz to 3.4 kHz, with
// the most energy in a channel over a span: what a failure message names
// when a channel carries the wrong party.
func (w *WAV) DominantHz(ch int, s Span) float64 {
	best, bestLevel := 0.0, 0.0
	for hz := 100.0; hz <= 3400; hz += 10 {
		if l := w.ToneLevel(ch, hz, s); l > bestLevel {
			best, bestLevel = hz, l
		}
	}
	return best
}
