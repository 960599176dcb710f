package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// The amounts that put a new shopper's claim where a test needs it under
// the default policy: refunded at once, or sent to a person.
const (
	instantAmount = 1000  // 10.00 EUR, within the new tier's instant limit
	reviewAmount  = 20000 // 200.00 EUR, above it
)

// newSeller creates a low-risk seller through the API and returns its id,
// this test's name for short.
func (b *testBundle) newSeller(t *testing.T, short string) string {
	t.Helper()
	sellerID := b.name(short)
	r := b.do(t, http.MethodPut, "/v1/sellers/"+sellerID, b.token(t, "service", "platform"),
		map[string]any{"name": "Seller " + sellerID, "risk_score": 10, "verified": true})
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	return sellerID
}

// fileClaim puts an order of sellerID's, paid through the sandbox with
// payRef, and files the shopper's claim on it; it returns the claim.
func (b *testBundle) fileClaim(t *testing.T, sellerID, shopper string, amount int64, payRef string) map[string]any {
	t.Helper()
	orderID := b.name(fmt.Sprintf("ord_%d", time.Now().UnixNano()))
	if payRef == "" {
		payRef = "pay_" + orderID
	}
	r := b.do(t, http.MethodPut, "/v1/orders/"+orderID, b.token(t, "service", "platform"), map[string]any{
		"buyer_id": shopper, "seller_id": sellerID, "currency": "EUR", "amount": amount,
		"items":   []map[string]any{{"sku": "sku_a", "name": "Thing", "quantity": 1, "unit_amount": amount}},
		"payment": map[string]any{"provider": "sandbox", "reference": payRef},
		"paid_at": b.now.Add(-3 * day).Format(time.RFC3339), "delivered_at": b.now.Add(-day).Format(time.RFC3339),
	})
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	r = b.do(t, http.MethodPost, "/v1/claims", b.token(t, "shopper", shopper), claimBody(orderID,
		"evidence", []map[string]any{{"kind": "photo", "url": "https://img.example/" + shopper + ".jpg"}}))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	return r.json(t)
}

// runRefund runs the refund step for a claim, as a worker would, with the
// step's clock at now.
func runRefund(t *testing.T, id string, now time.Time) { refundOn(t, store, id, now) }

// runChargeSeller runs the charge-seller step with its clock at now.
func runChargeSeller(t *testing.T, id string, now time.Time) { chargeOn(t, store, id, now) }

// refundOn is runRefund on a store of the test's own.
func refundOn(t *testing.T, st *pgstore.Store, id string, now time.Time) {
	t.Helper()
	step := &claimflow.RefundStep{Store: st, Now: func() time.Time { return now },
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(st.DB(), sandbox.Config{})}}
	require.NoError(t, step.Run(context.Background(), id, 1, 10))
}

// chargeOn is runChargeSeller on a store of the test's own.
func chargeOn(t *testing.T, st *pgstore.Store, id string, now time.Time) {
	t.Helper()
	step := &claimflow.ChargeSellerStep{Store: st, Now: func() time.Time { return now }}
	require.NoError(t, step.Run(context.Background(), id, 1, 10))
}

// claimIn returns a new claim of sellerID's in the given state: in_review,
// rejected (by an agent), approved (its refund job waiting), refund_failed
// (the card declined the refund) or closed (refunded and charged to the
// seller, whose contest window is open).
func (b *testBundle) claimIn(t *testing.T, state, sellerID string) map[string]any {
	t.Helper()
	shopper := b.name(fmt.Sprintf("shp_%s_%d", state, time.Now().UnixNano()))
	var cl map[string]any
	switch state {
	case "in_review":
		cl = b.fileClaim(t, sellerID, shopper, reviewAmount, "")
	case "rejected":
		cl = b.fileClaim(t, sellerID, shopper, reviewAmount, "")
		r := b.override(t, cl, "reject", "reason_code", "insufficient_evidence")
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	case "approved":
		cl = b.fileClaim(t, sellerID, shopper, instantAmount, "")
	case "refund_failed":
		cl = b.fileClaim(t, sellerID, shopper, instantAmount, sandbox.DeclinePrefix+"_"+shopper)
		runRefund(t, cl["id"].(string), b.now)
	case "closed":
		cl = b.fileClaim(t, sellerID, shopper, instantAmount, "")
		runRefund(t, cl["id"].(string), b.now)
		runChargeSeller(t, cl["id"].(string), b.now)
	default:
		t.Fatalf("no recipe for a claim in %s", state)
	}
	cur := b.getClaim(t, cl["id"].(string))
	require.Equal(t, state, cur["status"])
	return cur
}

func (b *testBundle) getClaim(t *testing.T, id string) map[string]any {
	t.Helper()
	r := b.do(t, http.MethodGet, "/v1/claims/"+id, b.token(t, "agent", "ana"), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	return r.json(t)
}

func (b *testBundle) events(t *testing.T, id, role, sub string) []any {
	t.Helper()
	r := b.do(t, http.MethodGet, "/v1/claims/"+id+"/events", b.token(t, role, sub), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	return r.json(t)["data"].([]any)
}

// override sends agent ana's action on cl at the version cl shows; extra
// adds body fields.
func (b *testBundle) override(t *testing.T, cl map[string]any, action string, extra ...any) response {
	t.Helper()
	body := map[string]any{"action": action, "note": "Checked the photos against the listing.", "version": cl["version"]}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	return b.do(t, http.MethodPost, "/v1/claims/"+cl["id"].(string)+"/override", b.token(t, "agent", "ana"), body)
}

func (b *testBundle) owed(t *testing.T, sellerID string) float64 {
	t.Helper()
	r := b.do(t, http.MethodGet, "/v1/sellers/"+sellerID+"/balance", b.token(t, "finance", "fin"), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	var total float64
	for _, o := range r.json(t)["owed"].([]any) {
		total += o.(map[string]any)["amount"].(float64)
	}
	return total
}

func jobsFor(t *testing.T, claimID, kind string) int {
	t.Helper()
	var n int
	require.NoError(t, store.DB().QueryRow(`SELECT count(*) FROM river_job WHERE args->>'claim_id' = $1 AND kind = $2`,
		claimID, kind).Scan(&n))
	return n
}

// TestOverrideEveryActionInEveryState: each override against each claim
// state, through the router and the database. The allowed ones change the
// state, the ledger and the timeline; the rest are 409 with a code that
// says why, and change nothing.
func TestOverrideEveryActionInEveryState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		action, state string
		extra         []any
		wantStatus    string // "" when refused
		wantCode      string // when refused
	}{
		{action: "approve", state: "in_review", wantStatus: "approved"},
		{action: "approve", state: "rejected", wantStatus: "approved"},
		{action: "approve", state: "approved", wantCode: "cannot_approve"},
		{action: "approve", state: "refund_failed", wantCode: "cannot_approve"},
		{action: "approve", state: "closed", wantCode: "cannot_approve"},

		{action: "reject", state: "in_review", extra: []any{"reason_code", "item_authentic"}, wantStatus: "rejected"},
		{action: "reject", state: "refund_failed", extra: []any{"reason_code", "resolved_with_seller"}, wantStatus: "rejected"},
		{action: "reject", state: "rejected", extra: []any{"reason_code", "item_authentic"}, wantCode: "cannot_reject"},
		{action: "reject", state: "approved", extra: []any{"reason_code", "item_authentic"}, wantCode: "cannot_reject"},
		{action: "reject", state: "closed", extra: []any{"reason_code", "item_authentic"}, wantCode: "cannot_reject"},

		{action: "retry_refund", state: "refund_failed", wantStatus: "approved"},
		{action: "retry_refund", state: "in_review", wantCode: "no_failed_refund"},
		{action: "retry_refund", state: "rejected", wantCode: "no_failed_refund"},
		{action: "retry_refund", state: "approved", wantCode: "no_failed_refund"},
		{action: "retry_refund", state: "closed", wantCode: "no_failed_refund"},

		{action: "waive_chargeback", state: "closed", wantStatus: "closed"},
		{action: "waive_chargeback", state: "in_review", wantCode: "no_chargeback"},
		{action: "waive_chargeback", state: "rejected", wantCode: "no_chargeback"},
		{action: "waive_chargeback", state: "approved", wantCode: "no_chargeback"},
		{action: "waive_chargeback", state: "refund_failed", wantCode: "no_chargeback"},
	}
	for _, tt := range tests {
		t.Run(tt.action+"/"+tt.state, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			sellerID := b.newSeller(t, "sel")
			cl := b.claimIn(t, tt.state, sellerID)
			id := cl["id"].(string)
			eventsBefore := b.events(t, id, "agent", "ana")
			owedBefore := b.owed(t, sellerID)
			refundJobsBefore := jobsFor(t, id, "claim_refund")

			r := b.override(t, cl, tt.action, tt.extra...)

			if tt.wantStatus == "" {
				require.Equal(t, http.StatusConflict, r.Code, string(r.Body))
				e := r.errorOf(t)
				require.Equal(t, tt.wantCode, e["code"])
				cur := e["details"].(map[string]any)["current"].(map[string]any)
				require.Equal(t, tt.state, cur["status"], "the answer shows the claim as it stands")
				require.Equal(t, cl["version"], cur["version"])
				after := b.getClaim(t, id)
				require.Equal(t, tt.state, after["status"])
				require.Equal(t, cl["version"], after["version"])
				require.Len(t, b.events(t, id, "agent", "ana"), len(eventsBefore), "nothing written to the timeline")
				require.Equal(t, owedBefore, b.owed(t, sellerID), "nothing written to the ledger")
				require.Equal(t, refundJobsBefore, jobsFor(t, id, "claim_refund"), "no refund scheduled")
				return
			}

			require.Equal(t, http.StatusOK, r.Code, string(r.Body))
			got := r.json(t)
			require.Equal(t, tt.wantStatus, got["status"])
			require.Greater(t, got["version"].(float64), cl["version"].(float64))
			events := b.events(t, id, "agent", "ana")
			require.Len(t, events, len(eventsBefore)+1, "one timeline event per action")
			last := events[len(events)-1].(map[string]any)
			require.Equal(t, map[string]any{"kind": "agent", "id": "ana"}, last["actor"], "the timeline says who acted")
			require.Equal(t, "Checked the photos against the listing.", last["note"])
			require.Equal(t, tt.state, *strPtr(last["from"]))
			require.Equal(t, tt.wantStatus, last["to"])

			switch tt.action {
			case "approve", "retry_refund":
				require.Equal(t, "override", last["type"])
				require.Equal(t, refundJobsBefore+1, jobsFor(t, id, "claim_refund"), "the refund workflow starts again")
				require.Equal(t, owedBefore, b.owed(t, sellerID))
			case "reject":
				require.Equal(t, "override", last["type"])
				rej := got["rejection"].(map[string]any)
				require.Equal(t, tt.extra[1], rej["code"])
				require.NotEmpty(t, rej["what_helps"], "the shopper is told what would change it")
				require.Nil(t, got["review"], "a decided claim has no deadline")
				require.Equal(t, refundJobsBefore, jobsFor(t, id, "claim_refund"))
			case "waive_chargeback":
				require.Equal(t, "chargeback_waived", last["type"])
				require.Equal(t, "waived", got["chargeback"].(map[string]any)["status"])
				require.Equal(t, owedBefore-instantAmount, b.owed(t, sellerID), "the seller's balance drops")
				requireLedgerBalanced(t, id)
			}
		})
	}
}

func strPtr(v any) *string {
	if s, ok := v.(string); ok {
		return &s
	}
	return new(string)
}

// requireLedgerBalanced checks every transaction of the claim sums to zero.
func requireLedgerBalanced(t *testing.T, claimID string) {
	t.Helper()
	var unbalanced int
	require.NoError(t, store.DB().QueryRow(`SELECT count(*) FROM (
		SELECT p.transaction_id FROM ledger_postings p JOIN ledger_transactions tx ON tx.id = p.transaction_id
		 WHERE tx.claim_id = $1 GROUP BY p.transaction_id, p.currency HAVING sum(p.amount) <> 0) u`, claimID).Scan(&unbalanced))
	require.Zero(t, unbalanced)
}

// TestOverrideBadInput: a bad override is a 4xx naming the field and
// changes nothing.
func TestOverrideBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel")
	cl := b.claimIn(t, "in_review", sellerID)
	id := cl["id"].(string)
	agent := b.token(t, "agent", "ana")
	tests := []struct {
		name      string
		give      any
		wantCode  int
		wantField string
		wantSays  string // part of the message, when it matters
	}{
		{"no action", map[string]any{"note": "n", "version": 2}, 422, "action", ""},
		{"unknown action", map[string]any{"action": "refund_twice", "note": "n", "version": 2}, 422, "action", ""},
		{"no note", map[string]any{"action": "approve", "version": 2}, 422, "note", ""},
		{"blank note", map[string]any{"action": "approve", "note": "  \n ", "version": 2}, 422, "note", ""},
		{"note too long", map[string]any{"action": "approve", "note": strings.Repeat("x", 2001), "version": 2}, 422, "note", ""},
		{"no version", map[string]any{"action": "approve", "note": "n"}, 422, "version", "is required"},
		{"version zero", map[string]any{"action": "approve", "note": "n", "version": 0}, 422, "version", "must be 1 or more"},
		{"negative version", map[string]any{"action": "approve", "note": "n", "version": -9223372036854775808}, 422, "version", "must be 1 or more"},
		{"reject without a reason", map[string]any{"action": "reject", "note": "n", "version": 2}, 422, "reason_code", ""},
		{"unknown rejection reason", map[string]any{"action": "reject", "reason_code": "dislike", "note": "n", "version": 2}, 422, "reason_code", ""},
		{"reason on an approval", map[string]any{"action": "approve", "reason_code": "duplicate", "note": "n", "version": 2}, 422, "reason_code", ""},
		{"version as text", map[string]any{"action": "approve", "note": "n", "version": "2"}, 400, "version", ""},
		{"unknown field", map[string]any{"action": "approve", "note": "n", "version": 2, "amount": 1}, 400, "amount", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.do(t, http.MethodPost, "/v1/claims/"+id+"/override", agent, tt.give)
			require.Equal(t, tt.wantCode, r.Code, string(r.Body))
			require.Equal(t, tt.wantField, r.errorOf(t)["field"])
			require.Contains(t, r.errorOf(t)["message"], tt.wantSays)
		})
	}
	r := b.do(t, http.MethodPost, "/v1/claims/clm_nope/override", agent, map[string]any{"action": "approve", "note": "n", "version": 1})
	require.Equal(t, http.StatusNotFound, r.Code)
	after := b.getClaim(t, id)
	require.Equal(t, "in_review", after["status"])
	require.Equal(t, cl["version"], after["version"])
}

// TestConcurrentOverridesOneWins: many agents act on one claim at once,
// from the same version: exactly one wins, every other gets 409 with the
// claim's current state.
func TestConcurrentOverridesOneWins(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel")
	cl := b.claimIn(t, "in_review", sellerID)
	const agents = 16
	codes := make([]int, agents)
	bodies := make([]map[string]any, agents)
	var wg sync.WaitGroup
	for i := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			action, extra := "approve", []any(nil)
			if i%2 == 1 {
				action, extra = "reject", []any{"reason_code", "insufficient_evidence"}
			}
			r := b.override(t, cl, action, extra...)
			codes[i] = r.Code
			bodies[i] = r.json(t)
		}()
	}
	wg.Wait()
	won := 0
	for i, code := range codes {
		switch code {
		case http.StatusOK:
			won++
		case http.StatusConflict:
			e := bodies[i]["error"].(map[string]any)
			require.Equal(t, "version_conflict", e["code"])
			cur := e["details"].(map[string]any)["current"].(map[string]any)
			require.Contains(t, []any{"approved", "rejected"}, cur["status"])
		default:
			t.Fatalf("agent %d got %d: %v", i, code, bodies[i])
		}
	}
	require.Equal(t, 1, won, "exactly one override wins")
	overrides := 0
	for _, ev := range b.events(t, cl["id"].(string), "agent", "ana") {
		if ev.(map[string]any)["type"] == "override" {
			overrides++
		}
	}
	require.Equal(t, 1, overrides)
}

// TestApproveRejectedClaimRechecksRefundable: granting a rejected claim
// again is refused when another claim has since taken what its order can
// refund.
func TestApproveRejectedClaimRechecksRefundable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel")
	shopper := b.name("shp_twice")
	cl := b.fileClaim(t, sellerID, shopper, reviewAmount, "")
	r := b.override(t, cl, "reject", "reason_code", "insufficient_evidence")
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	rejected := r.json(t)
	// The shopper claims the whole order again; it is live.
	r = b.do(t, http.MethodPost, "/v1/claims", b.token(t, "shopper", shopper), claimBody(cl["order_id"].(string)))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))

	r = b.override(t, rejected, "approve")
	require.Equal(t, http.StatusConflict, r.Code, string(r.Body))
	require.Equal(t, "amount_no_longer_refundable", r.errorOf(t)["code"])
	require.Equal(t, "rejected", b.getClaim(t, cl["id"].(string))["status"])
}

// TestRetryRefundUsesANewKeyAfterADecline: a retry after the provider
// declined is a new request to it, not a replay of the declined one.
func TestRetryRefundUsesANewKeyAfterADecline(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel")
	cl := b.claimIn(t, "refund_failed", sellerID)
	require.Equal(t, "card_declined", cl["failure"].(map[string]any)["code"])
	r := b.override(t, cl, "retry_refund")
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.Nil(t, r.json(t)["failure"], "the old failure is cleared")
	events := b.events(t, cl["id"].(string), "agent", "ana")
	data := events[len(events)-1].(map[string]any)["data"].(map[string]any)
	require.Equal(t, float64(2), data["refund_attempt"])
	rec, err := store.GetClaim(context.Background(), cl["id"].(string))
	require.NoError(t, err)
	require.Equal(t, 2, rec.Claim.RefundAttempt())
	require.Equal(t, "claim/"+cl["id"].(string)+"/refund/2", claimflow.RefundKey(cl["id"].(string), rec.Claim.RefundAttempt()))
}

// TestSellerContestsAndAgentSettles: a seller contests a charge within the
// window; an agent reverses it (the seller's balance drops) or upholds it.
// Every action is in the timeline with who did it.
func TestSellerContestsAndAgentSettles(t *testing.T) {
	t.Parallel()
	for _, outcome := range []string{"reverse", "uphold"} {
		t.Run(outcome, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			sellerID := b.newSeller(t, "sel")
			cl := b.claimIn(t, "closed", sellerID)
			id := cl["id"].(string)
			require.Equal(t, float64(instantAmount), b.owed(t, sellerID))
			cb := cl["chargeback"].(map[string]any)
			require.Equal(t, "open", cb["status"])
			require.Equal(t, b.now.Add(72*time.Hour).Format(time.RFC3339), cb["contest_by"])

			seller := b.token(t, "seller", sellerID)
			r := b.do(t, http.MethodPost, "/v1/claims/"+id+"/contest", seller, map[string]any{
				"statement": "The item was authentic; invoice from the brand attached.",
				"evidence":  []map[string]any{{"kind": "document", "url": "https://docs.example/invoice.pdf"}},
			})
			require.Equal(t, http.StatusOK, r.Code, string(r.Body))
			contested := r.json(t)
			require.Equal(t, "contested", contested["chargeback"].(map[string]any)["status"])
			require.NotContains(t, contested, "shopper_id", "a seller does not see who the shopper is")

			r = b.do(t, http.MethodPost, "/v1/claims/"+id+"/contest", seller, map[string]any{"statement": "Again."})
			require.Equal(t, http.StatusConflict, r.Code)
			require.Equal(t, "already_contested", r.errorOf(t)["code"])

			r = b.do(t, http.MethodPost, "/v1/claims/"+id+"/contest/resolution", b.token(t, "agent", "ana"),
				map[string]any{"outcome": outcome, "note": "Invoice checked with the brand.", "version": contested["version"]})
			require.Equal(t, http.StatusOK, r.Code, string(r.Body))
			settled := r.json(t)["chargeback"].(map[string]any)
			wantOwed, wantStatus := float64(0), "reversed"
			if outcome == "uphold" {
				wantOwed, wantStatus = instantAmount, "upheld"
			}
			require.Equal(t, wantStatus, settled["status"])
			require.Equal(t, "Invoice checked with the brand.", settled["resolution"].(map[string]any)["note"])
			require.Equal(t, wantOwed, b.owed(t, sellerID))
			requireLedgerBalanced(t, id)

			events := b.events(t, id, "agent", "ana")
			byType := map[string]map[string]any{}
			for _, ev := range events {
				m := ev.(map[string]any)
				byType[m["type"].(string)] = m
			}
			require.Equal(t, map[string]any{"kind": "seller", "id": sellerID}, byType["chargeback_contested"]["actor"])
			require.Equal(t, map[string]any{"kind": "agent", "id": "ana"}, byType["contest_"+map[string]string{"reverse": "reversed", "uphold": "upheld"}[outcome]]["actor"])

			// The seller sees the settlement and its note, not the agent's id.
			sellerEvents := b.events(t, id, "seller", sellerID)
			last := sellerEvents[len(sellerEvents)-1].(map[string]any)
			require.Equal(t, "Invoice checked with the brand.", last["note"])
			require.Equal(t, map[string]any{"kind": "agent", "id": ""}, last["actor"])
			// The shopper sees none of it.
			for _, ev := range b.events(t, id, "shopper", cl["shopper_id"].(string)) {
				require.NotContains(t, ev.(map[string]any)["type"], "contest")
			}
		})
	}
}

// TestContestAfterTheWindow: once the window has passed, a contest is
// refused and changes nothing.
func TestContestAfterTheWindow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel")
	shopper := b.name("shp_late")
	cl := b.fileClaim(t, sellerID, shopper, instantAmount, "")
	id := cl["id"].(string)
	chargedAt := b.now.Add(-73 * time.Hour)
	runRefund(t, id, chargedAt)
	runChargeSeller(t, id, chargedAt)
	before := b.getClaim(t, id)

	r := b.do(t, http.MethodPost, "/v1/claims/"+id+"/contest", b.token(t, "seller", sellerID), map[string]any{"statement": "Too late?"})
	require.Equal(t, http.StatusConflict, r.Code, string(r.Body))
	require.Equal(t, "contest_window_closed", r.errorOf(t)["code"])
	require.Equal(t, before["version"], b.getClaim(t, id)["version"])
}

// TestContestBadInput: a bad contest names the field and changes nothing.
func TestContestBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel")
	cl := b.claimIn(t, "closed", sellerID)
	id := cl["id"].(string)
	seller := b.token(t, "seller", sellerID)
	for _, tt := range []struct {
		give      map[string]any
		wantField string
	}{
		{map[string]any{}, "statement"},
		{map[string]any{"statement": "x", "evidence": []map[string]any{{"kind": "photo", "url": "ftp://x"}}}, "evidence[0].url"},
		{map[string]any{"statement": "x", "evidence": []map[string]any{{"kind": "hologram", "url": "https://x.example"}}}, "evidence[0].kind"},
	} {
		r := b.do(t, http.MethodPost, "/v1/claims/"+id+"/contest", seller, tt.give)
		require.Equal(t, http.StatusUnprocessableEntity, r.Code, string(r.Body))
		require.Equal(t, tt.wantField, r.errorOf(t)["field"])
	}
	r := b.do(t, http.MethodPost, "/v1/claims/"+id+"/contest/resolution", b.token(t, "agent", "ana"),
		map[string]any{"outcome": "uphold", "note": "n", "version": cl["version"]})
	require.Equal(t, http.StatusConflict, r.Code, "nothing to settle: the charge is not contested")
	require.Equal(t, "no_open_contest", r.errorOf(t)["code"])
	r = b.do(t, http.MethodPost, "/v1/claims/"+id+"/contest/resolution", b.token(t, "agent", "ana"),
		map[string]any{"outcome": "maybe", "note": "n", "version": cl["version"]})
	require.Equal(t, http.StatusUnprocessableEntity, r.Code)
	require.Equal(t, "outcome", r.errorOf(t)["field"])
	r = b.do(t, http.MethodPost, "/v1/claims/"+id+"/contest/resolution", b.token(t, "agent", "ana"),
		map[string]any{"outcome": "uphold", "note": "n", "version": 0})
	require.Equal(t, http.StatusUnprocessableEntity, r.Code, string(r.Body))
	require.Equal(t, "version", r.errorOf(t)["field"])
	require.Contains(t, r.errorOf(t)["message"], "must be 1 or more")
	require.Equal(t, "open", b.getClaim(t, id)["chargeback"].(map[string]any)["status"])
}

// TestRolesAndOwnership: a seller sees only their own claims, without the
// shopper's personal data; a shopper cannot override; an agent cannot
// contest; a seller cannot contest another seller's claim.
func TestRolesAndOwnership(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mine, theirs := b.newSeller(t, "sel_mine"), b.newSeller(t, "sel_theirs")
	myClaim := b.claimIn(t, "closed", mine)
	theirClaim := b.claimIn(t, "closed", theirs)
	seller := b.token(t, "seller", mine)

	r := b.do(t, http.MethodGet, "/v1/claims/"+theirClaim["id"].(string), seller, nil)
	require.Equal(t, http.StatusNotFound, r.Code, "another seller's claim does not exist for them")
	r = b.do(t, http.MethodGet, "/v1/claims/"+theirClaim["id"].(string)+"/events", seller, nil)
	require.Equal(t, http.StatusNotFound, r.Code)
	r = b.do(t, http.MethodPost, "/v1/claims/"+theirClaim["id"].(string)+"/contest", seller, map[string]any{"statement": "Not mine."})
	require.Equal(t, http.StatusNotFound, r.Code)
	r = b.do(t, http.MethodGet, "/v1/sellers/"+theirs+"/balance", seller, nil)
	require.Equal(t, http.StatusNotFound, r.Code)
	r = b.do(t, http.MethodGet, "/v1/sellers/"+mine+"/balance", seller, nil)
	require.Equal(t, http.StatusOK, r.Code)

	r = b.do(t, http.MethodGet, "/v1/claims/"+myClaim["id"].(string), seller, nil)
	require.Equal(t, http.StatusOK, r.Code)
	view := r.json(t)
	require.NotContains(t, view, "shopper_id")
	require.NotContains(t, view["decision"], "facts", "the decision's facts hold the shopper's history")
	for _, ev := range view["evidence"].([]any) {
		require.NotContains(t, ev, "url", "evidence links are the shopper's")
	}
	require.NotContains(t, string(r.Body), myClaim["shopper_id"].(string))
	r = b.do(t, http.MethodGet, "/v1/claims/"+myClaim["id"].(string)+"/events", seller, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.NotContains(t, string(r.Body), myClaim["shopper_id"].(string))

	r = b.do(t, http.MethodGet, "/v1/claims?seller_id="+theirs, seller, nil)
	require.Equal(t, http.StatusOK, r.Code)
	list := r.json(t)["data"].([]any)
	require.Len(t, list, 1, "a seller lists only their own claims, whatever they ask for")
	require.Equal(t, myClaim["id"], list[0].(map[string]any)["id"])

	shopper := b.token(t, "shopper", myClaim["shopper_id"].(string))
	for _, tt := range []struct {
		name, method, path, token string
	}{
		{"shopper cannot override", http.MethodPost, "/v1/claims/" + myClaim["id"].(string) + "/override", shopper},
		{"seller cannot override", http.MethodPost, "/v1/claims/" + myClaim["id"].(string) + "/override", seller},
		{"agent cannot contest", http.MethodPost, "/v1/claims/" + theirClaim["id"].(string) + "/contest", b.token(t, "agent", "ana")},
		{"shopper cannot contest", http.MethodPost, "/v1/claims/" + myClaim["id"].(string) + "/contest", shopper},
		{"seller cannot settle a contest", http.MethodPost, "/v1/claims/" + myClaim["id"].(string) + "/contest/resolution", seller},
		{"shopper cannot read the queue", http.MethodGet, "/v1/review-queue", shopper},
		{"seller cannot read the queue", http.MethodGet, "/v1/review-queue", seller},
		{"finance cannot read the queue", http.MethodGet, "/v1/review-queue", b.token(t, "finance", "fin")},
		{"shopper cannot read the detail", http.MethodGet, "/v1/claims/" + myClaim["id"].(string) + "/detail", shopper},
		{"seller cannot read the detail", http.MethodGet, "/v1/claims/" + myClaim["id"].(string) + "/detail", seller},
	} {
		r := b.do(t, tt.method, tt.path, tt.token, map[string]any{"statement": "s", "action": "approve", "note": "n", "version": 1})
		require.Equal(t, http.StatusForbidden, r.Code, tt.name)
	}
	// A shopper does not see the seller's chargeback.
	r = b.do(t, http.MethodGet, "/v1/claims/"+myClaim["id"].(string), shopper, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.NotContains(t, r.json(t), "chargeback")
}

// TestReviewQueue: claims waiting for a person, earliest deadline first,
// each with why it waits; filters and pages.
func TestReviewQueue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel_queue")
	// A refund that failed 30 hours ago is overdue and leads; one that
	// failed 10 hours ago comes next; then the fresh reviews.
	overdue := b.fileClaim(t, sellerID, b.name("shp_q1"), instantAmount, sandbox.DeclinePrefix+"_"+b.name("q1"))
	runRefund(t, overdue["id"].(string), b.now.Add(-30*time.Hour))
	failed := b.fileClaim(t, sellerID, b.name("shp_q2"), instantAmount, sandbox.DeclinePrefix+"_"+b.name("q2"))
	runRefund(t, failed["id"].(string), b.now.Add(-10*time.Hour))
	review1 := b.fileClaim(t, sellerID, b.name("shp_q3"), reviewAmount, "")
	review2 := b.fileClaim(t, sellerID, b.name("shp_q4"), reviewAmount+1, "")
	b.fileClaim(t, sellerID, b.name("shp_q5"), instantAmount, "") // approved: not waiting

	agent := b.token(t, "agent", "ana")
	r := b.do(t, http.MethodGet, "/v1/review-queue?seller_id="+sellerID, agent, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	rows := r.json(t)["data"].([]any)
	var ids []any
	for _, row := range rows {
		ids = append(ids, row.(map[string]any)["id"])
	}
	reviews := []any{review1["id"], review2["id"]}
	if review2["id"].(string) < review1["id"].(string) {
		reviews = []any{review2["id"], review1["id"]}
	}
	require.Equal(t, append([]any{overdue["id"], failed["id"]}, reviews...), ids)
	first := rows[0].(map[string]any)
	require.Equal(t, true, first["overdue"])
	require.Equal(t, map[string]any{"kind": "refund_failed", "code": "card_declined", "message": first["waiting"].(map[string]any)["message"]}, first["waiting"])
	require.Equal(t, false, rows[1].(map[string]any)["overdue"])
	third := rows[2].(map[string]any)
	require.Equal(t, "review", third["waiting"].(map[string]any)["kind"])
	require.Equal(t, "above_instant_limit", third["waiting"].(map[string]any)["code"])
	require.Equal(t, b.now.Add(24*time.Hour).Format(time.RFC3339), third["deadline"])

	// Pages follow the same order.
	r = b.do(t, http.MethodGet, "/v1/review-queue?limit=3&seller_id="+sellerID, agent, nil)
	require.Equal(t, http.StatusOK, r.Code)
	page := r.json(t)
	require.Len(t, page["data"], 3)
	r = b.do(t, http.MethodGet, "/v1/review-queue?limit=3&seller_id="+sellerID+"&cursor="+page["next_cursor"].(string), agent, nil)
	require.Equal(t, http.StatusOK, r.Code)
	rest := r.json(t)
	require.Len(t, rest["data"], 1)
	require.Equal(t, ids[3], rest["data"].([]any)[0].(map[string]any)["id"])
	require.Nil(t, rest["next_cursor"])

	// Filters.
	r = b.do(t, http.MethodGet, "/v1/review-queue?currency=EUR&min_amount=20001&seller_id="+sellerID, agent, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Len(t, r.json(t)["data"], 1)
	r = b.do(t, http.MethodGet, "/v1/review-queue?reason=damaged&seller_id="+sellerID, agent, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Empty(t, r.json(t)["data"])

	for _, tt := range []struct{ query, field string }{
		{"reason=broken", "reason"},
		{"min_amount=5", "currency"},
		{"currency=EUR&min_amount=-1", "min_amount"},
		{"currency=EUR&min_amount=9&max_amount=2", "min_amount"},
		{"currency=eur", "currency"},
		{"seller_id=bad%20id", "seller_id"},
		{"limit=0", "limit"},
		{"cursor=bm9wZQ", "cursor"},
	} {
		r := b.do(t, http.MethodGet, "/v1/review-queue?"+tt.query, agent, nil)
		require.Equal(t, http.StatusBadRequest, r.Code, tt.query)
		require.Equal(t, tt.field, r.errorOf(t)["field"], tt.query)
	}
}

// TestClaimDetail: an agent sees the claim, its facts, its timeline and
// the shopper's and seller's recent history on one page.
func TestClaimDetail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel_detail")
	shopper := b.name("shp_detail")
	earlier := b.fileClaim(t, sellerID, shopper, instantAmount, "")
	runRefund(t, earlier["id"].(string), b.now)
	runChargeSeller(t, earlier["id"].(string), b.now)
	cl := b.fileClaim(t, sellerID, shopper, reviewAmount, "")

	r := b.do(t, http.MethodGet, "/v1/claims/"+cl["id"].(string)+"/detail", b.token(t, "agent", "ana"), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	d := r.json(t)
	require.Equal(t, cl["id"], d["claim"].(map[string]any)["id"])
	require.NotNil(t, d["claim"].(map[string]any)["decision"].(map[string]any)["facts"])
	require.Len(t, d["timeline"], 2, "submitted, decided")
	sh := d["shopper"].(map[string]any)
	require.Equal(t, shopper, sh["id"])
	hist := sh["history"].(map[string]any)
	require.Equal(t, float64(1), hist["claims_90d"], "the claim itself is left out")
	require.Equal(t, map[string]any{"closed": float64(1)}, hist["by_status"])
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": float64(instantAmount)}}, hist["refunded_90d"])
	require.Equal(t, earlier["id"], hist["recent"].([]any)[0].(map[string]any)["id"])
	sl := d["seller"].(map[string]any)
	require.Equal(t, sellerID, sl["id"])
	require.Equal(t, []any{map[string]any{"currency": "EUR", "amount": float64(instantAmount)}}, sl["owed"])
	require.Equal(t, float64(1), sl["history"].(map[string]any)["claims_90d"])

	r = b.do(t, http.MethodGet, "/v1/claims/clm_missing/detail", b.token(t, "agent", "ana"), nil)
	require.Equal(t, http.StatusNotFound, r.Code)
}

// TestShopperSeesWhatHappenedAndWhatHelps: every outcome a shopper sees
// comes with a sentence, and reviews and rejections say what evidence
// would change them.
func TestShopperSeesWhatHappenedAndWhatHelps(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel")
	for _, state := range []string{"in_review", "rejected", "approved", "refund_failed", "closed"} {
		cl := b.claimIn(t, state, sellerID)
		r := b.do(t, http.MethodGet, "/v1/claims/"+cl["id"].(string), b.token(t, "shopper", cl["shopper_id"].(string)), nil)
		require.Equal(t, http.StatusOK, r.Code)
		ex := r.json(t)["explanation"].(map[string]any)
		require.NotEmpty(t, ex["summary"], state)
		if state == "in_review" || state == "rejected" {
			require.NotEmpty(t, ex["what_helps"], state)
		}
		require.NotContains(t, ex["summary"], "card_declined", "provider codes are not for shoppers")
	}
}
