package console_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// TestItemsShowByName: wherever a claim's items appear, people read the
// names the order gives them; staff and sellers see the SKU beside the
// name, shoppers only the name. The claim's seller is named too.
func TestItemsShowByName(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_items")
	id := b.fileClaim(t, "sel_items", shopper, instantAmount) // one "Sneakers", SKU sku_a
	for _, tc := range []struct {
		role, sub, path string
		want, notWant   string
	}{
		{"agent", "ana", "/console/claims/" + id, `<li>Sneakers × 1 <span class="code">sku_a</span></li>`, ""},
		{"agent", "ana", "/console/claims/" + id, `<dt>Seller</dt><dd>Seller sel_items <span class="code">` + b.name("sel_items") + `</span></dd>`, ""},
		{"finance", "fin", "/console/claims/" + id, `<li>Sneakers × 1 <span class="code">sku_a</span></li>`, ""},
		{"seller", b.name("sel_items"), "/console/seller/claims/" + id, `<li>Sneakers × 1 <span class="code">sku_a</span></li>`, ""},
		{"shopper", shopper, "/app/claims/" + id, `<dt>Items</dt><dd>Sneakers × 1</dd>`, "sku_a"},
	} {
		s := b.signIn(t, tc.role, tc.sub)
		r := b.do(t, http.MethodGet, tc.path, s.cookie, nil)
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		require.Contains(t, r.Body, tc.want, "%s %s", tc.role, tc.path)
		if tc.notWant != "" {
			require.NotContains(t, r.Body, tc.notWant, "%s %s", tc.role, tc.path)
		}
	}
}

// TestTimelineReadsInWords: the timeline's data show the engine's codes
// as words, a rejection reason as its sentence and times as the console
// writes them; ids stay as they are.
func TestTimelineReadsInWords(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.reviewClaim(t, "sel_words")
	_, err := b.svc.Override(context.Background(), agent, id, claimflow.OverrideRequest{Action: claimflow.ActionReject,
		ReasonCode: "item_authentic", Note: "Genuine.", Version: b.get(t, id).Claim.Version()})
	require.NoError(t, err)
	r := b.do(t, http.MethodGet, "/console/claims/"+id, b.signIn(t, "agent", "ana").cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	timeline := section(t, r.Body, "timeline-h")
	for _, want := range []string{
		"<dt>outcome</dt><dd>manual review</dd>",
		"<dt>reasons</dt><dd>above instant limit</dd>",
		"<dt>reason</dt><dd>counterfeit</dd>",
		"<dt>action</dt><dd>reject</dd>",
		"<dt>reason code</dt><dd>" + escaped(claim.RejectItemAuthentic.Text()) + "</dd>",
	} {
		require.Contains(t, timeline, want)
	}
	require.NotContains(t, timeline, "manual_review")
	require.NotContains(t, timeline, "item_authentic")
}
