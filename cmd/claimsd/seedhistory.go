package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// The demo's history: the weeks of claims a marketplace decided before
// seed-demo first ran, so the policy lab has decisions to replay. Shoppers
// new, established and trusted claim against sellers of every risk, in
// EUR mostly and some USD and GBP, for every reason, at amounts around
// their tier's instant limit; agents work the claims sent to them, sellers
// contest some charges and agents settle the contests, and a few refunds
// are declined by the card's issuer. A candidate policy backtested over it
// moves claims both ways, and the consequences (what agents rejected,
// charges released, refunds failed, refunds that settled without dispute)
// are there to weigh.
//
// The history is drawn from a fixed seed, so it is the same every time;
// its dates hang from an anchor, the moment seed-demo first ran, read back
// from the first order on later runs, so running seed-demo again finds
// every order and claim where it left them and files nothing twice.
const (
	historyShoppers = 80
	// historyFrom and historyTo bound when the history's claims were
	// filed, before the anchor: the newest is old enough for every
	// follow-up (an agent's decision, a contest, its settlement, the
	// contest window's end) to be over by the anchor.
	historyFrom = 60 * day
	historyTo   = 8 * day
	// historySeed draws the history.
	historySeed = 20261206
)

// historySeller is a seller of the history and what they sell. The prices
// straddle the tiers' instant limits (50, 150 and 500 in the built-in
// policy; 150, 450 and 1000 raised).
type historySeller struct {
	p          seller.Params
	currencies []string // an order's currency is drawn from these
	products   []order.Item
}

func product(sku, name string, price int64) order.Item {
	return order.Item{SKU: sku, Name: name, Quantity: 1, UnitAmount: price}
}

var historySellers = []historySeller{
	{p: seller.Params{ID: "sel_harbor", Name: "Harbor Homeware", RiskScore: 10, Verified: true},
		currencies: []string{"EUR", "EUR", "GBP"},
		products: []order.Item{
			product("sku_harbor_mugs", "Stoneware mug set", 2499), product("sku_harbor_cushions", "Linen cushion covers", 3999),
			product("sku_harbor_vase", "Glazed ceramic vase", 5999), product("sku_harbor_skillet", "Cast-iron skillet", 8999),
			product("sku_harbor_duvet", "Linen duvet cover", 12999), product("sku_harbor_lamp", "Brass floor lamp", 17999),
			product("sku_harbor_rug", "Wool rug", 44999), product("sku_harbor_chair", "Oak armchair", 64999),
		}},
	{p: seller.Params{ID: "sel_brightcell", Name: "BrightCell Electronics", RiskScore: 28, Verified: true},
		currencies: []string{"EUR", "EUR", "USD"},
		products: []order.Item{
			product("sku_bc_cables", "USB-C cable pack", 1499), product("sku_bc_charger", "65 W charger", 4499),
			product("sku_bc_earbuds", "Noise-cancelling earbuds", 12999), product("sku_bc_speaker", "Bluetooth speaker", 15999),
			product("sku_bc_watch", "Fitness watch", 24999), product("sku_bc_tablet", "10-inch tablet", 39999),
			product("sku_bc_phone", "Smartphone", 59999), product("sku_bc_laptop", "Ultrabook laptop", 99999),
		}},
	{p: seller.Params{ID: "sel_urbanthread", Name: "Urban Thread", RiskScore: 45, Verified: false},
		currencies: []string{"EUR", "EUR", "EUR", "GBP"},
		products: []order.Item{
			product("sku_ut_tee", "Organic cotton tee", 1999), product("sku_ut_hoodie", "Fleece hoodie", 4999),
			product("sku_ut_jeans", "Selvedge jeans", 7999), product("sku_ut_sneakers", "Canvas sneakers", 11999),
			product("sku_ut_jacket", "Rain jacket", 18999), product("sku_ut_boots", "Chelsea boots", 22999),
			product("sku_ut_coat", "Wool coat", 34999), product("sku_ut_leather", "Leather jacket", 54999),
		}},
	{p: seller.Params{ID: "sel_glowlab", Name: "GlowLab Cosmetics", RiskScore: 60, Verified: false},
		currencies: []string{"EUR"},
		products: []order.Item{
			product("sku_glow_lipstick", "Matte lipstick", 2299), product("sku_glow_serum", "Vitamin C serum", 4599),
			product("sku_glow_palette", "Eyeshadow palette", 5499), product("sku_glow_perfume", "Eau de parfum", 8999),
			product("sku_glow_dryer", "Ionic hair dryer", 14999), product("sku_glow_set", "Skincare set", 19999),
			product("sku_glow_styler", "Multi-styler", 47999),
		}},
	{p: seller.Params{ID: "sel_megabargain", Name: "MegaBargain Hub", RiskScore: 76, Verified: false},
		currencies: []string{"EUR", "EUR", "EUR", "USD"},
		products: []order.Item{
			product("sku_mb_case", "Phone case", 1299), product("sku_mb_smartwatch", "Smartwatch", 4999),
			product("sku_mb_sunglasses", "Designer sunglasses", 8999), product("sku_mb_trainers", "Running trainers", 13999),
			product("sku_mb_handbag", "Leather handbag", 16999), product("sku_mb_headphones", "Over-ear headphones", 29999),
			product("sku_mb_watch", "Automatic watch", 49999), product("sku_mb_drone", "Camera drone", 89999),
		}},
	{p: seller.Params{ID: "sel_fastbuy", Name: "FastBuy Express", RiskScore: 90, Verified: false},
		currencies: []string{"EUR", "EUR", "USD", "GBP"},
		products: []order.Item{
			product("sku_fb_powerbank", "Power bank", 2999), product("sku_fb_earbuds", "Wireless earbuds", 5999),
			product("sku_fb_console", "Handheld console", 19999), product("sku_fb_sneakers", "Limited sneakers", 24999),
			product("sku_fb_camera", "Action camera", 34999), product("sku_fb_bag", "Designer bag", 79999),
		}},
}

// historyOrder is an order of the history, dated before the anchor.
type historyOrder struct {
	p                 order.Params
	paidAgo, delivAgo time.Duration // delivAgo 0: not delivered
}

// historyClaim is a claim of the history and what the people involved
// do with it, drawn once.
type historyClaim struct {
	order    historyOrder
	reason   claim.Reason
	filedAgo time.Duration
	what     string
	evidence []claim.Evidence
	// What the agent, the seller and the agent again do, and when.
	approve    bool // what the agent decides in review
	contest    bool // the seller contests the charge
	uphold     bool // what the agent decides on a contest
	agent      string
	decideIn   time.Duration // an agent acts this long after the claim starts waiting
	contestIn  time.Duration // the seller contests this long after the charge
	resolveIn  time.Duration // an agent settles the contest this long after it
	contestFor string        // the seller's statement
}

// historyPlan is the whole history: each shopper's first order (never
// claimed: it dates the account) and the claims, oldest first.
type historyPlan struct {
	firsts []historyOrder
	claims []historyClaim
}

var historyWhat = map[claim.Reason][]string{
	claim.ReasonCounterfeit: {
		"The logo is printed crooked and the serial number is not on the brand's register.",
		"The packaging has spelling mistakes and the item feels much lighter than the original.",
		"The hologram sticker is missing and the stitching does not match the brand's.",
	},
	claim.ReasonNotAsDescribed: {
		"The colour is quite different from the listing's photos.",
		"The listing said solid wood; it is veneer over chipboard.",
		"It is a smaller size than the one I ordered and listed.",
	},
	claim.ReasonDamaged: {
		"It arrived with a crack across the front.",
		"The box was crushed and the item inside is dented.",
		"It stopped working on the second day.",
	},
	claim.ReasonNotReceived: {
		"The parcel never arrived.",
		"Tracking has not moved for over a week.",
		"Nothing was delivered to my address.",
	},
}

var historyStatements = []string{
	"Our dispatch photos show the item intact and as listed; the invoice is attached.",
	"The item was checked before shipping; the shopper's photos show a different unit.",
	"We buy from the brand's authorised distributor; the invoice is attached.",
}

// planHistory draws the history from historySeed.
func planHistory() historyPlan {
	rnd := rand.New(rand.NewPCG(historySeed, 1))
	between := func(lo, hi time.Duration) time.Duration { // whole seconds in [lo, hi]
		return lo + time.Duration(rnd.Int64N(int64((hi-lo)/time.Second)+1))*time.Second
	}
	chance := func(p float64) bool { return rnd.Float64() < p }
	var plan historyPlan
	orderN := 0
	nextOrder := func() string { orderN++; return fmt.Sprintf("ord_hist_%04d", orderN) }
	payment := func(id string) order.Payment {
		return order.Payment{Provider: order.ProviderSandbox, Reference: "pay_demo_" + strings.TrimPrefix(id, "ord_")}
	}

	type shopper struct {
		id     string
		first  time.Duration // the first order, before the anchor
		serial bool          // files claim after claim, few of them fair
		claims []int         // indexes into plan.claims
	}
	shoppers := make([]shopper, historyShoppers)
	for i := range shoppers {
		s := &shoppers[i]
		s.id = fmt.Sprintf("shp_hist_%02d", i+1)
		switch i % 8 {
		case 0, 1: // new: the account opened during the history
			s.first = between(20*day, historyFrom+2*day)
		case 2, 3, 4: // established
			s.first = between(70*day, 330*day)
		default: // trusted
			s.first = between(400*day, 1500*day)
		}
		s.serial = i%16 == 11
		hs := historySellers[rnd.IntN(len(historySellers))]
		id := nextOrder()
		deliv := s.first - between(2*day, 5*day)
		plan.firsts = append(plan.firsts, historyOrder{p: order.Params{ID: id, BuyerID: s.id, SellerID: hs.p.ID,
			Currency: hs.currencies[0], Items: []order.Item{hs.products[0]}, Amount: hs.products[0].UnitAmount, Payment: payment(id)},
			paidAgo: s.first, delivAgo: deliv})
	}

	reasons := []claim.Reason{claim.ReasonCounterfeit, claim.ReasonNotAsDescribed, claim.ReasonDamaged, claim.ReasonNotReceived}
	reasonWeights := []int{25, 28, 30, 17}
	drawReason := func() claim.Reason {
		n := rnd.IntN(100)
		for i, w := range reasonWeights {
			if n < w {
				return reasons[i]
			}
			n -= w
		}
		return reasons[len(reasons)-1]
	}
	// Counterfeit claims are few, two a seller at most: three confirmed
	// against one seller make an enforcement case (intel.DefaultRules),
	// and the ring is the demo's case. Another reason is drawn instead.
	const maxCounterfeits = 2
	counterfeits := map[string]int{}
	for i := range shoppers {
		s := &shoppers[i]
		n := []int{1, 2, 2, 2, 3, 3, 3, 4, 4, 5}[rnd.IntN(10)]
		if s.serial {
			n = 6 + rnd.IntN(4)
		}
		latest := min(historyFrom, s.first-3*day) // claims come after the first order
		for range n {
			c := historyClaim{reason: drawReason(), filedAgo: between(historyTo, latest)}
			hs := historySellers[rnd.IntN(len(historySellers))]
			if c.reason == claim.ReasonCounterfeit && counterfeits[hs.p.ID] == maxCounterfeits {
				for c.reason == claim.ReasonCounterfeit {
					c.reason = drawReason()
				}
			}
			if c.reason == claim.ReasonCounterfeit {
				counterfeits[hs.p.ID]++
			}
			var paid, deliv time.Duration
			switch {
			case c.reason == claim.ReasonNotReceived && chance(0.45):
				// The carrier says delivered; the shopper says not.
				deliv = c.filedAgo + between(day, 5*day)
				paid = deliv + between(2*day, 5*day)
			case c.reason == claim.ReasonNotReceived && chance(0.12):
				paid = c.filedAgo + between(2*day, 6*day) // filed before the wait is over
			case c.reason == claim.ReasonNotReceived:
				paid = c.filedAgo + between(8*day, 20*day)
			default:
				late := c.reason != claim.ReasonCounterfeit && chance(0.1)
				if late {
					deliv = c.filedAgo + between(32*day, 45*day) // outside the window
				} else {
					deliv = c.filedAgo + between(day, 28*day)
				}
				paid = deliv + between(2*day, 6*day)
			}
			id := nextOrder()
			c.order = historyOrder{p: order.Params{ID: id, BuyerID: s.id, SellerID: hs.p.ID,
				Currency: hs.currencies[rnd.IntN(len(hs.currencies))], Payment: payment(id)},
				paidAgo: paid, delivAgo: deliv}
			c.what = historyWhat[c.reason][rnd.IntN(len(historyWhat[c.reason]))]
			if c.reason != claim.ReasonNotReceived && chance(0.7) {
				c.evidence = []claim.Evidence{{Kind: "photo", URL: fmt.Sprintf("https://example.com/demo/hist-%s.jpg", strings.TrimPrefix(id, "ord_hist_"))}}
			}
			c.agent = []string{"ana", "ben"}[rnd.IntN(2)]
			c.decideIn, c.contestIn, c.resolveIn = between(time.Hour, 20*time.Hour), between(2*time.Hour, 60*time.Hour), between(2*time.Hour, 30*time.Hour)
			c.contestFor = historyStatements[rnd.IntN(len(historyStatements))]
			s.claims = append(s.claims, len(plan.claims))
			plan.claims = append(plan.claims, c)
		}
	}

	// What each claim is for: a product near the instant limit of the
	// shopper's tier when they file (the raised one against a high-risk
	// seller), as the built-in policy sets them. The account's age counts
	// from the shopper's earliest order.
	def := policyfile.Default()
	within, above := 0, 0
	for _, s := range shoppers {
		first := s.first
		for _, ci := range s.claims {
			first = max(first, plan.claims[ci].order.paidAgo)
		}
		for _, ci := range s.claims {
			c := &plan.claims[ci]
			hs := historySellers[slices.IndexFunc(historySellers, func(h historySeller) bool { return h.p.ID == c.order.p.SellerID })]
			age := int((first - c.filedAgo) / day)
			tier := def.Tiers[0]
			for _, t := range def.Tiers {
				if age >= t.MinAccountAgeDays {
					tier = t
				}
			}
			cur := money.MustCurrency(c.order.p.Currency)
			limit := tier.InstantLimits[cur]
			if hs.p.RiskScore >= def.HighRiskSellerScore {
				limit = tier.RaisedLimits[cur]
			}
			// Seven claims in ten within the limit, from a quarter of it;
			// the others above it, up to twice it.
			lo, hi := limit/4, limit
			if chance(0.3) {
				lo, hi = limit+1, 2*limit
			}
			var near []order.Item
			for _, p := range hs.products {
				if p.UnitAmount >= lo && p.UnitAmount <= hi {
					near = append(near, p)
				}
			}
			if len(near) == 0 { // the nearest product
				best := hs.products[0]
				for _, p := range hs.products {
					if dist(p.UnitAmount, lo, hi) < dist(best.UnitAmount, lo, hi) {
						best = p
					}
				}
				near = []order.Item{best}
			}
			p := near[rnd.IntN(len(near))]
			c.order.p.Items, c.order.p.Amount = []order.Item{p}, p.UnitAmount
			// Most shoppers are right; fewer of those claiming more than
			// is refunded at once, and few of the serial claimers. Agents
			// see through most unfair claims, sellers contest most of those
			// that are paid, and win most of those contests.
			odds := 0.9
			switch {
			case s.serial:
				odds = 0.25
			case p.UnitAmount > limit:
				odds = 0.7
			}
			fair := chance(odds)
			c.approve = fair && chance(0.93) || !fair && chance(0.3)
			c.contest = fair && chance(0.08) || !fair && chance(0.7)
			c.uphold = fair && chance(0.85) || !fair && chance(0.2)
			// The card some orders were paid with was closed since: its
			// issuer declines the refund. One claim in ten above the limit,
			// one in thirty within it.
			declined := false
			if p.UnitAmount > limit {
				above++
				declined = above%10 == 5
			} else {
				within++
				declined = within%30 == 15
			}
			if declined {
				c.order.p.Payment.Reference = sandbox.DeclinePrefix + "_" + strings.TrimPrefix(c.order.p.ID, "ord_")
			}
		}
	}
	slices.SortStableFunc(plan.claims, func(a, b historyClaim) int { return int((b.filedAgo - a.filedAgo) / time.Second) })
	return plan
}

// dist is how far a is from [lo, hi].
func dist(a, lo, hi int64) int64 {
	switch {
	case a < lo:
		return lo - a
	case a > hi:
		return a - hi
	}
	return 0
}

// historyQueue schedules nothing: seed-demo runs each history claim's
// steps and timers itself, on the clock of the moment each falls due.
// Queued for a running engine's workers they would run on today's clock
// (a contest window of weeks ago closing now, before the seller's contest
// that came within it). If seed-demo stops half-way, running it again
// finishes the history.
type historyQueue struct{}

var _ pgstore.Enqueuer = historyQueue{}

func (historyQueue) EnqueueTx(context.Context, *sql.Tx, string, []claimflow.Step, []claimflow.Timer) error {
	return nil
}

// historyRun files the history's claims and works each through its life
// before the next is filed: shopper, workers, agents and seller each act
// on the clock of their moment. One claim at a time is on its way, so a
// running engine's redrive, which takes up steps and timers left waiting
// (these were due weeks ago), all but never meets one. The price: a claim
// the same shopper files in the hours before an agent rejects their
// previous one already reads that rejection in their history (what they
// were refunded in 90 days), which moves no decision here.
type historyRun struct {
	store     *pgstore.Store
	svc       *claimflow.Service
	refund    *claimflow.RefundStep
	charge    *claimflow.ChargeSellerStep
	deadlines *claimflow.DeadlineStep
	at        *time.Time // the clock of them all
	anchor    time.Time  // when seed-demo first ran: the history is over by then
}

// seedHistory loads the history (see planHistory) and prints what became
// of its claims.
func seedHistory(ctx context.Context, db *database, policies *policyflow.Source, log *slog.Logger, stdout io.Writer) error {
	plan := planHistory()
	anchor, err := historyAnchor(ctx, db.Store, plan)
	if err != nil {
		return err
	}
	at := anchor
	clock := func() time.Time { return at }
	store := *db.Store // the same pool, scheduling nothing
	store.SetEnqueuer(historyQueue{})
	policy := policies.Active()
	h := &historyRun{store: &store, at: &at, anchor: anchor,
		svc: claimflow.NewService(&store, policy, clock, claimflow.WithPolicies(policies)),
		// The declined refunds are the history's own: no warning.
		refund: &claimflow.RefundStep{Store: &store, Now: clock, Policy: policy, Policies: policies,
			Providers: claimflow.Providers{sandbox.ProviderName: sandbox.New(db.DB(), sandbox.Config{})}},
		charge:    &claimflow.ChargeSellerStep{Store: &store, Now: clock, Policy: policy, Policies: policies},
		deadlines: &claimflow.DeadlineStep{Store: &store, Policy: policy, Policies: policies, Now: clock, Log: log},
	}

	for _, s := range historySellers {
		if _, _, err := h.svc.PutSeller(ctx, s.p); err != nil {
			return fmt.Errorf("seed seller %s: %w", s.p.ID, err)
		}
	}
	orders := slices.Clone(plan.firsts)
	for _, c := range plan.claims {
		orders = append(orders, c.order)
	}
	for _, o := range orders {
		if err := h.putOrder(ctx, o); err != nil {
			return err
		}
	}
	ids := make([]string, len(plan.claims))
	for i := range plan.claims {
		if ids[i], err = h.live(ctx, &plan.claims[i]); err != nil {
			return err
		}
	}
	recs, err := store.GetClaims(ctx, ids)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, historySummary(recs))
	return nil
}

// historyAnchor is the moment the history hangs from: now when seed-demo
// first runs, else when it first ran, read back from the first order.
func historyAnchor(ctx context.Context, st *pgstore.Store, plan historyPlan) (time.Time, error) {
	first := plan.firsts[0]
	o, err := st.GetOrder(ctx, first.p.ID)
	switch {
	case errors.Is(err, claimflow.ErrNotFound):
		return time.Now().UTC().Truncate(time.Second), nil
	case err != nil:
		return time.Time{}, fmt.Errorf("seed order %s: %w", first.p.ID, err)
	}
	return o.PaidAt().UTC().Add(first.paidAgo).Truncate(time.Second), nil
}

// putOrder puts o unless it is there already: its dates stay those its
// claim was filed against.
func (h *historyRun) putOrder(ctx context.Context, o historyOrder) error {
	_, err := h.store.GetOrder(ctx, o.p.ID)
	if err == nil {
		return nil
	}
	if !errors.Is(err, claimflow.ErrNotFound) {
		return fmt.Errorf("seed order %s: %w", o.p.ID, err)
	}
	p := o.p
	paid := h.anchor.Add(-o.paidAgo)
	p.PaidAt = &paid
	if o.delivAgo > 0 {
		deliv := h.anchor.Add(-o.delivAgo)
		p.DeliveredAt = &deliv
	}
	if _, _, err := h.svc.PutOrder(ctx, p); err != nil {
		return fmt.Errorf("seed order %s: %w", p.ID, err)
	}
	return nil
}

// live files c (once per idempotency key: again, it answers with the claim
// filed first) and moves it on as the people involved do, each move read
// from the claim as it stands, until it rests: decided by an agent,
// refunded and charged, contested and settled, its contest window closed.
// Run again, it finds the claim at rest and does nothing; stopped half-way
// before, it goes on from where the claim stands.
func (h *historyRun) live(ctx context.Context, c *historyClaim) (string, error) {
	*h.at = h.anchor.Add(-c.filedAgo)
	shopper := claimflow.Viewer{Role: claimflow.RoleShopper, Subject: c.order.p.BuyerID}
	changed, err := h.svc.File(ctx, shopper,
		claimflow.FileClaim{OrderID: c.order.p.ID, Reason: c.reason.String(), Description: c.what, Evidence: c.evidence},
		claimflow.Key{Door: claimflow.DoorAPI, Value: "seed-demo-" + c.order.p.ID})
	if err != nil {
		return "", fmt.Errorf("seed claim on %s: %w", c.order.p.ID, err)
	}
	id := changed.Record.Claim.ID()
	agent := claimflow.Viewer{Role: claimflow.RoleAgent, Subject: c.agent}
	for moved := int64(0); ; {
		rec, err := h.store.GetClaim(ctx, id)
		if err != nil {
			return "", fmt.Errorf("seed claim %s: %w", id, err)
		}
		cl, cb := rec.Claim, rec.Claim.Chargeback()
		if cl.Version() == moved {
			return id, nil // the last move changed nothing: nothing more to do
		}
		moved = cl.Version()
		switch {
		case cl.Status() == claim.StatusInReview: // an agent decides
			h.after(c.decideIn)
			req := claimflow.OverrideRequest{Action: claimflow.ActionApprove, Version: cl.Version(),
				Note: "Evidence checked: the shopper's account of it holds."}
			if !c.approve {
				req = claimflow.OverrideRequest{Action: claimflow.ActionReject, Version: cl.Version(),
					ReasonCode: historyRejection(c).String(), Note: "Evidence checked: it does not bear the claim out."}
			}
			_, err = h.svc.Override(ctx, agent, id, req)
		case cl.Status() == claim.StatusApproved: // the workers refund it
			h.after(time.Second)
			err = h.refund.Run(ctx, id, 1, 2)
		case cl.Status() == claim.StatusRefunded: // and charge the seller
			h.after(time.Second)
			err = h.charge.Run(ctx, id, 1, 2)
		case cl.Status() == claim.StatusRefundFailed: // the card's issuer declined
			h.after(c.decideIn)
			_, err = h.svc.Override(ctx, agent, id, claimflow.OverrideRequest{Action: claimflow.ActionReject, Version: cl.Version(),
				ReasonCode: claim.RejectResolvedWithSeller.String(), Note: "The card cannot take the refund; the seller sent a replacement instead."})
		case cb.Status == claim.ChargebackOpen && c.contest && cb.ChargedAt.Add(c.contestIn).Before(cb.ContestBy):
			*h.at = cb.ChargedAt.Add(c.contestIn)
			seller := claimflow.Viewer{Role: claimflow.RoleSeller, Subject: cl.SellerID()}
			_, err = h.svc.Contest(ctx, seller, id, claimflow.ContestRequest{Statement: c.contestFor})
		case cb.Status == claim.ChargebackContested: // an agent settles the contest
			h.after(c.resolveIn)
			outcome, note := claimflow.ContestReverse, "The seller's evidence shows the item as listed; the platform bears the refund."
			if c.uphold {
				outcome, note = claimflow.ContestUphold, "The shopper's evidence stands against the seller's statement."
			}
			_, err = h.svc.ResolveContest(ctx, agent, id, outcome, note, cl.Version())
		case cb.Status == claim.ChargebackOpen && !cb.ContestBy.Add(time.Minute).After(h.anchor): // the window closes
			*h.at = cb.ContestBy.Add(time.Minute)
			_, err = h.deadlines.RunContest(ctx, id)
		default:
			// At rest. A window the active policy keeps open past the
			// anchor is the engine's to close: its redrive sets the timer.
			return id, nil
		}
		var ce *claimflow.ConflictError
		if errors.As(err, &ce) {
			return id, nil // a running engine moved the claim first
		}
		if err != nil {
			return "", fmt.Errorf("seed claim %s: %w", id, err)
		}
	}
}

// after moves the clock on by d.
func (h *historyRun) after(d time.Duration) { *h.at = h.at.Add(d) }

// historyRejection is what an agent rejects c for.
func historyRejection(c *historyClaim) claim.RejectionReason {
	switch {
	case c.reason == claim.ReasonCounterfeit:
		return claim.RejectItemAuthentic
	case c.reason == claim.ReasonNotReceived && c.order.delivAgo > 0:
		return claim.RejectDeliveryConfirmed
	case c.reason == claim.ReasonNotReceived:
		return claim.RejectInsufficientEvidence
	}
	return claim.RejectDamageNotShown
}

// historySummary says in one line what became of the history's claims.
func historySummary(recs map[string]claimflow.Record) string {
	var instant, review, rejected, approved, agentRejected, contested, reversed, upheld, failed int
	var versions []string
	for _, r := range recs {
		c := r.Claim
		switch r.Decision.Outcome {
		case decision.OutcomeInstantRefund:
			instant++
		case decision.OutcomeManualReview:
			review++
			switch {
			case c.Status() == claim.StatusRejected && c.Failure().Code == "":
				agentRejected++
			case c.Status() != claim.StatusInReview:
				approved++
			}
		default:
			rejected++
		}
		switch c.Chargeback().Status {
		case claim.ChargebackContested:
			contested++
		case claim.ChargebackReversed:
			contested++
			reversed++
		case claim.ChargebackUpheld:
			contested++
			upheld++
		}
		if c.Failure().Code != "" {
			failed++
		}
		if !slices.Contains(versions, r.Decision.PolicyVersion) {
			versions = append(versions, r.Decision.PolicyVersion)
		}
	}
	slices.Sort(versions)
	return fmt.Sprintf("history %d claims by %d shoppers against %d sellers over %d days, decided by policy %s: "+
		"%d refunded at once, %d sent to agents (%d approved, %d rejected), %d rejected; "+
		"%d charges contested (%d reversed, %d upheld), %d refunds declined by the card's issuer",
		len(recs), historyShoppers, len(historySellers), int((historyFrom-historyTo)/day), strings.Join(versions, ", "),
		instant, review, approved, agentRejected, rejected, contested, reversed, upheld, failed)
}
