package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSellerSeesNoShopperHistory: a claim decided on the shopper's history
// (frequent claims) shows its seller the outcome and a sentence written for
// sellers, never the shopper's tier, the reasons written to the shopper,
// their reason codes in the timeline, the shopper's identity or evidence
// links; in the claim, the list and the timeline alike. The shopper still
// reads their reasons.
func TestSellerSeesNoShopperHistory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel")
	shopper := b.name("shp_often")
	// Three claims on other orders make the fourth a frequent claimer's.
	for range 3 {
		b.fileClaim(t, sellerID, shopper, instantAmount, "")
	}
	cl := b.fileClaim(t, sellerID, shopper, instantAmount, "")
	id := cl["id"].(string)
	require.Equal(t, "in_review", cl["status"], "the shopper's history sent it to a person")
	reasons := cl["decision"].(map[string]any)["reasons"].([]any)
	require.Equal(t, "frequent_claims", reasons[0].(map[string]any)["code"], "the shopper reads why")
	shopperMessage := reasons[0].(map[string]any)["message"].(string)
	require.Contains(t, shopperMessage, "You have filed")
	require.NotNil(t, cl["decision"].(map[string]any)["tier"], "the shopper sees their tier")

	seller := b.token(t, "seller", sellerID)
	requireSellerView := func(t *testing.T, raw string, c map[string]any) {
		t.Helper()
		for _, leak := range []string{shopper, "frequent_claims", "You have filed", shopperMessage, "https://img.example/"} {
			require.NotContains(t, raw, leak)
		}
		d := c["decision"].(map[string]any)
		require.NotEmpty(t, d["outcome"], "the seller sees the outcome")
		for _, hidden := range []string{"reasons", "tier", "facts"} {
			require.NotContains(t, d, hidden)
		}
		require.NotContains(t, c, "shopper_id")
		ex := c["explanation"].(map[string]any)
		require.NotEmpty(t, ex["summary"], "the seller reads a sentence written for them")
		require.NotContains(t, ex["summary"], "your claim")
	}

	r := b.do(t, http.MethodGet, "/v1/claims/"+id, seller, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	got := r.json(t)
	requireSellerView(t, string(r.Body), got)
	require.Equal(t, "manual_review", got["decision"].(map[string]any)["outcome"])
	require.Contains(t, got["explanation"].(map[string]any)["summary"], "reviewing this claim")
	require.Equal(t, "photo", got["evidence"].([]any)[0].(map[string]any)["kind"], "the seller sees what kind of evidence there is")

	r = b.do(t, http.MethodGet, "/v1/claims?limit=100", seller, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	rows := r.json(t)["data"].([]any)
	require.Len(t, rows, 4)
	for _, row := range rows {
		requireSellerView(t, string(r.Body), row.(map[string]any))
	}

	r = b.do(t, http.MethodGet, "/v1/claims/"+id+"/events", seller, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.NotContains(t, string(r.Body), "frequent_claims", "the decided event's codes tell the shopper's history")
	require.NotContains(t, string(r.Body), shopper)
	decided := r.json(t)["data"].([]any)[1].(map[string]any)
	require.Equal(t, "decided", decided["type"])
	require.Equal(t, "manual_review", decided["data"].(map[string]any)["outcome"], "the outcome stays")
	// Staff still see the codes in the timeline.
	require.Contains(t, strings.Join(eventTypesAndCodes(b.events(t, id, "agent", "ana")), " "), "frequent_claims")

	// Approved by an agent, refunded and charged: the seller reads the
	// charge and until when to contest, and what backs a contest.
	require.Equal(t, http.StatusOK, b.override(t, b.getClaim(t, id), "approve").Code)
	runRefund(t, id, b.now)
	runChargeSeller(t, id, b.now)
	r = b.do(t, http.MethodGet, "/v1/claims/"+id, seller, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	got = r.json(t)
	requireSellerView(t, string(r.Body), got)
	ex := got["explanation"].(map[string]any)
	require.Contains(t, ex["summary"], "charged to you")
	require.Contains(t, ex["summary"], "you may contest the charge until")
	require.Contains(t, ex["what_helps"], "Invoices from your supplier")
	require.Equal(t, "open", got["chargeback"].(map[string]any)["status"])
}

// TestSellerSeesNoRefundFailureOrShopperRejectionText: why a refund failed
// (the provider's words) and an agent's rejection as written to the
// shopper stay with staff and the shopper; the seller reads the finding in
// words written for them.
func TestSellerSeesNoRefundFailureOrShopperRejectionText(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel")
	seller := b.token(t, "seller", sellerID)

	failed := b.claimIn(t, "refund_failed", sellerID)
	require.NotNil(t, failed["failure"], "staff see why")
	r := b.do(t, http.MethodGet, "/v1/claims/"+failed["id"].(string), seller, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	got := r.json(t)
	require.Nil(t, got["failure"])
	require.NotContains(t, string(r.Body), failed["failure"].(map[string]any)["reason"].(string))
	require.Contains(t, got["explanation"].(map[string]any)["summary"], "You are not charged until it does")
	r = b.do(t, http.MethodGet, "/v1/claims/"+failed["id"].(string)+"/events", seller, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.Contains(t, string(r.Body), `"refund_failed"`, "the seller sees that it failed")
	require.NotContains(t, string(r.Body), failed["failure"].(map[string]any)["reason"].(string), "not the provider's words on why")
	require.NotContains(t, string(r.Body), `"`+failed["failure"].(map[string]any)["code"].(string)+`"`, "nor the provider's code")

	rejected := b.claimIn(t, "rejected", sellerID)
	r = b.do(t, http.MethodGet, "/v1/claims/"+rejected["id"].(string), seller, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	got = r.json(t)
	rj := got["rejection"].(map[string]any)
	require.Equal(t, "insufficient_evidence", rj["code"])
	require.Equal(t, "The shopper's evidence did not confirm the problem.", rj["message"])
	require.Empty(t, rj["what_helps"], "what the shopper could send is not the seller's business")
	require.Contains(t, got["explanation"].(map[string]any)["summary"], "An agent rejected the claim: The shopper's evidence did not confirm the problem. You are not charged for it.")
	require.NotContains(t, string(r.Body), "evidence you sent")
}

// eventTypesAndCodes lists each event's type and the reason codes its data
// carries.
func eventTypesAndCodes(events []any) []string {
	var out []string
	for _, ev := range events {
		m := ev.(map[string]any)
		out = append(out, m["type"].(string))
		if d, ok := m["data"].(map[string]any); ok {
			if codes, ok := d["reasons"].([]any); ok {
				for _, c := range codes {
					out = append(out, c.(string))
				}
			}
		}
	}
	return out
}

// TestShopperSeesNoCharge: the shopper's timeline says the seller was
// charged, not how much, until when, to whom or how the money came back,
// and says nothing of the charge's state when the refund fails later.
func TestShopperSeesNoCharge(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel")
	cl := b.claimIn(t, "closed", sellerID)
	shopper := cl["shopper_id"].(string)
	events := b.events(t, cl["id"].(string), "shopper", shopper)
	var sawCharged bool
	for _, ev := range events {
		m := ev.(map[string]any)
		if m["type"] == "seller_charged" {
			sawCharged = true
			require.NotContains(t, m, "data", "the charge's amount, window and seller are the seller's")
			require.NotContains(t, m, "note")
		}
		require.NotContains(t, m["type"], "chargeback")
	}
	require.True(t, sawCharged, "the step itself shows")
	r := b.do(t, http.MethodGet, "/v1/claims/"+cl["id"].(string)+"/events", b.token(t, "shopper", shopper), nil)
	require.NotContains(t, string(r.Body), sellerID)
	require.NotContains(t, string(r.Body), "contest_by")
}
