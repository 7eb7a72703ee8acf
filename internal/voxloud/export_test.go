package voxloud

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
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

// pagedStreamCSV is the export as it was before it streamed from one read:
// pages of 500 records through Store.CDRs, each rendered by telephonyEvents
// and written through csvsafe.Writer. It stays as the reference the streaming
// export must match byte for byte, and as the benchmark's baseline.
func (a *API) pagedStreamCSV(w http.ResponseWriter, r *http.Request, tenantID int64, f switchboard.CDRFilter) {
	ctx := r.Context()
	opt := switchboard.ListOptions{Limit: 500}
	p, err := a.opt.Store.CDRs(ctx, tenantID, f, opt)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("X-Total-Count", strconv.Itoa(p.Total))
	cw := csvsafe.NewWriter(w)
	cw.Write(csvColumns)
	for {
		evs, err := a.telephonyEvents(ctx, tenantID, p.Items)
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		for i, ev := range evs {
			bools := func(b *bool) string {
				if b == nil {
					return ""
				}
				return strconv.FormatBool(*b)
			}
			ints := func(n *int64) string {
				if n == nil {
					return ""
				}
				return strconv.FormatInt(*n, 10)
			}
			cw.Write([]string{strconv.FormatInt(ev.ID, 10), ev.Type, ev.AccountID, ev.Direction, springTime(p.Items[i].CreatedAt),
				ev.OriginatorName, ev.OriginatorNumber, ev.DestinationName, ev.DestinationNumber, ev.AnswererName,
				ev.AnswererNumber, ev.LastEvent, strconv.FormatInt(ev.Duration, 10), ints(ev.RingTime),
				ev.CallID, bools(ev.Recorded), ev.RecordingURL, bools(ev.Voicemail), ev.ContactCRM, ev.ContactCRMURL})
		}
		cw.Flush()
		if cw.Error() != nil || p.NextCursor == "" {
			return
		}
		opt.Cursor, opt.SkipTotal = p.NextCursor, true
		if p, err = a.opt.Store.CDRs(ctx, tenantID, f, opt); err != nil {
			panic(http.ErrAbortHandler)
		}
	}
}

// exportFixture is a tenant whose calls hold what the export must render
// exactly: agents and contacts with text spreadsheets would run, numbers with
// commas, quotes and line breaks, calls never answered, faxes, click-to-calls,
// voicemails, transfers, recordings, gone agents and calls still open.
type exportFixture struct {
	db     *sqlstore.DB
	tenant int64
	api    *API
	srv    *httptest.Server // the API, the streaming export
	paged  *httptest.Server // the paged export, for the same requests
	key    string
	start  time.Time
}

func newExportFixture(tb testing.TB, dbURL string, n, customers int) *exportFixture {
	tb.Helper()
	ctx := context.Background()
	db := sqlstoretest.Open(tb, dbURL, sqlstore.Options{})
	tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "export", Name: "Export"})
	if err != nil {
		tb.Fatal(err)
	}
	names := [][2]string{{"Anna", "Rossi"}, {"=HYPERLINK(\"x\")", "Evil"}, {"Bea", `"Quoted", Jr`}, {"Solo", ""},
		{"Line", "Break\nHere"}, {" Space", "First"}, {"+cmd|' /C calc'!A0", ""}}
	var agents []int64
	for i := range 20 {
		nm := names[i%len(names)]
		u, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: fmt.Sprintf("a%d@export.test", i), FirstName: nm[0],
			LastName: nm[1], Extension: fmt.Sprint(100 + i)})
		if err != nil {
			tb.Fatal(err)
		}
		agents = append(agents, u.ID)
	}
	customer := func(i int) string { return fmt.Sprintf("+39333%07d", i%customers) }
	for i := range min(customers, 300) {
		if i%3 != 0 {
			continue
		}
		nm := names[i%len(names)]
		c := switchboard.Contact{FirstName: nm[0], LastName: nm[1], PrimaryPhone: customer(i),
			CRMName: []string{"", "HubSpot", "=crm()", "a,b"}[i%4], CRMContactURL: []string{"", "https://crm.test/c?id=" + fmt.Sprint(i), "@url"}[i%3]}
		if _, err := db.CreateContact(ctx, tn.ID, c); err != nil {
			tb.Fatal(err)
		}
		if i%9 == 0 { // a second contact with the same number: the first one filed wins
			c.FirstName, c.CRMName = "Later", "Later CRM"
			if _, err := db.CreateContact(ctx, tn.ID, c); err != nil {
				tb.Fatal(err)
			}
		}
	}
	f := &exportFixture{db: db, tenant: tn.ID, start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	tricky := []string{"=1+2", "a,\"b\"\nc", "+cmd|' /C calc'!A0", " lead", "@SUM(A1)", "-2+3", "caf\u00e9\r"}
	insertCalls(tb, db, dbURL, n, func(i int) switchboard.Call {
		created := f.start.Add(time.Duration(i)*37*time.Second + time.Duration(i%1000)*time.Microsecond)
		c := switchboard.Call{TenantID: tn.ID, Direction: switchboard.Inbound, Status: switchboard.CallFinished,
			From: customer(i * 7), To: "+390112121212", CreatedAt: created, Disposition: switchboard.DispositionAnswered}
		if i%7 == 0 {
			c.Direction, c.From, c.To = switchboard.Outbound, "+390112121212", customer(i*7)
		}
		if i%23 == 0 {
			c.From = tricky[i%len(tricky)]
			c.To = tricky[(i+3)%len(tricky)]
		}
		switch {
		case i%5 == 0:
		case i%11 == 0:
			gone := int64(1 << 40) // an agent id no user has
			c.AgentID = &gone
		default:
			c.AgentID = &agents[i%len(agents)]
		}
		ringing := created.Add(time.Duration(1500+i%3000) * time.Millisecond)
		if i%6 != 1 {
			c.RingingAt = &ringing
		}
		ended := created.Add(time.Duration(20_000+i%400_000)*time.Millisecond + 499*time.Millisecond)
		if i%3 == 0 {
			c.Status, c.Disposition = switchboard.CallFailed, []switchboard.Disposition{switchboard.DispositionNoAnswer,
				switchboard.DispositionBusy, switchboard.DispositionAbandoned, switchboard.DispositionRejected,
				switchboard.DispositionMissed, switchboard.DispositionFailed, ""}[i%7]
		} else {
			connected := ringing.Add(2 * time.Second)
			c.ConnectedAt = &connected
		}
		if i%10 != 9 {
			c.EndedAt = &ended
		}
		if i%50 == 0 {
			c.Media, c.FaxPages = switchboard.MediaFax, 3
		}
		if i%13 == 0 {
			c.Source.System = SourceClickToCall
			if i%26 == 0 {
				c.ScheduledAt = &created
			}
		}
		if i%17 == 0 {
			c.Status = switchboard.CallVoicemail
		}
		if i%19 == 0 {
			c.HangupCause = "transferred"
		}
		c.Recorded = i%4 == 0
		return c
	})
	k, err := db.CreateAPIKey(ctx, tn.ID, switchboard.APIKey{Name: "export"})
	if err != nil {
		tb.Fatal(err)
	}
	f.key = k.Secret
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.api = New(Options{Store: db, Auth: httpapi.NewAuthenticator(db, time.Minute, log).AcceptHeaders(KeyHeader),
		Limiter: httpapi.NewRateLimiter(0, 0), Log: log, PublicURL: "https://sb.example/"})
	f.srv = httptest.NewServer(f.api)
	tb.Cleanup(f.srv.Close)
	f.paged = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in telephonyQuery
		json.NewDecoder(r.Body).Decode(&in)
		filt, _, _, _, err := in.filter(r)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f.api.pagedStreamCSV(w, r, f.tenant, filt)
	}))
	tb.Cleanup(f.paged.Close)
	return f
}

// export posts a telephony-events query asking for CSV to srv and returns
// the response with its whole body read.
func (f *exportFixture) export(tb testing.TB, srv *httptest.Server, query string, body any) (*http.Response, []byte, error) {
	tb.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/telephony-events"+query, bytes.NewReader(raw))
	req.Header.Set("Voverc-Auth", f.key)
	req.Header.Set("Accept", "text/csv")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	return res, out, err
}

// TestCSVExportMatchesPagedExport shows that the streaming export writes
// exactly the bytes the paged one wrote, on every engine, for every order and
// filter the query takes.
func TestCSVExportMatchesPagedExport(t *testing.T) {
	for name, url := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			f := newExportFixture(t, url(t), 3000, 400)
			from, until := f.start.Add(6*time.Hour).Format(time.RFC3339), f.start.Add(20*time.Hour).Format(time.RFC3339)
			for _, tc := range []struct {
				name, query string
				body        map[string]any
				rows        int
			}{
				{"all-newest-first", "", map[string]any{}, 2700},
				{"all-oldest-first", "?sort=id,asc", map[string]any{}, 2700},
				{"period", "?sort=timestamp,asc", map[string]any{"date_time_from": from, "date_time_to": until}, -1},
				{"number", "", map[string]any{"number": "+393330000049"}, -1},
				{"digits", "", map[string]any{"number": "3330000"}, -1},
				{"nothing", "", map[string]any{"number": "+15550100000"}, 0},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res, got, err := f.export(t, f.srv, tc.query, tc.body)
					if err != nil || res.StatusCode != 200 {
						t.Fatalf("streaming export: %v %d %s", err, res.StatusCode, got)
					}
					_, want, err := f.export(t, f.paged, tc.query, tc.body)
					if err != nil {
						t.Fatal(err)
					}
					wantRecords, err := csv.NewReader(bytes.NewReader(want)).ReadAll()
					if err != nil {
						t.Fatal(err)
					}
					if tc.rows < 0 && len(wantRecords) < 2 {
						t.Fatal("the filter selects nothing")
					}
					if tc.rows >= 0 && len(wantRecords) != tc.rows+1 {
						t.Fatalf("the paged export has %d records, want %d", len(wantRecords)-1, tc.rows)
					}
					if !bytes.Equal(got, want) {
						gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
						for i := range min(len(gl), len(wl)) {
							if gl[i] != wl[i] {
								t.Fatalf("line %d differs:\n got %q\nwant %q", i, gl[i], wl[i])
							}
						}
						t.Fatalf("the exports differ in length: %d lines, want %d", len(gl), len(wl))
					}
					records, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
					if err != nil {
						t.Fatal(err)
					}
					if res.Header.Get("Content-Type") != "text/csv; charset=utf-8" || res.Trailer.Get("X-Total-Count") != strconv.Itoa(len(records)-1) {
						t.Errorf("headers %v, trailer %v, want X-Total-Count %d", res.Header, res.Trailer, len(records)-1)
					}
				})
			}
		})
	}
}

// failingStore is a real store whose streaming read of records fails after
// a given number of them, as a database that goes away mid-export would.
type failingStore struct {
	*sqlstore.DB
	after int
}

func (s failingStore) EachCDR(ctx context.Context, tenantID int64, f switchboard.CDRFilter, cols switchboard.CallColumns, fn func(*switchboard.CDR) error) error {
	n := 0
	return s.DB.EachCDR(ctx, tenantID, f, cols, func(r *switchboard.CDR) error {
		if n++; n > s.after {
			return errors.New("the database went away")
		}
		return fn(r)
	})
}

// TestCSVExportFailure shows what a client sees when the store fails during
// an export: an error response when nothing was sent yet, and a cut
// connection (never a body that ends as a complete one would) after.
func TestCSVExportFailure(t *testing.T) {
	f := newExportFixture(t, sqlstoretest.SQLiteURL(t), 3000, 400)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		after     int
		status    int
		truncated bool
	}{{0, 500, false}, {10, 500, false}, {2000, 200, true}} {
		t.Run(fmt.Sprint(tc.after), func(t *testing.T) {
			api := New(Options{Store: failingStore{f.db, tc.after}, Auth: httpapi.NewAuthenticator(f.db, time.Minute, log).AcceptHeaders(KeyHeader),
				Limiter: httpapi.NewRateLimiter(0, 0), Log: log})
			obs := &httpapi.Observer{Log: log}
			srv := httptest.NewServer(obs.Wrap("voxloud", api, WriteError(log)))
			defer srv.Close()
			res, body, err := f.export(t, srv, "", map[string]any{})
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			if tc.truncated {
				if !errors.Is(err, io.ErrUnexpectedEOF) || res.Trailer.Get("X-Total-Count") != "" {
					t.Fatalf("reading the cut export: %v after %d bytes, trailer %v; want an unexpected EOF and no count", err, len(body), res.Trailer)
				}
				return
			}
			if err != nil || !strings.Contains(string(body), "Internal Server Error") || strings.Contains(string(body), "went away") {
				t.Fatalf("error response %v: %s", err, body)
			}
		})
	}
}

// TestCSVExportMemory shows that an export's memory does not grow with its
// length: the live heap, sampled after a forced collection every few
// milliseconds while records stream, grows no more during an export of
// 36,000 records than during one of a ninth of them, beyond a margin that
// holding the longer body, or its records, would exceed several times over.
func TestCSVExportMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 40,000 calls")
	}
	f := newExportFixture(t, sqlstoretest.SQLiteURL(t), 40_000, 4000)
	until := f.start.Add(40_000 * 37 * time.Second / 9).Format(time.RFC3339)
	smallGrowth, smallSize := f.exportHeap(t, map[string]any{"date_time_to": until})
	growth, size := f.exportHeap(t, map[string]any{})
	const margin = 1 << 20
	if size-smallSize < 4*margin {
		t.Fatalf("the exports are %d and %d bytes: too close to tell streaming from buffering", smallSize, size)
	}
	if growth > smallGrowth+margin {
		t.Errorf("the live heap grew by %d bytes during an export of %d bytes, by %d during one of %d bytes", growth, size, smallGrowth, smallSize)
	} else {
		t.Logf("the live heap grew by %d bytes during an export of %d bytes, by %d during one of %d bytes", growth, size, smallGrowth, smallSize)
	}
}

// exportHeap runs an export, reading its body and throwing it away, and
// returns how far the live heap grew meanwhile and the body's size.
func (f *exportFixture) exportHeap(t *testing.T, query map[string]any) (int64, int64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.GC()
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapAlloc)
			}
		}
	}()
	raw, _ := json.Marshal(query)
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/telephony-events", bytes.NewReader(raw))
	req.Header.Set("Voverc-Auth", f.key)
	req.Header.Set("Accept", "text/csv")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	size, err := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	close(stop)
	<-done
	if err != nil || res.StatusCode != 200 || res.Trailer.Get("X-Total-Count") == "" {
		t.Fatalf("export: %d %v, trailer %v", res.StatusCode, err, res.Trailer)
	}
	return int64(peak) - int64(base), size
}

// TestSpringClock compares the export's time writer with springTime over
// times around the epoch, leap days, the ends of days and milliseconds, in
// and out of order.
func TestSpringClock(t *testing.T) {
	var c springClock
	base := []time.Time{time.Unix(0, 0), time.Date(1969, 12, 31, 23, 59, 59, 999_000_000, time.UTC), time.Date(1900, 2, 28, 23, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 0, 0, 0, 1_000_000, time.UTC), time.Date(2026, 12, 3, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2026, 12, 3, 5, 4, 3, 210_987_654, time.FixedZone("CET", 3600))}
	for _, b := range base {
		for _, d := range []time.Duration{0, time.Millisecond, -time.Millisecond, 999 * time.Microsecond, time.Hour + 61*time.Second, -25 * time.Hour} {
			tt := b.Add(d)
			if got, want := string(c.append(nil, tt)), springTime(tt); got != want {
				t.Errorf("%v: wrote %s, want %s", tt, got, want)
			}
		}
	}
}
