package sip

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/internal/engine"
)

// Hang-up causes cross three vocabularies: SIP status codes on the wire,
// the engine's causes (free text with a few constants), and the ISDN Q.850
// cause values carriers and CDR tools expect. The driver maps SIP to Q.850
// as RFC 3398 does, honours a Reason: Q.850 header when the far end sends
// one, and writes both into the cause the engine records, e.g.
// "busy (SIP 486 Busy Here, Q.850 17)".

// q850ForStatus is RFC 3398 section 8.2.6.1's table.
var q850ForStatus = map[int]int{
	400: 41, 401: 21, 402: 21, 403: 21, 404: 1, 405: 63, 406: 79, 407: 21, 408: 102, 410: 22,
	413: 127, 414: 127, 415: 79, 416: 127, 420: 127, 421: 127, 423: 127, 480: 18, 481: 41,
	482: 25, 483: 25, 484: 28, 485: 1, 486: 17, 487: 16, 488: 65, 500: 41, 501: 79, 502: 38,
	503: 41, 504: 102, 505: 127, 513: 127, 600: 17, 603: 21, 604: 1, 606: 58,
}

// eventFor is the leg event of a final refusal.
func eventFor(status int) engine.LegEventType {
	switch status {
	case 486, 600, 603:
		return engine.LegBusy
	case 408, 480, 487:
		return engine.LegNoAnswer
	}
	return engine.LegFailed
}

// describe is the engine cause of a refusal with status and reason, with
// q850 from the far end's Reason header when it sent one.
func describe(status int, reason, q850 string) string {
	what := map[engine.LegEventType]string{engine.LegBusy: "busy", engine.LegNoAnswer: "no answer"}[eventFor(status)]
	if what == "" {
		what = "failed"
	}
	if q850 == "" {
		if q, ok := q850ForStatus[status]; ok {
			q850 = strconv.Itoa(q)
		} else {
			q850 = "127"
		}
	}
	return fmt.Sprintf("%s (SIP %d %s, Q.850 %s)", what, status, reason, q850)
}

// reasonQ850 is the cause value of a Reason: Q.850;cause=N header, or "".
func reasonQ850(res *sip.Response) string {
	for _, h := range res.GetHeaders("Reason") {
		v := h.Value()
		if !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(v)), "Q.850") {
			continue
		}
		for _, p := range strings.Split(v, ";") {
			if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "cause") {
				if _, err := strconv.Atoi(val); err == nil {
					return val
				}
			}
		}
	}
	return ""
}

// statusFor is the final response refusing an inbound call the engine ended
// before answering it, by the engine's cause.
func statusFor(cause string) (int, string) {
	c := strings.ToLower(cause)
	switch {
	case strings.HasPrefix(c, "no route"):
		return 404, "Not Found"
	case strings.Contains(c, "busy"), strings.Contains(c, "queue full"):
		return 486, "Busy Here"
	case strings.Contains(c, "unavailable") && strings.Contains(c, "temporarily"):
		return 503, "Service Unavailable"
	case strings.Contains(c, "not available"), strings.Contains(c, "no agent"), c == switchboard.CauseQueueTimeout:
		return 480, "Temporarily Unavailable"
	}
	return 603, "Decline"
}

// reasonHeader carries the engine's cause to the far end as RFC 3326's
// Reason header, with its Q.850 value.
func reasonHeader(cause string) sip.Header {
	status, _ := statusFor(cause)
	q := q850ForStatus[status]
	text := strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, cause)
	if len(text) > 100 {
		text = text[:100]
	}
	return sip.NewHeader("Reason", fmt.Sprintf("Q.850;cause=%d;text=%q", q, text))
}
