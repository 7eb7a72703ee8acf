package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Prompt is audio played to a caller: a greeting, a menu, hold music. It
// keeps the samples and their G.711 encodings, made once, so that playing it
// to a thousand callers costs a copy per frame.
type Prompt struct {
	Name    string
	samples []int16
	enc     map[Codec][]byte
}

// NewPrompt makes a prompt of linear samples at Rate, padded with silence to
// whole frames.
func NewPrompt(name string, samples []int16) *Prompt {
	if r := len(samples) % FrameSamples; r != 0 || len(samples) == 0 {
		samples = append(samples, make([]int16, FrameSamples-r)...)
	}
	p := &Prompt{Name: name, samples: samples, enc: map[Codec][]byte{}}
	for _, c := range []Codec{PCMU, PCMA} {
		p.enc[c] = c.Encode(make([]byte, 0, len(samples)), samples)
	}
	return p
}

// Frames is how many 20 ms frames the prompt lasts.
func (p *Prompt) Frames() int { return len(p.samples) / FrameSamples }

// Frame is the i-th 20 ms frame (modulo the prompt's length, so music loops)
// encoded in c.
func (p *Prompt) Frame(c Codec, i int) []byte {
	i %= p.Frames()
	return p.enc[c][i*FrameSamples : (i+1)*FrameSamples]
}

// ReadWAVFile loads a prompt from a WAV file of 16-bit PCM at 8 kHz, mono or
// stereo (mixed down). Other formats are refused with what to convert to:
// resampling belongs to a tool made for it (sox in.wav -r 8000 -c 1 -b 16
// out.wav).
func ReadWAVFile(name, path string) (*Prompt, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read prompt %s: %w", name, err)
	}
	p, err := ReadWAV(name, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("prompt %s (%s): %w", name, path, err)
	}
	return p, nil
}

// ReadWAV loads a prompt from a WAV stream (see ReadWAVFile).
func ReadWAV(name string, r io.Reader) (*Prompt, error) {
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil || string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return nil, errors.New("not a RIFF WAVE file")
	}
	var channels, bits uint16
	var rate uint32
	var format uint16
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, errors.New("no data chunk")
		}
		size := binary.LittleEndian.Uint32(hdr[4:])
		switch string(hdr[0:4]) {
		case "fmt ":
			if size < 16 || size > 1<<16 {
				return nil, errors.New("bad fmt chunk")
			}
			b := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, errors.New("short fmt chunk")
			}
			format, channels = binary.LittleEndian.Uint16(b[0:]), binary.LittleEndian.Uint16(b[2:])
			rate, bits = binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint16(b[14:])
		case "data":
			if format != 1 || bits != 16 || rate != Rate || channels < 1 || channels > 2 {
				return nil, fmt.Errorf("is %d Hz, %d-bit, %d channel(s), format %d; prompts must be 8000 Hz 16-bit PCM (sox in.wav -r 8000 -c 1 -b 16 out.wav)",
					rate, bits, channels, format)
			}
			const maxBytes = 64 << 20 // over an hour of mono audio
			data, err := io.ReadAll(io.LimitReader(r, min(int64(size), maxBytes)))
			if err != nil {
				return nil, fmt.Errorf("read data: %w", err)
			}
			n := len(data) / 2 / int(channels)
			samples := make([]int16, n)
			for i := range n {
				var sum int32
				for c := range int(channels) {
					sum += int32(int16(binary.LittleEndian.Uint16(data[2*(i*int(channels)+c):])))
				}
				samples[i] = int16(sum / int32(channels))
			}
			if n == 0 {
				return nil, errors.New("holds no samples")
			}
			return NewPrompt(name, samples), nil
		default:
			if _, err := io.CopyN(io.Discard, r, int64(size+size%2)); err != nil {
				return nil, errors.New("truncated chunk")
			}
		}
	}
}

// tone appends d seconds of the sum of freqs (Hz) at amplitude amp to s,
// with 10 ms ramps so that the tone starts and stops without clicks.
func tone(s []int16, d float64, amp float64, freqs ...float64) []int16 {
	n := int(d * Rate)
	ramp := Rate / 100
	for i := range n {
		var v float64
		for _, f := range freqs {
			v += math.Sin(2 * math.Pi * f * float64(i) / Rate)
		}
		g := 1.0
		if i < ramp {
			g = float64(i) / float64(ramp)
		} else if n-i < ramp {
			g = float64(n-i) / float64(ramp)
		}
		s = append(s, int16(amp*g*v/float64(len(freqs))))
	}
	return s
}

func silence(s []int16, d float64) []int16 { return append(s, make([]int16, int(d*Rate))...) }

// HoldMusic is the generated music on hold used when no file is configured:
// a slow four-chord arpeggio, quiet enough not to tire, so a caller knows
// the line is alive.
func HoldMusic() *Prompt {
	var s []int16
	chords := [][]float64{{261.63, 329.63, 392.00}, {220.00, 261.63, 329.63}, {174.61, 220.00, 261.63}, {196.00, 246.94, 293.66}}
	for _, ch := range chords {
		for _, f := range ch {
			s = tone(s, 0.45, 6000, f, f*2)
			s = silence(s, 0.05)
		}
		s = tone(s, 0.9, 5000, ch...)
		s = silence(s, 0.1)
	}
	return NewPrompt("moh:default", s)
}

// Ringback is the North American ringback (440 + 480 Hz, 2 s on, 4 s off),
// played to a caller while a transfer rings its target.
func Ringback() *Prompt {
	s := tone(nil, 2, 7000, 440, 480)
	return NewPrompt("ringback", silence(s, 4))
}

// Beep is the default prompt for a menu without its own recording: two short
// beeps, then silence while the caller keys a digit.
func Beep() *Prompt {
	s := tone(nil, 0.2, 8000, 880)
	s = silence(s, 0.1)
	s = tone(s, 0.2, 8000, 880)
	return NewPrompt("prompt:default", silence(s, 0.5))
}
