package sqlstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"switchboard"
)

// eachRowPG is eachRow on PostgreSQL: it reads pgx's rows as the bytes that
// came over the wire (RawValues) and decodes the few types an export reads
// itself, where the database/sql driver would box every value into an
// interface first.
func (db *DB) eachRowPG(ctx context.Context, q string, args []any, r *cdrRow, tenantID int64, fn func(*switchboard.CDR) error) (int, error) {
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("export call records: %w", err)
	}
	defer conn.Close()
	n := 0
	var fnErr error
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the %T driver is not pgx's", dc)
		}
		rows, err := sc.Conn().Query(ctx, db.rebind(q), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		fields := rows.FieldDescriptions()
		if len(fields) != len(r.dest) {
			return fmt.Errorf("%d columns for %d targets", len(fields), len(r.dest))
		}
		for rows.Next() {
			for i, raw := range rows.RawValues() {
				if err := assignPG(r.dest[i], raw, &fields[i]); err != nil {
					return fmt.Errorf("column %s: %w", fields[i].Name, err)
				}
			}
			r.fill(tenantID)
			n++
			if fnErr = fn(&r.cdr); fnErr != nil {
				return fnErr
			}
		}
		return rows.Err()
	})
	if err != nil && (fnErr == nil || err != fnErr) {
		return n, fmt.Errorf("export call records: %w", err)
	}
	return n, err
}

// PostgreSQL type oids of the columns exports read.
const (
	oidBool    = 16
	oidInt8    = 20
	oidInt2    = 21
	oidInt4    = 23
	oidText    = 25
	oidVarchar = 1043
)

// assignPG stores one column's bytes, in the text or binary format the
// server sent them in, into dst, one of cdrRow's scan targets.
func assignPG(dst any, raw []byte, f *pgconn.FieldDescription) error {
	switch d := dst.(type) {
	case *string:
		if f.DataTypeOID != oidText && f.DataTypeOID != oidVarchar {
			break
		}
		*d = string(raw) // text is the same bytes in either format; NULL reads as ""
		return nil
	case *int64:
		v, err := pgInt(raw, f)
		*d = v
		return err
	case *sql.NullInt64:
		if raw == nil {
			d.Valid = false
			return nil
		}
		v, err := pgInt(raw, f)
		d.Int64, d.Valid = v, err == nil
		return err
	case *bool:
		if f.DataTypeOID != oidBool || len(raw) != 1 {
			break
		}
		*d = raw[0] == 1 || raw[0] == 't'
		return nil
	}
	return fmt.Errorf("cannot store a value of type %d into %T", f.DataTypeOID, dst)
}

// pgInt decodes an integer column.
func pgInt(raw []byte, f *pgconn.FieldDescription) (int64, error) {
	if raw == nil {
		return 0, fmt.Errorf("NULL where a number is required")
	}
	if f.Format == 0 { // text
		return strconv.ParseInt(string(raw), 10, 64)
	}
	switch {
	case f.DataTypeOID == oidInt8 && len(raw) == 8:
		return int64(binary.BigEndian.Uint64(raw)), nil
	case f.DataTypeOID == oidInt4 && len(raw) == 4:
		return int64(int32(binary.BigEndian.Uint32(raw))), nil
	case f.DataTypeOID == oidInt2 && len(raw) == 2:
		return int64(int16(binary.BigEndian.Uint16(raw))), nil
	}
	return 0, fmt.Errorf("%d bytes of type %d are no integer", len(raw), f.DataTypeOID)
}
