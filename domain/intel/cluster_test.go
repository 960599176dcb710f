package intel_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/intel"
)

// marketplace is a generated population of sellers with the rings planted
// in it, so a test knows the answer.
type marketplace struct {
	facts   []intel.SellerFacts
	rings   [][]string // each sorted
	solo    string     // a loner with enough confirmed counterfeits to be a case
	honest  map[string]bool
	loners  map[string]bool // one confirmed counterfeit each, linked to no one
	popular []string        // one confirmed counterfeit each, all of the same product
	hubRing string          // the ring member sharing the big warehouse
}

// newMarketplace builds the same marketplace for the same seed.
func newMarketplace(seed uint64) marketplace {
	rng := rand.New(rand.NewPCG(seed, 0x1e57))
	digest := func(kind string) string { return fmt.Sprintf("%s:%016x%016x", kind, rng.Uint64(), rng.Uint64()) }
	kinds := []string{"payment_account", "warehouse", "registration"}
	m := marketplace{honest: map[string]bool{}, loners: map[string]bool{}}

	// Honest sellers: own signals, no confirmed counterfeits; every tenth
	// pair shares a payment account (family businesses), and the first 500
	// ship from one big fulfilment warehouse.
	const honest = 2000
	bigWarehouse := digest("warehouse")
	for i := range honest {
		f := intel.SellerFacts{SellerID: fmt.Sprintf("h%04d", i), Signals: []string{digest("registration"), digest("payment_account")}}
		if i < 500 {
			f.Signals = append(f.Signals, bigWarehouse)
		}
		m.facts = append(m.facts, f)
		m.honest[f.SellerID] = true
	}
	for i := 0; i+1 < honest; i += 20 {
		shared := digest("payment_account")
		m.facts[i].Signals = append(m.facts[i].Signals, shared)
		m.facts[i+1].Signals = append(m.facts[i+1].Signals, shared)
	}

	// Loners: one confirmed counterfeit each, own signals, own products of
	// one famous brand (a brand alone links no one).
	for i := range 200 {
		id := fmt.Sprintf("l%03d", i)
		m.facts = append(m.facts, intel.SellerFacts{
			SellerID: id, Confirmed: 1,
			Signals:  []string{digest("registration"), digest("warehouse")},
			Products: []string{fmt.Sprintf("acme/SKU-%03d", i)},
		})
		m.loners[id] = true
	}

	// A popular product counterfeited once each by 50 unrelated sellers:
	// more than MaxSharers, so it links none of them.
	for i := range 50 {
		id := fmt.Sprintf("p%02d", i)
		m.facts = append(m.facts, intel.SellerFacts{
			SellerID: id, Confirmed: 1,
			Signals:  []string{digest("registration")},
			Products: []string{"acme/BAG-01"},
		})
		m.popular = append(m.popular, id)
	}

	// A loner with three confirmed counterfeits: a case of one.
	m.solo = "s000"
	m.facts = append(m.facts, intel.SellerFacts{SellerID: m.solo, Confirmed: 3, Signals: []string{digest("registration")}})

	// Rings of 3 to 6 sellers, each member chained to the next by a
	// shared key of some kind; members after the first may have no
	// confirmed counterfeit (accomplices). Ring 0's first member also
	// ships from the big warehouse.
	for r := range 5 {
		n := 3 + rng.IntN(4)
		var ring []string
		var prev string
		for j := range n {
			id := fmt.Sprintf("r%d-%d", r, j)
			f := intel.SellerFacts{SellerID: id, Signals: []string{digest("registration")}}
			if j == 0 {
				f.Confirmed = 1 + rng.Int64N(3)
			} else {
				f.Confirmed = rng.Int64N(2)
			}
			if prev != "" {
				f.Signals = append(f.Signals, prev)
			}
			if j < n-1 {
				prev = digest(kinds[rng.IntN(len(kinds))])
				f.Signals = append(f.Signals, prev)
			}
			if r == 0 && j == 0 {
				f.Signals = append(f.Signals, bigWarehouse)
				m.hubRing = id
			}
			m.facts = append(m.facts, f)
			ring = append(ring, id)
		}
		slices.Sort(ring)
		m.rings = append(m.rings, ring)
	}

	rng.Shuffle(len(m.facts), func(i, j int) { m.facts[i], m.facts[j] = m.facts[j], m.facts[i] })
	return m
}

func TestClustersMarketplace(t *testing.T) {
	t.Parallel()
	m := newMarketplace(7)
	got := intel.Clusters(m.facts, intel.DefaultRules())

	want := append([][]string{{m.solo}}, m.rings...)
	var gotSets [][]string
	for _, c := range got {
		gotSets = append(gotSets, c.Sellers)
	}
	require.ElementsMatch(t, want, gotSets, "exactly the planted rings and the solo case")

	for _, c := range got {
		require.True(t, slices.IsSorted(c.Sellers), "%v", c.Sellers)
		for _, s := range c.Sellers {
			require.False(t, m.honest[s], "honest seller %s in %v", s, c.Sellers)
			require.False(t, m.loners[s], "loner %s in %v", s, c.Sellers)
			require.NotContains(t, m.popular, s)
		}
		// Each ring is a chain of keys shared by two: n-1 links; the big
		// warehouse links no one.
		require.Len(t, c.Links, len(c.Sellers)-1, "%v", c.Sellers)
		for _, l := range c.Links {
			require.Less(t, l.A, l.B)
			require.Contains(t, []string{"payment_account", "warehouse", "registration"}, l.Kind)
			require.True(t, strings.HasPrefix(l.Key, l.Kind+":"), l.Key)
		}
	}
	require.True(t, slices.IsSortedFunc(got, func(x, y intel.Cluster) int {
		if x.Confirmed != y.Confirmed {
			return int(y.Confirmed - x.Confirmed)
		}
		return strings.Compare(x.Sellers[0], y.Sellers[0])
	}), "sorted by confirmed desc, then first seller")

	var sum int64
	for _, c := range got {
		if c.Sellers[0] == m.solo {
			require.Equal(t, int64(3), c.Confirmed)
			require.Empty(t, c.Links)
		}
		sum += c.Confirmed
	}
	require.Positive(t, sum)
	require.True(t, slices.ContainsFunc(got, func(c intel.Cluster) bool { return slices.Contains(c.Sellers, m.hubRing) }))
}

func TestClustersDeterministic(t *testing.T) {
	t.Parallel()
	m := newMarketplace(11)
	want := intel.Clusters(m.facts, intel.DefaultRules())
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5 {
		facts := slices.Clone(m.facts)
		rng.Shuffle(len(facts), func(i, j int) { facts[i], facts[j] = facts[j], facts[i] })
		for i := range facts { // the order of a seller's own keys does not matter either
			sig := slices.Clone(facts[i].Signals)
			rng.Shuffle(len(sig), func(a, b int) { sig[a], sig[b] = sig[b], sig[a] })
			facts[i].Signals = sig
		}
		require.Equal(t, want, intel.Clusters(facts, intel.DefaultRules()))
	}
}

func TestClustersSmall(t *testing.T) {
	t.Parallel()
	link := func(a, b, kind, key string) intel.Link { return intel.Link{A: a, B: b, Kind: kind, Key: key} }
	for _, tt := range []struct {
		name string
		give []intel.SellerFacts
		// giveRules zero means defaults
		giveRules intel.Rules
		want      []intel.Cluster
	}{
		{
			name: "nothing",
		},
		{
			name: "duplicate facts are merged",
			give: []intel.SellerFacts{
				{SellerID: "a", Confirmed: 1, Signals: []string{"warehouse:01"}},
				{SellerID: "c", Confirmed: 2},
				{SellerID: "b", Signals: []string{"warehouse:01"}},
				{SellerID: "c", Confirmed: 1},
				{SellerID: "a", Confirmed: 2, Signals: []string{"warehouse:01", "registration:02"}},
				{SellerID: "b", Signals: []string{"registration:02"}},
			},
			want: []intel.Cluster{
				{Sellers: []string{"a", "b"}, Confirmed: 3, Links: []intel.Link{
					link("a", "b", "registration", "registration:02"),
					link("a", "b", "warehouse", "warehouse:01"),
				}},
				{Sellers: []string{"c"}, Confirmed: 3, Links: []intel.Link{}},
			},
		},
		{
			name: "a shared product links two sellers with confirmed counterfeits",
			give: []intel.SellerFacts{
				{SellerID: "a", Confirmed: 1, Products: []string{"acme/BAG-01"}},
				{SellerID: "b", Confirmed: 1, Products: []string{"acme/BAG-01"}},
			},
			want: []intel.Cluster{{Sellers: []string{"a", "b"}, Confirmed: 2, Links: []intel.Link{
				link("a", "b", "product", "acme/BAG-01"),
			}}},
		},
		{
			name: "a product listed for a seller without confirmed counterfeits links nobody",
			give: []intel.SellerFacts{
				{SellerID: "a", Confirmed: 1, Products: []string{"acme/BAG-01"}},
				{SellerID: "b", Products: []string{"acme/BAG-01"}},
			},
		},
		{
			name: "the same brand alone links nobody",
			give: []intel.SellerFacts{
				{SellerID: "a", Confirmed: 2, Products: []string{"acme/BAG-01"}},
				{SellerID: "b", Confirmed: 2, Products: []string{"acme/BAG-02"}},
			},
		},
		{
			name: "an accomplice without confirmed counterfeits is in the ring",
			give: []intel.SellerFacts{
				{SellerID: "x", Confirmed: 1, Signals: []string{"payment_account:aa"}},
				{SellerID: "y", Signals: []string{"payment_account:aa"}},
			},
			want: []intel.Cluster{{Sellers: []string{"x", "y"}, Confirmed: 1, Links: []intel.Link{
				link("x", "y", "payment_account", "payment_account:aa"),
			}}},
		},
		{
			name: "a ring without confirmed counterfeits is no case",
			give: []intel.SellerFacts{
				{SellerID: "x", Signals: []string{"payment_account:aa"}},
				{SellerID: "y", Signals: []string{"payment_account:aa"}},
			},
		},
		{
			name: "a key shared by n sellers gives n-1 links between neighbours",
			give: []intel.SellerFacts{
				{SellerID: "e", Signals: []string{"registration:r"}},
				{SellerID: "b", Signals: []string{"registration:r"}},
				{SellerID: "d", Confirmed: 1, Signals: []string{"registration:r"}},
				{SellerID: "a", Signals: []string{"registration:r", "registration:r"}},
				{SellerID: "c", Signals: []string{"registration:r"}},
			},
			want: []intel.Cluster{{Sellers: []string{"a", "b", "c", "d", "e"}, Confirmed: 1, Links: []intel.Link{
				link("a", "b", "registration", "registration:r"),
				link("b", "c", "registration", "registration:r"),
				link("c", "d", "registration", "registration:r"),
				link("d", "e", "registration", "registration:r"),
			}}},
		},
		{
			name:      "a key shared by exactly MaxSharers links",
			giveRules: intel.Rules{MaxSharers: 3},
			give: []intel.SellerFacts{
				{SellerID: "a", Confirmed: 1, Signals: []string{"warehouse:w"}},
				{SellerID: "b", Signals: []string{"warehouse:w"}},
				{SellerID: "c", Signals: []string{"warehouse:w"}},
			},
			want: []intel.Cluster{{Sellers: []string{"a", "b", "c"}, Confirmed: 1, Links: []intel.Link{
				link("a", "b", "warehouse", "warehouse:w"),
				link("b", "c", "warehouse", "warehouse:w"),
			}}},
		},
		{
			name:      "a key shared by more than MaxSharers links nobody",
			giveRules: intel.Rules{MaxSharers: 3},
			give: []intel.SellerFacts{
				{SellerID: "a", Confirmed: 1, Signals: []string{"warehouse:w"}},
				{SellerID: "b", Signals: []string{"warehouse:w"}},
				{SellerID: "c", Signals: []string{"warehouse:w"}},
				{SellerID: "d", Signals: []string{"warehouse:w"}},
			},
		},
		{
			name:      "rules set the ring and solo thresholds",
			giveRules: intel.Rules{MinRingSellers: 3, MinSoloConfirmed: 5},
			give: []intel.SellerFacts{
				{SellerID: "a", Confirmed: 2, Signals: []string{"warehouse:w"}},
				{SellerID: "b", Confirmed: 2, Signals: []string{"warehouse:w"}},
				{SellerID: "c", Confirmed: 4},
				{SellerID: "d", Confirmed: 5},
			},
			want: []intel.Cluster{{Sellers: []string{"d"}, Confirmed: 5, Links: []intel.Link{}}},
		},
		{
			name: "a loner with two confirmed counterfeits is no case",
			give: []intel.SellerFacts{{SellerID: "a", Confirmed: 2}},
		},
		{
			name: "sorted by confirmed, most first, then by first seller",
			give: []intel.SellerFacts{
				{SellerID: "z", Confirmed: 3},
				{SellerID: "m", Confirmed: 4},
				{SellerID: "b", Confirmed: 3},
			},
			want: []intel.Cluster{
				{Sellers: []string{"m"}, Confirmed: 4, Links: []intel.Link{}},
				{Sellers: []string{"b"}, Confirmed: 3, Links: []intel.Link{}},
				{Sellers: []string{"z"}, Confirmed: 3, Links: []intel.Link{}},
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, intel.Clusters(tt.give, tt.giveRules))
		})
	}
}

func TestClustersZeroRulesAreDefaults(t *testing.T) {
	t.Parallel()
	require.Equal(t, intel.Rules{MaxSharers: 20, MinRingSellers: 2, MinSoloConfirmed: 3}, intel.DefaultRules())
	m := newMarketplace(5)
	require.Equal(t, intel.Clusters(m.facts, intel.DefaultRules()), intel.Clusters(m.facts, intel.Rules{}))
}

func BenchmarkClusters(b *testing.B) {
	// Some 100k claims' worth of sellers: fifty marketplaces side by side.
	var facts []intel.SellerFacts
	for i := range 50 {
		m := newMarketplace(uint64(i))
		for _, f := range m.facts {
			f.SellerID = fmt.Sprintf("%02d-%s", i, f.SellerID)
			facts = append(facts, f)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		intel.Clusters(facts, intel.DefaultRules())
	}
}

func TestClustersOrderOfManyTies(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 9))
	var facts []intel.SellerFacts
	for i := range 300 {
		facts = append(facts, intel.SellerFacts{SellerID: fmt.Sprintf("s%03d", i), Confirmed: 3 + rng.Int64N(3)})
	}
	got := intel.Clusters(facts, intel.DefaultRules())
	require.Len(t, got, len(facts))
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		require.True(t, a.Confirmed > b.Confirmed || a.Confirmed == b.Confirmed && a.Sellers[0] < b.Sellers[0],
			"%v before %v", a, b)
	}
}
