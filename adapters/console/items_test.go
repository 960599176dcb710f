package console_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestItemsShowByName: wherever a claim's items appear, people read the
// names the order gives them; staff and sellers see the SKU beside the
// name, shoppers only the name.
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
