package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Health answers GET /healthz: the process is up and serving, whatever its
// database does, so that a supervisor restarts only a server that is stuck.
func Health(version string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": version})
	})
}

// ReadyCheck is one condition of readiness: Check fails while it does not
// hold, and Reason is what /readyz then says.
type ReadyCheck struct {
	Reason string
	Check  func(context.Context) error
}

// Ready answers GET /readyz: 503 with the reason of the first check that
// fails or takes more than two seconds (the database answers, the call
// service records its changes), so that a load balancer sends no traffic to
// a server that cannot serve it. The error is logged, not shown.
func Ready(log *slog.Logger, checks ...ReadyCheck) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		for _, c := range checks {
			if err := c.Check(ctx); err != nil {
				log.Warn("readiness check failed", "err", err)
				WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": c.Reason})
				return
			}
		}
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

// Serve serves the metrics as GET /metrics on ln, a listener of their own
// apart from the API, since they describe every tenant's traffic. With token
// set, a scraper must send it as a bearer token. It serves until the returned
// server is closed.
func (m *Metrics) Serve(ln net.Listener, token string, log *slog.Logger) *http.Server {
	metrics := m.Handler()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "a valid --metrics-token is required as a bearer token", http.StatusUnauthorized)
			return
		}
		metrics.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		// Lives until the caller closes srv.
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	return srv
}
