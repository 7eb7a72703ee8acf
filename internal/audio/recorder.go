package audio

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"time"
)

// Channels of a recording: the customer on the left, the agent on the
// right, so that quality reviewers can listen to either side alone.
const (
	Left  = 0
	Right = 1
)

// jitter is how far behind the wall clock a recording is written: audio
// arriving later than this (a late packet burst) is placed after what was
// written, not at its time.
const jitter = Rate / 5 // 200 ms

// Recorder writes a two-channel WAV file of a call. Each side's audio is
// placed by when it arrived, not just appended: a side that sends nothing
// (hold, lost packets, silence suppression) is filled with silence, so both
// channels stay aligned and the file lasts as long as the recording ran.
type Recorder struct {
	now   func() time.Time
	start time.Time

	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	pending [2][]int16 // samples of each side not yet written, from base
	base    int64      // the sample index of pending[*][0]
	buf     []byte
	err     error
	closed  bool
}

// CreateRecorder starts a recording in a new file at path, timed by now.
func CreateRecorder(path string, now func() time.Time) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create recording: %w", err)
	}
	r := &Recorder{now: now, start: now(), f: f, w: bufio.NewWriterSize(f, 32<<10)}
	if _, err := r.w.Write(StereoHeader(0)); err != nil {
		f.Close()
		return nil, fmt.Errorf("create recording: %w", err)
	}
	return r, nil
}

// elapsed is the sample index of now.
func (r *Recorder) elapsed() int64 {
	return int64(r.now().Sub(r.start)) * Rate / int64(time.Second)
}

// Write records one frame that side (Left or Right) sent, encoded in c.
func (r *Recorder) Write(side int, c Codec, frame []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.err != nil {
		return
	}
	at := r.elapsed() - int64(len(frame)) // when this frame began
	p := &r.pending[side]
	if end := r.base + int64(len(*p)); end < at-FrameSamples {
		*p = append(*p, make([]int16, at-end)...)
	}
	*p = c.Decode(*p, frame)
	r.flush(r.elapsed() - jitter)
}

// flush writes both sides up to sample upTo, filling a side that has not
// reached it with silence. r.mu is held.
func (r *Recorder) flush(upTo int64) {
	for side := range r.pending {
		if end := r.base + int64(len(r.pending[side])); end < upTo {
			r.pending[side] = append(r.pending[side], make([]int16, upTo-end)...)
		}
	}
	n := min(len(r.pending[Left]), len(r.pending[Right]))
	if n == 0 {
		return
	}
	r.buf = r.buf[:0]
	for i := range n {
		r.buf = binary.LittleEndian.AppendUint16(r.buf, uint16(r.pending[Left][i]))
		r.buf = binary.LittleEndian.AppendUint16(r.buf, uint16(r.pending[Right][i]))
	}
	if _, err := r.w.Write(r.buf); err != nil && r.err == nil {
		r.err = fmt.Errorf("write recording: %w", err)
	}
	for side := range r.pending {
		r.pending[side] = append(r.pending[side][:0], r.pending[side][n:]...)
	}
	r.base += int64(n)
}

// Close ends the recording at the current time and completes the file's
// header. The first error met while recording is returned.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.err
	}
	r.closed = true
	end := r.elapsed()
	for _, p := range r.pending {
		end = max(end, r.base+int64(len(p)))
	}
	r.flush(end)
	if err := r.w.Flush(); err != nil && r.err == nil {
		r.err = fmt.Errorf("write recording: %w", err)
	}
	if r.err == nil {
		if _, err := r.f.WriteAt(StereoHeader(r.base*4), 0); err != nil {
			r.err = fmt.Errorf("finish recording: %w", err)
		}
	}
	if err := r.f.Close(); err != nil && r.err == nil {
		r.err = fmt.Errorf("finish recording: %w", err)
	}
	return r.err
}
