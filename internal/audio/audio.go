// Package audio is the telephony audio that is not SIP: G.711 frames, the
// prompts and hold music played to callers (WAV files, or tones generated
// when none is given), and two-channel call recordings. The SIP driver moves
// these bytes over RTP; nothing here touches the network.
//
// Everything is 8 kHz, 16-bit linear PCM inside, the rate of G.711, so a
// prompt is encoded once per codec and a recording needs no resampling.
package audio

import (
	"encoding/binary"
	"fmt"

	"github.com/zaf/g711"
)

// Rate is the sample rate of every signal here, G.711's.
const Rate = 8000

// FrameSamples is the samples in one 20 ms RTP frame, the packetization
// every phone and carrier accepts for G.711.
const FrameSamples = Rate / 50

// Codec is a G.711 law.
type Codec int

// The codecs, numbered by their static RTP payload types.
const (
	PCMU Codec = 0 // µ-law, North America and Japan
	PCMA Codec = 8 // A-law, the rest of the world
)

func (c Codec) String() string {
	if c == PCMA {
		return "PCMA"
	}
	return "PCMU"
}

// Decode appends the linear samples of the G.711 frame b to dst.
func (c Codec) Decode(dst []int16, b []byte) []int16 {
	for _, v := range b {
		if c == PCMA {
			dst = append(dst, g711.DecodeAlawFrame(v))
		} else {
			dst = append(dst, g711.DecodeUlawFrame(v))
		}
	}
	return dst
}

// Encode appends the G.711 encoding of samples to dst.
func (c Codec) Encode(dst []byte, samples []int16) []byte {
	for _, s := range samples {
		if c == PCMA {
			dst = append(dst, g711.EncodeAlawFrame(s))
		} else {
			dst = append(dst, g711.EncodeUlawFrame(s))
		}
	}
	return dst
}

// Transcode appends frame b, encoded in from, to dst encoded in to: a bridge
// between a µ-law phone and an A-law carrier.
func Transcode(dst, b []byte, from, to Codec) []byte {
	switch {
	case from == to:
		return append(dst, b...)
	case from == PCMA:
		for _, v := range b {
			dst = append(dst, g711.Alaw2UlawFrame(v))
		}
	default:
		for _, v := range b {
			dst = append(dst, g711.Ulaw2AlawFrame(v))
		}
	}
	return dst
}

// wavHeader is the 44-byte header of a canonical PCM WAV file holding
// dataBytes of 16-bit samples at Rate.
func wavHeader(channels int, dataBytes uint32) []byte {
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36+dataBytes)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // linear PCM
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], Rate)
	binary.LittleEndian.PutUint32(h[28:], uint32(Rate*2*channels))
	binary.LittleEndian.PutUint16(h[32:], uint16(2*channels))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], dataBytes)
	return h
}

// WAVHeaderSize is the size of the header every WAV file written here has.
const WAVHeaderSize = 44

// StereoHeader is the header of a two-channel recording with dataBytes of
// samples: what a reader of a recording still being written gets in front
// of the bytes written so far.
func StereoHeader(dataBytes int64) []byte {
	if dataBytes < 0 || dataBytes > 1<<32-64 {
		panic(fmt.Sprintf("audio: a WAV data chunk of %d bytes", dataBytes))
	}
	return wavHeader(2, uint32(dataBytes))
}
