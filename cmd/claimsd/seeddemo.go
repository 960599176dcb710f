package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/brand"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/brandflow"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// demoSellers and demoOrders are the README walk-through's data. Dates are
// relative to now so the claim windows hold whenever it runs; running it
// again refreshes them.
var demoSellers = []seller.Params{
	{ID: "sel_northwind", Name: "Northwind Sneakers", RiskScore: 12, Verified: true},
	{ID: "sel_quickdeal", Name: "QuickDeal Outlet", RiskScore: 85, Verified: false},
	{ID: "sel_tinyloom", Name: "Tiny Loom Knitwear", RiskScore: 35, Verified: false},
}

// Identity signals of the walk-through's shoppers, as a platform would
// hash them: Carol and Dan share a device.
var (
	carolDevice, carolAddress = "dvc_8f14e45fceea167a", "adr_c9f0f895fb98ab91"
	danAddress                = "adr_45c48cce2e2d7fbd"
	erinDevice                = "dvc_d3d9446802a44259"
)

type demoOrder struct {
	p                 order.Params
	paidAgo, delivAgo time.Duration // delivAgo 0: not delivered
}

const day = 24 * time.Hour

var demoOrders = []demoOrder{
	{p: order.Params{ID: "ord_0900", BuyerID: "shp_alice", SellerID: "sel_northwind", Currency: "EUR",
		Items: []order.Item{{SKU: "sku_cap", Name: "Running cap", Quantity: 1, UnitAmount: 1900}}, Amount: 1900,
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_demo_0900"}},
		paidAgo: 400 * day, delivAgo: 396 * day},
	{p: order.Params{ID: "ord_1001", BuyerID: "shp_alice", SellerID: "sel_quickdeal", Currency: "EUR",
		Items: []order.Item{{SKU: "sku_airrunner", Name: "Air Runner sneakers", Quantity: 1, UnitAmount: 8999}}, Amount: 8999,
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_demo_1001"}},
		paidAgo: 12 * day, delivAgo: 8 * day},
	{p: order.Params{ID: "ord_1002", BuyerID: "shp_alice", SellerID: "sel_northwind", Currency: "EUR",
		Items: []order.Item{
			{SKU: "sku_handbag", Name: "Leather handbag", Quantity: 1, UnitAmount: 24900},
			{SKU: "sku_wallet", Name: "Leather wallet", Quantity: 1, UnitAmount: 5900},
		}, Amount: 30800,
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_demo_1002"}},
		paidAgo: 20 * day, delivAgo: 15 * day},
	{p: order.Params{ID: "ord_1003", BuyerID: "shp_bob", SellerID: "sel_quickdeal", Currency: "EUR",
		Items: []order.Item{{SKU: "sku_earbuds", Name: "Wireless earbuds", Quantity: 1, UnitAmount: 3999}}, Amount: 3999,
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_demo_1003"}},
		paidAgo: 5 * day, delivAgo: 2 * day},
	{p: order.Params{ID: "ord_1004", BuyerID: "shp_bob", SellerID: "sel_northwind", Currency: "EUR",
		Items: []order.Item{{SKU: "sku_watch", Name: "Smart watch", Quantity: 1, UnitAmount: 29900}}, Amount: 29900,
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_demo_1004"}},
		paidAgo: 4 * day, delivAgo: 1 * day},
	// Carol claims three times; Dan, a new account on Carol's device,
	// then claims once.
	{p: order.Params{ID: "ord_2001", BuyerID: "shp_carol", SellerID: "sel_northwind", Currency: "EUR",
		Items: []order.Item{{SKU: "sku_socks", Name: "Running socks", Quantity: 1, UnitAmount: 1500}}, Amount: 1500,
		Payment:      order.Payment{Provider: order.ProviderSandbox, Reference: "pay_demo_2001"},
		BuyerSignals: order.BuyerSignals{Device: &carolDevice, ShippingAddress: &carolAddress}},
		paidAgo: 10 * day, delivAgo: 7 * day},
	{p: order.Params{ID: "ord_2002", BuyerID: "shp_carol", SellerID: "sel_northwind", Currency: "EUR",
		Items: []order.Item{{SKU: "sku_laces", Name: "Laces", Quantity: 1, UnitAmount: 900}}, Amount: 900,
		Payment:      order.Payment{Provider: order.ProviderSandbox, Reference: "pay_demo_2002"},
		BuyerSignals: order.BuyerSignals{Device: &carolDevice, ShippingAddress: &carolAddress}},
		paidAgo: 9 * day, delivAgo: 6 * day},
	{p: order.Params{ID: "ord_2003", BuyerID: "shp_carol", SellerID: "sel_northwind", Currency: "EUR",
		Items: []order.Item{{SKU: "sku_insoles", Name: "Insoles", Quantity: 1, UnitAmount: 2500}}, Amount: 2500,
		Payment:      order.Payment{Provider: order.ProviderSandbox, Reference: "pay_demo_2003"},
		BuyerSignals: order.BuyerSignals{Device: &carolDevice, ShippingAddress: &carolAddress}},
		paidAgo: 8 * day, delivAgo: 5 * day},
	{p: order.Params{ID: "ord_2101", BuyerID: "shp_dan", SellerID: "sel_northwind", Currency: "EUR",
		Items: []order.Item{{SKU: "sku_socks", Name: "Running socks", Quantity: 1, UnitAmount: 1500}}, Amount: 1500,
		Payment:      order.Payment{Provider: order.ProviderSandbox, Reference: "pay_demo_2101"},
		BuyerSignals: order.BuyerSignals{Device: &carolDevice, ShippingAddress: &danAddress}},
		paidAgo: 3 * day, delivAgo: 1 * day},
	// Erin buys a scarf from Tiny Loom, a small seller with a clean record.
	{p: order.Params{ID: "ord_2201", BuyerID: "shp_erin", SellerID: "sel_tinyloom", Currency: "EUR",
		Items: []order.Item{{SKU: "sku_scarf", Name: "Hand-knitted scarf", Quantity: 1, UnitAmount: 2400}}, Amount: 2400,
		Payment:      order.Payment{Provider: order.ProviderSandbox, Reference: "pay_demo_2201"},
		BuyerSignals: order.BuyerSignals{Device: &erinDevice}},
		paidAgo: 4 * day, delivAgo: 2 * day},
}

// loomOrders are Tiny Loom's clean record: 30 orders of the last 60 days,
// none claimed.
func loomOrders() []demoOrder {
	out := make([]demoOrder, 0, 30)
	for i := 1; i <= 30; i++ {
		out = append(out, demoOrder{p: order.Params{ID: fmt.Sprintf("ord_loom_%02d", i), BuyerID: fmt.Sprintf("shp_loom_%02d", i),
			SellerID: "sel_tinyloom", Currency: "EUR", Amount: 2400,
			Items:   []order.Item{{SKU: "sku_scarf", Name: "Hand-knitted scarf", Quantity: 1, UnitAmount: 2400}},
			Payment: order.Payment{Provider: order.ProviderSandbox, Reference: fmt.Sprintf("pay_demo_loom_%02d", i)}},
			paidAgo: time.Duration(2*i+3) * day, delivAgo: time.Duration(2*i+1) * day})
	}
	return out
}

func seedDemo(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, _, err := parseFlags(command{
		name:     "seed-demo",
		synopsis: "seed-demo [flags]",
		about: "Loads the README walk-through's sellers and orders (again: it refreshes their dates) and,\n" +
			"once, a brand with a ring of sellers whose counterfeit claims were refunded and charged, and\n" +
			"two months of claims decided, worked by agents and contested, for the policy lab to replay.\n" +
			"The policy lab's active version decides them. With CLAIMSD_PAYMENTS=stripe the orders name\n" +
			"stripe-mock's payments, in USD, and the ring and the history are left out.",
		settings: append(slices.Clone(databaseSettings), "payments"),
	}, args, stdout, stderr, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	// The demo's hundreds of claims are many small transactions; each
	// waiting for the disk would take seconds. A crash may lose the last
	// of them, which running seed-demo again makes.
	db, err := openDatabase(ctx, cfg, log, func(pc *pgstore.PoolConfig) { pc.AsyncCommit = true })
	if err != nil {
		return err
	}
	defer db.leave(log)
	if _, err := db.Migrate(ctx, db.migrateQueue); err != nil {
		return err
	}
	policies, err := labPolicies(ctx, db, log)
	if err != nil {
		return err
	}
	svc := claimflow.NewService(db.Store, policies.Active(), time.Now, claimflow.WithPolicies(policies))
	for _, s := range demoSellers {
		if _, _, err := svc.PutSeller(ctx, s); err != nil {
			return fmt.Errorf("seed seller %s: %w", s.ID, err)
		}
		fmt.Fprintf(stdout, "seller %-14s %s (risk %d)\n", s.ID, s.Name, s.RiskScore)
	}
	now := time.Now().UTC().Truncate(time.Second)
	loom := loomOrders()
	for _, d := range append(slices.Clone(demoOrders), loom...) {
		p := d.p
		if cfg.Payments == "stripe" {
			// Orders paid through Stripe name their PaymentIntent. These
			// ids exist only on stripe-mock, whose charges are in USD.
			p.Payment = order.Payment{Provider: order.ProviderStripe, Reference: "pi_demo_" + strings.TrimPrefix(p.ID, "ord_")}
			p.Currency = "USD"
		}
		paid := now.Add(-d.paidAgo)
		p.PaidAt = &paid
		if d.delivAgo > 0 {
			deliv := now.Add(-d.delivAgo)
			p.DeliveredAt = &deliv
		}
		if _, _, err := svc.PutOrder(ctx, p); err != nil {
			return fmt.Errorf("seed order %s: %w", p.ID, err)
		}
		if !strings.HasPrefix(p.ID, "ord_loom_") {
			fmt.Fprintf(stdout, "order  %-14s %-10s from %-14s %6d %s\n", p.ID, p.BuyerID, p.SellerID, p.Amount, p.Currency)
		}
	}
	fmt.Fprintf(stdout, "orders ord_loom_01…%02d  from sel_tinyloom, none claimed\n", len(loom))
	if cfg.Payments == "stripe" {
		// The ring's claims are refunded as they are seeded, and
		// stripe-mock keeps no refunds to reconcile them against.
		fmt.Fprintln(stdout, "brand  aurora         skipped with CLAIMSD_PAYMENTS=stripe: its counterfeit claims are refunded through the sandbox")
		fmt.Fprintln(stdout, "history               skipped with CLAIMSD_PAYMENTS=stripe: its claims are refunded through the sandbox")
		return nil
	}
	if err := seedIntel(ctx, db, policies, log, stdout); err != nil {
		return err
	}
	return seedHistory(ctx, db, policies, log, stdout)
}

// labPolicies returns the policy lab's versions as serve reads them: on a
// database that keeps none yet the built-in policy becomes the first
// active version (serve seeds it the same way), and the active version
// decides every claim seed-demo files, as it decides the engine's.
func labPolicies(ctx context.Context, db *database, log *slog.Logger) (*policyflow.Source, error) {
	builtin := policyfile.Default()
	policies := policyflow.NewSource(db.Store, policyfile.Codec{}, builtin, log)
	lab := policyflow.New(policyflow.Config{Store: db.Store, Codec: policyfile.Codec{}, Source: policies, Log: log})
	versions, err := lab.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("read policies: %w", err)
	}
	// Seeding where versions exist would add the built-in policy as a
	// draft; the versions kept are the engine's to decide with.
	if len(versions) == 0 {
		if _, err := lab.Seed(ctx, builtin); err != nil {
			return nil, fmt.Errorf("seed policy %s: %w", builtin.Version, err)
		}
	}
	if err := policies.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("read policies: %w", err)
	}
	return policies, nil
}

// The counterfeit-intelligence walk-through's data: a brand, a ring of
// three sellers selling fakes of it, and a seller of the genuine goods.
const (
	auroraBrand  = "aurora"
	auroraHolder = "rh_aurora"
)

// Seller signals as a platform would hash them. The ring is paid into one
// account, and two of its sellers ship from one warehouse.
var (
	ringPayment                = "pac_5d41402abc4b2a76b9719d911017c592"
	ringWarehouse              = "whs_7d793037a0760186574b0282f2f435e7"
	ringaReg, ringbReg         = "reg_0cc175b9c0f1b6a831c399e269772661", "reg_92eb5ffee6ae2fec3ad71c777531578f"
	ringcReg                   = "reg_4a8a08f09d37b73795649038408b5f33"
	strideReg, strideWarehouse = "reg_8277e0910d750195b448797616e091ad", "whs_e1671797c52e15f763380b45e841ec32"
	stridePayment              = "pac_e358efa489f58062f10dd7316b65649e"
)

var intelSellers = []seller.Params{
	{ID: "sel_ringa", Name: "Aurora Outlet Direct", RiskScore: 40, Verified: false,
		Signals: &seller.Signals{Registration: &ringaReg, Warehouse: &ringWarehouse, PaymentAccount: &ringPayment}},
	{ID: "sel_ringb", Name: "Sport Deals 24", RiskScore: 45, Verified: false,
		Signals: &seller.Signals{Registration: &ringbReg, Warehouse: &ringWarehouse, PaymentAccount: &ringPayment}},
	{ID: "sel_ringc", Name: "Best Brand Bargains", RiskScore: 30, Verified: false,
		Signals: &seller.Signals{Registration: &ringcReg, PaymentAccount: &ringPayment}},
	// Stride sells the genuine goods, the same SKUs, and is linked to no one.
	{ID: "sel_stride", Name: "Stride Sports", RiskScore: 8, Verified: true,
		Signals: &seller.Signals{Registration: &strideReg, Warehouse: &strideWarehouse, PaymentAccount: &stridePayment}},
}

// Aurora's products, the same SKUs whoever sells them.
var (
	auroraTee    = order.Item{SKU: "sku_aurora_tee", Name: "Aurora Run tee", Quantity: 1, UnitAmount: 2900, Brand: auroraBrand}
	auroraTights = order.Item{SKU: "sku_aurora_tights", Name: "Aurora Flow tights", Quantity: 1, UnitAmount: 4500, Brand: auroraBrand}
	auroraCap    = order.Item{SKU: "sku_aurora_cap", Name: "Aurora cap", Quantity: 1, UnitAmount: 1900, Brand: auroraBrand}
)

// ringClaim is a counterfeit claim on an order from the ring, filed
// filedAgo before seed-demo first runs; the order was paid 9 days and
// delivered 5 days before that.
type ringClaim struct {
	n        int // the order's and the shopper's number: ord_ring_01, shp_ring_01
	seller   string
	items    []order.Item
	filedAgo time.Duration
	what     string // the shopper's description
}

// ringClaims are the ring's counterfeit claims. All but the last were
// filed five to six weeks ago: refunded and charged then, their contest
// windows have long closed and the charges are final, which confirms
// them. The last was filed yesterday: its seller may still contest it,
// and the brand has not spoken; the walk-through records its verdict.
var ringClaims = []ringClaim{
	{1, "sel_ringa", []order.Item{auroraTee}, 44 * day, "The logo is printed, not embroidered, and the seams are frayed."},
	{2, "sel_ringa", []order.Item{auroraTights}, 43 * day, "The waistband label has no batch number and the fabric smells of glue."},
	{3, "sel_ringa", []order.Item{auroraCap, auroraTee}, 41 * day, "Both the cap and the tee carry a misspelt 'Auroa' tag."},
	{4, "sel_ringa", []order.Item{auroraTee}, 38 * day, "The hologram sticker peels off in one piece and shows no pattern."},
	{5, "sel_ringb", []order.Item{auroraTights}, 42 * day, "The reflective strip is painted on and the stitching is single."},
	{6, "sel_ringb", []order.Item{auroraTee}, 40 * day, "The tee's label names a factory Aurora says it never used."},
	{7, "sel_ringb", []order.Item{auroraCap}, 37 * day, "The cap's clasp is plastic; Aurora's is metal."},
	{8, "sel_ringb", []order.Item{auroraTights}, 36 * day, "The size chart on the tag does not match Aurora's."},
	{9, "sel_ringc", []order.Item{auroraTee}, 39 * day, "The print cracked on the first wash and the label is a photocopy."},
	{10, "sel_ringc", []order.Item{auroraTights}, 35 * day, "The QR code on the tag leads to a parked domain."},
	{11, "sel_ringc", []order.Item{auroraCap}, 1 * day, "The embroidery is loose and the inside label is blank."},
}

// strideOrders is how many orders of genuine Aurora goods Stride Sports
// sold, none of them claimed.
const strideOrders = 6

// seedQueue schedules the steps of the claims seed-demo files: it runs
// their refund and seller-charge steps itself, on the clock of the day
// each claim is filed, as a worker would have run them then. Queued for a
// running engine's workers they would run on today's clock, leaving the
// charges still open to contest. Timers (the end of a contest window) go
// to the engine's queue as usual. If seed-demo stops before a step ran,
// running it again (or the engine's redrive) finishes the claim.
type seedQueue struct{ next pgstore.Enqueuer }

var _ pgstore.Enqueuer = seedQueue{}

func (q seedQueue) EnqueueTx(ctx context.Context, tx *sql.Tx, claimID string, _ []claimflow.Step, timers []claimflow.Timer) error {
	return q.next.EnqueueTx(ctx, tx, claimID, nil, timers)
}

// seedIntel loads the counterfeit-intelligence data. Claims go through
// the engine's own use cases, decided by the policy lab's active version:
// filed (once per idempotency key, so running it again files nothing
// new), refunded through the sandbox, charged to the seller, and the
// charges whose contest window has passed made final, as the engine's
// timer does.
func seedIntel(ctx context.Context, db *database, policies *policyflow.Source, log *slog.Logger, stdout io.Writer) error {
	b, _, err := brandflow.NewService(db.Store, time.Now).Put(ctx,
		brand.Params{ID: auroraBrand, Name: "Aurora Athletics", RightsHolders: []string{auroraHolder}})
	if err != nil {
		return fmt.Errorf("seed brand %s: %w", auroraBrand, err)
	}
	fmt.Fprintf(stdout, "brand  %-14s %s (rights holder %s)\n", b.ID(), b.Name(), auroraHolder)

	// One clock for the use cases and the steps, set to each claim's day.
	now := time.Now().UTC().Truncate(time.Second)
	at := now
	clock := func() time.Time { return at }
	store := *db.Store // the same pool, scheduling through seedQueue
	store.SetEnqueuer(seedQueue{next: db.jobs})
	policy := policies.Active()
	svc := claimflow.NewService(&store, policy, clock, claimflow.WithPolicies(policies))
	refund := &claimflow.RefundStep{Store: &store, Now: clock, Log: log, Policy: policy, Policies: policies,
		Providers: claimflow.Providers{sandbox.ProviderName: sandbox.New(db.DB(), sandbox.Config{})}}
	charge := &claimflow.ChargeSellerStep{Store: &store, Now: clock, Policy: policy, Policies: policies}
	deadlines := &claimflow.DeadlineStep{Store: &store, Policy: policy, Policies: policies, Now: time.Now, Log: log}

	for _, s := range intelSellers {
		if _, _, err := svc.PutSeller(ctx, s); err != nil {
			return fmt.Errorf("seed seller %s: %w", s.ID, err)
		}
		fmt.Fprintf(stdout, "seller %-14s %s (risk %d)\n", s.ID, s.Name, s.RiskScore)
	}
	fmt.Fprintln(stdout, "ring   sel_ringa, sel_ringb and sel_ringc are paid into one account; sel_ringa and sel_ringb ship from one warehouse")

	var ids []string
	sellers := map[string]int{}
	for _, rc := range ringClaims {
		id, err := seedRingClaim(ctx, svc, refund, charge, &at, now, rc)
		if err != nil {
			return err
		}
		ids = append(ids, id)
		sellers[rc.seller]++
	}
	// The engine's timer finalises a charge when its contest window ends;
	// for these it ended weeks ago.
	var open []string
	for _, id := range ids {
		wait, err := deadlines.RunContest(ctx, id)
		if err != nil {
			return err
		}
		if wait > 0 {
			open = append(open, fmt.Sprintf("%s may be contested until %s", id, time.Now().Add(wait).UTC().Format("2006-01-02 15:04 UTC")))
		}
	}
	fmt.Fprintf(stdout, "claims %d counterfeit claims of Aurora goods against the ring (sel_ringa %d, sel_ringb %d, sel_ringc %d), refunded and charged\n",
		len(ids), sellers["sel_ringa"], sellers["sel_ringb"], sellers["sel_ringc"])
	fmt.Fprintf(stdout, "claims %d with their charges final: confirmed counterfeits\n", len(ids)-len(open))
	for _, o := range open {
		fmt.Fprintf(stdout, "claim  %s; a counterfeit verdict of Aurora's rights holder confirms it\n", o)
	}

	for i := 1; i <= strideOrders; i++ {
		items := []order.Item{auroraTee, auroraTights, auroraCap}[i%3 : i%3+1]
		paid, deliv := now.Add(-time.Duration(3*i+4)*day), now.Add(-time.Duration(3*i)*day)
		p := order.Params{ID: fmt.Sprintf("ord_stride_%02d", i), BuyerID: fmt.Sprintf("shp_stride_%02d", i), SellerID: "sel_stride",
			Currency: "EUR", Items: items, Amount: items[0].UnitAmount, PaidAt: &paid, DeliveredAt: &deliv,
			Payment: order.Payment{Provider: order.ProviderSandbox, Reference: fmt.Sprintf("pay_demo_stride_%02d", i)}}
		if _, _, err := svc.PutOrder(ctx, p); err != nil {
			return fmt.Errorf("seed order %s: %w", p.ID, err)
		}
	}
	fmt.Fprintf(stdout, "orders ord_stride_01…%02d from sel_stride, genuine Aurora goods, none claimed\n", strideOrders)
	return nil
}

// seedRingClaim puts rc's order unless it is there already (its dates
// then stay those its claim was filed against), files the claim on the
// clock of its day, refunds it and charges its seller as the workers
// would have then, and returns the claim's id.
func seedRingClaim(ctx context.Context, svc *claimflow.Service, refund *claimflow.RefundStep, charge *claimflow.ChargeSellerStep,
	at *time.Time, now time.Time, rc ringClaim) (string, error) {
	orderID, shopper := fmt.Sprintf("ord_ring_%02d", rc.n), fmt.Sprintf("shp_ring_%02d", rc.n)
	filed := now.Add(-rc.filedAgo)
	*at = filed
	_, err := refund.Store.GetOrder(ctx, orderID)
	if err != nil && !errors.Is(err, claimflow.ErrNotFound) {
		return "", fmt.Errorf("seed order %s: %w", orderID, err)
	}
	if err != nil {
		paid, deliv := filed.Add(-9*day), filed.Add(-5*day)
		var amount int64
		for _, it := range rc.items {
			amount += it.UnitAmount * it.Quantity
		}
		p := order.Params{ID: orderID, BuyerID: shopper, SellerID: rc.seller, Currency: "EUR", Items: rc.items, Amount: amount,
			PaidAt: &paid, DeliveredAt: &deliv,
			Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_demo_" + strings.TrimPrefix(orderID, "ord_")}}
		if _, _, err := svc.PutOrder(ctx, p); err != nil {
			return "", fmt.Errorf("seed order %s: %w", orderID, err)
		}
	}
	changed, err := svc.File(ctx, claimflow.Viewer{Role: claimflow.RoleShopper, Subject: shopper},
		claimflow.FileClaim{OrderID: orderID, Reason: "counterfeit", Description: rc.what,
			Evidence: []claim.Evidence{{Kind: "photo", URL: fmt.Sprintf("https://example.com/demo/ring-%02d.jpg", rc.n)}}},
		claimflow.Key{Door: claimflow.DoorAPI, Value: "seed-demo-" + orderID})
	if err != nil {
		return "", fmt.Errorf("seed claim on %s: %w", orderID, err)
	}
	id := changed.Record.Claim.ID()
	// A claim already refunded and charged is left as it is.
	*at = filed.Add(time.Second)
	if err := refund.Run(ctx, id, 1, 2); err != nil {
		return "", fmt.Errorf("seed claim %s: %w", id, err)
	}
	*at = filed.Add(2 * time.Second)
	if err := charge.Run(ctx, id, 1, 2); err != nil {
		return "", fmt.Errorf("seed claim %s: %w", id, err)
	}
	return id, nil
}
