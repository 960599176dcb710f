package financeflow

import (
	"context"
	"fmt"

	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
)

// Protection is what the platform funds for protected sellers now: the
// balance of platform_protection per currency (refunds whose charge is
// not yet confirmed) and how many protected charges are open or
// contested. It is zero once every protected charge is settled.
type Protection struct {
	Advanced []money.Money // by currency code; none when nothing is advanced
	Open     int64
}

// Protection reads the platform-funded exposure:
//
//	p, err := fin.Protection(ctx)
//
// Errors: the store's.
func (s *Service) Protection(ctx context.Context) (Protection, error) {
	bal, err := s.store.Balances(ctx, ledger.PlatformProtection)
	if err != nil {
		return Protection{}, fmt.Errorf("protection exposure: %w", err)
	}
	p := Protection{}
	for _, m := range bal {
		if !m.IsZero() {
			p.Advanced = append(p.Advanced, m)
		}
	}
	if p.Open, err = s.store.ProtectedChargesOpen(ctx); err != nil {
		return Protection{}, fmt.Errorf("protection exposure: %w", err)
	}
	return p, nil
}
