package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
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
		about: "Loads the README walk-through's sellers and orders (again: it refreshes their dates). With\n" +
			"CLAIMSD_PAYMENTS=stripe the orders name stripe-mock's payments, in USD.",
		settings: append(slices.Clone(databaseSettings), "payments"),
	}, args, stdout, stderr, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.leave(log)
	if _, err := db.Migrate(ctx, db.migrateQueue); err != nil {
		return err
	}
	svc := claimflow.NewService(db.Store, policyfile.Default(), time.Now)
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
	return nil
}
