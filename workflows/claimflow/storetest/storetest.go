// Package storetest is the contract of the claim workflow's store: one
// suite (Run) that every implementation passes, and Memory, the in-memory
// implementation the workflow's own tests run on. The suite runs against
// the PostgreSQL store (adapters/pgstore) and against Memory, so the fake
// the step tests trust cannot drift from the store production runs on.
//
//	func TestStoreContract(t *testing.T) {
//		storetest.Run(t, storetest.Harness{
//			New:      func(t *testing.T) storetest.Store { return store },
//			NewEmpty: func(t *testing.T) storetest.Store { return freshStore(t) },
//			Scheduled: func(t *testing.T, st storetest.Store, claimID string) storetest.Scheduled {
//				return jobsOf(t, claimID)
//			},
//		})
//	}
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// Store is the part of claimflow.Store the suite holds an implementation
// to: what the steps, the redrive and the claim use cases write claims
// through and read them back with. Each method is documented on
// claimflow.Store, claimflow.StepStore, claimflow.StalledClaims and
// claimflow.LedgerReader.
type Store interface {
	claimflow.StepStore
	claimflow.StalledClaims
	claimflow.LedgerReader
	// UpsertSeller is claimflow.Store's.
	UpsertSeller(ctx context.Context, s *seller.Seller, now time.Time) (created bool, err error)
	// UpsertOrder is claimflow.Store's.
	UpsertOrder(ctx context.Context, o *order.Order, now time.Time) (created bool, err error)
	// GetClaims is claimflow.Store's.
	GetClaims(ctx context.Context, ids []string) (map[string]claimflow.Record, error)
	// GetSeller is claimflow.Store's.
	GetSeller(ctx context.Context, id string) (*seller.Seller, error)
	// SubmitClaim is claimflow.Store's.
	SubmitClaim(ctx context.Context, orderID, buyerID string, since time.Time, decide func(claimflow.Intake) (claimflow.Record, error)) (claimflow.Record, error)
	// AmendClaim is claimflow.Store's.
	AmendClaim(ctx context.Context, id string, fn func(c *claim.Claim, refundable money.Money) (claimflow.Effects, error)) (claimflow.Record, error)
	// ClaimEvents is claimflow.Store's.
	ClaimEvents(ctx context.Context, id string) ([]claim.Event, error)
}

// Scheduled is what a claim's committed changes scheduled, in order:
// steps to run at once, and timers.
type Scheduled struct {
	Steps  []claimflow.Step
	Timers []claimflow.Timer
}

// Harness is how the suite reaches an implementation.
type Harness struct {
	// New returns the store a case runs on. Every case writes sellers,
	// orders and claims of its own (fresh ids, accounts named after
	// them), so one store may serve every case at once.
	New func(t *testing.T) Store
	// NewEmpty returns a store no other case writes to, for the cases
	// that read every claim in it (StalledClaims).
	NewEmpty func(t *testing.T) Store
	// Scheduled returns what the committed changes to claimID scheduled,
	// in order; timers' times as the store keeps them.
	Scheduled func(t *testing.T, st Store, claimID string) Scheduled
}

// Run runs every case of the contract against the implementation h
// reaches, each case in parallel with the others.
func Run(t *testing.T, h Harness) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, h Harness)
	}{
		{"MissingIsNotFound", testMissingIsNotFound},
		{"GetClaimsReadsMany", testGetClaims},
		{"UpsertSellerAndOrder", testUpsertSellerAndOrder},
		{"SubmitClaimStoresRecordEventsAndSteps", testSubmitClaimStores},
		{"SubmitClaimReadsIntake", testSubmitClaimReadsIntake},
		{"SubmitClaimOnlyOnTheBuyersOrder", testSubmitClaimOnlyTheBuyers},
		{"SubmitClaimDecideErrorWritesNothing", testSubmitClaimDecideError},
		{"UpdateClaimWritesClaimEventsAndEffects", testUpdateClaimWrites},
		{"UpdateClaimNothingToDoWritesNothing", testUpdateClaimNothingToDo},
		{"UpdateClaimErrorWritesNothing", testUpdateClaimError},
		{"UpdateClaimSerialised", testUpdateClaimSerialised},
		{"UpdateSeenWritesOnlyWhatIsCurrent", testUpdateSeen},
		{"LedgerKeyWrittenOnce", testLedgerKeyOnce},
		{"ClaimReadsBackAsWritten", testClaimRoundTrip},
		{"AmendClaimRefundable", testAmendClaimRefundable},
		{"AmendClaimErrorWritesNothing", testAmendClaimError},
		{"AmendClaimSerialisedPerOrder", testAmendClaimSerialised},
		{"StalledClaimsFollowNextStep", testStalledClaims},
		{"StalledClaimsPages", testStalledClaimsPages},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, h)
		})
	}
}
