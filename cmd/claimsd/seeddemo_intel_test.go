package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

// TestSeedDemoCounterfeitRing runs seed-demo twice, then reads what
// intelligence makes of it: one case holding exactly the ring, with each
// of its confirmed claims counted once, and the seller of the genuine
// goods in no case.
func TestSeedDemoCounterfeitRing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, cleanup, err := pgtest.Database(ctx, "seedintel")
	require.NoError(t, err)
	t.Cleanup(cleanup)
	env := envOf(map[string]string{"DATABASE_URL": url, "CLAIMSD_DATA_DIR": t.TempDir()})

	for range 2 {
		var out bytes.Buffer
		require.NoError(t, run(ctx, []string{"seed-demo"}, &out, &bytes.Buffer{}, env))
		require.Contains(t, out.String(), "ord_1001", "the earlier demo data is still seeded")
		require.Contains(t, out.String(), "brand  aurora")
		require.Contains(t, out.String(), "claims 11 counterfeit claims of Aurora goods against the ring (sel_ringa 4, sel_ringb 4, sel_ringc 3)")
		require.Contains(t, out.String(), "claims 10 with their charges final")
		require.Contains(t, out.String(), "may be contested until")
	}

	st, err := pgstore.Open(ctx, url, pgstore.PoolConfig{})
	require.NoError(t, err)
	t.Cleanup(st.Close)
	signer, err := intel.NewSigner(make([]byte, 32))
	require.NoError(t, err)
	svc := intelflow.NewService(st, signer, time.Now)
	admin := claimflow.Viewer{Role: claimflow.RoleAdmin, Subject: "test"}

	cases, err := svc.Cases(ctx, admin, "")
	require.NoError(t, err)
	require.Len(t, cases, 1, "the ring is the demo's only case: no seller of the history has three confirmed counterfeits")
	var ring []intelflow.Case
	for _, c := range cases {
		for _, s := range c.Sellers {
			require.NotEqual(t, "sel_stride", s.ID, "the seller of genuine goods is in case %s", c.ID)
			if s.ID == "sel_ringa" {
				ring = append(ring, c)
			}
		}
	}
	require.Len(t, ring, 1)
	c := ring[0]
	ids := make([]string, len(c.Sellers))
	for i, s := range c.Sellers {
		ids[i] = s.ID
	}
	require.ElementsMatch(t, []string{"sel_ringa", "sel_ringb", "sel_ringc"}, ids)
	require.Equal(t, int64(10), c.Confirmed)
	require.Equal(t, []string{"aurora"}, c.Brands)
	require.Equal(t, []intelflow.Amount{{Currency: "EUR", Amount: 36300}}, c.Amounts)

	// The brand's lines: ten confirmed, the one filed yesterday pending,
	// none filed twice.
	page, err := svc.Counterfeits(ctx, admin, "aurora", intelflow.Query{Status: intelflow.StatusAll})
	require.NoError(t, err)
	require.Equal(t, map[string]int64{intelflow.StatusConfirmed: 10, intelflow.StatusPending: 1}, page.Totals.ByStatus)
	require.Equal(t, int64(10), page.Totals.Shoppers)
}
