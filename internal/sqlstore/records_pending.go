package sqlstore

// This file holds the RecordStore methods while issue 16's helpers build
// them; each helper moves its methods to their own file and deletes the
// placeholder here. It must be empty (and removed) before the issue lands.

import (
	"context"
	"errors"

	"switchboard"
)

var errPending = errors.New("sqlstore: not built yet")

func (db *DB) Records(ctx context.Context, tenantID int64, f switchboard.RecordFilter, opt switchboard.ListOptions) (switchboard.Page[switchboard.Record], error) {
	return switchboard.Page[switchboard.Record]{}, errPending
}
