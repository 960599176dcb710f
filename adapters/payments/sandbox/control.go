package sandbox

import (
	"context"
	"fmt"
	"time"

	"github.com/claimsd/claimsd/domain/money"
)

// The sandbox's controls make its records disagree with the engine's, as
// a real provider's sometimes do, so finance can watch a reconciliation
// find the difference: a refund the provider lost, one it reports failed
// after all, one made for a claim the engine never filed.

// LoseRefunds deletes the sandbox's records of a claim's refunds and
// returns how many there were.
func (p *Provider) LoseRefunds(ctx context.Context, claimID string) (int64, error) {
	res, err := p.db.ExecContext(ctx, `DELETE FROM sandbox_refunds WHERE claim_id = $1`, claimID)
	if err != nil {
		return 0, fmt.Errorf("lose sandbox refunds of claim %s: %w", claimID, err)
	}
	return res.RowsAffected()
}

// FailRefunds marks a claim's refunds failed, without telling the engine
// (no webhook), and returns how many there were.
func (p *Provider) FailRefunds(ctx context.Context, claimID string) (int64, error) {
	res, err := p.db.ExecContext(ctx, `UPDATE sandbox_refunds SET status = 'failed' WHERE claim_id = $1`, claimID)
	if err != nil {
		return 0, fmt.Errorf("fail sandbox refunds of claim %s: %w", claimID, err)
	}
	return res.RowsAffected()
}

// StrayRefund records a refund the engine never asked for, naming
// claimID, now, and returns its id.
func (p *Provider) StrayRefund(ctx context.Context, claimID string, amount money.Money) (string, error) {
	if !amount.IsPositive() || amount.Currency().IsZero() {
		return "", fmt.Errorf("stray sandbox refund: amount must be positive, not %s", amount)
	}
	if limit := money.Max(amount.Currency()); amount.Amount() > limit.Amount() {
		return "", fmt.Errorf("stray sandbox refund: amount must be at most %s, the largest amount the engine accepts, not %s", limit, amount)
	}
	id := newID()
	_, err := p.db.ExecContext(ctx, `
		INSERT INTO sandbox_refunds (id, idempotency_key, payment_reference, claim_id, amount, currency, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'succeeded', $7)`,
		id, "stray/"+id, "pay_stray", claimID, amount.Amount(), amount.Currency().String(), time.Now().UTC())
	if err != nil {
		return "", fmt.Errorf("stray sandbox refund for %s: %w", claimID, err)
	}
	return id, nil
}
