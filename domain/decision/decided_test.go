package decision_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
)

// TestReasonDecided: a reason read after its claim was decided drops the
// promise of what a person will do, and nothing else.
func TestReasonDecided(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		give, want string
	}{
		{give: "The amount claimed, 25.00 EUR, is above 20.00 EUR. A person will review this claim.",
			want: "The amount claimed, 25.00 EUR, is above 20.00 EUR."},
		{give: "The carrier reported this order delivered on 29 November 2026; a person will check the delivery before any refund.",
			want: "The carrier reported this order delivered on 29 November 2026."},
		{give: "The amount claimed is within the instant limit.", want: "The amount claimed is within the instant limit."},
		{give: "", want: ""},
	} {
		require.Equal(t, tc.want, decision.Reason{Code: "x", Message: tc.give}.Decided(), tc.give)
	}
}

// TestDecidedReasonsPromiseNothing: every reason Decide gives to send a
// claim to a person reads, once decided, without a promise of what a
// person will do.
func TestDecidedReasonsPromiseNothing(t *testing.T) {
	t.Parallel()
	for _, f := range []decision.Facts{
		facts(reason(claim.ReasonNotReceived)),                    // delivery_confirmed
		facts(claims(5)),                                          // frequent_claims
		facts(amount(900000, eur)),                                // above_instant_limit
		facts(amount(2000, chf)),                                  // no_limit_for_currency
		facts(func(f *decision.Facts) { f.PaidAt = time.Time{} }), // untrustworthy facts
	} {
		d := decision.Decide(testPolicy(), f, now)
		require.Equal(t, decision.OutcomeManualReview, d.Outcome, "%+v", d)
		for _, r := range d.Reasons {
			require.NotContains(t, strings.ToLower(r.Decided()), " will ", r.Code)
			require.NotEmpty(t, r.Decided(), r.Code)
		}
	}
}
