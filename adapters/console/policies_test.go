package console_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/adapters/queue"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// rita works in the policy lab.
var rita = claimflow.Viewer{Role: "risk", Subject: "rita"}

// policyDoc is the built-in policy's document with its version set to
// version and edit applied to its settings (nil: none).
func policyDoc(t *testing.T, version string, edit func(p map[string]any)) string {
	t.Helper()
	doc, err := policyfile.Marshal(policyfile.Default())
	require.NoError(t, err)
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var p map[string]any
	require.NoError(t, d.Decode(&p))
	p["version"] = version
	if edit != nil {
		edit(p)
	}
	out, err := json.MarshalIndent(p, "", "  ")
	require.NoError(t, err)
	return string(out)
}

// stricter lowers what a new shopper is refunded at once in EUR to 5.00:
// their 10.00 EUR claim, refunded at once by the built-in policy, goes to
// a person.
func stricter(p map[string]any) {
	p["tiers"].([]any)[0].(map[string]any)["instant_limits"].(map[string]any)["EUR"] = 500
}

// draft stores a version named after short (unique to the test) with edit
// applied, and returns its version.
func (b *testBundle) draft(t *testing.T, short string, edit func(map[string]any)) string {
	t.Helper()
	v, err := b.lab.Create(context.Background(), rita, []byte(policyDoc(t, b.name(short), edit)))
	require.NoError(t, err)
	return v.Version
}

// today is the test clock's UTC day.
func (b *testBundle) today() time.Time { return b.clock.Now().UTC().Truncate(day) }

// backtestNow backtests version over today's claims against sellerID and
// works the run as its job does.
func (b *testBundle) backtestNow(t *testing.T, version, sellerID string) policyflow.Backtest {
	t.Helper()
	ctx := context.Background()
	bt, err := b.lab.StartBacktest(ctx, rita, version, policyflow.BacktestRequest{From: b.today(), To: b.today().Add(day),
		Filters: policyflow.Filters{SellerID: sellerID}})
	require.NoError(t, err)
	require.NoError(t, b.lab.RunBacktest(ctx, bt.ID, false))
	bt, err = b.lab.Backtest(ctx, bt.ID)
	require.NoError(t, err)
	require.Equal(t, policylab.BacktestCompleted, bt.Status, bt.Error)
	return bt
}

// backtestWorker works backtests as the engine's worker does.
type backtestWorker struct {
	river.WorkerDefaults[queue.BacktestArgs]
	lab *policyflow.Service
}

func (w *backtestWorker) Work(ctx context.Context, job *river.Job[queue.BacktestArgs]) error {
	return w.lab.RunBacktest(ctx, job.Args.BacktestID, job.Attempt >= job.MaxAttempts)
}

// workBacktests starts River workers on st's policy queue, for the rest
// of the test: the backtests the test queues are worked as the engine
// works them. st must be the test's own database, so no other test's
// jobs are worked here.
func (b *testBundle) workBacktests(t *testing.T, st *pgstore.Store) {
	t.Helper()
	workers := river.NewWorkers()
	require.NoError(t, river.AddWorkerSafely(workers, &backtestWorker{lab: b.lab}))
	c, err := river.NewClient(riverpgxv5.New(st.Pool()), &river.Config{
		Queues:            map[string]river.QueueConfig{queue.QueuePolicy: {MaxWorkers: 1}},
		Workers:           workers,
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	require.NoError(t, c.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
}

// setupLab is an engine on a database of the test's own, deciding claims
// with the policy lab's active version, as serve does: a test may
// activate versions without changing what other tests' claims get.
func setupLab(t *testing.T) (*testBundle, *pgstore.Store) {
	t.Helper()
	st := pgtest.Store(t, "console_lab")
	return newBundle(t, st, 10000, true), st
}

var backtestLocation = regexp.MustCompile(`^/console/policies/backtests/(pbt_[0-9A-Za-z]+)$`)

// TestPolicyBacktestPages: a backtest asked for through the form replays
// the claims of the period and filters, and its page shows the matrix
// with the changed cell highlighted and linked, the consequences, the
// chart of money moved and the changed claims, filtered by change, with
// their CSV. A version that differs only by its name changes nothing:
// each recorded decision replays exactly.
func TestPolicyBacktestPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.name("sel_bt")
	var instant []string
	for range 2 {
		instant = append(instant, b.fileClaim(t, "sel_bt", b.name("shp_new"), instantAmount))
	}
	b.reviewClaim(t, "sel_bt")
	b.fileClaim(t, "sel_other", b.name("shp_new"), instantAmount) // another seller's, filtered out
	version := b.draft(t, "strict", stricter)
	s := b.signIn(t, "risk", "rita")

	today := b.today().Format(time.DateOnly)
	res := b.post(t, s, "/console/policies/versions/"+version+"/backtests", url.Values{
		"from": {today}, "to": {today}, "seller_id": {sellerID}, "currencies": {"eur"}, "reasons": {"counterfeit"}})
	require.Equal(t, http.StatusSeeOther, res.Code, res.Body)
	m := backtestLocation.FindStringSubmatch(res.Header.Get("Location"))
	require.NotNil(t, m, res.Header.Get("Location"))
	id := m[1]

	// Queued: the page says so and reloads itself.
	page := b.do(t, http.MethodGet, "/console/policies/backtests/"+id, s.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code, page.Body)
	require.Contains(t, page.Body, `<meta http-equiv="refresh" content="3">`)
	require.Contains(t, page.Body, "queued")
	csvPath := "/console/policies/backtests/" + id + "/claims.csv"
	require.Equal(t, http.StatusConflict, b.do(t, http.MethodGet, csvPath, s.cookie, nil).Code, "no CSV before the run completes")

	require.NoError(t, b.lab.RunBacktest(context.Background(), id, false)) // as its job does
	page = b.do(t, http.MethodGet, "/console/policies/backtests/"+id, s.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code, page.Body)
	require.NotContains(t, page.Body, `http-equiv="refresh"`)
	require.Contains(t, page.Body, "completed")
	require.Contains(t, page.Body, "Currencies: EUR")
	require.Contains(t, page.Body, "Claim reasons: counterfeit")
	require.Contains(t, page.Body, "Seller: "+sellerID)
	require.Regexp(t, `<dt>Claims replayed</dt><dd>3</dd>`, page.Body)
	require.Regexp(t, `<dt>Decided otherwise</dt><dd>2</dd>`, page.Body)
	// The changed cell: refunded at once, now sent to a person.
	cell := regexp.MustCompile(`(?s)<td class="num matrix-cell changed" data-got="instant_refund" data-candidate="manual_review">(.*?)</td>`).FindStringSubmatch(page.Body)
	require.NotNil(t, cell, "the changed cell is highlighted")
	require.Contains(t, cell[1], "2 claims")
	require.Contains(t, cell[1], "20.00 EUR")
	require.Contains(t, cell[1], `href="/console/policies/backtests/`+id+`?change=instant_refund:manual_review#changed"`)
	review := regexp.MustCompile(`(?s)<td class="num matrix-cell same" data-got="manual_review" data-candidate="manual_review">(.*?)</td>`).FindStringSubmatch(page.Body)
	require.NotNil(t, review)
	require.Contains(t, review[1], "1 claim")
	require.Contains(t, review[1], "200.00 EUR")
	require.Contains(t, page.Body, "Would go to a person, and were refunded at once")
	require.Contains(t, page.Body, `<svg class="chart" role="img"`)
	require.Contains(t, page.Body, "Money moved, EUR")
	for _, c := range instant {
		require.Contains(t, page.Body, c, "the changed claims are listed")
	}
	require.NotContains(t, page.Body, `href="/console/claims/`, "risk opens no claim's page")

	// Filtered by change.
	other := b.do(t, http.MethodGet, "/console/policies/backtests/"+id+"?change=rejected:instant_refund", s.cookie, nil)
	require.Equal(t, http.StatusOK, other.Code)
	require.Contains(t, other.Body, "No claim made this change.")
	require.NotContains(t, other.Body, instant[0])

	// An admin opens the claims from the list.
	admin := b.signIn(t, "admin", "root")
	page = b.do(t, http.MethodGet, "/console/policies/backtests/"+id+"?change=instant_refund:manual_review", admin.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	require.Contains(t, page.Body, `href="/console/claims/`+instant[0]+`"`)

	// The CSV has every changed claim.
	dl := b.do(t, http.MethodGet, csvPath, s.cookie, nil)
	require.Equal(t, http.StatusOK, dl.Code, dl.Body)
	require.Contains(t, dl.Header.Get("Content-Type"), "text/csv")
	records, err := csv.NewReader(strings.NewReader(dl.Body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 3)
	require.Equal(t, []string{"claim_id", "got", "candidate", "currency", "amount_minor", "amount", "reasons"}, records[0])
	require.ElementsMatch(t, instant, []string{records[1][0], records[2][0]})
	require.Equal(t, []string{"instant_refund", "manual_review", "EUR", "1000", "10.00"}, records[1][1:6])

	// The same policy under another name decides every claim as it was.
	same := b.backtestNow(t, b.draft(t, "same", nil), sellerID)
	require.Equal(t, int64(3), same.Replayed)
	require.Zero(t, same.Changed, "a recorded decision replays exactly")
	page = b.do(t, http.MethodGet, "/console/policies/backtests/"+same.ID, s.cookie, nil)
	require.Contains(t, page.Body, "The candidate decides every claim as it was decided.")
}

// TestPolicyVersionPages: the list shows each version with its status and
// who made it; a version's page its document, the diff with the active
// version or another, its backtests and audit trail; a new version's form
// starts from the active version's document.
func TestPolicyVersionPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	version := b.draft(t, "pages", stricter)
	s := b.signIn(t, "risk", "rita")

	list := b.do(t, http.MethodGet, "/console/policies", s.cookie, nil)
	require.Equal(t, http.StatusOK, list.Code)
	require.Contains(t, list.Body, `href="/console/policies/versions/`+version+`"`)
	require.Contains(t, list.Body, `<span class="badge policy-active">Active</span>`)
	require.Contains(t, list.Body, `<span class="badge policy-draft">Draft</span>`)

	page := b.do(t, http.MethodGet, "/console/policies/versions/"+version, s.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code, page.Body)
	active := policyfile.Default().Version
	require.Contains(t, page.Body, `<option value="`+active+`" selected>`)
	row := regexp.MustCompile(`(?s)<tr><th scope="row" class="mono">tiers\[0\]\.instant_limits\.EUR</th><td class="mono diff-was">(\d+)</td><td class="mono diff-now">(\d+)</td></tr>`).FindStringSubmatch(page.Body)
	require.NotNil(t, row, "the diff names the setting changed")
	require.Equal(t, []string{"5000", "500"}, row[1:])
	require.Contains(t, page.Body, "1 setting differs from")
	require.Contains(t, page.Body, "{\n  &#34;version&#34;: &#34;"+version+"&#34;,\n  &#34;claim_window_days&#34;: {\n", "the document as its file holds it")
	require.Contains(t, page.Body, "Created")
	require.Contains(t, page.Body, "Put in shadow")
	require.Contains(t, page.Body, `href="/console/policies/versions/`+version+`/activate"`)
	require.Contains(t, page.Body, "No backtest yet.")

	// Against another draft: the same document but its name.
	same := b.draft(t, "pages_same", stricter)
	page = b.do(t, http.MethodGet, "/console/policies/versions/"+version+"?against="+same, s.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	require.Contains(t, page.Body, "No setting differs")

	// The active version's page has nothing to compare with by default,
	// and no activation.
	page = b.do(t, http.MethodGet, "/console/policies/versions/"+active, s.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	require.Contains(t, page.Body, "This is the active version, and it replaced none")
	require.NotContains(t, page.Body, "/activate\"")

	form := b.do(t, http.MethodGet, "/console/policies/new", s.cookie, nil)
	require.Equal(t, http.StatusOK, form.Code)
	require.Contains(t, form.Body, `&#34;version&#34;: &#34;`+active+`&#34;`, "the form starts from the active version")
	require.Contains(t, form.Body, "&#34;claim_window_days&#34;: {\n", "indented as its file is")

	// Drafting through the form.
	res := b.post(t, s, "/console/policies/new", url.Values{"document": {policyDoc(t, b.name("formed"), nil)}})
	require.Equal(t, http.StatusSeeOther, res.Code, res.Body)
	require.Equal(t, "/console/policies/versions/"+b.name("formed")+"?done=created", res.Header.Get("Location"))
	v, changes, err := b.lab.Get(context.Background(), b.name("formed"))
	require.NoError(t, err)
	require.Equal(t, "risk:rita", v.CreatedBy)
	require.Len(t, changes, 1)
	// Pressed twice, the form lands where it did the first time; someone
	// else's document of that version is refused.
	again := b.post(t, s, "/console/policies/new", url.Values{"document": {policyDoc(t, b.name("formed"), nil)}})
	require.Equal(t, http.StatusSeeOther, again.Code, again.Body)
	require.Equal(t, res.Header.Get("Location"), again.Header.Get("Location"))
	other := b.post(t, b.signIn(t, "admin", "root"), "/console/policies/new", url.Values{"document": {policyDoc(t, b.name("formed"), nil)}})
	require.Equal(t, http.StatusConflict, other.Code, other.Body)
	require.Contains(t, other.Body, "exists already")
}

// TestPolicyFormsRefuseBadInput: every lab form sent with bad input says
// which field is wrong and how, keeps what was typed, and changes nothing.
func TestPolicyFormsRefuseBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	version := b.draft(t, "bad", stricter)
	s := b.signIn(t, "risk", "rita")
	versions := func() int {
		vs, err := b.lab.List(ctx)
		require.NoError(t, err)
		return len(vs)
	}

	t.Run("new version", func(t *testing.T) {
		before := versions()
		broken := policyDoc(t, b.name("broken"), func(p map[string]any) {
			stricter(p)
			p["frequent_claims_90d"] = -1
			p["tiers"].([]any)[1].(map[string]any)["instant_limits"].(map[string]any)["XXX"] = 100
			delete(p, "high_risk_seller_score")
		})
		for _, tc := range []struct {
			name, doc string
			status    int
			want      []string
		}{
			{"every problem", broken, http.StatusUnprocessableEntity, []string{
				"<code>frequent_claims_90d</code>: must be at least 1",
				"<code>tiers[1].instant_limits.XXX</code>: is not an ISO 4217 currency",
				"<code>high_risk_seller_score</code>: is required",
				"The policy has 3 problems"}},
			{"not JSON", "{\n  \"version\": \"x\",\n  oops\n}", http.StatusUnprocessableEntity, []string{
				"<code>document</code>: is not valid JSON at line 3, column 3"}},
			{"not an object", `["a"]`, http.StatusUnprocessableEntity, []string{"<code>document</code>: must be a JSON object"}},
			{"unknown setting", `{"version": "x", "instant_limit": 5}`, http.StatusUnprocessableEntity, []string{
				"<code>instant_limit</code>: is not a setting of the policy"}},
			{"empty", "  ", http.StatusUnprocessableEntity, []string{"<code>document</code>: is required"}},
			{"version taken", policyDoc(t, version, nil), http.StatusConflict, []string{
				"<code>version</code>: version " + version + " exists already"}},
		} {
			res := b.post(t, s, "/console/policies/new", url.Values{"document": {tc.doc}})
			require.Equal(t, tc.status, res.Code, "%s: %s", tc.name, res.Body)
			for _, w := range tc.want {
				require.Contains(t, res.Body, w, tc.name)
			}
			require.Contains(t, res.Body, `aria-invalid="true"`, tc.name)
			if strings.TrimSpace(tc.doc) != "" {
				require.Contains(t, res.Body, strings.ReplaceAll(strings.Split(tc.doc, "\n")[0], `"`, "&#34;"), "%s: what was typed is kept", tc.name)
			}
		}
		require.Equal(t, before, versions(), "nothing stored")
	})

	t.Run("backtest", func(t *testing.T) {
		path := "/console/policies/versions/" + version + "/backtests"
		today := b.today().Format(time.DateOnly)
		tomorrow := b.today().Add(day).Format(time.DateOnly)
		yesterday := b.today().Add(-day).Format(time.DateOnly)
		for _, tc := range []struct {
			name string
			form url.Values
			want []string
		}{
			{"no days", url.Values{}, []string{"From: is required", "To: is required"}},
			{"not a day", url.Values{"from": {"31/12/2026"}, "to": {today}}, []string{"From: enter a day, such as " + today}},
			{"future", url.Values{"from": {today}, "to": {tomorrow}}, []string{"To: must not be after today"}},
			{"backwards", url.Values{"from": {today}, "to": {yesterday}}, []string{"To: must be the From day or a later one"}},
			{"too early", url.Values{"from": {"1999-12-31"}, "to": {today}}, []string{"From: must be between 2000-01-01 and a day from now"}},
			{"too long", url.Values{"from": {"2001-01-01"}, "to": {today}}, []string{"To: must be at most three years after from"}},
			{"reason", url.Values{"from": {today}, "to": {today}, "reasons": {"counterfeit", "lost"}}, []string{"Claim reasons: &#34;lost&#34; is not a claim reason"}},
			{"currencies", url.Values{"from": {today}, "to": {today}, "currencies": {"EUR, XXX, ABC"}}, []string{
				"Currencies: &#34;XXX&#34; is not a currency; &#34;ABC&#34; is not a currency"}},
			{"seller", url.Values{"from": {today}, "to": {today}, "seller_id": {"sel one"}}, []string{"Seller: may hold only letters"}},
			{"decided by", url.Values{"from": {today}, "to": {today}, "decided_by": {"v/1"}}, []string{"Decided by: must be a policy version"}},
		} {
			res := b.post(t, s, path, tc.form)
			require.Equal(t, http.StatusUnprocessableEntity, res.Code, "%s: %s", tc.name, res.Body)
			for _, w := range tc.want {
				require.Contains(t, res.Body, w, tc.name)
			}
			require.Contains(t, res.Body, `class="field-error"`, tc.name)
			if v := tc.form.Get("seller_id"); v != "" {
				require.Contains(t, res.Body, `value="`+v+`"`, "%s: what was typed is kept", tc.name)
			}
			if tc.name == "reason" {
				require.Regexp(t, `value="counterfeit" checked`, res.Body, "the reasons ticked stay ticked")
			}
		}
		bts, err := b.lab.Backtests(ctx, version, 10)
		require.NoError(t, err)
		require.Empty(t, bts, "nothing queued")
	})

	t.Run("activate", func(t *testing.T) {
		path := "/console/policies/versions/" + version + "/activate"
		res := b.post(t, s, path, url.Values{"seen": {"none"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.Code, res.Body)
		require.Contains(t, res.Body, "Confirmation: tick the box")
		// A backtest completed since the page was opened: shown first.
		b.backtestNow(t, version, b.name("sel_nobody"))
		res = b.post(t, s, path, url.Values{"seen": {"none"}, "confirm": {"yes"}})
		require.Equal(t, http.StatusConflict, res.Code, res.Body)
		require.Contains(t, res.Body, "a backtest of this version completed after this page was opened")
		v, _, err := b.lab.Get(ctx, version)
		require.NoError(t, err)
		require.Equal(t, policylab.StatusDraft, v.Status, "not activated")
	})

	t.Run("shadow", func(t *testing.T) {
		active := policyfile.Default().Version
		res := b.post(t, s, "/console/policies/versions/"+active+"/shadow", url.Values{})
		require.Equal(t, http.StatusConflict, res.Code, res.Body)
		require.Contains(t, res.Body, "Nothing changed: "+active+" is the active version")
		res = b.post(t, s, "/console/policies/versions/"+version+"/shadow/stop", url.Values{})
		require.Equal(t, http.StatusConflict, res.Code, res.Body)
		require.Contains(t, res.Body, "is draft, not in shadow")
	})

	t.Run("lists", func(t *testing.T) {
		bt := b.backtestNow(t, version, b.name("sel_nobody"))
		for _, tc := range []struct{ path, want string }{
			{"/console/policies/backtests/" + bt.ID + "?change=instant_refund", "Change: choose one of the list"},
			{"/console/policies/backtests/" + bt.ID + "?change=rejected:rejected", "Change: choose one of the list"},
			{"/console/policies/backtests/" + bt.ID + "?after=not%20a%20cursor", "Page: is not a cursor this list gave"},
			{"/console/policies/versions/" + version + "/shadow?change=x:y", "Change: choose one of the list"},
			{"/console/policies/versions/" + version + "?against=v_nobody", "Compare with: there is no version v_nobody"},
		} {
			res := b.do(t, http.MethodGet, tc.path, s.cookie, nil)
			require.Equal(t, http.StatusBadRequest, res.Code, "%s: %s", tc.path, res.Body)
			require.Contains(t, res.Body, tc.want, tc.path)
		}
	})
}

// TestPolicyShadowAndActivation: a version put in shadow decides every
// new claim beside the active one, and its report shows what it decided
// otherwise; activating it, through the confirmation that shows its last
// backtest, makes it decide the next claim and retires the one it
// replaced, each step in both versions' audit trails. Backtests are worked
// by River, as in the engine.
func TestPolicyShadowAndActivation(t *testing.T) {
	t.Parallel()
	b, st := setupLab(t)
	b.workBacktests(t, st)
	ctx := context.Background()
	version := b.draft(t, "live", stricter)
	old := policyfile.Default().Version
	s := b.signIn(t, "risk", "rita")

	res := b.post(t, s, "/console/policies/versions/"+version+"/shadow", url.Values{})
	require.Equal(t, http.StatusSeeOther, res.Code, res.Body)
	require.Equal(t, "/console/policies/versions/"+version+"?done=shadow_started", res.Header.Get("Location"))
	page := b.do(t, http.MethodGet, res.Header.Get("Location"), s.cookie, nil)
	require.Contains(t, page.Body, "The version is in shadow")
	require.Contains(t, page.Body, "Stop shadow")

	id := b.fileClaim(t, "sel_shadow", b.name("shp_new"), instantAmount)
	require.Equal(t, claim.StatusApproved, b.get(t, id).Claim.Status(), "the active version decides")
	report := b.do(t, http.MethodGet, "/console/policies/versions/"+version+"/shadow", s.cookie, nil)
	require.Equal(t, http.StatusOK, report.Code, report.Body)
	require.Contains(t, report.Body, "in shadow since")
	cell := regexp.MustCompile(`(?s)data-got="instant_refund" data-candidate="manual_review">(.*?)</td>`).FindStringSubmatch(report.Body)
	require.NotNil(t, cell)
	require.Contains(t, cell[1], "1 claim")
	require.Contains(t, report.Body, id)

	// A backtest through the form, worked by River.
	today := b.today().Format(time.DateOnly)
	res = b.post(t, s, "/console/policies/versions/"+version+"/backtests", url.Values{"from": {today}, "to": {today}})
	require.Equal(t, http.StatusSeeOther, res.Code, res.Body)
	runPath := res.Header.Get("Location")
	require.Eventually(t, func() bool {
		return strings.Contains(b.do(t, http.MethodGet, runPath, s.cookie, nil).Body, `<span class="badge run-completed">`)
	}, 30*time.Second, 50*time.Millisecond, "River works the backtest")

	confirm := b.do(t, http.MethodGet, "/console/policies/versions/"+version+"/activate", s.cookie, nil)
	require.Equal(t, http.StatusOK, confirm.Code, confirm.Body)
	require.Contains(t, confirm.Body, "Its last backtest")
	require.Contains(t, confirm.Body, strings.TrimPrefix(runPath, "/console/policies/backtests/"))
	require.Contains(t, confirm.Body, ", and <a href=\"/console/policies/versions/"+old+"\" class=\"mono\">"+old+"</a>, active now, is retired")
	seen := regexp.MustCompile(`name="seen" value="([^"]+)"`).FindStringSubmatch(confirm.Body)
	require.NotNil(t, seen)
	res = b.post(t, s, "/console/policies/versions/"+version+"/activate", url.Values{"seen": {seen[1]}, "confirm": {"yes"}})
	require.Equal(t, http.StatusSeeOther, res.Code, res.Body)
	require.Equal(t, "/console/policies/versions/"+version+"?done=activated", res.Header.Get("Location"))

	// The next claim is decided by it.
	next := b.fileClaim(t, "sel_shadow", b.name("shp_new"), instantAmount)
	require.Equal(t, claim.StatusInReview, b.get(t, next).Claim.Status())
	require.Equal(t, version, b.get(t, next).Decision.PolicyVersion)

	v, changes, err := b.lab.Get(ctx, version)
	require.NoError(t, err)
	require.Equal(t, policylab.StatusActive, v.Status)
	require.Equal(t, "risk:rita", v.ActivatedBy)
	var actions []string
	for _, c := range changes {
		actions = append(actions, c.Action)
	}
	require.Equal(t, []string{"created", "shadow_started", "activated"}, actions)
	// Its page compares it with the version it replaced.
	page = b.do(t, http.MethodGet, "/console/policies/versions/"+version, s.cookie, nil)
	require.Contains(t, page.Body, `<option value="`+old+`" selected>`)
	require.Contains(t, page.Body, "1 setting differs from")
	page = b.do(t, http.MethodGet, "/console/policies/versions/"+old, s.cookie, nil)
	require.Contains(t, page.Body, `<span class="badge policy-retired">Retired</span>`)
	require.Contains(t, page.Body, `Activated: <a href="/console/policies/versions/`+version+`" class="mono">`+version+`</a>, replacing this version`)
	list := b.do(t, http.MethodGet, "/console/policies", s.cookie, nil)
	require.Regexp(t, `(?s)<tr class="policy-row-active">\s*<td><a href="/console/policies/versions/`+regexp.QuoteMeta(version)+`"`, list.Body)
}
