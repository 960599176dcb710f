package pgstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
	"github.com/claimsd/claimsd/workflows/standingflow"
)

// The simulated marketplace: the kinds of seller and shopper in it.
const (
	kindClean       = "clean small seller" // 25 or more orders, no claim
	kindTiny        = "tiny seller"        // fewer than 25 orders, no claim
	kindClaimed     = "honest, with claims"
	kindFake        = "counterfeiter"
	simDays         = 100
	simSellers      = 150
	simTiny         = 20 // of the sellers, the last ones sell about once in three weeks
	simFakes        = 6
	simRings        = 4
	simRingAccounts = 5
)

// market is the simulation's state: who is who, and what happened.
type market struct {
	t        *testing.T
	ctx      context.Context
	st       *pgstore.Store
	rnd      *rand.Rand
	at       time.Time
	claims   *claimflow.Service
	refund   *claimflow.RefundStep
	charge   *claimflow.ChargeSellerStep
	deadline *claimflow.DeadlineStep
	seq      int
	sellers  []simSeller
	charged  []string // claims charged to their seller, to run their contest deadline
	// outcomes of claims by who filed them: "ring", "honest"
	outcomes map[string]map[string]int
	linked   map[string]int // claims sent to a person with linked_accounts, by who filed them
}

type simSeller struct {
	id     string
	fake   bool
	rate   float64 // orders a day
	orders int
	claims int
}

func (m *market) now() time.Time { return m.at }

func (m *market) id(prefix string) string {
	m.seq++
	return fmt.Sprintf("%s_%05d", prefix, m.seq)
}

// order puts a paid order of buyer's from s, paid three days ago and
// delivered yesterday, with the buyer's device and shipping address.
func (m *market) order(s *simSeller, buyer, device, address string) *order.Order {
	m.t.Helper()
	paid, delivered := m.at.Add(-3*24*time.Hour), m.at.Add(-24*time.Hour)
	o, err := order.New(order.Params{
		ID: m.id("ord"), BuyerID: buyer, SellerID: s.id, Currency: "EUR", Amount: 3000,
		Items:   []order.Item{{SKU: "a", Name: "A", Quantity: 1, UnitAmount: 3000}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: m.id("pay")}, PaidAt: &paid, DeliveredAt: &delivered,
		BuyerSignals: order.BuyerSignals{Device: &device, ShippingAddress: &address},
	})
	require.NoError(m.t, err)
	_, err = m.st.UpsertOrder(m.ctx, o, m.at)
	require.NoError(m.t, err)
	s.orders++
	return o
}

// claim files a claim on o and works it as the workers would: an approved
// claim is refunded and charged to its seller at once.
func (m *market) claim(s *simSeller, o *order.Order, reason, who string) {
	m.t.Helper()
	rec, err := m.claims.Submit(m.ctx, o.ID(), claim.Request{ShopperID: o.BuyerID(), Reason: reason, Description: "d"})
	require.NoError(m.t, err)
	s.claims++
	if m.outcomes[who] == nil {
		m.outcomes[who] = map[string]int{}
	}
	m.outcomes[who][rec.Decision.Outcome.String()]++
	for _, r := range rec.Decision.Reasons {
		if r.Code == decision.CodeLinkedAccounts {
			m.linked[who]++
		}
	}
	if rec.Claim.Status() != claim.StatusApproved {
		return
	}
	require.NoError(m.t, m.refund.Run(m.ctx, rec.Claim.ID(), 1, 10))
	require.NoError(m.t, m.charge.Run(m.ctx, rec.Claim.ID(), 1, 10))
	m.charged = append(m.charged, rec.Claim.ID())
}

// settle runs the contest deadline of every charge whose window has
// closed: nobody contests, so each becomes final.
func (m *market) settle() {
	m.t.Helper()
	left := m.charged[:0]
	for _, id := range m.charged {
		again, err := m.deadline.RunContest(m.ctx, id)
		require.NoError(m.t, err)
		if again > 0 {
			left = append(left, id)
		}
	}
	m.charged = left
}

// TestSimulatedMarketplace runs a hundred days of a marketplace of small
// honest sellers, a few counterfeiters, honest shoppers (some sharing a
// household's address) and rings of accounts sharing a device, through
// the real store, decisions, refunds, charges, contest deadlines and the
// standing job. The tables it logs are in docs/standing.md.
func TestSimulatedMarketplace(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a hundred simulated days")
	}
	ctx := context.Background()
	st := pgtest.Store(t, "market")
	policy := policyfile.Default()
	m := &market{t: t, ctx: ctx, st: st, rnd: rand.New(rand.NewPCG(19, 2026)),
		at: now.Add(-simDays * 24 * time.Hour), outcomes: map[string]map[string]int{}, linked: map[string]int{}}
	m.claims = claimflow.NewService(st, policy, m.now)
	m.refund = &claimflow.RefundStep{Store: st, Now: m.now, Policy: policy,
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(st.DB(), sandbox.Config{})}}
	m.charge = &claimflow.ChargeSellerStep{Store: st, Now: m.now, Policy: policy}
	m.deadline = &claimflow.DeadlineStep{Store: st, Policy: policy, Now: m.now}
	standings := standingflow.NewService(st, m.now)

	// Sellers: small ones selling from once a week to twice a day, and a
	// few counterfeiters the platform rates low-risk.
	for i := range simSellers + simFakes {
		s := simSeller{id: fmt.Sprintf("sel_%03d", i), rate: 0.1 + m.rnd.Float64()*0.6}
		if i >= simSellers-simTiny {
			s.rate = 0.05
		}
		risk := 10 + m.rnd.IntN(40)
		if i >= simSellers {
			s.fake, s.rate, risk = true, 1, 10
		}
		sl, err := seller.New(seller.Params{ID: s.id, Name: "Seller " + s.id, RiskScore: risk})
		require.NoError(t, err)
		_, err = st.UpsertSeller(ctx, sl, m.at)
		require.NoError(t, err)
		m.sellers = append(m.sellers, s)
	}

	// Shoppers: honest ones each with their own device; one in ten shares
	// a household address with another. Rings: accounts sharing a device.
	type shopper struct{ id, device, address, who string }
	var honest []shopper
	for i := range 3000 {
		sh := shopper{id: fmt.Sprintf("shp_%04d", i), device: fmt.Sprintf("dev%04d", i), address: fmt.Sprintf("adr%04d", i), who: "honest"}
		if i%10 == 1 {
			sh.address = honest[i-1].address
		}
		honest = append(honest, sh)
	}
	var rings [][]shopper
	for r := range simRings {
		var ring []shopper
		for a := range simRingAccounts {
			ring = append(ring, shopper{id: fmt.Sprintf("shp_ring%d_%d", r, a), device: fmt.Sprintf("ringdev%d", r),
				address: fmt.Sprintf("ringadr%d_%d", r, a), who: "ring"})
		}
		rings = append(rings, ring)
	}

	reasons := []string{"damaged", "not_as_described", "not_received", "counterfeit"}
	for day := range simDays {
		m.at = now.Add(time.Duration(day-simDays) * 24 * time.Hour)
		for i := range m.sellers {
			s := &m.sellers[i]
			for range 3 { // about rate orders a day
				if m.rnd.Float64() >= s.rate/3 {
					continue
				}
				sh := honest[m.rnd.IntN(len(honest))]
				o := m.order(s, sh.id, sh.device, sh.address)
				switch {
				case s.fake && m.rnd.Float64() < 0.35:
					m.claim(s, o, "counterfeit", sh.who)
				case !s.fake && m.rnd.Float64() < 0.015:
					m.claim(s, o, reasons[m.rnd.IntN(len(reasons)-1)], sh.who)
				}
			}
		}
		// Every fifth day one account of each ring buys from an honest
		// seller and claims the item never came right.
		if day%5 == 0 {
			for r, ring := range rings {
				sh := ring[(day/5+r)%len(ring)]
				s := &m.sellers[m.rnd.IntN(simSellers-simTiny)]
				m.claim(s, m.order(s, sh.id, sh.device, sh.address), "damaged", sh.who)
			}
		}
		m.at = m.at.Add(23 * time.Hour)
		m.settle()
		_, err := standings.RefreshChanged(ctx)
		require.NoError(t, err)
	}
	// Every window closes; the standing job runs once more.
	m.at = now.Add(7 * 24 * time.Hour)
	m.settle()
	require.Empty(t, m.charged)
	_, err := standings.RefreshChanged(ctx)
	require.NoError(t, err)

	// The sellers, by what they are and the level they reached.
	table := map[string]map[standing.Level]int{}
	for _, s := range m.sellers {
		kind := kindClaimed
		switch {
		case s.fake:
			kind = kindFake
		case s.claims == 0 && s.orders >= 25:
			kind = kindClean
		case s.claims == 0:
			kind = kindTiny
		}
		kept, ok, err := st.GetStanding(ctx, s.id)
		require.NoError(t, err)
		require.True(t, ok, "seller %s has a kept standing", s.id)
		if table[kind] == nil {
			table[kind] = map[standing.Level]int{}
		}
		table[kind][kept.Level]++
	}
	var b strings.Builder
	b.WriteString("\n| seller | creditable | standard | watch | high_risk |\n|---|---:|---:|---:|---:|\n")
	for _, kind := range []string{kindClean, kindTiny, kindClaimed, kindFake} {
		fmt.Fprintf(&b, "| %s |", kind)
		for _, l := range standing.Levels {
			fmt.Fprintf(&b, " %d |", table[kind][l])
		}
		b.WriteString("\n")
	}
	b.WriteString("\n| claims filed by | instant refund | manual review | rejected | of them, for linked accounts |\n|---|---:|---:|---:|---:|\n")
	for _, who := range []string{"honest", "ring"} {
		o := m.outcomes[who]
		fmt.Fprintf(&b, "| %s shoppers | %d | %d | %d | %d |\n", who, o["instant_refund"], o["manual_review"], o["rejected"], m.linked[who])
	}
	t.Log(b.String())

	// Every counterfeiter is high_risk although the platform rates it 10;
	// every clean seller of 25 orders or more is creditable; no honest
	// seller is on watch or high_risk, and none of few orders is either.
	require.Equal(t, simFakes, table[kindFake][standing.LevelHighRisk], "counterfeiters: %v", table[kindFake])
	require.Positive(t, table[kindClean][standing.LevelCreditable])
	require.Equal(t, table[kindClean][standing.LevelCreditable], sum(table[kindClean]), "clean sellers: %v", table[kindClean])
	require.Equal(t, table[kindTiny][standing.LevelStandard], sum(table[kindTiny]), "tiny sellers: %v", table[kindTiny])
	require.Zero(t, table[kindClaimed][standing.LevelWatch]+table[kindClaimed][standing.LevelHighRisk], "honest sellers with claims: %v", table[kindClaimed])

	// The rings: once a ring's claims pass the policy's threshold, every
	// further claim goes to a person for the linked accounts. Honest
	// shoppers, households included, never do.
	ringClaims := simRings * (simDays / 5)
	require.Zero(t, m.linked["honest"], "an honest shopper was taken for a ring")
	require.GreaterOrEqual(t, m.linked["ring"], ringClaims-simRings*policy.LinkedClaims90d)

	// Every protected charge is settled: the platform's account nets to
	// zero, and the ledger balances.
	bal, err := st.Balances(ctx, ledger.PlatformProtection)
	require.NoError(t, err)
	for _, b := range bal {
		require.Zero(t, b.Amount(), "platform_protection in %s", b.Currency())
	}
	tb, err := st.TrialBalance(ctx, m.at.Add(time.Second)) // as of just after the last settling
	require.NoError(t, err)
	var total int64
	for _, a := range tb {
		total += a.Balance
	}
	require.Zero(t, total, "the ledger balances")
	require.True(t, slices.ContainsFunc(tb, func(a financeflow.AccountBalance) bool {
		return a.Account == ledger.PlatformProtection && a.Debits > 0 && a.Debits == a.Credits
	}), "creditable sellers were protected, and every protected charge was settled")
}

func sum(m map[standing.Level]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
