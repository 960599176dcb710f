package policyflow_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

var (
	admin = claimflow.Viewer{Role: claimflow.RoleAdmin, Subject: "root"}
	risk  = claimflow.Viewer{Role: claimflow.RoleRisk, Subject: "rita"}
	agent = claimflow.Viewer{Role: claimflow.RoleAgent, Subject: "ana"}
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lab is one test's engine: its own database, the policy lab seeded with
// the built-in policy, and a claim service deciding through the lab's
// source, on a test clock.
type lab struct {
	store  *pgstore.Store
	clock  *clock
	source *policyflow.Source
	svc    *policyflow.Service
	claims *claimflow.Service
	seeded decision.Policy
}

func newLab(t *testing.T, start time.Time) *lab {
	t.Helper()
	st := pgtest.Store(t, "policyflow")
	clk := &clock{t: start}
	def := policyfile.Default()
	src := policyflow.NewSource(st, policyfile.Codec{}, def, nil)
	svc := policyflow.New(policyflow.Config{Store: st, Codec: policyfile.Codec{}, Source: src, Now: clk.now})
	seeded, err := svc.Seed(context.Background(), def)
	require.NoError(t, err)
	require.True(t, seeded, "a new database takes the built-in policy as its first active version")
	require.NoError(t, src.Refresh(context.Background()))
	return &lab{store: st, clock: clk, source: src, svc: svc, seeded: def,
		claims: claimflow.NewService(st, def, clk.now, claimflow.WithPolicies(src))}
}

// history files n claims of a varied history through the claim service,
// hours apart: sellers of every risk, shoppers of every account age,
// four currencies and one with no limit, every reason, delivered or not,
// duplicates. It returns the claims' ids and the period they span.
func (l *lab) history(t *testing.T, n int, seed uint64) (ids []string, from, to time.Time) {
	t.Helper()
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(seed, 7))
	tag := fmt.Sprintf("%x", rnd.Uint32())
	risks := []int{5, 20, 75, 90, 40, 10}
	sellers := make([]string, len(risks))
	for i, r := range risks {
		sellers[i] = fmt.Sprintf("sel_%s_%d", tag, i)
		_, _, err := l.claims.PutSeller(ctx, seller.Params{ID: sellers[i], Name: "Seller " + sellers[i], RiskScore: r, Verified: i%2 == 0})
		require.NoError(t, err)
	}
	shoppers := make([]string, 30)
	orderN := 0
	newOrder := func(shopper, sellerID, cur string, amount int64, paid time.Time, delivered *time.Time) string {
		orderN++
		id := fmt.Sprintf("ord_%s_%d", tag, orderN)
		_, _, err := l.claims.PutOrder(ctx, order.Params{
			ID: id, BuyerID: shopper, SellerID: sellerID, Currency: cur, Amount: amount,
			Items:   []order.Item{{SKU: "sku", Name: "Item", Quantity: 1, UnitAmount: amount}},
			Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_" + id},
			PaidAt:  &paid, DeliveredAt: delivered,
		})
		require.NoError(t, err)
		return id
	}
	ages := make([]int, len(shoppers))
	for i := range shoppers {
		shoppers[i] = fmt.Sprintf("shp_%s_%d", tag, i)
		// The first order sets the account's age: a third of the shoppers
		// are new, the others from weeks to years old.
		ages[i] = rnd.IntN(900) + 1
		if i%3 == 0 {
			ages[i] = rnd.IntN(12) + 8
		}
		first := l.clock.now().Add(-time.Duration(ages[i]) * 24 * time.Hour)
		newOrder(shoppers[i], sellers[0], "EUR", 1000, first, &first)
	}
	currencies := []string{"EUR", "EUR", "EUR", "EUR", "USD", "USD", "JPY", "CHF"}
	amounts := []int64{500, 1500, 4000, 5000, 6000, 12000, 15000, 30000, 45000, 60000, 120000}
	from = l.clock.now()
	for len(ids) < n {
		l.clock.add(time.Duration(rnd.IntN(360)+1) * time.Minute)
		now := l.clock.now()
		who := rnd.IntN(len(shoppers))
		shopper := shoppers[who]
		paid := now.Add(-time.Duration(rnd.IntN(min(ages[who], 240))+1) * 24 * time.Hour)
		var delivered *time.Time
		if rnd.IntN(5) > 0 {
			d := paid.Add(time.Duration(rnd.IntN(6)+1) * 24 * time.Hour)
			if d.Before(now) {
				delivered = &d
			}
		}
		ord := newOrder(shopper, sellers[rnd.IntN(len(sellers))], currencies[rnd.IntN(len(currencies))], amounts[rnd.IntN(len(amounts))], paid, delivered)
		reason := claim.Reasons[rnd.IntN(len(claim.Reasons))].String()
		times := 1
		if rnd.IntN(10) == 0 {
			times = 2 // a second claim on the order: refused unless the first was rejected
		}
		for i := range times {
			rec, err := l.claims.Submit(ctx, ord, claim.Request{ShopperID: shopper, Reason: reason, Description: "It is not what I ordered."})
			var ve *validation.Error
			if i > 0 && errors.As(err, &ve) {
				continue // the first claim holds the whole order
			}
			require.NoError(t, err)
			ids = append(ids, rec.Claim.ID())
		}
	}
	l.clock.add(time.Minute)
	return ids, from, l.clock.now()
}

// candidate returns the seeded policy as a new version changed by edit.
func (l *lab) candidate(t *testing.T, version string, edit func(p *decision.Policy)) []byte {
	t.Helper()
	p := policyfile.Default()
	p.Version = version
	edit(&p)
	doc, err := policyfile.Marshal(p)
	require.NoError(t, err)
	return doc
}
