package intel_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/claimsd/claimsd/domain/intel"
)

// FuzzClusters builds a small marketplace from the fuzzer's bytes (each
// seller: confirmed counterfeits, a signal and a product out of few, so
// they are shared) and checks what must hold whatever the input: no seller
// in two clusters, each cluster a case by the rules, its links between its
// own sellers over keys they hold, and the same answer for the input
// reversed.
func FuzzClusters(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(2))
	f.Add([]byte{3, 3, 3, 0, 0, 0, 9, 9}, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, maxSharers uint8) {
		if len(b) > 300 {
			b = b[:300]
		}
		var facts []intel.SellerFacts
		keys := map[string]map[string]bool{}
		for i := 0; i+1 < len(b); i += 2 {
			id := fmt.Sprintf("s%02d", int(b[i])%40)
			f := intel.SellerFacts{SellerID: id, Confirmed: int64(b[i+1] % 4)}
			if b[i+1]&4 != 0 {
				f.Signals = []string{fmt.Sprintf("payment_account:%d", b[i+1]>>4)}
			}
			if b[i+1]&8 != 0 && f.Confirmed > 0 {
				f.Products = []string{fmt.Sprintf("brand/sku%d", b[i+1]>>5)}
			}
			if keys[id] == nil {
				keys[id] = map[string]bool{}
			}
			for _, k := range append(append([]string{}, f.Signals...), f.Products...) {
				keys[id][k] = true
			}
			facts = append(facts, f)
		}
		rules := intel.Rules{MaxSharers: int(maxSharers%8) + 1}
		got := intel.Clusters(facts, rules)
		rules = intel.Rules{MaxSharers: rules.MaxSharers, MinRingSellers: intel.DefaultMinRingSellers, MinSoloConfirmed: intel.DefaultMinSoloConfirmed}
		seen := map[string]bool{}
		for _, c := range got {
			if c.Confirmed <= 0 || (len(c.Sellers) < rules.MinRingSellers && c.Confirmed < rules.MinSoloConfirmed) {
				t.Fatalf("not a case by the rules: %+v", c)
			}
			if !slices.IsSorted(c.Sellers) {
				t.Fatalf("sellers not sorted: %v", c.Sellers)
			}
			for _, s := range c.Sellers {
				if seen[s] {
					t.Fatalf("seller %s in two clusters", s)
				}
				seen[s] = true
			}
			for _, l := range c.Links {
				if l.A >= l.B || !slices.Contains(c.Sellers, l.A) || !slices.Contains(c.Sellers, l.B) {
					t.Fatalf("link %+v outside cluster %v", l, c.Sellers)
				}
				if !keys[l.A][l.Key] || !keys[l.B][l.Key] {
					t.Fatalf("link %+v over a key one of them does not hold", l)
				}
			}
		}
		reversed := slices.Clone(facts)
		slices.Reverse(reversed)
		again := intel.Clusters(reversed, intel.Rules{MaxSharers: rules.MaxSharers})
		if fmt.Sprint(again) != fmt.Sprint(got) {
			t.Fatalf("the input's order changed the answer:\n%v\n%v", got, again)
		}
	})
}
