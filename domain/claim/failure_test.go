package claim_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
)

// TestFailureCodeRetry: the one rule for retrying a failed refund. A
// failure whose outcome is unknown, or that never reached a provider,
// replays the same key; a refund made for another amount cannot be
// retried; anything else, a provider's own code included, is a new
// attempt.
func TestFailureCodeRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give claim.FailureCode
		want claim.RetryMode
	}{
		{give: claim.FailureOutcomeUnknown, want: claim.RetrySameKey},
		{give: claim.FailureRetriesExhausted, want: claim.RetrySameKey},
		{give: claim.FailureProviderNotConfigured, want: claim.RetrySameKey},
		{give: claim.FailureAmountMismatch, want: claim.RetryRefused},
		{give: claim.FailureRefundFailed, want: claim.RetryNewAttempt},
		{give: claim.FailureRefundCanceled, want: claim.RetryNewAttempt},
		{give: "card_declined", want: claim.RetryNewAttempt},
		{give: "charge_disputed", want: claim.RetryNewAttempt},
		{give: "", want: claim.RetryNewAttempt},
	}
	for _, tt := range tests {
		t.Run(tt.give.String(), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.give.Retry())
		})
	}
}

// TestFailureCodesAsStored: the database holds these strings and a retry
// reads them back, so they never change.
func TestFailureCodesAsStored(t *testing.T) {
	t.Parallel()
	require.Equal(t, map[claim.FailureCode]string{
		claim.FailureProviderNotConfigured: "provider_not_configured",
		claim.FailureRetriesExhausted:      "retries_exhausted",
		claim.FailureOutcomeUnknown:        "refund_outcome_unknown",
		claim.FailureAmountMismatch:        "refund_amount_mismatch",
		claim.FailureRefundFailed:          "refund_failed",
		claim.FailureRefundCanceled:        "refund_canceled",
	}, map[claim.FailureCode]string{
		claim.FailureProviderNotConfigured: claim.FailureProviderNotConfigured.String(),
		claim.FailureRetriesExhausted:      claim.FailureRetriesExhausted.String(),
		claim.FailureOutcomeUnknown:        claim.FailureOutcomeUnknown.String(),
		claim.FailureAmountMismatch:        claim.FailureAmountMismatch.String(),
		claim.FailureRefundFailed:          claim.FailureRefundFailed.String(),
		claim.FailureRefundCanceled:        claim.FailureRefundCanceled.String(),
	})
}
