package native

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"switchboard"
)

// streamEvents serves the event log as Server-Sent Events: each event's id is
// its sequence number, so a client that reconnects with Last-Event-ID resumes
// exactly where it stopped.
func (a *API) streamEvents(w http.ResponseWriter, r *http.Request, c *call) {
	after, err := c.queryInt("after_seq")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil {
			a.writeError(w, r, badParam("Last-Event-ID", "must be the sequence number of an event"))
			return
		}
	}
	filter := switchboard.Webhook{}
	for _, t := range strings.Split(r.URL.Query().Get("types"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			filter.EventTypes = append(filter.EventTypes, t)
		}
	}
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{}) // a stream outlives the server's request timeouts
	rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 2000\n\n")
	rc.Flush()

	wake, stop := a.opt.Store.Changes()
	defer stop()
	poll := time.NewTicker(2 * time.Second)
	defer poll.Stop()
	idle := time.Now()
	ctx := r.Context()
	for {
		evs, err := a.opt.Store.Events(ctx, c.tenantID(), after, 500)
		if err != nil {
			if ctx.Err() == nil {
				a.opt.Log.Error("event stream", "tenant_id", c.tenantID(), "err", err)
			}
			return
		}
		for _, e := range evs {
			after = e.Seq
			if !filter.Matches(e.Type) {
				continue
			}
			data, _ := json.Marshal(e)
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Type, data)
		}
		if len(evs) > 0 {
			if rc.Flush() != nil {
				return
			}
			idle = time.Now()
		}
		if len(evs) == 500 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-poll.C:
			if time.Since(idle) > 15*time.Second {
				// A comment keeps proxies from closing an idle stream.
				fmt.Fprint(w, ": keepalive\n\n")
				if rc.Flush() != nil {
					return
				}
				idle = time.Now()
			}
		}
	}
}

// handleStream registers a route that writes its own response.
func handleStream(a *API, rt route, serve func(http.ResponseWriter, *http.Request, *call)) {
	rt.Stream = true
	a.add(&rt, reflect.TypeFor[noBody](), reflect.TypeFor[noContent](), serve)
}
