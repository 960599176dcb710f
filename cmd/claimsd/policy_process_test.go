package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/money"
)

// TestAnActivationReachesEveryProcess: a version activated through one
// engine process decides the claims another process files, without a
// restart: each process looks for a change every second.
func TestAnActivationReachesEveryProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, cleanup, err := pgtest.Database(ctx, "cmd_policies")
	require.NoError(t, err)
	t.Cleanup(cleanup)
	shared := map[string]string{
		"DATABASE_URL":       url,
		"CLAIMSD_JWT_SECRET": procSecret,
		"CLAIMSD_DATA_DIR":   t.TempDir(),
		"CLAIMSD_LOG_FORMAT": "text",
	}
	addrA, addrB := freeAddr(t), freeAddr(t)
	procA := startChild(t, "claimsd-a", childEnv(shared, addrA), "--role", "api")
	procA.waitReady(t, addrA)
	procB := startChild(t, "claimsd-b", childEnv(shared, addrB))
	procB.waitReady(t, addrB)
	a, b := newProcAPI(addrA), newProcAPI(addrB)
	orders := seedOrders(t, a, "policies", 2, 60)

	// Before: the seeded built-in policy refunds these claims at once.
	seeded := policyfile.Default()
	code, body, err := b.do(http.MethodPost, "/v1/claims", "shopper", orders[0].shopper, map[string]any{
		"order_id": orders[0].id, "reason": "counterfeit", "description": "The logo is misprinted."})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code, body)
	require.Equal(t, "approved", body["status"])

	// A version with no instant refunds in EUR is drafted and activated
	// through process A.
	strict := policyfile.Default()
	strict.Version = "no-instant-eur"
	for i := range strict.Tiers {
		eur := money.MustCurrency("EUR")
		strict.Tiers[i].InstantLimits[eur], strict.Tiers[i].RaisedLimits[eur] = 0, 0
	}
	doc, err := policyfile.Marshal(strict)
	require.NoError(t, err)
	code, body, err = a.do(http.MethodPost, "/v1/policies", "risk", "rita", json.RawMessage(doc))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code, body)
	code, body, err = a.do(http.MethodPost, "/v1/policies/no-instant-eur/activate", "risk", "rita", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "active", body["status"])
	activated := time.Now()

	// Process B files the next claims; once it has read the change, every
	// claim it files is decided by the new version and waits for a person.
	var picked time.Duration
	for i, o := range orders[1:] {
		code, body, err := b.do(http.MethodPost, "/v1/claims", "shopper", o.shopper, map[string]any{
			"order_id": o.id, "reason": "counterfeit", "description": "The logo is misprinted."})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, code, body)
		d, _ := body["decision"].(map[string]any)
		version, _ := d["policy_version"].(string)
		if version == "no-instant-eur" {
			require.Equal(t, "in_review", body["status"])
			picked = time.Since(activated)
			t.Logf("process B decided with the activated version %s after the activation (claim %d)", picked.Round(time.Millisecond), i+1)
			break
		}
		require.Equal(t, seeded.Version, version, "a claim is decided by one version or the other")
		require.False(t, procB.exited(), "process B stopped")
		time.Sleep(250 * time.Millisecond)
	}
	require.NotZero(t, picked, fmt.Sprintf("process B never decided with the activated version in %d claims", len(orders)-1))
	procA.stop(t)
	procB.stop(t)
}
