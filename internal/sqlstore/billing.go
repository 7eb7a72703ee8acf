package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"switchboard"
)

// The prepaid ledger (switchboard.BillingStore). Every write locks the
// tenant's row first, reads the account, and writes the ledger entry, the
// new amount (tenants.balance_cents), the rest of the account
// (billing_balances) and the billing.* event before it commits: the tenant
// row's lock (PostgreSQL) or the single writer (SQLite) makes concurrent
// charges of one tenant queue, so the ledger's sum is always the balance.

const balanceSelect = `SELECT t.id, t.currency, t.balance_cents, t.updated_at, COALESCE(b.held_cents, 0),
	COALESCE(b.low_balance_threshold_cents, 0), COALESCE(b.prepaid, ?), COALESCE(b.overdraft_cents, 0),
	COALESCE(b.low_notified, ?), b.updated_at
	FROM tenants t LEFT JOIN billing_balances b ON b.tenant_id = t.id WHERE t.id = ?`

// account is a balance with the store's own flag.
type account struct {
	switchboard.Balance
	lowNotified bool
}

func scanAccount(s scanner) (account, error) {
	var a account
	var tenantUpdated int64
	var updated sql.NullInt64
	err := s.Scan(&a.TenantID, &a.Currency, &a.AmountCents, &tenantUpdated, &a.HeldCents, &a.LowBalanceThresholdCents,
		&a.Prepaid, &a.OverdraftCents, &a.lowNotified, &updated)
	a.UpdatedAt = fromMicros(tenantUpdated)
	if updated.Valid {
		a.UpdatedAt = fromMicros(updated.Int64)
	}
	a.AvailableCents = a.AmountCents - a.HeldCents
	return a, err
}

func (db *DB) account(ctx context.Context, tenantID int64) (account, error) {
	a, err := scanAccount(db.queryRow(ctx, balanceSelect, false, false, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return a, notFound("tenant", tenantID)
	}
	if err != nil {
		return a, fmt.Errorf("get balance: %w", err)
	}
	return a, nil
}

// lockAccount locks the tenant's row and reads its account.
func (t *tx) lockAccount(ctx context.Context, tenantID int64) (account, error) {
	if err := t.lockRow(ctx, "tenants", "tenant", 0, tenantID); err != nil {
		return account{}, err
	}
	a, err := scanAccount(t.queryRow(ctx, balanceSelect, false, false, tenantID))
	if err != nil {
		return a, fmt.Errorf("get balance: %w", err)
	}
	return a, nil
}

// Balance implements switchboard.BillingStore.
func (db *DB) Balance(ctx context.Context, tenantID int64) (switchboard.Balance, error) {
	a, err := db.account(ctx, tenantID)
	return a.Balance, err
}

// CanPlaceCall implements switchboard.BillingStore.
func (db *DB) CanPlaceCall(ctx context.Context, tenantID int64) error {
	a, err := db.account(ctx, tenantID)
	if err != nil {
		return err
	}
	if a.Prepaid && a.AvailableCents+a.OverdraftCents <= 0 {
		return switchboard.InsufficientBalance(a.Balance)
	}
	return nil
}

// saveAccount writes a's amount and the rest of the account, arming or
// firing the low-balance notice: billing.low_balance is appended when the
// available amount has fallen below the threshold and was not below it at
// the last notice.
func (t *tx) saveAccount(ctx context.Context, a *account) error {
	a.AvailableCents = a.AmountCents - a.HeldCents
	a.UpdatedAt = t.now
	notify := false
	switch {
	case a.Low() && !a.lowNotified:
		notify, a.lowNotified = true, true
	case !a.Low():
		a.lowNotified = false
	}
	if _, err := t.exec(ctx, "UPDATE tenants SET balance_cents = ? WHERE id = ?", a.AmountCents, a.TenantID); err != nil {
		return fmt.Errorf("update balance: %w", err)
	}
	if _, err := t.exec(ctx, `INSERT INTO billing_balances (tenant_id, held_cents, low_balance_threshold_cents, prepaid,
		overdraft_cents, low_notified, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET held_cents = excluded.held_cents,
		low_balance_threshold_cents = excluded.low_balance_threshold_cents, prepaid = excluded.prepaid,
		overdraft_cents = excluded.overdraft_cents, low_notified = excluded.low_notified, updated_at = excluded.updated_at`,
		a.TenantID, a.HeldCents, a.LowBalanceThresholdCents, a.Prepaid, a.OverdraftCents, a.lowNotified, micros(t.now)); err != nil {
		return fmt.Errorf("update balance: %w", err)
	}
	if notify {
		return t.appendEvent(ctx, a.TenantID, switchboard.EventBillingLowBalance, "tenant", a.TenantID,
			switchboard.BillingEventPayload{V: switchboard.EventPayloadVersion, Balance: a.Balance})
	}
	return nil
}

// writeEntry applies e to a (the balance or the held amount, by kind),
// inserts e, saves a and appends event.
func (t *tx) writeEntry(ctx context.Context, a *account, e *switchboard.LedgerEntry, event string) error {
	a.UpdatedAt = t.now
	switch e.Kind {
	case switchboard.LedgerHold, switchboard.LedgerRelease:
		a.HeldCents += e.AmountCents
	default:
		a.AmountCents += e.AmountCents
	}
	e.TenantID, e.BalanceAfterCents, e.HeldAfterCents, e.CreatedAt = a.TenantID, a.AmountCents, a.HeldCents, t.now
	id, err := t.insert(ctx, `INSERT INTO billing_ledger (tenant_id, kind, amount_cents, call_id, rate_id, billed_seconds, reason,
		balance_after_cents, held_after_cents, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.TenantID, string(e.Kind), e.AmountCents, e.CallID, e.RateID, e.BilledSeconds, e.Reason, e.BalanceAfterCents,
		e.HeldAfterCents, micros(t.now))
	if err != nil {
		return fmt.Errorf("insert ledger entry: %w", err)
	}
	e.ID = id
	if err := t.appendEvent(ctx, a.TenantID, event, "tenant", a.TenantID, switchboard.BillingEventPayload{
		V: switchboard.EventPayloadVersion, Entry: e, Balance: accountAfter(a)}); err != nil {
		return err
	}
	return t.saveAccount(ctx, a)
}

// accountAfter is a's balance with its available amount brought up to date.
func accountAfter(a *account) switchboard.Balance {
	b := a.Balance
	b.AvailableCents = b.AmountCents - b.HeldCents
	return b
}

// CreditBalance implements switchboard.BillingStore.
func (db *DB) CreditBalance(ctx context.Context, tenantID int64, kind switchboard.LedgerKind, c switchboard.Credit) (switchboard.LedgerEntry, error) {
	e := switchboard.LedgerEntry{Kind: kind, AmountCents: c.AmountCents}
	if kind != switchboard.LedgerCredit && kind != switchboard.LedgerAdjustment {
		return e, switchboard.Errorf(switchboard.CodeInvalid, "a balance is credited by a credit or an adjustment")
	}
	if err := c.Validate(kind); err != nil {
		return e, err
	}
	e.Reason = c.Reason
	err := db.inTx(ctx, func(t *tx) error {
		a, err := t.lockAccount(ctx, tenantID)
		if err != nil {
			return err
		}
		if e.AmountCents < 0 && a.AmountCents-a.HeldCents+e.AmountCents < -a.OverdraftCents {
			return &switchboard.Error{Code: switchboard.CodeConflict, Message: "the adjustment would overdraw the balance",
				Fields: map[string]string{"amount_cents": "exceeds the available balance and overdraft"}}
		}
		event := switchboard.EventBillingCredited
		if e.AmountCents < 0 {
			event = switchboard.EventBillingCharged
		}
		return t.writeEntry(ctx, &a, &e, event)
	})
	return e, err
}

// adjustTo records an operator's change of the balance amount to amount
// (a tenant PATCH that sets balance_cents) as an adjustment, so that the
// ledger's sum stays the balance.
func (t *tx) adjustTo(ctx context.Context, tenantID, amount int64) error {
	a, err := t.lockAccount(ctx, tenantID)
	if err != nil {
		return err
	}
	if amount == a.AmountCents {
		return nil
	}
	e := switchboard.LedgerEntry{Kind: switchboard.LedgerAdjustment, AmountCents: amount - a.AmountCents, Reason: "balance set by the operator"}
	event := switchboard.EventBillingCredited
	if e.AmountCents < 0 {
		event = switchboard.EventBillingCharged
	}
	return t.writeEntry(ctx, &a, &e, event)
}

// UpdateBalanceSettings implements switchboard.BillingStore.
func (db *DB) UpdateBalanceSettings(ctx context.Context, tenantID int64, fn func(*switchboard.BalanceSettings) error) (switchboard.Balance, error) {
	var out switchboard.Balance
	err := db.inTx(ctx, func(t *tx) error {
		a, err := t.lockAccount(ctx, tenantID)
		if err != nil {
			return err
		}
		s := switchboard.BalanceSettings{LowBalanceThresholdCents: a.LowBalanceThresholdCents, Prepaid: a.Prepaid,
			OverdraftCents: a.OverdraftCents}
		if err := fn(&s); err != nil {
			return err
		}
		if err := s.Validate(); err != nil {
			return err
		}
		a.LowBalanceThresholdCents, a.Prepaid, a.OverdraftCents = s.LowBalanceThresholdCents, s.Prepaid, s.OverdraftCents
		if err := t.appendEvent(ctx, tenantID, switchboard.EventBillingSettingsUpdated, "tenant", tenantID,
			switchboard.BillingEventPayload{V: switchboard.EventPayloadVersion, Balance: accountAfter(&a)}); err != nil {
			return err
		}
		if err := t.saveAccount(ctx, &a); err != nil {
			return err
		}
		out = a.Balance
		return nil
	})
	return out, err
}

// callEntry finds the call's entry of kind, if any.
func (t *tx) callEntry(ctx context.Context, tenantID, callID int64, kind switchboard.LedgerKind) (switchboard.LedgerEntry, bool, error) {
	e, err := scanLedger(t.queryRow(ctx, "SELECT "+ledgerCols+" FROM billing_ledger WHERE tenant_id = ? AND call_id = ? AND kind = ?",
		tenantID, callID, string(kind)))
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("find the call's %s: %w", kind, err)
	}
	return e, true, nil
}

// HoldForCall implements switchboard.BillingStore.
func (db *DB) HoldForCall(ctx context.Context, tenantID, callID, amount int64, reason string) (switchboard.LedgerEntry, bool, error) {
	e := switchboard.LedgerEntry{Kind: switchboard.LedgerHold, AmountCents: amount, CallID: &callID, Reason: reason}
	if amount < 0 || amount > switchboard.MaxMoney {
		return e, false, switchboard.Errorf(switchboard.CodeInvalid, "a hold must be between 0 and 10^15")
	}
	done := false
	err := db.inTx(ctx, func(t *tx) error {
		a, err := t.lockAccount(ctx, tenantID)
		if err != nil {
			return err
		}
		for _, k := range []switchboard.LedgerKind{switchboard.LedgerHold, switchboard.LedgerCharge} {
			if old, ok, err := t.callEntry(ctx, tenantID, callID, k); err != nil || ok {
				e = old
				return err
			}
		}
		done = true
		return t.writeEntry(ctx, &a, &e, switchboard.EventBillingHeld)
	})
	return e, done, err
}

// ChargeCall implements switchboard.BillingStore.
func (db *DB) ChargeCall(ctx context.Context, tenantID int64, c switchboard.CallCharge) (switchboard.LedgerEntry, bool, error) {
	callID := c.CallID
	e := switchboard.LedgerEntry{Kind: switchboard.LedgerCharge, AmountCents: -c.AmountCents, CallID: &callID, RateID: c.RateID,
		BilledSeconds: c.BilledSeconds, Reason: c.Reason}
	if c.AmountCents < 0 || c.AmountCents > switchboard.MaxMoney {
		return e, false, switchboard.Errorf(switchboard.CodeInvalid, "a charge must be between 0 and 10^15")
	}
	done := false
	err := db.inTx(ctx, func(t *tx) error {
		a, err := t.lockAccount(ctx, tenantID)
		if err != nil {
			return err
		}
		if old, ok, err := t.callEntry(ctx, tenantID, callID, switchboard.LedgerCharge); err != nil || ok {
			e = old
			return err
		}
		hold, held, err := t.callEntry(ctx, tenantID, callID, switchboard.LedgerHold)
		if err != nil {
			return err
		}
		if !held && c.AmountCents == 0 {
			return nil // a free call that held nothing leaves no trace
		}
		if _, released, err := t.callEntry(ctx, tenantID, callID, switchboard.LedgerRelease); err != nil {
			return err
		} else if held && !released && hold.AmountCents != 0 {
			r := switchboard.LedgerEntry{Kind: switchboard.LedgerRelease, AmountCents: -hold.AmountCents, CallID: &callID,
				Reason: "call ended"}
			if err := t.writeEntry(ctx, &a, &r, switchboard.EventBillingReleased); err != nil {
				return err
			}
		}
		done = true
		return t.writeEntry(ctx, &a, &e, switchboard.EventBillingCharged)
	})
	return e, done, err
}

// CallHeld implements switchboard.BillingStore.
func (db *DB) CallHeld(ctx context.Context, tenantID, callID int64) (bool, error) {
	var holds, releases int
	err := db.queryRow(ctx, `SELECT COALESCE(SUM(CASE WHEN kind = 'hold' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN kind = 'release' THEN 1 ELSE 0 END), 0)
		FROM billing_ledger WHERE tenant_id = ? AND call_id = ?`, tenantID, callID).Scan(&holds, &releases)
	if err != nil {
		return false, fmt.Errorf("find the call's hold: %w", err)
	}
	return holds > releases, nil
}

const ledgerCols = `id, tenant_id, kind, amount_cents, call_id, rate_id, billed_seconds, reason, balance_after_cents,
	held_after_cents, created_at`

func scanLedger(s scanner) (switchboard.LedgerEntry, error) {
	var e switchboard.LedgerEntry
	var kind string
	var created int64
	var call, rate sql.NullInt64
	err := s.Scan(&e.ID, &e.TenantID, &kind, &e.AmountCents, &call, &rate, &e.BilledSeconds, &e.Reason, &e.BalanceAfterCents,
		&e.HeldAfterCents, &created)
	e.Kind, e.CreatedAt = switchboard.LedgerKind(kind), fromMicros(created)
	if call.Valid {
		e.CallID = &call.Int64
	}
	if rate.Valid {
		e.RateID = &rate.Int64
	}
	return e, err
}

// Ledger implements switchboard.BillingStore: newest first.
func (db *DB) Ledger(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.LedgerEntry], error) {
	return listPage(ctx, db, listQuery{cols: ledgerCols, from: "FROM billing_ledger WHERE tenant_id = ?", args: []any{tenantID},
		key: "id", desc: true}, opt, scanLedger, func(e switchboard.LedgerEntry) int64 { return e.ID })
}

const rateCols = `id, tenant_id, prefix, direction, per_minute_milli, connection_fee_milli, initial_increment, increment,
	effective_from, description, created_at, updated_at`

func scanRate(s scanner) (switchboard.Rate, error) {
	var r switchboard.Rate
	var dir string
	var from, created, updated int64
	err := s.Scan(&r.ID, &r.TenantID, &r.Prefix, &dir, &r.PerMinuteMilli, &r.ConnectionFeeMilli, &r.InitialIncrement,
		&r.Increment, &from, &r.Description, &created, &updated)
	r.Direction = switchboard.Direction(dir)
	r.EffectiveFrom, r.CreatedAt, r.UpdatedAt = fromMicros(from), fromMicros(created), fromMicros(updated)
	return r, err
}

// CreateRate implements switchboard.BillingStore. A rate of the same
// direction, prefix and start is a conflict.
func (db *DB) CreateRate(ctx context.Context, tenantID int64, r switchboard.Rate) (switchboard.Rate, error) {
	r.ID = 0
	r.Normalize()
	if err := r.Validate(); err != nil {
		return r, err
	}
	err := db.inTx(ctx, func(t *tx) error {
		r.TenantID, r.CreatedAt, r.UpdatedAt = tenantID, t.now, t.now
		id, err := t.insert(ctx, `INSERT INTO billing_rates (tenant_id, prefix, direction, per_minute_milli, connection_fee_milli,
			initial_increment, increment, effective_from, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tenantID, r.Prefix, string(r.Direction), r.PerMinuteMilli, r.ConnectionFeeMilli, r.InitialIncrement, r.Increment,
			micros(r.EffectiveFrom), r.Description, micros(t.now), micros(t.now))
		if err != nil {
			return fmt.Errorf("insert rate: %w", err)
		}
		r.ID = id
		return t.appendEvent(ctx, tenantID, switchboard.EventRateCreated, "billing_rate", id, r)
	})
	return r, err
}

// Rate implements switchboard.BillingStore.
func (db *DB) Rate(ctx context.Context, tenantID, id int64) (switchboard.Rate, error) {
	return getOne(ctx, db, "billing_rates", rateCols, "rate", scanRate, tenantID, id)
}

// Rates implements switchboard.BillingStore.
func (db *DB) Rates(ctx context.Context, tenantID int64, opt switchboard.ListOptions) (switchboard.Page[switchboard.Rate], error) {
	return listAll(ctx, db, "billing_rates", rateCols, scanRate, func(r switchboard.Rate) int64 { return r.ID }, tenantID, opt)
}

// UpdateRateFunc implements switchboard.BillingStore (see UpdateUserFunc).
func (db *DB) UpdateRateFunc(ctx context.Context, tenantID, id int64, fn func(*switchboard.Rate) error) (switchboard.Rate, error) {
	return modify(ctx, db, "billing_rates", "rate", tenantID, id,
		func(t *tx) (switchboard.Rate, error) {
			return getOneTx(ctx, t, "billing_rates", rateCols, "rate", scanRate, tenantID, id)
		}, fn,
		func(t *tx, r switchboard.Rate) (switchboard.Rate, error) { return t.updateRate(ctx, tenantID, id, r) })
}

func (t *tx) updateRate(ctx context.Context, tenantID, id int64, r switchboard.Rate) (switchboard.Rate, error) {
	r.Normalize()
	if err := r.Validate(); err != nil {
		return r, err
	}
	r.ID, r.TenantID, r.UpdatedAt = id, tenantID, t.now
	if _, err := t.exec(ctx, `UPDATE billing_rates SET prefix = ?, direction = ?, per_minute_milli = ?, connection_fee_milli = ?,
		initial_increment = ?, increment = ?, effective_from = ?, description = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		r.Prefix, string(r.Direction), r.PerMinuteMilli, r.ConnectionFeeMilli, r.InitialIncrement, r.Increment,
		micros(r.EffectiveFrom), r.Description, micros(t.now), tenantID, id); err != nil {
		return r, fmt.Errorf("update rate: %w", err)
	}
	return r, t.appendEvent(ctx, tenantID, switchboard.EventRateUpdated, "billing_rate", id, r)
}

// DeleteRate implements switchboard.BillingStore.
func (db *DB) DeleteRate(ctx context.Context, tenantID, id int64) error {
	return db.deleteOne(ctx, tenantID, id, "billing_rates", "rate", switchboard.EventRateDeleted, func(t *tx) (any, error) {
		return getOneTx(ctx, t, "billing_rates", rateCols, "rate", scanRate, tenantID, id)
	})
}

// MatchRate implements switchboard.BillingStore. Every prefix of the number
// is a candidate, so one indexed query answers: the longest matching
// prefix in effect, the latest start among equals.
func (db *DB) MatchRate(ctx context.Context, tenantID int64, dir switchboard.Direction, number string, at time.Time) (switchboard.Rate, bool, error) {
	digits := []rune{}
	for _, r := range number {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	if len(digits) > switchboard.MaxPrefixLength {
		digits = digits[:switchboard.MaxPrefixLength]
	}
	prefixes := make([]any, 0, len(digits)+1)
	for i := 0; i <= len(digits); i++ {
		prefixes = append(prefixes, string(digits[:i]))
	}
	args := append([]any{tenantID, string(dir), micros(at)}, prefixes...)
	r, err := scanRate(db.queryRow(ctx, "SELECT "+rateCols+` FROM billing_rates
		WHERE tenant_id = ? AND direction = ? AND effective_from <= ? AND prefix IN (`+placeholders(len(prefixes))+`)
		ORDER BY LENGTH(prefix) DESC, effective_from DESC, id DESC LIMIT 1`, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("match rate: %w", err)
	}
	return r, true, nil
}

// BillingPositions reads where the billing service has read each tenant's
// event log to (follower_positions, name "billing"); a tenant it has not
// read yet is absent, and is read from its start.
func (db *DB) BillingPositions(ctx context.Context) (map[int64]int64, error) {
	pos, err := db.FollowerPositions(ctx, billingFollower)
	if pos == nil {
		pos = map[int64]int64{}
	}
	return pos, err
}

// SaveBillingPositions records the billing service's positions.
func (db *DB) SaveBillingPositions(ctx context.Context, pos map[int64]int64) error {
	if len(pos) == 0 {
		return nil
	}
	return db.SaveFollowerPositions(ctx, billingFollower, pos)
}

// billingFollower is the billing service's name in follower_positions.
const billingFollower = "billing"
