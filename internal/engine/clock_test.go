package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestVirtualClockOrder(t *testing.T) {
	c := NewVirtualClock(t0)
	var log []string
	at := func(name string) func() {
		return func() { log = append(log, fmt.Sprintf("%s@%s", name, c.Now().Sub(t0))) }
	}
	c.AfterFunc(3*time.Second, at("c"))
	c.AfterFunc(time.Second, at("a"))
	c.AfterFunc(time.Second, at("b")) // same instant: after a, which was set first
	stopped := c.AfterFunc(2*time.Second, at("never"))
	c.AfterFunc(2*time.Second, func() {
		log = append(log, "chain@2s")
		c.AfterFunc(500*time.Millisecond, at("chained")) // set by a timer, due inside the window
	})
	if !stopped.Stop() || stopped.Stop() {
		t.Errorf("Stop should report true once, then false")
	}
	c.Advance(2500 * time.Millisecond)
	if got := strings.Join(log, " "); got != "a@1s b@1s chain@2s chained@2.5s" {
		t.Errorf("fired %q", got)
	}
	if c.Now() != t0.Add(2500*time.Millisecond) || c.Pending() != 1 {
		t.Errorf("now %v pending %d", c.Now(), c.Pending())
	}
	if !c.Step() || c.Now() != t0.Add(3*time.Second) || c.Step() {
		t.Errorf("Step should fire c at 3s and then report nothing left")
	}
	c.AfterFunc(-time.Second, at("past"))
	c.Advance(0)
	if !strings.HasSuffix(strings.Join(log, " "), "past@3s") {
		t.Errorf("a timer set in the past fires at the next Advance, now: %v", log)
	}
}
