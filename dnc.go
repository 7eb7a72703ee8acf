package switchboard

import (
	"context"
	"time"
)

// DNCPut is one entry of a batch put on the do-not-call list: a number
// (E.164, validated by the caller) and when it stops blocking calls (nil:
// never; otherwise in the future).
type DNCPut struct {
	Number    string
	Reason    string
	ExpiresAt *time.Time
}

// DNCPutResult is what a batch put did to one entry: Created says the number
// was not on the list (or its entry had expired), otherwise the entry was
// there and took the new expiry and reason.
type DNCPutResult struct {
	Entry   DNCNumber
	Created bool
}

// DNCStore is the do-not-call list beyond the single-number methods of
// Store: batches with an outcome per entry, removal and lookup by number.
// Each batch is one transaction, so a client's list goes in whole or not at
// all, and every change is written with its event (dnc.added, dnc.removed).
type DNCStore interface {
	// PutDNC adds or refreshes each entry: an absent number is added, a
	// listed one takes the entry's expiry and reason (a number repeated in
	// the batch is refreshed by its later entries). Results are in the order
	// of entries. An expiry not in the future is CodeInvalid.
	PutDNC(ctx context.Context, tenantID int64, entries []DNCPut) ([]DNCPutResult, error)
	// RemoveDNCNumbers takes numbers (E.164) off the list and says, for each
	// in order, whether it was on it (an expired entry counts as on it: its
	// row is removed too).
	RemoveDNCNumbers(ctx context.Context, tenantID int64, numbers []string) ([]bool, error)
	// DNCByNumber reads number's entry (CodeNotFound when there is none),
	// expired or not: the caller judges ExpiresAt.
	DNCByNumber(ctx context.Context, tenantID int64, number string) (DNCNumber, error)
}
