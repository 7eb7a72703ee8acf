package native

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/csvsafe"
	"switchboard/internal/httpapi"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// pagedExportCDRs is the CDR export as it was before it streamed from one
// read: pages of MaxPageLimit records through Store.CDRs, written through
// csvsafe.Writer. The streaming export must match it byte for byte.
func (a *API) pagedExportCDRs(w http.ResponseWriter, r *http.Request, c *call) {
	f, err := c.cdrFilter()
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	opt := switchboard.ListOptions{Limit: switchboard.MaxPageLimit}
	page, err := a.opt.Store.CDRs(r.Context(), c.tenantID(), f, opt)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	optID := func(id *int64) string {
		if id == nil {
			return ""
		}
		return strconv.FormatInt(*id, 10)
	}
	optTime := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.RFC3339Nano)
	}
	secs := func(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="cdrs.csv"`)
	cw := csvsafe.NewWriter(w)
	cw.Write(exportColumns)
	for {
		for _, d := range page.Items {
			cw.Write([]string{strconv.FormatInt(d.ID, 10), d.UUID, string(d.Direction), string(d.Status), string(d.Disposition),
				d.From, d.To, optID(d.QueueID), optID(d.AgentID), d.CreatedAt.Format(time.RFC3339Nano), optTime(d.ConnectedAt),
				optTime(d.EndedAt), secs(d.WaitSeconds), secs(d.RingSeconds), secs(d.TalkSeconds), secs(d.TotalSeconds),
				string(d.HangupBy), d.HangupCause})
		}
		cw.Flush()
		if page.NextCursor == "" || cw.Error() != nil {
			return
		}
		opt.Cursor = page.NextCursor
		if page, err = a.opt.Store.CDRs(r.Context(), c.tenantID(), f, opt); err != nil {
			panic(http.ErrAbortHandler)
		}
	}
}

// TestCDRExportMatchesPagedExport shows that the streaming CDR export writes
// exactly the bytes the paged one wrote, on every engine, with and without
// filters, open calls included or not.
func TestCDRExportMatchesPagedExport(t *testing.T) {
	for name, url := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store := sqlstoretest.Open(t, url(t), sqlstore.Options{})
			f := newFixture(t, store, "export")
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			api := New(Options{Store: store, Auth: httpapi.NewAuthenticator(store, time.Second, log), Limiter: httpapi.NewRateLimiter(0, 1),
				AdminToken: "admin-secret", Log: log})
			srv := httptest.NewServer(api)
			t.Cleanup(srv.Close)
			// The reference answers on a server of its own, for the fixture's
			// tenant.
			ref := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				api.pagedExportCDRs(w, r, &call{r: r, principal: httpapi.Principal{Tenant: f.tenant}})
			}))
			t.Cleanup(ref.Close)
			start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			agent, queue := f.user, f.queue
			tricky := []string{"=1+2", "a,\"b\"\nc", "+cmd|' /C calc'!A0", " lead", "@SUM(A1)", "-2+3", "+390112121212"}
			for i := range 2300 {
				created := start.Add(time.Duration(i)*time.Minute + time.Duration(i)*time.Microsecond)
				c := switchboard.Call{TenantID: f.tenant.ID, Direction: switchboard.Inbound, Status: switchboard.CallFinished,
					From: tricky[i%len(tricky)], To: fmt.Sprintf("+3902%07d", i%37), CreatedAt: created,
					Disposition: switchboard.DispositionAnswered, HangupBy: switchboard.SideCaller, HangupCause: tricky[(i+2)%len(tricky)]}
				if i%3 == 0 {
					c.Direction, c.AgentID, c.QueueID = switchboard.Outbound, &agent, &queue
				}
				if i%4 != 0 {
					q, ring := created.Add(time.Second), created.Add(1500*time.Millisecond)
					c.QueuedAt, c.RingingAt = &q, &ring
				}
				if i%5 != 0 {
					conn := created.Add(3*time.Second + 123456*time.Microsecond)
					c.ConnectedAt = &conn
				}
				if i%9 != 0 {
					end := created.Add(time.Duration(40+i%300) * time.Second)
					c.EndedAt = &end
				}
				if _, err := store.SaveCall(ctx, c, "created"); err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range []string{"", "?include_open=true", "?direction=outbound", "?number_contains=%2C", "?since=2026-11-01T10:00:00Z&until=2026-11-02T00:00:00Z"} {
				got, want := get(t, srv.URL+"/v1/cdrs/export"+q, f.key), get(t, ref.URL+"/v1/cdrs/export"+q, f.key)
				if got != want {
					gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
					for i := range min(len(gl), len(wl)) {
						if gl[i] != wl[i] {
							t.Fatalf("%s: line %d differs:\n got %q\nwant %q", q, i, gl[i], wl[i])
						}
					}
					t.Fatalf("%s: %d lines, want %d", q, len(gl), len(wl))
				}
				if strings.Count(want, "\n") < 10 {
					t.Fatalf("%s: the export holds too few records to show anything:\n%s", q, want)
				}
			}
		})
	}
}

func get(t *testing.T, url, key string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("GET %s: %d %v %s", url, res.StatusCode, err, b)
	}
	return string(b)
}
