package pgstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// namedRefunds refunds at once, or refuses for good, with a refund id
// made from the claim's, so claims moved alike are refunded alike.
type namedRefunds struct{ refuse bool }

func (namedRefunds) Name() string { return order.ProviderSandbox }

func (p namedRefunds) Refund(_ context.Context, req claimflow.RefundRequest) (claimflow.Refund, error) {
	if p.refuse {
		return claimflow.Refund{}, &claimflow.PaymentError{Code: "declined", Message: "declined", Permanent: true}
	}
	return claimflow.Refund{ID: "re_" + req.ClaimID, Provider: order.ProviderSandbox,
		Status: claimflow.RefundSucceeded, Amount: req.Amount}, nil
}

// stepsStore is what a journey moves its claim through: the service's
// store and the steps'.
type stepsStore interface {
	claimflow.Store
	claimflow.StepStore
}

// journey is a counterfeit claim on a new seller's order, moved through
// a store's changes.
type journey struct {
	t                                *testing.T
	st                               stepsStore
	svc                              *claimflow.Service
	id, sellerID, orderID, shopperID string
}

// newJourney files the claim through st; protected makes its seller's
// standing, as the claim's facts keep it, one the default policy
// protects.
func newJourney(t *testing.T, st stepsStore, protected bool) *journey {
	t.Helper()
	ctx := context.Background()
	j := &journey{t: t, st: st, svc: claimflow.NewService(st, policyfile.Default(), func() time.Time { return now }),
		sellerID: uniq("sel"), orderID: uniq("ord"), shopperID: uniq("shp")}
	_, _, err := j.svc.PutSeller(ctx, seller.Params{ID: j.sellerID, Name: "S", RiskScore: 10, Verified: true})
	require.NoError(t, err)
	paid, delivered := now.Add(-5*24*time.Hour), now.Add(-4*24*time.Hour)
	_, _, err = j.svc.PutOrder(ctx, order.Params{
		ID: j.orderID, BuyerID: j.shopperID, SellerID: j.sellerID, Currency: "EUR", Amount: 1000,
		Items: []order.Item{{SKU: "a", Name: "A", Quantity: 1, UnitAmount: 600, Brand: "b"},
			{SKU: "b", Name: "B", Quantity: 1, UnitAmount: 400}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_x"},
		PaidAt:  &paid, DeliveredAt: &delivered,
	})
	require.NoError(t, err)
	rec, err := j.svc.Submit(ctx, j.orderID, claim.Request{ShopperID: j.shopperID, Reason: "counterfeit", Description: "Fake."})
	require.NoError(t, err)
	require.Equal(t, claim.StatusApproved, rec.Claim.Status())
	j.id = rec.Claim.ID()
	if protected {
		_, err = store.DB().ExecContext(ctx,
			`UPDATE claims SET decision_facts = jsonb_set(decision_facts, '{seller_standing}', '"creditable"') WHERE id = $1`, j.id)
		require.NoError(t, err)
	}
	return j
}

func (j *journey) version() int64 {
	rec, err := j.st.GetClaim(context.Background(), j.id)
	require.NoError(j.t, err)
	return rec.Claim.Version()
}

func (j *journey) refund(refuse bool) {
	step := &claimflow.RefundStep{Store: j.st, Now: func() time.Time { return now }, Policy: policyfile.Default(),
		Providers: claimflow.Providers{order.ProviderSandbox: namedRefunds{refuse: refuse}}}
	require.NoError(j.t, step.Run(context.Background(), j.id, 1, 1))
}

func (j *journey) charge(recoveredWithRefund bool) {
	step := &claimflow.ChargeSellerStep{Store: j.st, Now: func() time.Time { return now },
		Policy: policyfile.Default(), RecoveredWithRefund: recoveredWithRefund}
	require.NoError(j.t, step.Run(context.Background(), j.id, 1, 1))
}

func (j *journey) contest() {
	_, err := j.svc.Contest(context.Background(), claimflow.Viewer{Role: claimflow.RoleSeller, Subject: j.sellerID}, j.id,
		claimflow.ContestRequest{Statement: "Genuine.", Evidence: []claim.Evidence{{Kind: "document", URL: "https://example.com/i.pdf"}}})
	require.NoError(j.t, err)
}

func (j *journey) resolve(outcome string) {
	_, err := j.svc.ResolveContest(context.Background(), claimflow.Viewer{Role: claimflow.RoleAgent, Subject: "agt_1"},
		j.id, outcome, "looked at it", j.version())
	require.NoError(j.t, err)
}

func (j *journey) override(action, reason string) {
	_, err := j.svc.Override(context.Background(), claimflow.Viewer{Role: claimflow.RoleAgent, Subject: "agt_1"}, j.id,
		claimflow.OverrideRequest{Action: action, ReasonCode: reason, Note: "agent's call", Version: j.version()})
	require.NoError(j.t, err)
}

func (j *journey) windowPasses() {
	dl := &claimflow.DeadlineStep{Store: j.st, Policy: policyfile.Default(), Now: func() time.Time { return now.Add(73 * time.Hour) }}
	_, err := dl.RunContest(context.Background(), j.id)
	require.NoError(j.t, err)
}

func (j *journey) refundFailsLate() {
	settler := &claimflow.Settler{Store: j.st, Policy: policyfile.Default(), Now: func() time.Time { return now.Add(time.Hour) }}
	require.NoError(j.t, settler.Settle(context.Background(), claimflow.RefundUpdate{Provider: order.ProviderSandbox,
		RefundID: "re_" + j.id, ClaimID: j.id, Status: "failed", FailureReason: "bank returned it"}))
}

// rows renders everything the claim's changes wrote, with the journey's
// own ids replaced by their names: the claim's every column, its
// timeline, its outbox events, its ledger in the order written, its
// counterfeit lines, its jobs, and the seller's standing notes.
func (j *journey) rows() string {
	j.t.Helper()
	var doc string
	require.NoError(j.t, store.DB().QueryRowContext(context.Background(), `
		SELECT jsonb_build_object(
		  'claim', (SELECT to_jsonb(c) FROM claims c WHERE id = $1),
		  'timeline', (SELECT jsonb_agg(to_jsonb(e) ORDER BY seq) FROM claim_events e WHERE claim_id = $1),
		  'outbox', (SELECT jsonb_agg(to_jsonb(e) - 'txid' - 'position' - 'published_at' ORDER BY id) FROM events e WHERE claim_id = $1),
		  'ledger', (SELECT jsonb_agg(to_jsonb(t) - 'id' || jsonb_build_object('postings',
		                (SELECT jsonb_agg(to_jsonb(p) - 'id' - 'transaction_id' ORDER BY p.id) FROM ledger_postings p WHERE p.transaction_id = t.id))
		              ORDER BY t.id) FROM ledger_transactions t WHERE claim_id = $1),
		  'lines', (SELECT jsonb_agg(to_jsonb(l) ORDER BY line) FROM counterfeit_lines l WHERE claim_id = $1),
		  'jobs', (SELECT jsonb_agg(jsonb_build_object('kind', kind, 'args', args, 'queue', queue, 'state', state,
		              'max_attempts', max_attempts, 'at', CASE WHEN kind LIKE '%deadline' THEN scheduled_at END) ORDER BY id)
		             FROM river_job WHERE args->>'claim_id' = $1),
		  'standing_notes', (SELECT count(*) FROM seller_standing_changes WHERE seller_id = $2))::text`,
		j.id, j.sellerID).Scan(&doc))
	return strings.NewReplacer(j.id, "CLAIM", j.sellerID, "SELLER", j.orderID, "ORDER", j.shopperID, "SHOPPER").Replace(doc)
}

// TestUpdateWritesWhatGormWrote: a claim moved through changes by the one
// statement ends with the same rows as a claim filed alike and moved
// through the same changes as the store wrote them with gorm, one
// statement per part.
func TestUpdateWritesWhatGormWrote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give      string
		protected bool
		moves     func(j *journey)
	}{
		{give: "charged with the refund's recovery, contested, reversed", moves: func(j *journey) {
			j.refund(false)
			j.charge(true)
			j.contest()
			j.resolve(claimflow.ContestReverse)
		}},
		{give: "protected, contested, upheld", protected: true, moves: func(j *journey) {
			j.refund(false)
			j.charge(false)
			j.contest()
			j.resolve(claimflow.ContestUphold)
		}},
		{give: "protected, window passes", protected: true, moves: func(j *journey) {
			j.refund(false)
			j.charge(false)
			j.windowPasses()
		}},
		{give: "charged, waived by an agent", moves: func(j *journey) {
			j.refund(false)
			j.charge(false)
			j.override(claimflow.ActionWaiveChargeback, "")
		}},
		{give: "refund refused, retried by an agent, charged, refund fails late", moves: func(j *journey) {
			j.refund(true)
			j.override(claimflow.ActionRetryRefund, "")
			j.refund(false)
			j.charge(false)
			j.refundFailsLate()
		}},
		{give: "refund refused, rejected by an agent", moves: func(j *journey) {
			j.refund(true)
			j.override(claimflow.ActionReject, claim.RejectionReasons[0].String())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			t.Parallel()
			want := newJourney(t, pgstore.LegacyStore{Store: store}, tt.protected)
			got := newJourney(t, store, tt.protected)
			tt.moves(want)
			tt.moves(got)
			require.JSONEq(t, want.rows(), got.rows())
		})
	}
}

// refundedClaim files a claim on a new order of s through st, refunded
// already.
func refundedClaim(ctx context.Context, tb testing.TB, st *pgstore.Store, s *seller.Seller) string {
	tb.Helper()
	paid := now.Add(-48 * time.Hour)
	o, err := order.New(order.Params{
		ID: uniq("ord"), BuyerID: uniq("shp"), SellerID: s.ID(), Currency: "EUR", Amount: 1000,
		Items:   []order.Item{{SKU: "a", Name: "A", Quantity: 1, UnitAmount: 1000}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay"}, PaidAt: &paid,
	})
	require.NoError(tb, err)
	_, err = st.UpsertOrder(ctx, o, now)
	require.NoError(tb, err)
	rec, err := st.SubmitClaim(ctx, o.ID(), o.BuyerID(), now.Add(-claimflow.HistoryWindow),
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
			if err := c.Approve(claim.SystemActor, "", nil, now); err != nil {
				return claimflow.Record{}, err
			}
			if err := c.MarkRefunded(claim.RefundRef{Provider: order.ProviderSandbox, ID: "re_" + id, At: now}, now); err != nil {
				return claimflow.Record{}, err
			}
			d := decision.Decision{Outcome: decision.OutcomeInstantRefund, PolicyVersion: "test", Tier: "new",
				Reasons: []decision.Reason{{Code: "test", Message: "a test"}}}
			return claimflow.Record{Claim: c, Decision: d, DecidedAt: now}, nil
		})
	require.NoError(tb, err)
	return rec.Claim.ID()
}

// newSeller stores a new seller through st.
func newSeller(ctx context.Context, tb testing.TB, st *pgstore.Store) *seller.Seller {
	tb.Helper()
	s, err := seller.New(seller.Params{ID: uniq("sel"), Name: "S", RiskScore: 30})
	require.NoError(tb, err)
	_, err = st.UpsertSeller(ctx, s, now)
	require.NoError(tb, err)
	return s
}

// chargeRefunded charges a refunded claim to its seller and closes it,
// writing the refund's ledger transaction with the charge's, as a step
// that refunds and charges in one go would: two events, two ledger
// transactions and the contest window's timer.
func chargeRefunded(r claimflow.Record) (claimflow.Effects, error) {
	c := r.Claim
	refund, err := ledger.Transfer(claimflow.RefundKey(c.ID(), 1), ledger.KindRefund,
		ledger.ProviderCash(order.ProviderSandbox), ledger.ClaimsClearing, c.Amount())
	if err != nil {
		return claimflow.Effects{}, err
	}
	charge, err := ledger.Transfer(claimflow.ChargeSellerKey(c.ID(), 1), ledger.KindSellerCharge,
		ledger.ClaimsClearing, ledger.SellerReceivable(c.SellerID()), c.Amount())
	if err != nil {
		return claimflow.Effects{}, err
	}
	contestBy := now.Add(72 * time.Hour)
	if err := c.ChargeSeller(now, "", "", contestBy); err != nil {
		return claimflow.Effects{}, err
	}
	if err := c.Close(now); err != nil {
		return claimflow.Effects{}, err
	}
	return claimflow.Effects{Ledger: []ledger.Transaction{refund, charge},
		Timers: []claimflow.Timer{{Step: claimflow.StepContestDeadline, At: contestBy}}}, nil
}

// claimState renders a claim's row, its timeline's length, its ledger
// and its jobs, to see that a refused change left them as they were.
func claimState(ctx context.Context, t *testing.T, st *pgstore.Store, id string) string {
	t.Helper()
	var doc string
	require.NoError(t, st.DB().QueryRowContext(ctx, `
		SELECT jsonb_build_object(
		  'claim', (SELECT to_jsonb(c) FROM claims c WHERE id = $1),
		  'events', (SELECT count(*) FROM claim_events WHERE claim_id = $1),
		  'ledger', (SELECT count(*) FROM ledger_transactions WHERE claim_id = $1),
		  'jobs', (SELECT count(*) FROM river_job WHERE args->>'claim_id' = $1))::text`, id).Scan(&doc))
	return doc
}

// TestUpdateOfAStaleVersionWritesNothing: a change written against a
// version the claim has left is refused, and the statement writes none of
// its events or ledger transactions, even before the transaction is
// rolled back.
func TestUpdateOfAStaleVersionWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	id := refundedClaim(ctx, t, store, newSeller(ctx, t, store))
	rec, err := store.GetClaim(ctx, id)
	require.NoError(t, err)
	v := rec.Claim.Version()
	before := claimState(ctx, t, store, id)
	events0, err := store.ClaimEvents(ctx, id)
	require.NoError(t, err)

	events, txs, err := store.StaleWrite(ctx, id, v-1, chargeRefunded)
	require.ErrorContains(t, err, "changed under us")
	require.Equal(t, int64(len(events0)), events, "no event written")
	require.Zero(t, txs, "no ledger transaction written")
	require.JSONEq(t, before, claimState(ctx, t, store, id))

	// At the version read, the same write shows inside the transaction.
	events, txs, err = store.StaleWrite(ctx, id, v, chargeRefunded)
	require.NoError(t, err)
	require.Equal(t, int64(len(events0)+2), events)
	require.Equal(t, int64(2), txs)
	require.JSONEq(t, before, claimState(ctx, t, store, id), "rolled back")
}

// TestUpdateLeavesALedgerKeyWrittenBefore: a transaction whose key is
// taken writes no postings, and the change's other transactions are
// written whole.
func TestUpdateLeavesALedgerKeyWrittenBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	id := refundedClaim(ctx, t, store, newSeller(ctx, t, store))
	_, err := store.DB().ExecContext(ctx, `
		WITH t AS (INSERT INTO ledger_transactions (key, kind, claim_id, created_at) VALUES ($1, 'refund', $2, $3) RETURNING id)
		INSERT INTO ledger_postings (transaction_id, account, amount, currency)
		SELECT t.id, v.account, v.amount, 'EUR' FROM t, (VALUES ('before:a', 5), ('before:b', -5)) v(account, amount)`,
		claimflow.RefundKey(id, 1), id, now.Add(-time.Hour))
	require.NoError(t, err)

	require.NoError(t, store.UpdateRecord(ctx, id, chargeRefunded))

	rows, err := store.DB().QueryContext(ctx, `
		SELECT t.key, t.created_at, p.account, p.amount FROM ledger_transactions t JOIN ledger_postings p ON p.transaction_id = t.id
		 WHERE t.claim_id = $1 ORDER BY p.id`, id)
	require.NoError(t, err)
	defer rows.Close()
	type posting struct {
		key     string
		at      time.Time
		account string
		amount  int64
	}
	var got []posting
	for rows.Next() {
		var p posting
		require.NoError(t, rows.Scan(&p.key, &p.at, &p.account, &p.amount))
		p.at = p.at.UTC()
		got = append(got, p)
	}
	require.NoError(t, rows.Err())
	refund, charge := claimflow.RefundKey(id, 1), claimflow.ChargeSellerKey(id, 1)
	receivable := string(ledger.SellerReceivable(rec(t, id).Claim.SellerID()))
	require.Equal(t, []posting{
		{refund, now.Add(-time.Hour), "before:a", 5}, {refund, now.Add(-time.Hour), "before:b", -5},
		{charge, now, receivable, 1000}, {charge, now, string(ledger.ClaimsClearing), -1000},
	}, got)
	require.Equal(t, claim.StatusClosed, rec(t, id).Claim.Status())
}

func rec(t *testing.T, id string) claimflow.Record {
	t.Helper()
	r, err := store.GetClaim(context.Background(), id)
	require.NoError(t, err)
	return r
}

// TestUpdateOfAnUnbalancedLedgerIsRefused: the database's check that
// every transaction balances sees the postings the change's one
// statement writes. A trigger, in a database of the test's own, tilts one
// leg of the charge, as a bug in writing postings would.
func TestUpdateOfAnUnbalancedLedgerIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "unbalanced")
	_, err := st.DB().ExecContext(ctx, `
		CREATE FUNCTION tilt() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.amount := NEW.amount + 1; RETURN NEW; END $$;
		CREATE TRIGGER tilt BEFORE INSERT ON ledger_postings
		    FOR EACH ROW WHEN (NEW.account LIKE 'seller_receivable:%') EXECUTE FUNCTION tilt()`)
	require.NoError(t, err)
	id := refundedClaim(ctx, t, st, newSeller(ctx, t, st))
	before := claimState(ctx, t, st, id)

	err = st.UpdateRecord(ctx, id, chargeRefunded)
	require.ErrorContains(t, err, "does not balance")
	require.JSONEq(t, before, claimState(ctx, t, st, id))
}
