package console_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/workflows/eventflow"
)

// TestAdminEventsPage: an administrator reads how far the relay and the
// consumers have come and the latest events; a claim filed shows up there
// once the relay numbered it.
func TestAdminEventsPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	id := b.fileClaim(t, "s1", b.name("shp_events"), 1500)
	relay := eventflow.NewRelay(store, httpapi.ClaimDocuments{Service: b.svc}, time.Now)
	for {
		_, err := relay.RunOnce(ctx)
		require.NoError(t, err)
		var waiting int
		require.NoError(t, store.DB().QueryRowContext(ctx, `SELECT count(*) FROM events WHERE claim_id = $1 AND position IS NULL`, id).Scan(&waiting))
		if waiting == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond) // another test's transaction is still open
	}
	consumer := b.name("test_consumer")
	require.NoError(t, store.SetCursor(ctx, consumer, 1, time.Now()))

	admin := b.signIn(t, "admin", b.name("root"))
	page := b.do(t, http.MethodGet, "/console/admin/events", admin.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code, page.Body)
	require.Contains(t, page.Body, `<a href="/console/admin/events" aria-current="page">Events</a>`)
	require.Contains(t, page.Body, "Waiting to be numbered")
	require.Contains(t, page.Body, "<th scope=\"row\">"+consumer+"</th>", "the consumer's row")
	st, err := store.EventsStatus(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, st.Last, int64(1))
	require.Contains(t, page.Body, "claim.submitted")

	agent := b.signIn(t, "agent", b.name("ana"))
	require.Equal(t, http.StatusForbidden, b.do(t, http.MethodGet, "/console/admin/events", agent.cookie, nil).Code)
}
