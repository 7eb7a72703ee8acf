package sim

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"
)

// The simulated telephony records the way the real one will, as 8 kHz, 16-bit
// mono PCM WAV, but synthesizes the audio: the two parties take turns every two
// seconds, the customer as a 440 Hz tone and the agent as 660 Hz, for as long as
// the call was connected. So a recording URL always works and has the call's
// true length.

// RecordingRate is the sample rate of recordings.
const RecordingRate = 8000

// MaxRecording caps a synthesized recording.
const MaxRecording = 4 * time.Hour

// RecordingSize is the size in bytes of the WAV file for talk.
func RecordingSize(talk time.Duration) int64 {
	return 44 + 2*samples(talk)
}

func samples(talk time.Duration) int64 {
	return int64(min(max(talk, 0), MaxRecording).Seconds() * RecordingRate)
}

// WriteRecording writes the WAV recording of a call connected for talk.
func WriteRecording(w io.Writer, talk time.Duration) error {
	n := samples(talk)
	header := make([]byte, 44)
	copy(header[0:], "RIFF")
	binary.LittleEndian.PutUint32(header[4:], uint32(36+2*n))
	copy(header[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(header[16:], 16) // PCM format chunk
	binary.LittleEndian.PutUint16(header[20:], 1)  // linear PCM
	binary.LittleEndian.PutUint16(header[22:], 1)  // mono
	binary.LittleEndian.PutUint32(header[24:], RecordingRate)
	binary.LittleEndian.PutUint32(header[28:], RecordingRate*2)
	binary.LittleEndian.PutUint16(header[32:], 2)
	binary.LittleEndian.PutUint16(header[34:], 16)
	copy(header[36:], "data")
	binary.LittleEndian.PutUint32(header[40:], uint32(2*n))
	if _, err := w.Write(header); err != nil {
		return fmt.Errorf("write recording: %w", err)
	}
	buf := make([]byte, 0, 2*RecordingRate)
	for i := int64(0); i < n; i++ {
		freq := 440.0
		if (i/(2*RecordingRate))%2 == 1 {
			freq = 660
		}
		v := int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/RecordingRate))
		buf = binary.LittleEndian.AppendUint16(buf, uint16(v))
		if len(buf) == cap(buf) || i == n-1 {
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("write recording: %w", err)
			}
			buf = buf[:0]
		}
	}
	return nil
}
