package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

// racedStore is a store on which every case move loses the race: the case
// is open when read, and has moved on when the move is written.
type racedStore struct {
	intelflow.Store // any other method is not called
}

func (racedStore) GetCase(_ context.Context, id string) (intelflow.StoredCase, []intelflow.CaseEvent, error) {
	return intelflow.StoredCase{ID: id, Status: intel.StatusOpen, Sellers: []string{"sel_a", "sel_b"}}, nil, nil
}

func (racedStore) MoveCase(context.Context, string, intel.Status, intel.Status, claimflow.Viewer, string, time.Time) error {
	return intelflow.ErrCaseMoved
}

// intel drives the intelligence routes, success and error cases of each,
// through cf: a brand's counterfeits and verdicts, a ring's case, its
// packet and moves, the access log and the ratings.
func (cf *conformance) intel(t *testing.T) {
	b := cf.b
	w := newBrandWorld(t, b)
	caseID := newRing(t, b, "conf", 2).caseID(t, b)
	holder, otherHolder := b.token(t, "rights_holder", w.holder), b.token(t, "rights_holder", w.otherHolder)
	admin, enf := b.token(t, "admin", "root"), b.token(t, "enforcement", "enf")
	agent := b.token(t, "agent", "ana")
	big := strings.Repeat("x", 9<<10) // over the 8 KiB limit setup sets
	verdictPath := w.path() + "/" + w.c1 + "/verdict"
	verdict := map[string]any{"verdict": "counterfeit", "note": "The serial number was never issued."}
	casePath := "/v1/intelligence/cases/" + caseID
	signer, err := intel.NewSigner(intel.DeriveSeed(secret))
	require.NoError(t, err)
	raced := &testBundle{e: httpapi.New(httpapi.Deps{Intel: intelflow.NewService(racedStore{}, signer, b.clock.Now),
		Secret: secret, MaxBodyBytes: 8 << 10, Now: b.clock.Now}), now: b.now, clock: b.clock, id: b.id}

	for _, c := range []apiCall{
		{name: "brands", path: "/v1/brands", token: admin, want: 200},
		{name: "brands as a rights holder", path: "/v1/brands", token: holder, want: 200},
		{name: "brands: no token", path: "/v1/brands", want: 401, rejected: true},
		{name: "brands: enforcement", path: "/v1/brands", token: enf, want: 403},

		{name: "counterfeits", path: w.path(), token: holder, want: 200},
		{name: "counterfeits as an admin, all", path: w.path() + "?status=all&limit=2", token: admin, want: 200},
		{name: "counterfeits as csv", path: w.path() + "?format=csv&from=2026-01-01", token: holder, want: 200},
		{name: "counterfeits: bad status", path: w.path() + "?status=bogus", token: holder, want: 400, rejected: true},
		{name: "counterfeits: bad cursor", path: w.path() + "?cursor=Zm9v", token: holder, want: 400},
		{name: "counterfeits: no token", path: w.path(), want: 401, rejected: true},
		{name: "counterfeits: agent", path: w.path(), token: agent, want: 403},
		{name: "counterfeits: another brand's", path: w.path(), token: otherHolder, want: 404},

		{name: "signing key", path: "/v1/intelligence/signing-key", want: 200},

		{name: "cases", path: "/v1/intelligence/cases", token: enf, want: 200},
		{name: "cases, open", path: "/v1/intelligence/cases?status=open", token: admin, want: 200},
		{name: "cases: bad status", path: "/v1/intelligence/cases?status=bogus", token: admin, want: 400, rejected: true},
		{name: "cases: no token", path: "/v1/intelligence/cases", want: 401, rejected: true},
		{name: "cases: rights holder", path: "/v1/intelligence/cases", token: holder, want: 403},

		{name: "case", path: casePath, token: enf, want: 200},
		{name: "case: no token", path: casePath, want: 401, rejected: true},
		{name: "case: agent", path: casePath, token: agent, want: 403},
		{name: "case: unknown", path: "/v1/intelligence/cases/" + b.name("case_nope"), token: admin, want: 404},

		{name: "packet", path: casePath + "/packet", token: enf, want: 200},
		{name: "packet as csv", path: casePath + "/packet?format=csv", token: admin, want: 200},
		{name: "packet: bad format", path: casePath + "/packet?format=pdf", token: admin, want: 400, rejected: true},
		{name: "packet: no token", path: casePath + "/packet", want: 401, rejected: true},
		{name: "packet: rights holder", path: casePath + "/packet", token: holder, want: 403},
		{name: "packet: unknown case", path: "/v1/intelligence/cases/" + b.name("case_nope") + "/packet", token: admin, want: 404},

		{name: "access log", path: "/v1/intelligence/access-log?limit=5", token: admin, want: 200},
		{name: "access log: bad before", path: "/v1/intelligence/access-log?before=-1", token: admin, want: 400, rejected: true},
		{name: "access log: no token", path: "/v1/intelligence/access-log", want: 401, rejected: true},
		{name: "access log: enforcement", path: "/v1/intelligence/access-log", token: enf, want: 403},

		{name: "ratings", path: "/v1/intelligence/rights-holders", token: admin, want: 200},
		{name: "ratings: no token", path: "/v1/intelligence/rights-holders", want: 401, rejected: true},
		{name: "ratings: rights holder", path: "/v1/intelligence/rights-holders", token: holder, want: 403},
	} {
		c.method = http.MethodGet
		cf.run(t, c)
	}

	for _, c := range []apiCall{
		{name: "verdict", token: holder, body: verdict, want: 201},
		{name: "verdict replaced", token: holder, body: verdict, want: 200},
		{name: "verdict: malformed JSON", token: holder, body: `{"verdict":`, want: 400, rejected: true},
		{name: "verdict: unknown field", token: holder, body: map[string]any{"verdict": "genuine", "note": "n", "grade": 1}, want: 400, rejected: true},
		{name: "verdict: no token", body: verdict, want: 401, rejected: true},
		{name: "verdict: admin", token: admin, body: verdict, want: 403},
		{name: "verdict: another brand's", token: otherHolder, body: verdict, want: 404},
		{name: "verdict: no line of the brand", path: w.path() + "/" + w.other + "/verdict", token: holder, body: verdict, want: 404},
		{name: "verdict: too large", token: holder, body: map[string]any{"verdict": "genuine", "note": big}, want: 413, rejected: true},
		{name: "verdict: text/plain", token: holder, body: verdict, headers: []string{"Content-Type", "text/plain"}, want: 415, rejected: true},
		{name: "verdict: http document", token: holder, want: 422, rejected: true,
			body: map[string]any{"verdict": "genuine", "note": "n", "document_url": "http://brand.example/r.pdf"}},
	} {
		c.method = http.MethodPut
		if c.path == "" {
			c.path = verdictPath
		}
		cf.run(t, c)
	}

	refer := map[string]any{"status": "referred", "note": "Sent to the IP crime unit."}
	for _, c := range []apiCall{
		{name: "move: malformed JSON", token: admin, body: `{"status":`, want: 400, rejected: true},
		{name: "move: no token", body: refer, want: 401, rejected: true},
		{name: "move: rights holder", token: holder, body: refer, want: 403},
		{name: "move: unknown case", path: "/v1/intelligence/cases/" + b.name("case_nope") + "/status", token: admin, body: refer, want: 404},
		{name: "move: lost a race", via: raced, path: "/v1/intelligence/cases/case_raced/status", token: admin, body: refer, want: 409},
		{name: "move: too large", token: admin, body: map[string]any{"status": "referred", "note": big}, want: 413, rejected: true},
		{name: "move: text/plain", token: admin, body: refer, headers: []string{"Content-Type", "text/plain"}, want: 415, rejected: true},
		{name: "move: not enforcement's", token: enf, body: refer, want: 422},
		{name: "move: referred", token: admin, body: refer, want: 200},
	} {
		c.method = http.MethodPost
		if c.path == "" {
			c.path = casePath + "/status"
		}
		r := cf.run(t, c)
		if c.want == http.StatusConflict {
			require.Equal(t, "case_moved", r.errorOf(t)["code"])
		}
	}

	// Exports: with every slot taken, the next is told to come back.
	release := cf.fillExports(t, w.path()+"?format=csv", holder)
	r := cf.run(t, apiCall{name: "counterfeits: exports full", method: http.MethodGet, path: w.path() + "?format=csv", token: holder, want: 429})
	require.Equal(t, "too_many_exports", r.errorOf(t)["code"])
	release()
}

// TestIntelOpenAPIConformance drives the intelligence routes through the
// router and checks each request and response against openapi.json, and
// that every status the document lists for them was produced.
func TestIntelOpenAPIConformance(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cf := newConformance(t, b)
	cf.intel(t)

	cf.requireSeen(t, isIntelRoute)
}
