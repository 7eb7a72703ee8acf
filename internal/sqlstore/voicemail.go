package sqlstore

import (
	"context"
	"fmt"

	"switchboard"
)

// MarkVoicemailRead implements switchboard.Store. The row is locked before it
// is read, so of two agents opening the same message at once exactly one is
// recorded as its reader.
func (db *DB) MarkVoicemailRead(ctx context.Context, tenantID, callID, userID int64) (switchboard.Call, error) {
	var c switchboard.Call
	err := db.inTx(ctx, func(t *tx) error {
		if err := t.lockRow(ctx, "calls", "call", tenantID, callID); err != nil {
			return err
		}
		if err := t.lockRow(ctx, "users", "user", tenantID, userID); err != nil {
			return err
		}
		var err error
		if c, err = getOneTx(ctx, t, "calls", callCols, "call", scanCall, tenantID, callID); err != nil {
			return err
		}
		switch c.Status {
		case switchboard.CallVoicemailRead:
			return nil // read before: the first reader stays
		case switchboard.CallVoicemailReceived:
		default:
			return &switchboard.Error{Code: switchboard.CodeConflict,
				Message: fmt.Sprintf("call %d holds no voicemail to read (its status is %s)", callID, c.Status)}
		}
		now := fromMicros(micros(t.now)) // as the row keeps it
		c.Status, c.VoicemailReadAt, c.VoicemailReadBy = switchboard.CallVoicemailRead, &now, &userID
		return t.saveCall(ctx, &c, "voicemail_read")
	})
	return c, err
}
