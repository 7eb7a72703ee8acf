package analytics

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// wavFormat is what a WAV header says of the samples after it.
type wavFormat struct {
	Rate     int
	Channels int
	// DataSize is the data chunk's length in bytes (what a recording still
	// being written says may be short of what follows).
	DataSize int64
}

// readWAVHeader reads r up to the start of its data chunk and says what the
// samples are. Only 16-bit linear PCM in one or two channels is read, which
// is what every driver records.
func readWAVHeader(r io.Reader) (wavFormat, error) {
	var f wavFormat
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil || string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return f, errors.New("not a RIFF WAVE file")
	}
	var format, bits uint16
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return f, errors.New("a WAV file without a data chunk")
		}
		size := binary.LittleEndian.Uint32(hdr[4:])
		switch string(hdr[0:4]) {
		case "fmt ":
			if size < 16 || size > 1<<16 {
				return f, errors.New("a bad WAV fmt chunk")
			}
			b := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, b); err != nil {
				return f, errors.New("a short WAV fmt chunk")
			}
			format, f.Channels = binary.LittleEndian.Uint16(b[0:]), int(binary.LittleEndian.Uint16(b[2:]))
			f.Rate, bits = int(binary.LittleEndian.Uint32(b[4:])), binary.LittleEndian.Uint16(b[14:])
		case "data":
			if format != 1 || bits != 16 || f.Channels < 1 || f.Channels > 2 || f.Rate < 1000 || f.Rate > 192000 {
				return f, fmt.Errorf("a WAV file of format %d, %d-bit, %d channel(s) at %d Hz; want 16-bit PCM, mono or stereo",
					format, bits, f.Channels, f.Rate)
			}
			f.DataSize = int64(size)
			return f, nil
		default:
			if _, err := io.CopyN(io.Discard, r, int64(size+size%2)); err != nil {
				return f, errors.New("a truncated WAV chunk")
			}
		}
	}
}

// frameReader reads the samples after a WAV header a frame (one sample per
// channel) at a time, buffered.
type frameReader struct {
	r        *bufio.Reader
	channels int
	left     int64 // bytes of the data chunk not read yet
	buf      [4]byte
}

func newFrameReader(r io.Reader, f wavFormat) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10), channels: f.Channels, left: f.DataSize}
}

// next reads one frame into out (len channels); false at the end.
func (fr *frameReader) next(out []int16) bool {
	n := 2 * fr.channels
	if fr.left < int64(n) {
		return false
	}
	if _, err := io.ReadFull(fr.r, fr.buf[:n]); err != nil {
		return false
	}
	fr.left -= int64(n)
	for c := range fr.channels {
		out[c] = int16(binary.LittleEndian.Uint16(fr.buf[2*c:]))
	}
	return true
}

// monoWAV writes, to w, a mono WAV file of channel ch of the stereo samples
// that r holds after its header: how one side of a two-channel recording
// goes to a transcription server alone.
func monoWAV(w io.Writer, r io.Reader, f wavFormat, ch int) error {
	frames := f.DataSize / int64(2*f.Channels)
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+2*frames))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1)
	binary.LittleEndian.PutUint16(h[22:], 1)
	binary.LittleEndian.PutUint32(h[24:], uint32(f.Rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(2*f.Rate))
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(2*frames))
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.Write(h); err != nil {
		return err
	}
	fr := newFrameReader(r, f)
	frame := make([]int16, f.Channels)
	var b [2]byte
	for written := int64(0); written < frames; written++ {
		// A recording shorter than its header says is padded with
		// silence, so that the file stays what its header claims.
		b = [2]byte{}
		if fr.next(frame) {
			binary.LittleEndian.PutUint16(b[:], uint16(frame[ch]))
		}
		if _, err := bw.Write(b[:]); err != nil {
			return err
		}
	}
	return bw.Flush()
}
