package claim

// FailureCode is the stable, machine-readable reason a claim's refund
// failed. The store keeps it as it is (claims.failure_code), agents and the
// API read it, and an agent's retry reads it back to choose the refund's
// idempotency key (see Retry): renaming a code changes what a retry does,
// so a code once stored is never renamed.
//
// The engine's own codes are the constants below. Any other code is a
// payment provider's definite refusal, passed through as the provider's
// adapter names it (the sandbox's "card_declined", Stripe's
// "charge_disputed", "expired_card", ...).
type FailureCode string

// The refund failure codes the engine itself decides.
const (
	// FailureProviderNotConfigured: the order was paid through a provider
	// this engine is not configured for; nothing was asked of any provider.
	FailureProviderNotConfigured FailureCode = "provider_not_configured"
	// FailureRetriesExhausted: every attempt failed with a transient error;
	// the provider, if it can be asked, confirmed no refund was made.
	FailureRetriesExhausted FailureCode = "retries_exhausted"
	// FailureOutcomeUnknown: the last attempt failed without an answer, and
	// the provider could not say whether the refund was made.
	FailureOutcomeUnknown FailureCode = "refund_outcome_unknown"
	// FailureAmountMismatch: the provider refunded another amount than the
	// claim's; the money moved, but not as asked.
	FailureAmountMismatch FailureCode = "refund_amount_mismatch"
	// FailureRefundFailed: the provider accepted the refund, then reported
	// it failed (a webhook, or a lookup of a pending refund).
	FailureRefundFailed FailureCode = "refund_failed"
	// FailureRefundCanceled: the provider accepted the refund, then
	// reported it canceled.
	FailureRefundCanceled FailureCode = "refund_canceled"
)

// String returns the code as stored.
func (c FailureCode) String() string { return string(c) }

// RetryMode is how an agent's retry of a failed refund proceeds.
type RetryMode int

// The ways a failed refund can be retried.
const (
	// RetryNewAttempt: the provider refused for good, so the retry is a new
	// request under a new idempotency key (RefundAttempt grows); replaying
	// the refused request would only be refused again.
	RetryNewAttempt RetryMode = iota
	// RetrySameKey: the provider may or may not have made the refund, so
	// the retry replays the same request under the same key, and a refund
	// made is found, never made twice.
	RetrySameKey
	// RetryRefused: no retry can mend the failure (the provider refunded
	// another amount); it is settled with the provider by a person.
	RetryRefused
)

// Retry says how a retry of a refund that failed with code c proceeds.
// The engine's codes for failures whose outcome is unknown, or that never
// reached a provider, replay the same key; a provider's refusal, and a
// refund it reported failed after accepting it, take a new attempt.
func (c FailureCode) Retry() RetryMode {
	switch c {
	case FailureOutcomeUnknown, FailureRetriesExhausted, FailureProviderNotConfigured:
		return RetrySameKey
	case FailureAmountMismatch:
		return RetryRefused
	}
	return RetryNewAttempt
}
