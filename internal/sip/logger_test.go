package sip

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestGarbageCannotFloodTheLog logs what sipgo logs for an unparsable
// packet, 1,000 times from 8 goroutines, with 50 kB of data each: the log
// keeps a burst of short lines and says how many it dropped.
func TestGarbageCannotFloodTheLog(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := newQuietLogger(slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil)))
	garbage := strings.Repeat("\x00A", 25000)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 125 {
				log.Error("failed to parse", "data", garbage, "error", "bad start line")
			}
		}()
	}
	wg.Wait()
	time.Sleep(250 * time.Millisecond) // a token comes back (5 a second)
	log.Error("after the flood")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) > 40 || buf.Len() > 40*1024 {
		t.Fatalf("%d lines, %d bytes logged for 1,000 garbage packets", len(lines), buf.Len())
	}
	for _, l := range lines {
		if len(l) > 4*maxAttr+200 { // escaping may quadruple a cut string
			t.Fatalf("a line of %d bytes: %.120q…", len(l), l)
		}
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "records_dropped_before=") || !strings.Contains(last, "after the flood") {
		t.Errorf("the last line %q", last)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
