package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"switchboard"
)

// benchScanFixture seeds n ended calls of one tenant straight into the calls
// table, 500 rows to an INSERT (a fixture: no events), and returns the
// tenant.
func benchScanFixture(b *testing.B, db *DB, n int) int64 {
	ctx := context.Background()
	tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "scan", Name: "Scan"})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	err = db.inTx(ctx, func(t *tx) error {
		for first := 0; first < n; first += 500 {
			var q strings.Builder
			q.WriteString(`INSERT INTO calls (id, tenant_id, uuid, direction, status, from_number, to_number, agent_id, disposition,
				hangup_by, hangup_cause, created_at, ringing_at, connected_at, ended_at, updated_at, source_system, media, recorded) VALUES `)
			var args []any
			for i := first; i < min(first+500, n); i++ {
				if i > first {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, 'inbound', 'finished', ?, '+390112121212', ?, 'answered', 'caller', '', ?, ?, ?, ?, ?, '', 'voice', ?)")
				created := start + int64(i)*2_000_000
				args = append(args, i+1, tn.ID, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), fmt.Sprintf("+39333%07d", i%2000),
					1+i%50, created, created+1_000_000, created+5_000_000, created+int64(30+i%300)*1_000_000, created, i%4 == 0)
			}
			if _, err := t.exec(ctx, q.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return tn.ID
}

// BenchmarkCDRScan measures what reading exported rows costs per row on
// SQLite, to say what bounds the export: the streaming read as the Voxloud
// export asks for it, the same rows scanning text into sql.RawBytes, fewer
// columns, and the driver's rows read without database/sql.
func BenchmarkCDRScan(b *testing.B) {
	const n = 100_000
	db, err := Open(context.Background(), "sqlite:"+b.TempDir()+"/scan.db", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tenant := benchScanFixture(b, db, n)
	ctx := context.Background()
	perRow := func(b *testing.B, rows int) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/row")
	}
	voxloudCols := switchboard.ColUUID | switchboard.ColDirection | switchboard.ColStatus | switchboard.ColNumbers |
		switchboard.ColAgent | switchboard.ColDisposition | switchboard.ColHangupCause | switchboard.ColRingingAt |
		switchboard.ColConnectedAt | switchboard.ColEndedAt | switchboard.ColSourceSystem | switchboard.ColScheduledAt |
		switchboard.ColMedia | switchboard.ColRecorded
	for _, c := range []struct {
		name string
		cols switchboard.CallColumns
	}{{"each-cdr-voxloud", voxloudCols}, {"each-cdr-ints", switchboard.ColAgent | switchboard.ColEndedAt}, {"each-cdr-all", switchboard.AllCallColumns}} {
		b.Run(c.name, func(b *testing.B) {
			rows := 0
			for b.Loop() {
				rows = 0
				if err := db.EachCDR(ctx, tenant, switchboard.CDRFilter{Newest: true}, c.cols, func(*switchboard.CDR) error {
					rows++
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			perRow(b, rows)
		})
	}
	r := &cdrRow{}
	sel := "SELECT " + r.columns(voxloudCols) + " FROM calls WHERE tenant_id = ? AND ended_at IS NOT NULL ORDER BY id DESC"
	b.Run("rawbytes", func(b *testing.B) {
		rows := 0
		for b.Loop() {
			rs, err := db.read.QueryContext(ctx, sel, tenant)
			if err != nil {
				b.Fatal(err)
			}
			rows = scanRaw(b, rs)
		}
		perRow(b, rows)
	})
	b.Run("driver-rows", func(b *testing.B) {
		rows := 0
		for b.Loop() {
			conn, err := db.read.Conn(ctx)
			if err != nil {
				b.Fatal(err)
			}
			err = conn.Raw(func(dc any) error {
				rs, err := dc.(driver.QueryerContext).QueryContext(ctx, sel, []driver.NamedValue{{Ordinal: 1, Value: tenant}})
				if err != nil {
					return err
				}
				defer rs.Close()
				dest := make([]driver.Value, len(r.dest))
				rows = 0
				for {
					if err := rs.Next(dest); err == io.EOF {
						return nil
					} else if err != nil {
						return err
					}
					rows++
				}
			})
			conn.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
		perRow(b, rows)
	})
	for _, q := range []struct{ name, sel string }{
		{"two-int-cols", "SELECT id, created_at FROM calls WHERE tenant_id = ? AND ended_at IS NOT NULL ORDER BY id DESC"},
		{"one-packed-text", `SELECT id, created_at, uuid || '|' || direction || '|' || status || '|' || from_number || '|' || to_number || '|' ||
			COALESCE(agent_id, '') || '|' || disposition || '|' || hangup_by || '|' || hangup_cause || '|' || COALESCE(ringing_at, '') || '|' ||
			COALESCE(connected_at, '') || '|' || COALESCE(ended_at, '') || '|' || source_system || '|' || source_account_id || '|' ||
			COALESCE(scheduled_at, '') || '|' || media || '|' || recorded FROM calls WHERE tenant_id = ? AND ended_at IS NOT NULL ORDER BY id DESC`},
	} {
		b.Run(q.name, func(b *testing.B) {
			rows := 0
			for b.Loop() {
				rs, err := db.read.QueryContext(ctx, q.sel, tenant)
				if err != nil {
					b.Fatal(err)
				}
				rows = scanRaw(b, rs)
			}
			perRow(b, rows)
		})
	}
}

// scanRaw reads every row of rs into raw bytes, as cheaply as database/sql
// allows, closes it, and returns how many rows there were.
func scanRaw(b *testing.B, rs *sql.Rows) int {
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		b.Fatal(err)
	}
	dest := make([]any, len(cols))
	raw := make([]sql.RawBytes, len(cols))
	for i := range dest {
		dest[i] = &raw[i]
	}
	n := 0
	for rs.Next() {
		if err := rs.Scan(dest...); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rs.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}
