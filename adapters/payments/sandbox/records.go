package sandbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
)

// ListRefunds returns the refunds the sandbox made in [from, to), oldest
// first: the provider's side of a reconciliation.
func (p *Provider) ListRefunds(ctx context.Context, from, to time.Time) ([]finance.ProviderRefund, error) {
	rows, err := p.db.QueryContext(ctx, `
		SELECT id, claim_id, status, amount, currency, created_at FROM sandbox_refunds
		 WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("list sandbox refunds: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []finance.ProviderRefund
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sandbox refunds: %w", err)
	}
	return out, nil
}

// GetRefund returns one refund the sandbox made; found is false when it
// has none by that id.
func (p *Provider) GetRefund(ctx context.Context, id string) (finance.ProviderRefund, bool, error) {
	r, err := scanRecord(p.db.QueryRowContext(ctx, `
		SELECT id, claim_id, status, amount, currency, created_at FROM sandbox_refunds WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return finance.ProviderRefund{}, false, nil
	}
	if err != nil {
		return finance.ProviderRefund{}, false, err
	}
	return r, true, nil
}

func scanRecord(row interface{ Scan(...any) error }) (finance.ProviderRefund, error) {
	var r finance.ProviderRefund
	var amount int64
	var currency string
	if err := row.Scan(&r.ID, &r.ClaimID, &r.Status, &amount, &currency, &r.Created); err != nil {
		return finance.ProviderRefund{}, fmt.Errorf("read sandbox refund: %w", err)
	}
	m, err := money.New(amount, strings.TrimSpace(currency))
	if err != nil {
		return finance.ProviderRefund{}, fmt.Errorf("sandbox refund %s: %w", r.ID, err)
	}
	r.Provider, r.Amount, r.Created = ProviderName, m, r.Created.UTC()
	return r, nil
}
