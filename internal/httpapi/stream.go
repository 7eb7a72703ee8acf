package httpapi

import (
	"bufio"
	"net/http"
)

// StreamBuffer is the buffer of an export's body: large enough that a
// response of millions of rows reaches the connection in few, large writes,
// each of which the client sees at once (a progress of 64 KiB at a time).
const StreamBuffer = 64 << 10

// Stream is the body of a long export (a CSV of every call record): buffered,
// with its headers sent only with its first bytes, so that a failure before
// anything reached the client can still be answered with an error, and one
// after can be made visible as a cut connection rather than as a body that
// looks complete.
type Stream struct {
	w      http.ResponseWriter
	buf    *bufio.Writer
	header func(http.Header)
	sent   bool
}

// NewStream returns the body of w; header sets its headers (content type,
// file name, trailers) before the first bytes go out.
func NewStream(w http.ResponseWriter, header func(http.Header)) *Stream {
	s := &Stream{w: w, header: header}
	s.buf = bufio.NewWriterSize(streamWriter{s}, StreamBuffer)
	return s
}

// streamWriter sends the headers before the first bytes.
type streamWriter struct{ s *Stream }

func (sw streamWriter) Write(p []byte) (int, error) {
	if !sw.s.sent {
		sw.s.sent = true
		sw.s.header(sw.s.w.Header())
	}
	return sw.s.w.Write(p)
}

// Buffer is the buffered writer of the body; exports append to it directly.
func (s *Stream) Buffer() *bufio.Writer { return s.buf }

// Sent reports whether any byte, and so the status and headers, went out.
func (s *Stream) Sent() bool { return s.sent }

// Finish sends what is buffered (the headers, for an empty body): the body
// ends as it should.
func (s *Stream) Finish() error {
	if !s.sent {
		s.sent = true
		s.header(s.w.Header())
		s.w.WriteHeader(http.StatusOK)
	}
	return s.buf.Flush()
}

// Abort ends the handler by cutting the connection (http.ErrAbortHandler),
// so that a client of a body whose status is out sees an error, never a
// truncated export that ends as a complete one would. Only call it once the
// body was Sent; before, answer with an error instead.
func (s *Stream) Abort() {
	panic(http.ErrAbortHandler)
}
