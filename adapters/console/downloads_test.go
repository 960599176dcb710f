package console_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/console"
	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// TestDownloadsGetTheExportTimeout: with a request timeout too short for
// any page, the console's downloads still stream, because the engine's
// router gives the paths DownloadPaths lists its export timeout; a page
// gets the "try again shortly" page instead.
func TestDownloadsGetTheExportTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := b.clock.Now
	svc := claimflow.NewService(store, policyfile.Default(), now)
	fin := financeflow.New(financeflow.Config{Store: store, Now: now,
		Providers: []financeflow.ProviderRecords{sandbox.New(store.DB(), sandbox.Config{})}})
	e := httpapi.New(httpapi.Deps{Claims: svc, Finance: fin, Secret: secret, Now: now,
		RequestTimeout: time.Nanosecond, ExportTimeout: time.Minute, ExportPaths: console.DownloadPaths()})
	console.Mount(e, console.Deps{Claims: svc, Finance: fin, Keys: b.keys, Logins: store, Now: now})
	short := &testBundle{e: e, svc: svc, clock: b.clock, keys: b.keys, id: b.id}
	// Signed in through the usual router: the cookie is good on any
	// router with the same keys.
	s := b.signIn(t, "finance", "fin").cookie

	csv := short.do(t, http.MethodGet, "/console/finance/chargebacks.csv", s, nil)
	require.Equal(t, http.StatusOK, csv.Code, csv.Body)
	require.Contains(t, csv.Header.Get("Content-Type"), "text/csv")
	page := short.do(t, http.MethodGet, "/console/finance/chargebacks", s, nil)
	require.Equal(t, http.StatusServiceUnavailable, page.Code, page.Body)
}
