package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// formKeyOf reads the idempotency key a page rendered into the form that
// posts to action.
func formKeyOf(t *testing.T, body, action string) string {
	t.Helper()
	m := regexp.MustCompile(`action="` + regexp.QuoteMeta(action) + `">\s*<input type="hidden" name="csrf" value="[^"]*">\s*<input type="hidden" name="key" value="([0-9a-f]+)">`).FindStringSubmatch(body)
	require.NotNil(t, m, "the form to %s carries a key", action)
	return m[1]
}

// TestFormsPressedTwiceActOnce: an agent's decision, a seller's contest
// and a reconciliation request sent twice from the same page are applied
// once; the second press lands where the first did. The same form sent
// again with other choices changes nothing and says so.
func TestFormsPressedTwiceActOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)

	// The agent's decision.
	id := b.reviewClaim(t, "sel_twice")
	ana := b.signIn(t, "agent", "ana")
	page := b.do(t, http.MethodGet, "/console/claims/"+id, ana.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	action := "/console/claims/" + id + "/override"
	key := formKeyOf(t, page.Body, action)
	version := strconv.FormatInt(b.get(t, id).Claim.Version(), 10)
	approve := func() url.Values {
		return url.Values{"action": {"approve"}, "note": {"Serial checked."}, "version": {version}, "key": {key}}
	}
	first := b.post(t, ana, action, approve())
	require.Equal(t, http.StatusSeeOther, first.Code, first.Body)
	events := len(b.events(t, id))
	second := b.post(t, ana, action, approve())
	require.Equal(t, http.StatusSeeOther, second.Code, "the second press is answered as the first: %s", second.Body)
	require.Equal(t, first.Header.Get("Location"), second.Header.Get("Location"))
	require.Len(t, b.events(t, id), events, "applied once")
	other := approve()
	other.Set("action", "reject")
	other.Set("reason_code", "item_authentic")
	r := b.post(t, ana, action, other)
	require.Equal(t, http.StatusConflict, r.Code, r.Body)
	require.Contains(t, r.Body, "already sent with other choices")
	require.Len(t, b.events(t, id), events, "nothing else changed")

	// The seller's contest.
	charged := b.chargedClaim(t, "sel_twice_c", b.clock.Now())
	seller := b.signIn(t, "seller", b.name("sel_twice_c"))
	page = b.do(t, http.MethodGet, "/console/seller/claims/"+charged, seller.cookie, nil)
	action = "/console/seller/claims/" + charged + "/contest"
	key = formKeyOf(t, page.Body, action)
	contest := url.Values{"statement": {"Bought from the distributor."}, "key": {key}}
	require.Equal(t, http.StatusSeeOther, b.post(t, seller, action, contest).Code)
	events = len(b.events(t, charged))
	r = b.post(t, seller, action, contest)
	require.Equal(t, http.StatusSeeOther, r.Code, "the second press is answered as the first: %s", r.Body)
	require.Len(t, b.events(t, charged), events)

	// The reconciliation request.
	fin := b.signIn(t, "finance", "fin")
	page = b.do(t, http.MethodGet, "/console/finance/reconciliations", fin.cookie, nil)
	key = formKeyOf(t, page.Body, "/console/finance/reconciliations")
	today := b.clock.Now().UTC().Format("2006-01-02")
	req := url.Values{"from": {today}, "to": {today}, "key": {key}}
	first = b.post(t, fin, "/console/finance/reconciliations", req)
	require.Equal(t, http.StatusSeeOther, first.Code, first.Body)
	second = b.post(t, fin, "/console/finance/reconciliations", req)
	require.Equal(t, http.StatusSeeOther, second.Code, second.Body)
	require.Equal(t, first.Header.Get("Location"), second.Header.Get("Location"), "one run, not two")
}
