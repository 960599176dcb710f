// Package intel is counterfeit intelligence: what the engine learns from
// confirmed counterfeit claims, for brands' rights holders and the
// enforcement bodies they refer cases to. It finds the sellers that work
// together (rings sharing a payment account, a warehouse, a registration,
// or the same counterfeited products), keeps a case's identity stable as
// the rings are recomputed, moves a case through the referral funnel,
// rates how often a rights holder's verdicts were borne out, and signs
// the packets sent out so a recipient can check where they came from.
//
//	cs := intel.Clusters(facts, intel.DefaultRules())
//	ids := intel.Match(cs, stored) // "" for a new case
//
// Plain Go: the store gathers the facts and keeps the cases.
package intel

import (
	"cmp"
	"slices"
	"strings"
)

// SellerFacts is what clustering knows of one seller.
type SellerFacts struct {
	SellerID string
	// Confirmed is how many counterfeit claims against the seller are
	// confirmed.
	Confirmed int64
	// Signals are opaque keys of what the platform fed about the seller,
	// kind ":" hex digest, e.g. "payment_account:3f9a…". Sellers sharing
	// one are linked, whether or not they have confirmed counterfeits.
	Signals []string
	// Products are the keys of the products of the seller's confirmed
	// counterfeits, brand "/" sku, e.g. "acme/BAG-01".
	Products []string
}

// Link is one reason two sellers are in the same cluster.
type Link struct {
	A, B string // seller ids, A < B
	// Kind is the signal's kind, the part of its key before the first
	// ":" (registration, warehouse, payment_account, …), or "product".
	Kind string
	// Key is the signal key or product key the two share.
	Key string
}

// KindProduct is the Kind of a Link made by a counterfeited product.
const KindProduct = "product"

// Cluster is a set of sellers linked to one another, directly or
// through others.
type Cluster struct {
	Sellers []string // sorted
	// Links are the pairwise links found, sorted by A, B, Kind, Key. A
	// key shared by n sellers links each to the next in sorted order:
	// n-1 links, enough to show they are connected.
	Links     []Link
	Confirmed int64 // the sum over its sellers
}

// Rules tune what links sellers and what makes a case. A zero field
// means its default.
type Rules struct {
	// MaxSharers: a signal or product shared by more sellers than this
	// links none of them. A big fulfilment warehouse or a popular product
	// says nothing about who works together. Default 20.
	MaxSharers int
	// MinRingSellers: a cluster of this many sellers or more is a case.
	// Default 2.
	MinRingSellers int
	// MinSoloConfirmed: a seller linked to no one is a case alone with at
	// least this many confirmed counterfeits. Default 3.
	MinSoloConfirmed int64
}

// The default rules.
const (
	DefaultMaxSharers       = 20
	DefaultMinRingSellers   = 2
	DefaultMinSoloConfirmed = 3
)

// DefaultRules returns the rules a zero Rules stands for.
func DefaultRules() Rules {
	return Rules{
		MaxSharers:       DefaultMaxSharers,
		MinRingSellers:   DefaultMinRingSellers,
		MinSoloConfirmed: DefaultMinSoloConfirmed,
	}
}

// withDefaults fills r's zero (or negative) fields with the defaults.
func (r Rules) withDefaults() Rules {
	if r.MaxSharers <= 0 {
		r.MaxSharers = DefaultMaxSharers
	}
	if r.MinRingSellers <= 0 {
		r.MinRingSellers = DefaultMinRingSellers
	}
	if r.MinSoloConfirmed <= 0 {
		r.MinSoloConfirmed = DefaultMinSoloConfirmed
	}
	return r
}

// Clusters finds the rings among sellers: the connected components of the
// graph whose edges are shared signals and shared counterfeited products.
//
// Two sellers are linked when they share a signal key (any seller fed,
// even one without confirmed counterfeits: an accomplice's shared payment
// account is the lead), or when both have confirmed counterfeits of the
// same product key. A key shared by more than r.MaxSharers sellers links
// none of them. Brands never link: a famous brand's fakes come from many
// unrelated sellers, so sharing one says nothing about working together.
//
// A component is returned when its sellers have confirmed counterfeits
// (Confirmed > 0) and it has r.MinRingSellers sellers or more, or
// r.MinSoloConfirmed confirmed counterfeits or more. Facts given twice
// for one seller are merged (counts summed, keys united). The result is
// sorted by Confirmed, most first, then by first seller id; it is the
// same for the same facts in any order.
//
// It runs in time linear in the number of keys (union-find), plus the
// sorting of sellers and links.
func Clusters(facts []SellerFacts, r Rules) []Cluster {
	r = r.withDefaults()
	ss := mergeFacts(facts)

	// Sellers are indexed in id order, and visited in that order below,
	// so every key's list of sharers comes out sorted.
	signals := make(map[string][]int32)
	products := make(map[string][]int32)
	var keyOrder []keyRef // first-seen order, so links come out stable
	add := func(m map[string][]int32, product bool, key string, i int32) {
		l, seen := m[key]
		if len(l) > 0 && l[len(l)-1] == i {
			return // the seller listed the key twice
		}
		if !seen {
			keyOrder = append(keyOrder, keyRef{key: key, product: product})
		}
		m[key] = append(l, i)
	}
	for i, s := range ss {
		for _, k := range s.signals {
			add(signals, false, k, int32(i))
		}
		if s.confirmed > 0 { // only confirmed counterfeits link by product
			for _, k := range s.products {
				add(products, true, k, int32(i))
			}
		}
	}

	uf := newUnionFind(len(ss))
	var links []indexedLink
	for _, kr := range keyOrder {
		var sharers []int32
		kind := KindProduct
		if kr.product {
			sharers = products[kr.key]
		} else {
			sharers = signals[kr.key]
			kind = signalKind(kr.key)
		}
		if len(sharers) < 2 || len(sharers) > r.MaxSharers {
			continue
		}
		for j := 1; j < len(sharers); j++ {
			a, b := sharers[j-1], sharers[j]
			uf.union(a, b)
			links = append(links, indexedLink{a: a, b: b, kind: kind, key: kr.key})
		}
	}

	// Gather the components, keeping only those that can be cases.
	byRoot := make(map[int32]int) // root → index in comps
	var comps []component
	for i := range ss {
		root := uf.find(int32(i))
		ci, ok := byRoot[root]
		if !ok {
			ci = len(comps)
			byRoot[root] = ci
			comps = append(comps, component{})
		}
		comps[ci].members = append(comps[ci].members, int32(i)) // in id order
		comps[ci].confirmed += ss[i].confirmed
	}
	for _, l := range links {
		ci := byRoot[uf.find(l.a)]
		comps[ci].links = append(comps[ci].links, l)
	}

	var out []Cluster
	for _, c := range comps {
		if c.confirmed <= 0 {
			continue // no confirmed counterfeit: nothing to act on
		}
		if len(c.members) < r.MinRingSellers && c.confirmed < r.MinSoloConfirmed {
			continue
		}
		cl := Cluster{Sellers: make([]string, len(c.members)), Confirmed: c.confirmed}
		for j, m := range c.members {
			cl.Sellers[j] = ss[m].id
		}
		cl.Links = make([]Link, len(c.links))
		for j, l := range c.links {
			cl.Links[j] = Link{A: ss[l.a].id, B: ss[l.b].id, Kind: l.kind, Key: l.key}
		}
		slices.SortFunc(cl.Links, compareLinks)
		out = append(out, cl)
	}
	slices.SortFunc(out, func(x, y Cluster) int {
		if c := cmp.Compare(y.Confirmed, x.Confirmed); c != 0 {
			return c
		}
		return strings.Compare(x.Sellers[0], y.Sellers[0])
	})
	return out
}

// signalKind returns the part of a signal key before its first ":", or
// the whole key when it has none.
func signalKind(key string) string {
	kind, _, _ := strings.Cut(key, ":")
	return kind
}

func compareLinks(x, y Link) int {
	return cmp.Or(
		strings.Compare(x.A, y.A),
		strings.Compare(x.B, y.B),
		strings.Compare(x.Kind, y.Kind),
		strings.Compare(x.Key, y.Key),
	)
}

// seller is one seller's merged facts.
type seller struct {
	id                string
	confirmed         int64
	signals, products []string
}

// mergeFacts merges the facts given for each seller id and returns the
// sellers sorted by id. Empty keys are dropped; a key a seller lists
// twice is kept twice here and indexed once.
func mergeFacts(facts []SellerFacts) []seller {
	idx := make(map[string]int, len(facts))
	ss := make([]seller, 0, len(facts))
	for _, f := range facts {
		i, ok := idx[f.SellerID]
		if !ok {
			i = len(ss)
			idx[f.SellerID] = i
			ss = append(ss, seller{id: f.SellerID})
		}
		s := &ss[i]
		s.confirmed += f.Confirmed
		s.signals = appendNonEmpty(s.signals, f.Signals)
		s.products = appendNonEmpty(s.products, f.Products)
	}
	slices.SortFunc(ss, func(x, y seller) int { return strings.Compare(x.id, y.id) })
	return ss
}

func appendNonEmpty(dst, keys []string) []string {
	for _, k := range keys {
		if k != "" {
			dst = append(dst, k)
		}
	}
	return dst
}

type keyRef struct {
	key     string
	product bool
}

type indexedLink struct {
	a, b      int32
	kind, key string
}

type component struct {
	members   []int32
	links     []indexedLink
	confirmed int64
}

// unionFind is a disjoint-set forest with path halving and union by
// size: each operation costs α(n), a small constant in practice.
type unionFind struct {
	parent []int32
	size   []int32
}

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int32, n), size: make([]int32, n)}
	for i := range u.parent {
		u.parent[i] = int32(i)
		u.size[i] = 1
	}
	return u
}

func (u *unionFind) find(x int32) int32 {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

func (u *unionFind) union(a, b int32) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if u.size[ra] < u.size[rb] {
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
	u.size[ra] += u.size[rb]
}
