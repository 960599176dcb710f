package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/eventflow"
	"github.com/claimsd/claimsd/workflows/standingflow"
)

// eventSchemas compiles events.schema.json, asserting formats
// (date-time), and returns the root schema, which validates any event, and
// each type's.
func eventSchemas(t *testing.T) (root *jsonschema.Schema, byType map[string]*jsonschema.Schema) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(httpapi.EventsSchema))
	require.NoError(t, err)
	id := doc.(map[string]any)["$id"].(string)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource(id, doc))
	root, err = c.Compile(id)
	require.NoError(t, err)
	byType = map[string]*jsonschema.Schema{}
	for _, typ := range eventflow.Types {
		byType[typ], err = c.Compile(id + "#/$defs/" + typ)
		require.NoError(t, err, typ)
	}
	return root, byType
}

// requireValidEvent validates one event, as the feed sent it, against
// the root schema and its type's; a type's data carries no field its
// schema does not name (the claim's fields are held to openapi.json by
// the conformance tests).
func requireValidEvent(t *testing.T, root *jsonschema.Schema, byType map[string]*jsonschema.Schema, raw json.RawMessage) {
	t.Helper()
	ev, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	typ, _ := ev.(map[string]any)["type"].(string)
	sch, ok := byType[typ]
	require.True(t, ok, "no schema for type %q", typ)
	require.NoError(t, sch.Validate(ev), "%s: %s", typ, raw)
	require.NoError(t, root.Validate(ev), "%s: %s", typ, raw)
	if strings.HasPrefix(typ, "claim.") || strings.HasPrefix(typ, "chargeback.") {
		return
	}
	var doc map[string]any
	require.NoError(t, json.Unmarshal(httpapi.EventsSchema, &doc))
	def := doc["$defs"].(map[string]any)[typ].(map[string]any)
	props := def["properties"].(map[string]any)["data"].(map[string]any)["properties"].(map[string]any)
	for k := range ev.(map[string]any)["data"].(map[string]any) {
		require.Contains(t, props, k, "%s: data field %q is not in the schema", typ, k)
	}
}

// feedPage is one page of GET /v1/events as raw events.
type feedPage struct {
	Events    []json.RawMessage `json:"events"`
	NextAfter int64             `json:"next_after"`
}

// feedEvent is the envelope of a raw event.
type feedEvent struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Position  int64           `json:"position"`
	SubjectID string          `json:"subject_id"`
	ClaimID   string          `json:"claim_id"`
	Sequence  int             `json:"sequence"`
	Data      json.RawMessage `json:"data"`
}

func (b *testBundle) feed(t *testing.T, query string) feedPage {
	t.Helper()
	r := b.do(t, http.MethodGet, "/v1/events?"+query, b.token(t, "service", "platform"), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	var p feedPage
	require.NoError(t, json.Unmarshal(r.Body, &p))
	return p
}

func envelope(t *testing.T, raw json.RawMessage) feedEvent {
	t.Helper()
	var e feedEvent
	require.NoError(t, json.Unmarshal(raw, &e))
	return e
}

// numberAll runs the relay until every event written to st so far that
// matches where is numbered: another test's transaction still open may
// hold some back.
func numberAll(t *testing.T, st *pgstore.Store, relay *eventflow.Relay, where string, args ...any) {
	t.Helper()
	pgtest.NumberWhere(t, st, relay.RunOnce, where, args...)
}

// TestEventsFeedJourney: a claim's whole journey (filed, refunded,
// charged, contested, upheld), an agent's override of another, a
// recovery and a reconciliation run, read through GET /v1/events, are
// valid events of the catalogue, each once, in position order, each
// claim's in sequence, however the feed is paged.
func TestEventsFeedJourney(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "httpapi_events") // the feed from 0 is this test's alone
	b := setupOn(t, st)
	svc := claimflow.NewService(st, policyfile.Default(), b.clock.Now)
	relay := eventflow.NewRelay(st, httpapi.ClaimDocuments{Service: svc}, time.Now)
	root, byType := eventSchemas(t)

	require.Empty(t, b.feed(t, "").Events)
	require.Equal(t, int64(7), b.feed(t, "after=7").NextAfter, "an empty page keeps the position asked from")

	sellerID := b.newSeller(t, "sel_evt")
	sellerTok, agentTok := b.token(t, "seller", sellerID), b.token(t, "agent", "ana")
	charged := b.fileClaim(t, sellerID, b.name("shp_evt_a"), instantAmount, "")["id"].(string)
	refundOn(t, st, charged, b.now)
	chargeOn(t, st, charged, b.now)
	r := b.do(t, http.MethodPost, "/v1/claims/"+charged+"/contest", sellerTok, map[string]any{"statement": "The bag is genuine."})
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	r = b.do(t, http.MethodPost, "/v1/claims/"+charged+"/contest/resolution", agentTok,
		map[string]any{"outcome": "uphold", "note": "The serial number is not the brand's.", "version": r.json(t)["version"]})
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))

	reviewed := b.fileClaim(t, sellerID, b.name("shp_evt_b"), reviewAmount, "")
	require.Equal(t, http.StatusOK, b.override(t, reviewed, "approve").Code)

	r = b.do(t, http.MethodPost, "/v1/finance/recoveries", b.finance(t), map[string]any{"seller_id": sellerID, "amount": 400,
		"currency": "EUR", "method": "payout_netting", "reference": "payout_evt", "note": "Netted from the payout."},
		"Idempotency-Key", "evt-recovery-"+b.id)
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	recoveryID := r.json(t)["id"].(string)

	r = b.do(t, http.MethodPost, "/v1/finance/reconciliations", b.finance(t), map[string]any{
		"from": b.now.Add(-time.Hour).Format(time.RFC3339), "to": b.now.Add(time.Hour).Format(time.RFC3339)})
	require.Equal(t, http.StatusAccepted, r.Code, string(r.Body))
	runID := r.json(t)["id"].(string)
	require.NoError(t, b.fin.RunReconciliation(ctx, runID, false))

	_, err := standingflow.NewService(st, b.clock.Now).Refresh(ctx, sellerID)
	require.NoError(t, err)

	numberAll(t, st, relay, "true")

	// One page holds them all.
	all := b.feed(t, "limit=500")
	require.NotEmpty(t, all.Events)
	seen := map[string]bool{}
	lastSeq := map[string]int{}
	for i, raw := range all.Events {
		requireValidEvent(t, root, byType, raw)
		e := envelope(t, raw)
		require.Equal(t, int64(i+1), e.Position, "numbered from 1, without gaps")
		require.False(t, seen[e.ID], "%s listed twice", e.ID)
		seen[e.ID] = true
		if e.ClaimID != "" {
			require.GreaterOrEqual(t, e.Sequence, lastSeq[e.ClaimID], "a claim's events in sequence")
			lastSeq[e.ClaimID] = e.Sequence
			var claim map[string]any
			require.NoError(t, json.Unmarshal(e.Data, &claim))
			require.Equal(t, e.ClaimID, claim["id"])
			require.Contains(t, claim, "shopper_id", "the platform reads the claim as the service role")
		}
	}
	require.Equal(t, int64(len(all.Events)), all.NextAfter)

	types := map[string][]string{} // type → subjects
	for _, raw := range all.Events {
		e := envelope(t, raw)
		types[e.Type] = append(types[e.Type], e.SubjectID)
	}
	for _, typ := range []string{eventflow.ClaimSubmitted, eventflow.ClaimDecided, eventflow.ClaimRefunded,
		eventflow.ClaimSellerCharged, eventflow.ClaimClosed, eventflow.ChargebackContested} {
		require.Contains(t, types[typ], charged, typ)
	}
	require.Contains(t, types[eventflow.ChargebackSettled], charged)
	require.Contains(t, types[eventflow.ClaimOverridden], reviewed["id"])
	require.Equal(t, []string{recoveryID}, types[eventflow.RecoveryRecorded])
	require.Equal(t, []string{runID}, types[eventflow.ReconciliationComplete])

	// Page by page, from any position, a consumer takes each event once
	// and in order.
	for _, limit := range []int{1, 3, 7} {
		var ids []string
		for after := int64(0); ; {
			p := b.feed(t, fmt.Sprintf("after=%d&limit=%d", after, limit))
			require.LessOrEqual(t, len(p.Events), limit)
			if len(p.Events) == 0 {
				require.Equal(t, after, p.NextAfter)
				break
			}
			for _, raw := range p.Events {
				e := envelope(t, raw)
				require.Greater(t, e.Position, after)
				ids = append(ids, e.ID)
			}
			require.Equal(t, envelope(t, p.Events[len(p.Events)-1]).Position, p.NextAfter)
			after = p.NextAfter
		}
		var want []string
		for _, raw := range all.Events {
			want = append(want, envelope(t, raw).ID)
		}
		require.Equal(t, want, ids, "limit %d", limit)
	}

	// Only some types, still in position order.
	only := b.feed(t, "types="+url.QueryEscape(eventflow.ChargebackSettled+","+eventflow.RecoveryRecorded))
	var got []string
	var last int64
	for _, raw := range only.Events {
		e := envelope(t, raw)
		require.Greater(t, e.Position, last)
		last = e.Position
		got = append(got, e.Type)
	}
	require.ElementsMatch(t, []string{eventflow.ChargebackSettled, eventflow.RecoveryRecorded}, got)
}

// TestEventsOfIntelligence: an enforcement case's move, a rights
// holder's verdict and the ring's sellers' new standings are valid
// events of the catalogue, as the feed lists them.
func TestEventsOfIntelligence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	svc := claimflow.NewService(store, policyfile.Default(), b.clock.Now)
	relay := eventflow.NewRelay(store, httpapi.ClaimDocuments{Service: svc}, time.Now)
	root, byType := eventSchemas(t)

	rg := newRing(t, b, "evt", 2)
	caseID := rg.caseID(t, b)
	r := b.do(t, http.MethodPost, "/v1/intelligence/cases/"+caseID+"/status", b.token(t, "admin", "root"),
		map[string]any{"status": "referred", "note": "Sent to the IP crime unit."})
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	holder := b.name("rh_evt")
	b.putBrand(t, rg.brand, "Ring brand", holder)
	r = b.do(t, http.MethodPut, "/v1/brands/"+rg.brand+"/counterfeits/"+rg.claims[0]+"/verdict", b.token(t, "rights_holder", holder),
		map[string]any{"verdict": "counterfeit", "note": "The serial number was never issued."})
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	standings := standingflow.NewService(store, b.clock.Now)
	for _, s := range rg.sellers {
		_, err := standings.Refresh(ctx, s)
		require.NoError(t, err)
	}

	mine := `subject_id = $1 OR subject_id = $2 OR subject_id = ANY($3)`
	args := []any{caseID, rg.claims[0], rg.sellers}
	numberAll(t, store, relay, mine, args...)
	rows, err := store.DB().QueryContext(ctx, `SELECT type, position FROM events WHERE `+mine+` ORDER BY position`, args...)
	require.NoError(t, err)
	var found []string
	for rows.Next() {
		var typ string
		var pos int64
		require.NoError(t, rows.Scan(&typ, &pos))
		if strings.HasPrefix(typ, "claim.") || strings.HasPrefix(typ, "chargeback.") {
			continue // TestEventsFeedJourney reads those
		}
		p := b.feed(t, fmt.Sprintf("after=%d&limit=1&types=%s", pos-1, typ))
		require.Len(t, p.Events, 1)
		require.Equal(t, pos, envelope(t, p.Events[0]).Position)
		requireValidEvent(t, root, byType, p.Events[0])
		found = append(found, typ)
	}
	require.NoError(t, rows.Err())
	require.Contains(t, found, eventflow.CaseStatusChanged)
	require.Contains(t, found, eventflow.VerdictRecorded)
	require.Contains(t, found, eventflow.SellerStandingChanged)
}

// TestEventsSchemaDocument: the catalogue's schema names every type of
// eventflow's catalogue and its version, and its Claim is openapi.json's,
// converted to JSON Schema.
func TestEventsSchemaDocument(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(httpapi.EventsSchema, &doc))
	require.Equal(t, "https://json-schema.org/draft/2020-12/schema", doc["$schema"])
	require.Equal(t, eventflow.Version, doc["version"])
	require.Equal(t, "urn:claimsd:events:"+eventflow.Version, doc["$id"])
	defs := doc["$defs"].(map[string]any)
	var enum []string
	for _, v := range defs["Envelope"].(map[string]any)["properties"].(map[string]any)["type"].(map[string]any)["enum"].([]any) {
		enum = append(enum, v.(string))
	}
	require.Equal(t, eventflow.Types, enum, "the envelope lists the catalogue")
	for _, typ := range eventflow.Types {
		require.Contains(t, defs, typ)
	}

	var oas map[string]any
	require.NoError(t, json.Unmarshal(httpapi.OpenAPI, &oas))
	schemas := oas["components"].(map[string]any)["schemas"].(map[string]any)
	todo := []string{"Claim"}
	done := map[string]bool{}
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		if done[name] {
			continue
		}
		done[name] = true
		want := toJSONSchema(schemas[name], func(ref string) { todo = append(todo, strings.TrimPrefix(ref, "#/components/schemas/")) })
		require.Equal(t, want, defs[name], "$defs.%s differs from openapi.json's components.schemas.%s converted", name, name)
	}
}

// toJSONSchema converts an OpenAPI 3.0 schema to JSON Schema 2020-12 as
// events.schema.json holds it: nullable becomes a "null" type, example
// becomes examples, and references point into $defs. ref is told each
// schema referred to.
func toJSONSchema(v any, ref func(string)) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = toJSONSchema(e, ref)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			switch k {
			case "$ref":
				ref(e.(string))
				out[k] = strings.Replace(e.(string), "#/components/schemas/", "#/$defs/", 1)
			case "properties":
				props := map[string]any{}
				for name, p := range e.(map[string]any) {
					props[name] = toJSONSchema(p, ref)
				}
				out[k] = props
			case "nullable":
			case "example":
				out["examples"] = []any{e}
			default:
				out[k] = toJSONSchema(e, ref)
			}
		}
		if v["nullable"] == true {
			out["type"] = []any{v["type"], "null"}
			if enum, ok := out["enum"].([]any); ok && !slices.Contains(enum, nil) {
				out["enum"] = append(enum, nil)
			}
		}
		return out
	}
	return v
}

func TestEventsBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		give      string
		wantCode  string
		wantField string
	}{
		{give: "after=-1", wantCode: "invalid_after", wantField: "after"},
		{give: "after=x", wantCode: "invalid_after", wantField: "after"},
		{give: "after=1.5", wantCode: "invalid_after", wantField: "after"},
		{give: "after=%2B1", wantCode: "invalid_after", wantField: "after"},
		{give: "after=9223372036854775808", wantCode: "invalid_after", wantField: "after"},
		{give: "types=claim.paid", wantCode: "invalid_types", wantField: "types"},
		{give: "types=", wantCode: "invalid_types", wantField: "types"},
		{give: "types=claim.closed,", wantCode: "invalid_types", wantField: "types"},
		{give: "types=CLAIM.CLOSED", wantCode: "invalid_types", wantField: "types"},
		{give: "limit=0", wantCode: "invalid_limit", wantField: "limit"},
		{give: "limit=501", wantCode: "invalid_limit", wantField: "limit"},
		{give: "limit=x", wantCode: "invalid_limit", wantField: "limit"},
		{give: "limit=1&limit=2", wantCode: "duplicate_parameter", wantField: "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			t.Parallel()
			r := b.do(t, http.MethodGet, "/v1/events?"+tt.give, b.token(t, "service", "platform"), nil)
			require.Equal(t, http.StatusBadRequest, r.Code, string(r.Body))
			require.Equal(t, tt.wantCode, r.errorOf(t)["code"])
			require.Equal(t, tt.wantField, r.errorOf(t)["field"])
		})
	}
	for _, give := range []string{"after=0", "limit=1", "limit=500", "types=claim.closed,chargeback.settled,claim.closed"} {
		r := b.do(t, http.MethodGet, "/v1/events?"+give, b.token(t, "admin", "root"), nil)
		require.Equal(t, http.StatusOK, r.Code, "%s: %s", give, r.Body)
	}
}

func TestEventsAuthorization(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, http.MethodGet, "/v1/events", "", nil)
	require.Equal(t, http.StatusUnauthorized, r.Code, string(r.Body))
	for _, role := range claimflow.Roles {
		r := b.do(t, http.MethodGet, "/v1/events?limit=1", b.token(t, string(role), "x"), nil)
		if role == claimflow.RoleService || role == claimflow.RoleAdmin {
			require.Equal(t, http.StatusOK, r.Code, "%s: %s", role, r.Body)
			continue
		}
		require.Equal(t, http.StatusForbidden, r.Code, "%s: %s", role, r.Body)
	}
	r = b.do(t, http.MethodGet, "/events.schema.json", "", nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Equal(t, "application/schema+json", r.Header.Get("Content-Type"))
	require.Equal(t, httpapi.EventsSchema, r.Body)
}

// events drives the events' routes through cf: the schema, the feed and
// its errors.
func (cf *conformance) events(t *testing.T) {
	b := cf.b
	svc := claimflow.NewService(store, policyfile.Default(), b.clock.Now)
	_, err := eventflow.NewRelay(store, httpapi.ClaimDocuments{Service: svc}, time.Now).RunOnce(context.Background())
	require.NoError(t, err)
	service, admin, agent := b.token(t, "service", "platform"), b.token(t, "admin", "root"), b.token(t, "agent", "ana")
	r := cf.run(t, apiCall{name: "events schema", method: http.MethodGet, path: "/events.schema.json", want: 200})
	require.Equal(t, httpapi.EventsSchema, r.Body)
	for _, c := range []apiCall{
		{name: "events", path: "/v1/events", token: service, want: 200},
		{name: "events as an admin, some types", path: "/v1/events?after=0&types=claim.submitted,claim.closed&limit=2", token: admin, want: 200},
		{name: "events: bad after", path: "/v1/events?after=-1", token: service, want: 400, rejected: true},
		{name: "events: unknown type", path: "/v1/events?types=claim.paid", token: service, want: 400, rejected: true},
		{name: "events: bad limit", path: "/v1/events?limit=501", token: service, want: 400, rejected: true},
		{name: "events: no token", path: "/v1/events", want: 401, rejected: true},
		{name: "events: agent", path: "/v1/events", token: agent, want: 403},
	} {
		c.method = http.MethodGet
		cf.run(t, c)
	}
}
