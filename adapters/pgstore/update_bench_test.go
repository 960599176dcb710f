package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// BenchmarkUpdateRecord times one workflow step's transaction: a refunded
// claim charged to its seller and closed in one change, which writes two
// events, two ledger transactions (the refund's and the charge's) and the
// contest window's timer. stmts/op counts the statements the database ran
// per change, BEGIN and COMMIT included.
func BenchmarkUpdateRecord(b *testing.B) {
	ctx := context.Background()
	s, err := seller.New(seller.Params{ID: uniq("sel"), Name: "S", RiskScore: 30})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.UpsertSeller(ctx, s, now); err != nil {
		b.Fatal(err)
	}
	refunded := func(c *claim.Claim) error {
		if err := c.Approve(claim.SystemActor, "", nil, now); err != nil {
			return err
		}
		return c.MarkRefunded(claim.RefundRef{Provider: "sandbox", ID: "ref_" + c.ID(), At: now}, now)
	}
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = refundedClaim(ctx, b, s, refunded)
	}
	counted := countStatements(ctx, b)
	change := func(r claimflow.Record) (claimflow.Effects, error) {
		c := r.Claim
		refund, err := ledger.Transfer(claimflow.RefundKey(c.ID(), 1), ledger.KindRefund,
			ledger.ProviderCash("sandbox"), ledger.ClaimsClearing, c.Amount())
		if err != nil {
			return claimflow.Effects{}, err
		}
		charge, err := ledger.Transfer(claimflow.ChargeSellerKey(c.ID(), 1), ledger.KindSellerCharge,
			ledger.ClaimsClearing, ledger.SellerReceivable(c.SellerID()), c.Amount())
		if err != nil {
			return claimflow.Effects{}, err
		}
		if err := c.ChargeSeller(now, "", "", now.Add(72*time.Hour)); err != nil {
			return claimflow.Effects{}, err
		}
		if err := c.Close(now); err != nil {
			return claimflow.Effects{}, err
		}
		return claimflow.Effects{Ledger: []ledger.Transaction{refund, charge},
			Timers: []claimflow.Timer{{Step: claimflow.StepContestDeadline, At: now.Add(72 * time.Hour)}}}, nil
	}

	b.ReportAllocs()
	before, _ := counted()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := store.UpdateRecord(ctx, ids[i], change); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n, ok := counted(); ok {
		b.ReportMetric(float64(n-before-1)/float64(b.N), "stmts/op")
	}
}

// refundedClaim files a claim, in the state status leaves it, on a new
// order of s.
func refundedClaim(ctx context.Context, b *testing.B, s *seller.Seller, status func(*claim.Claim) error) string {
	b.Helper()
	paid := now.Add(-48 * time.Hour)
	o, err := order.New(order.Params{
		ID: uniq("ord"), BuyerID: uniq("shp"), SellerID: s.ID(), Currency: "EUR", Amount: 1000,
		Items:   []order.Item{{SKU: "a", Name: "A", Quantity: 1, UnitAmount: 1000}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay"}, PaidAt: &paid,
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.UpsertOrder(ctx, o, now); err != nil {
		b.Fatal(err)
	}
	rec, err := store.SubmitClaim(ctx, o.ID(), o.BuyerID(), now.Add(-claimflow.HistoryWindow),
		func(in claimflow.Intake) (claimflow.Record, error) {
			id, err := claim.NewID(now, nil)
			if err != nil {
				return claimflow.Record{}, err
			}
			amount := int64(1000)
			c, err := claim.New(id, in.Order, claim.Request{ShopperID: o.BuyerID(), Reason: "damaged", Description: "d",
				Amount: &amount, Items: []claim.Item{{SKU: "a", Quantity: 1}}}, in.Order.Amount(), now)
			if err != nil {
				return claimflow.Record{}, err
			}
			if err := status(c); err != nil {
				return claimflow.Record{}, err
			}
			d := decision.Decision{Outcome: decision.OutcomeInstantRefund, PolicyVersion: "test", Tier: "new",
				Reasons: []decision.Reason{{Code: "test", Message: "a test"}}}
			return claimflow.Record{Claim: c, Decision: d, DecidedAt: now}, nil
		})
	if err != nil {
		b.Fatal(err)
	}
	return rec.Claim.ID()
}

// countStatements returns a reader of how many statements the test
// database has run, from pg_stat_statements; its reader says false where
// the extension is not loaded.
func countStatements(ctx context.Context, b *testing.B) func() (int64, bool) {
	b.Helper()
	if _, err := store.DB().ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		b.Logf("statements not counted: %v", err)
		return func() (int64, bool) { return 0, false }
	}
	return func() (int64, bool) {
		var n int64
		err := store.DB().QueryRowContext(ctx, `SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
			WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
		if err != nil {
			b.Logf("statements not counted: %v", err)
			return 0, false
		}
		return n, true
	}
}
