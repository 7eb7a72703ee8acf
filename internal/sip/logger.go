package sip

import (
	"context"
	"log/slog"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// quietHandler is the log handler sipgo's transport layer gets. sipgo logs a
// packet it cannot parse whole, at ERROR, so a stranger's garbage datagrams
// would otherwise write lines of tens of kilobytes as fast as they are sent.
// It cuts long strings to maxAttr bytes and lets through at most a few
// records a second, counting the rest in the next record let through.
type quietHandler struct {
	h       slog.Handler
	limit   *rate.Limiter
	dropped *atomic.Int64
}

const maxAttr = 256

func newQuietLogger(log *slog.Logger) *slog.Logger {
	return slog.New(quietHandler{h: log.Handler(), limit: rate.NewLimiter(5, 20), dropped: &atomic.Int64{}})
}

func (q quietHandler) Enabled(ctx context.Context, l slog.Level) bool { return q.h.Enabled(ctx, l) }

func (q quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if !q.limit.Allow() {
		q.dropped.Add(1)
		return nil
	}
	out := slog.NewRecord(r.Time, r.Level, cut(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a.Value.Kind() == slog.KindString {
			a.Value = slog.StringValue(cut(a.Value.String()))
		}
		out.AddAttrs(a)
		return true
	})
	if n := q.dropped.Swap(0); n > 0 {
		out.AddAttrs(slog.Int64("records_dropped_before", n))
	}
	return q.h.Handle(ctx, out)
}

func (q quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{h: q.h.WithAttrs(as), limit: q.limit, dropped: q.dropped}
}

func (q quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h: q.h.WithGroup(name), limit: q.limit, dropped: q.dropped}
}

func cut(s string) string {
	if len(s) <= maxAttr {
		return s
	}
	return s[:maxAttr] + "…"
}
