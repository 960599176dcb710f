package claim_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
)

// TestMoneyBack: only a refund made and standing is money back; one
// pending, failed (even after it was made) or never made is not.
func TestMoneyBack(t *testing.T) {
	t.Parallel()
	want := map[claim.Status]bool{claim.StatusRefunded: true, claim.StatusSellerCharged: true, claim.StatusClosed: true}
	for _, s := range claim.Statuses {
		require.Equal(t, want[s], s.MoneyBack(), s.String())
	}
}
