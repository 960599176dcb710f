package console_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/domain/webhook"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/eventflow"
	"github.com/claimsd/claimsd/workflows/webhookflow"
)

var (
	secretText   = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`)
	endpointLink = regexp.MustCompile(`href="/console/admin/webhooks/(whe_[A-Za-z0-9_]+)"`)
)

const adminSub = "root"

// newEndpoint registers an endpoint on a loopback address nothing
// answers on, taking the types given.
func (b *testBundle) newEndpoint(t *testing.T, short string, types ...string) webhookflow.Endpoint {
	t.Helper()
	if len(types) == 0 {
		types = []string{webhookflow.All}
	}
	e, err := b.hooks.Create(context.Background(), claimflow.Viewer{Role: "admin", Subject: adminSub},
		webhookflow.Input{URL: "http://127.0.0.1:9/" + b.name(short), Description: "Test receiver " + short, EventTypes: types})
	require.NoError(t, err)
	return e
}

// shownSecret is the signing secret a page shows, as the reader sees it:
// the template writes a "+" of the base64 as "&#43;", so the text is
// unescaped before it is looked for, and what is found must parse whole.
func shownSecret(t *testing.T, body string) string {
	t.Helper()
	sec := secretText.FindString(html.UnescapeString(body))
	require.NotEmpty(t, sec, "the secret is shown")
	_, err := webhook.ParseSecret(sec)
	require.NoError(t, err, "the whole secret is shown: %q", sec)
	return sec
}

// seedDeliveries writes n deliveries of the endpoint in state, each with
// one attempt whose answer is answer, straight into the store: for pages
// that need deliveries without a dispatcher sending them.
func seedDeliveries(t *testing.T, db *sql.DB, endpointID, claimID, state string, n int, answer string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	for i := range n {
		var id int64
		var finished *time.Time
		if state != webhookflow.StatePending {
			finished = &now
		}
		require.NoError(t, db.QueryRowContext(ctx, `
			INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, claim_id, position, state, attempts,
			       next_attempt_at, last_status, last_error, last_latency_ms, created_at, finished_at)
			VALUES ($1, $2, 'claim.submitted', nullif($3, ''), $4, $5, 1, $6, 500, 'the receiver answered 500', 42, $7, $8)
			RETURNING id`, endpointID, "evt_seed_"+endpointID+"_"+strconv.Itoa(i), claimID, i+1, state,
			now.Add(5*time.Minute), now, finished).Scan(&id))
		_, err := db.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, n, at, status, latency_ms, error, response)
			VALUES ($1, 1, $2, 500, 42, 'the receiver answered 500', $3)`, id, now, answer)
		require.NoError(t, err)
	}
}

// TestAdminWebhooksCreateShowsTheSecretOnce: an administrator adds an
// endpoint from the list's form; the page that answers shows its secret,
// not cached, in no address or cookie; the list and the endpoint's page
// never show it.
func TestAdminWebhooksCreateShowsTheSecretOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.signIn(t, "admin", b.name(adminSub))
	list := b.do(t, http.MethodGet, "/console/admin/webhooks", admin.cookie, nil)
	require.Equal(t, http.StatusOK, list.Code, list.Body)
	require.Contains(t, list.Body, `<a href="/console/admin/events">Events</a></li>
        <li><a href="/console/admin/webhooks" aria-current="page">Webhooks</a>`, "the nav link, next to Events")
	require.Contains(t, list.Body, `value="*" checked`, "all types ticked at first")
	for _, typ := range eventflow.Types {
		require.Contains(t, list.Body, `value="`+typ+`"`)
	}

	target := "http://127.0.0.1:9/" + b.name("created")
	r := b.post(t, admin, "/console/admin/webhooks", url.Values{"url": {target}, "description": {"Claims <feed>"},
		"event_types": {"claim.submitted", "claim.refunded"}})
	require.Equal(t, http.StatusCreated, r.Code, r.Body)
	require.Empty(t, r.Header.Get("Location"), "the secret's page is the answer itself")
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	sec := shownSecret(t, r.Body)
	requireAccessible(t, r.Body)
	require.Contains(t, r.Body, "shown only this once")
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		require.Contains(t, r.Body, "<code>"+h+"</code>")
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			require.NotContains(t, v, sec, "header %s", k)
		}
	}
	for _, ck := range r.Cookies {
		require.NotContains(t, ck.Value, sec)
	}
	m := endpointLink.FindStringSubmatch(r.Body)
	require.NotNil(t, m, "the secret's page links to the endpoint")
	id := m[1]
	e, err := b.hooks.Get(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, target, e.URL)
	require.Equal(t, []string{"claim.submitted", "claim.refunded"}, e.EventTypes)
	require.Empty(t, e.Secret)

	list = b.do(t, http.MethodGet, "/console/admin/webhooks", admin.cookie, nil)
	require.Equal(t, http.StatusOK, list.Code)
	require.Contains(t, list.Body, target)
	require.Contains(t, list.Body, "Claims &lt;feed&gt;")
	require.NotContains(t, list.Body, "whsec_")
	page := b.do(t, http.MethodGet, "/console/admin/webhooks/"+id, admin.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code, page.Body)
	require.Contains(t, page.Body, target)
	require.Contains(t, page.Body, "claim.submitted, claim.refunded")
	require.NotContains(t, page.Body, "whsec_")
	require.NotContains(t, html.UnescapeString(page.Body), sec)
	require.Contains(t, page.Body, `href="/console/admin/events"`, "the way to the relay's lag")
}

// TestAdminWebhooksBadInput: a bad URL, no type, or a long description
// is shown beside its field with what was typed kept, and nothing is
// added; an id that is no endpoint's is the 404 page, for pages and forms.
func TestAdminWebhooksBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.signIn(t, "admin", b.name(adminSub))
	before, err := b.hooks.List(context.Background())
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
	}{
		{"not a URL", url.Values{"url": {"not a url <b>"}, "event_types": {"*"}}, "create-url"},
		{"no URL", url.Values{"event_types": {"*"}}, "create-url"},
		{"no type", url.Values{"url": {"http://127.0.0.1:9/" + b.name("x")}}, "create-event-types"},
		{"an unknown type", url.Values{"url": {"http://127.0.0.1:9/" + b.name("x")}, "event_types": {"claim.nonsense"}}, "create-event-types"},
		{"a long description", url.Values{"url": {"http://127.0.0.1:9/" + b.name("x")}, "event_types": {"*"},
			"description": {strings.Repeat("d", webhookflow.MaxDescription+1)}}, "create-description"},
	} {
		r := b.post(t, admin, "/console/admin/webhooks", tc.form)
		require.Equal(t, http.StatusUnprocessableEntity, r.Code, "%s: %s", tc.name, r.Body)
		require.Contains(t, r.Body, `id="`+tc.field+`-error"`, tc.name)
		require.Contains(t, r.Body, "Check the form", tc.name)
		requireAccessible(t, r.Body)
		require.NotContains(t, r.Body, "whsec_", tc.name)
		if u := tc.form.Get("url"); u != "" {
			require.Contains(t, r.Body, `value="`+strings.ReplaceAll(strings.ReplaceAll(u, "<", "&lt;"), ">", "&gt;")+`"`, "%s: the URL typed is kept", tc.name)
		}
	}
	after, err := b.hooks.List(context.Background())
	require.NoError(t, err)
	for _, e := range after {
		require.NotContains(t, e.URL, b.name("x"), "nothing was added")
	}
	require.GreaterOrEqual(t, len(after), len(before))

	for _, p := range []string{"/console/admin/webhooks/whe_nobody", "/console/admin/webhooks/clm_nobody", "/console/admin/webhooks/whe_" + strings.Repeat("x", 80)} {
		r := b.do(t, http.MethodGet, p, admin.cookie, nil)
		require.Equal(t, http.StatusNotFound, r.Code, p)
		require.Contains(t, r.Body, "Not found")
	}
	for _, action := range []string{"enable", "disable", "reenable", "replay", "secret", "delete"} {
		r := b.post(t, admin, "/console/admin/webhooks/whe_nobody/"+action, url.Values{"from": {"2026-01-01T00:00"}, "confirm": {"yes"}})
		require.Equal(t, http.StatusNotFound, r.Code, "%s: %s", action, r.Body)
	}
	e := b.newEndpoint(t, "filter")
	r := b.do(t, http.MethodGet, "/console/admin/webhooks/"+e.ID+"?state=lost", admin.cookie, nil)
	require.Equal(t, http.StatusBadRequest, r.Code)
	r = b.do(t, http.MethodGet, "/console/admin/webhooks/"+e.ID+"?before=-1", admin.cookie, nil)
	require.Equal(t, http.StatusBadRequest, r.Code)
}

// TestAdminWebhookDisableAndEnable: disabled, an endpoint says so on its
// page and in the list, with what becomes of its deliveries; enabled
// again, it no longer does.
func TestAdminWebhookDisableAndEnable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.signIn(t, "admin", b.name(adminSub))
	e := b.newEndpoint(t, "toggle")
	path := "/console/admin/webhooks/" + e.ID
	page := b.do(t, http.MethodGet, path, admin.cookie, nil)
	require.Contains(t, page.Body, `action="`+path+`/disable"`)
	require.NotContains(t, page.Body, "Re-enable and replay")

	r := b.post(t, admin, path+"/disable", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	require.Equal(t, path+"?done=disabled", r.Header.Get("Location"))
	got, err := b.hooks.Get(context.Background(), e.ID)
	require.NoError(t, err)
	require.False(t, got.Enabled)
	require.Equal(t, webhookflow.ReasonManual, got.DisabledReason)
	page = b.do(t, http.MethodGet, r.Header.Get("Location"), admin.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	require.Contains(t, page.Body, `<div class="alert webhook-off" role="alert">`)
	require.Contains(t, page.Body, "Disabled: no event is sent to this endpoint.")
	require.Contains(t, page.Body, "Its pending deliveries are kept, and the events written while it is disabled can be replayed")
	require.Contains(t, page.Body, "disabled by hand")
	require.Contains(t, page.Body, `<time datetime="`+got.DisabledAt.UTC().Format(time.RFC3339)+`"`)
	require.Contains(t, page.Body, `action="`+path+`/reenable"`)
	require.Contains(t, page.Body, "Re-enable and replay from when it was disabled")
	require.Contains(t, page.Body, `action="`+path+`/enable"`)
	list := b.do(t, http.MethodGet, "/console/admin/webhooks", admin.cookie, nil)
	require.Contains(t, list.Body, `<tr class="webhook-disabled">`)
	require.Contains(t, list.Body, "Their pending deliveries are kept, and the events written while they are disabled can be replayed")

	r = b.post(t, admin, path+"/enable", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	page = b.do(t, http.MethodGet, r.Header.Get("Location"), admin.cookie, nil)
	require.Contains(t, page.Body, "The endpoint is enabled")
	require.NotContains(t, page.Body, "Disabled: no event is sent")
	require.Contains(t, page.Body, "Last disabled", "when it was last disabled is kept")
	got, err = b.hooks.Get(context.Background(), e.ID)
	require.NoError(t, err)
	require.True(t, got.Enabled)
}

// TestAdminWebhookRotateSecret: rotating shows the new secret once, and
// that the old one signs beside it for a day; the endpoint's page then
// says until when, without either secret.
func TestAdminWebhookRotateSecret(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.signIn(t, "admin", b.name(adminSub))
	e := b.newEndpoint(t, "rotate")
	path := "/console/admin/webhooks/" + e.ID
	r := b.post(t, admin, path+"/secret", url.Values{})
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	sec := shownSecret(t, r.Body)
	require.NotEqual(t, e.Secret, sec)
	require.NotContains(t, html.UnescapeString(r.Body), e.Secret, "the old secret is not shown")
	require.Contains(t, r.Body, "keeps signing beside this one for 24 hours")
	page := b.do(t, http.MethodGet, path, admin.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	require.NotContains(t, page.Body, "whsec_")
	require.Contains(t, page.Body, "Previous secret")
}

// TestAdminWebhookReplay: a replay from a time queues the events since
// and says how many; a time that does not parse or is still to come is
// shown beside the field.
func TestAdminWebhookReplay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.signIn(t, "admin", b.name(adminSub))
	e := b.newEndpoint(t, "replay", "claim.submitted")
	path := "/console/admin/webhooks/" + e.ID
	claimID := b.fileClaim(t, "s1", b.name("shp_replay"), instantAmount)
	numbered(t, b, claimID)

	page := b.do(t, http.MethodGet, path, admin.cookie, nil)
	require.Contains(t, page.Body, `type="datetime-local" id="replay-from" name="from" value="`+b.clock.Now().Add(-time.Hour).Format("2006-01-02T15:04")+`"`)
	for _, bad := range []struct{ from, says string }{
		{"", "is required"},
		{"yesterday", "must be a date and time"},
		{b.clock.Now().Add(time.Hour).Format("2006-01-02T15:04"), "must not be later than now"},
	} {
		r := b.post(t, admin, path+"/replay", url.Values{"from": {bad.from}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code, "%q: %s", bad.from, r.Body)
		require.Contains(t, r.Body, `<p class="field-error" id="replay-from-error">Replay from: `+bad.says, bad.from)
		require.Contains(t, r.Body, `aria-invalid="true"`)
		requireAccessible(t, r.Body)
	}
	r := b.post(t, admin, path+"/replay", url.Values{"from": {b.clock.Now().Add(-time.Minute).Format("2006-01-02T15:04")}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	require.Contains(t, r.Header.Get("Location"), path+"?done=replayed&")
	require.Contains(t, r.Header.Get("Location"), "queued=")
	page = b.do(t, http.MethodGet, r.Header.Get("Location"), admin.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	require.Regexp(t, `\d+ events? (was|were) queued again`, page.Body)
	require.Contains(t, page.Body, `<a href="/console/claims/`+claimID+`"`, "the claim's event is queued")
	require.Contains(t, page.Body, `<span class="badge">replay</span>`)
	require.Contains(t, page.Body, "Not attempted yet.")
}

// TestAdminWebhookReenableAndReplay: a disabled endpoint enabled again
// from its page gets the events written while it was disabled.
func TestAdminWebhookReenableAndReplay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.signIn(t, "admin", b.name(adminSub))
	e := b.newEndpoint(t, "reenable", "claim.submitted")
	path := "/console/admin/webhooks/" + e.ID
	require.Equal(t, http.StatusSeeOther, b.post(t, admin, path+"/disable", url.Values{}).Code)
	b.clock.Add(time.Minute)
	claimID := b.fileClaim(t, "s1", b.name("shp_reenable"), instantAmount)
	numbered(t, b, claimID)

	r := b.post(t, admin, path+"/reenable", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	page := b.do(t, http.MethodGet, r.Header.Get("Location"), admin.cookie, nil)
	require.Contains(t, page.Body, "The endpoint is enabled again.")
	require.NotContains(t, page.Body, "Disabled: no event is sent")
	require.Contains(t, page.Body, `<a href="/console/claims/`+claimID+`"`)
	got, err := b.hooks.Get(context.Background(), e.ID)
	require.NoError(t, err)
	require.True(t, got.Enabled)
	// Pressed again: nothing more happens.
	r = b.post(t, admin, path+"/reenable", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.Code)
	require.Equal(t, path, r.Header.Get("Location"))
}

// TestAdminWebhookDelete: deleting asks for the box to be ticked, then
// the endpoint is gone.
func TestAdminWebhookDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.signIn(t, "admin", b.name(adminSub))
	e := b.newEndpoint(t, "delete")
	path := "/console/admin/webhooks/" + e.ID
	r := b.post(t, admin, path+"/delete", url.Values{})
	require.Equal(t, http.StatusUnprocessableEntity, r.Code, r.Body)
	require.Contains(t, r.Body, `id="delete-confirm-error">Tick the box to confirm`)
	_, err := b.hooks.Get(context.Background(), e.ID)
	require.NoError(t, err, "not deleted without the box ticked")
	r = b.post(t, admin, path+"/delete", url.Values{"confirm": {"yes"}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	require.Equal(t, "/console/admin/webhooks?done=deleted", r.Header.Get("Location"))
	list := b.do(t, http.MethodGet, r.Header.Get("Location"), admin.cookie, nil)
	require.Contains(t, list.Body, "The endpoint was deleted")
	require.NotContains(t, list.Body, e.URL)
	require.Equal(t, http.StatusNotFound, b.do(t, http.MethodGet, path, admin.cookie, nil).Code)
}

// TestAdminWebhooksForAdminsOnly: other roles get the console's refusal,
// and no link to the pages.
func TestAdminWebhooksForAdminsOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	e := b.newEndpoint(t, "others")
	for _, role := range []string{"agent", "finance", "seller", "shopper", "rights_holder", "enforcement"} {
		s := b.signIn(t, role, b.name("who"))
		for _, p := range []string{"/console/admin/webhooks", "/console/admin/webhooks/" + e.ID} {
			r := b.do(t, http.MethodGet, p, s.cookie, nil)
			require.Equal(t, http.StatusForbidden, r.Code, "%s as %s", p, role)
			require.Contains(t, r.Body, "this page is for")
			require.NotContains(t, r.Body, e.URL)
		}
		r := b.post(t, s, "/console/admin/webhooks", url.Values{"url": {"http://127.0.0.1:9/" + b.name("sneak")}, "event_types": {"*"}})
		require.Equal(t, http.StatusForbidden, r.Code, role)
		require.NotContains(t, r.Body, "whsec_")
		r = b.post(t, s, "/console/admin/webhooks/"+e.ID+"/secret", url.Values{})
		require.Equal(t, http.StatusForbidden, r.Code, role)
		require.NotContains(t, r.Body, "whsec_")
	}
	got, err := b.hooks.Get(context.Background(), e.ID)
	require.NoError(t, err)
	require.Nil(t, got.PreviousUntil, "the secret was not rotated")
}

// TestAdminWebhookDeliveries: a receiver's answers are shown with each
// attempt, as text; the deliveries page by page and by state. (The rows
// are written straight into the store: see seedDeliveries.)
func TestAdminWebhookDeliveries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	e := b.newEndpoint(t, "deliveries", "claim.submitted")
	claimID := b.fileClaim(t, "sel_hook", b.name("shp_hook"), instantAmount)
	seedDeliveries(t, store.DB(), e.ID, claimID, webhookflow.StatePending, 1, `<script>alert("x")</script> busy`)

	admin := b.signIn(t, "admin", b.name(adminSub))
	path := "/console/admin/webhooks/" + e.ID
	page := b.do(t, http.MethodGet, path, admin.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code, page.Body)
	require.NotContains(t, page.Body, `<script>alert`)
	require.Contains(t, page.Body, `<pre class="answer">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; busy</pre>`)
	require.Contains(t, page.Body, `<td class="num">500</td>`)
	require.Contains(t, page.Body, "Next attempt")
	require.Contains(t, page.Body, `<span class="badge webhook-pending">pending</span>`)
	require.Contains(t, page.Body, `<a href="/console/claims/`+claimID+`"`)
	require.Contains(t, page.Body, "claim.submitted")

	// Paging: 50 a page, newest first; and a filter by state.
	seedDeliveries(t, store.DB(), e.ID, "", webhookflow.StateFailed, 50, "gone away")
	page = b.do(t, http.MethodGet, path, admin.cookie, nil)
	require.Equal(t, 50, strings.Count(page.Body, `<li class="delivery">`))
	require.NotContains(t, page.Body, "/console/claims/"+claimID, "the oldest is on the next page")
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">Older deliveries</a>`).FindStringSubmatch(page.Body)
	require.NotNil(t, next)
	nextURL, _, _ := strings.Cut(strings.ReplaceAll(next[1], "&amp;", "&"), "#") // a browser sends no fragment
	older := b.do(t, http.MethodGet, nextURL, admin.cookie, nil)
	require.Equal(t, http.StatusOK, older.Code, older.Body)
	require.Equal(t, 1, strings.Count(older.Body, `<li class="delivery">`))
	require.Contains(t, older.Body, "/console/claims/"+claimID)
	require.Contains(t, older.Body, "Newest deliveries")
	pending := b.do(t, http.MethodGet, path+"?state=pending", admin.cookie, nil)
	require.Equal(t, 1, strings.Count(pending.Body, `<li class="delivery">`))
	require.Contains(t, pending.Body, `<option value="pending" selected>`)
}

// numbered runs the relay until the claim's events are numbered.
func numbered(t *testing.T, b *testBundle, claimID string) {
	t.Helper()
	ctx := context.Background()
	relay := eventflow.NewRelay(store, httpapi.ClaimDocuments{Service: b.svc}, time.Now)
	for {
		_, err := relay.RunOnce(ctx)
		require.NoError(t, err)
		var waiting int
		require.NoError(t, store.DB().QueryRowContext(ctx, `SELECT count(*) FROM events WHERE claim_id = $1 AND position IS NULL`, claimID).Scan(&waiting))
		if waiting == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond) // another test's transaction is still open
	}
}

// requireAccessible checks a page a form answered with as
// TestPagesAreAccessible checks the others.
func requireAccessible(t *testing.T, body string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	require.NoError(t, err)
	for _, problem := range accessibilityProblems(doc) {
		t.Error(problem)
	}
}
