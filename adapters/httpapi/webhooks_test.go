package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/webhook"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/eventflow"
)

const webhooksPath = "/v1/webhook-endpoints"

// hooks is one test's view of the webhook routes: its calls go through a
// conformance checker, as service tokens of a subject of its own, so the
// endpoints it made are told apart from other tests' by created_by.
type hooks struct {
	cf  *conformance
	b   *testBundle
	svc string // a service token of the test's own subject
	sub string
}

func newHooks(t *testing.T, cf *conformance) *hooks {
	t.Helper()
	sub := cf.b.name("svc_hooks")
	return &hooks{cf: cf, b: cf.b, svc: cf.b.token(t, "service", sub), sub: sub}
}

// url is an https address of the test's own.
func (h *hooks) url(path string) string { return "https://hooks.example.com/" + h.b.id + "/" + path }

// create registers an endpoint and returns the answer's body.
func (h *hooks) create(t *testing.T, name string, body map[string]any) map[string]any {
	t.Helper()
	r := h.cf.run(t, apiCall{name: name, method: http.MethodPost, path: webhooksPath, token: h.svc, body: body, want: http.StatusCreated})
	return r.json(t)
}

// mine is the list's endpoints that this test made or whose URL names its
// id, as the list shows them: what a refused request must leave as it was.
func (h *hooks) mine(t *testing.T) []any {
	t.Helper()
	r := h.cf.run(t, apiCall{name: "list", method: http.MethodGet, path: webhooksPath, token: h.svc, want: http.StatusOK})
	require.NotContains(t, string(r.Body), `"secret"`, "the list never shows a secret")
	var out []any
	for _, e := range r.json(t)["endpoints"].([]any) {
		m := e.(map[string]any)
		if m["created_by"] == "service:"+h.sub || strings.Contains(m["url"].(string), h.b.id) {
			out = append(out, e)
		}
	}
	return out
}

// runEmpty is cf.run for an answer without a body (204): the request and
// the response are checked against the document as run checks them.
func (cf *conformance) runEmpty(t *testing.T, c apiCall) response {
	t.Helper()
	r := cf.b.do(t, c.method, c.path, c.token, c.body, c.headers...)
	require.Equal(t, c.want, r.Code, "%s: %s", c.name, r.Body)
	require.Empty(t, r.Body, c.name)

	ctx := context.Background()
	req := c.request(t)
	route, params, err := cf.router.FindRoute(req)
	require.NoError(t, err, "%s: no operation in openapi.json for %s %s", c.name, c.method, c.path)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: cf.opts}
	require.NoError(t, openapi3filter.ValidateRequest(ctx, in), "%s: the document rejects a request the API takes", c.name)
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.Code, Header: r.Header, Options: cf.opts}
	out.SetBodyBytes(r.Body)
	require.NoError(t, openapi3filter.ValidateResponse(ctx, out), "%s: response %d", c.name, r.Code)
	require.Empty(t, route.Operation.Responses.Status(r.Code).Value.Content, "%s: the document gives %d a body", c.name, r.Code)
	cf.seen[route.Method+" "+route.Path+" "+fmt.Sprint(r.Code)] = true
	return r
}

// instant reads a timestamp of an answer.
func instant(t *testing.T, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "not a timestamp: %v", v)
	at, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return at
}

// requireSecret checks a secret as the Standard Webhooks specification has
// it: whsec_ and the base64 of 24 to 64 random bytes.
func requireSecret(t *testing.T, v any) string {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "no secret: %v", v)
	require.True(t, strings.HasPrefix(s, "whsec_"), s)
	key, err := webhook.ParseSecret(s)
	require.NoError(t, err)
	require.Len(t, key, webhook.SecretBytes)
	return s
}

// webhooks drives the webhook endpoints' routes through cf, success and
// error cases of each, so every status the document lists for them is
// produced.
func (cf *conformance) webhooks(t *testing.T) {
	h := newHooks(t, cf)
	b := cf.b
	admin, agent := b.token(t, "admin", "root"), b.token(t, "agent", "ana")
	big := strings.Repeat("x", 9<<10) // over the 8 KiB limit setup sets
	body := map[string]any{"url": h.url("conf"), "event_types": []string{"claim.closed"}, "description": "Conformance."}

	for _, c := range []apiCall{
		{name: "webhook endpoint: unknown field", token: h.svc, body: map[string]any{"url": h.url("x"), "event_types": []string{"*"}, "secret": "whsec_x"}, want: 400, rejected: true},
		{name: "webhook endpoint: malformed JSON", token: h.svc, body: `{"url":`, want: 400, rejected: true},
		{name: "webhook endpoint: no token", body: body, want: 401, rejected: true},
		{name: "webhook endpoint: agent", token: agent, body: body, want: 403},
		{name: "webhook endpoint: too large", token: h.svc, body: map[string]any{"url": h.url("x"), "event_types": []string{"*"}, "description": big}, want: 413, rejected: true},
		{name: "webhook endpoint: text/plain", token: h.svc, body: body, headers: []string{"Content-Type", "text/plain"}, want: 415, rejected: true},
		{name: "webhook endpoint: http", token: h.svc, body: map[string]any{"url": "http://hooks.example.com/" + b.id, "event_types": []string{"*"}}, want: 422},
		{name: "webhook endpoint: no url", token: h.svc, body: map[string]any{"event_types": []string{"*"}}, want: 422, rejected: true},
	} {
		c.method, c.path = http.MethodPost, webhooksPath
		cf.run(t, c)
	}
	require.Empty(t, h.mine(t))
	ep := h.create(t, "webhook endpoint", body)
	id := ep["id"].(string)
	path := webhooksPath + "/" + id
	unknown := webhooksPath + "/whe_" + b.id + "_nope"
	r := cf.run(t, apiCall{name: "webhook endpoint as an admin", method: http.MethodPost, path: webhooksPath, token: admin, want: 201,
		body: map[string]any{"url": h.url("admin"), "event_types": []string{"*"}}})
	adminPath := r.Header.Get("Location")

	for _, c := range []apiCall{
		{name: "webhook endpoints", path: webhooksPath, token: h.svc, want: 200},
		{name: "webhook endpoints as an admin", path: webhooksPath, token: admin, want: 200},
		{name: "webhook endpoints: no token", path: webhooksPath, want: 401, rejected: true},
		{name: "webhook endpoints: agent", path: webhooksPath, token: agent, want: 403},
		{name: "webhook endpoint read", path: path, token: h.svc, want: 200},
		{name: "webhook endpoint read as an admin", path: adminPath, token: admin, want: 200},
		{name: "webhook endpoint read: no token", path: path, want: 401, rejected: true},
		{name: "webhook endpoint read: agent", path: path, token: agent, want: 403},
		{name: "webhook endpoint read: unknown", path: unknown, token: h.svc, want: 404},
		{name: "deliveries", path: path + "/deliveries", token: h.svc, want: 200},
		{name: "deliveries, paged", path: path + "/deliveries?state=pending&before=10&limit=5", token: admin, want: 200},
		{name: "deliveries: bad limit", path: path + "/deliveries?limit=201", token: h.svc, want: 400, rejected: true},
		{name: "deliveries: bad before", path: path + "/deliveries?before=0", token: h.svc, want: 400, rejected: true},
		{name: "deliveries: bad state", path: path + "/deliveries?state=bogus", token: h.svc, want: 400, rejected: true},
		{name: "deliveries: no token", path: path + "/deliveries", want: 401, rejected: true},
		{name: "deliveries: finance", path: path + "/deliveries", token: b.token(t, "finance", "fin"), want: 403},
		{name: "deliveries: unknown endpoint", path: unknown + "/deliveries", token: h.svc, want: 404},
	} {
		c.method = http.MethodGet
		cf.run(t, c)
	}

	for _, c := range []apiCall{
		{name: "webhook patch", token: h.svc, body: map[string]any{"description": "Conformance, changed."}, want: 200},
		{name: "webhook patch: malformed JSON", token: h.svc, body: `{"enabled":`, want: 400, rejected: true},
		{name: "webhook patch: wrong type", token: h.svc, body: map[string]any{"enabled": "no"}, want: 400, rejected: true},
		{name: "webhook patch: no token", body: map[string]any{"enabled": false}, want: 401, rejected: true},
		{name: "webhook patch: agent", token: agent, body: map[string]any{"enabled": false}, want: 403},
		{name: "webhook patch: unknown", path: unknown, token: h.svc, body: map[string]any{"enabled": false}, want: 404},
		{name: "webhook patch: too large", token: h.svc, body: map[string]any{"description": big}, want: 413, rejected: true},
		{name: "webhook patch: text/plain", token: h.svc, body: map[string]any{"enabled": false}, headers: []string{"Content-Type", "text/plain"}, want: 415, rejected: true},
		{name: "webhook patch: nothing", token: h.svc, body: map[string]any{}, want: 422, rejected: true},
		{name: "webhook patch: loopback", token: h.svc, body: map[string]any{"url": "https://127.0.0.1/" + b.id}, want: 422},
	} {
		c.method = http.MethodPatch
		if c.path == "" {
			c.path = path
		}
		cf.run(t, c)
	}

	for _, c := range []apiCall{
		{name: "rotate", path: path + "/rotate-secret", token: h.svc, want: 200},
		{name: "rotate: no token", path: path + "/rotate-secret", want: 401, rejected: true},
		{name: "rotate: agent", path: path + "/rotate-secret", token: agent, want: 403},
		{name: "rotate: unknown", path: unknown + "/rotate-secret", token: admin, want: 404},

		{name: "replay", path: path + "/replay", token: h.svc, body: map[string]any{"from": b.now.Add(-time.Minute).Format(time.RFC3339)}, want: 202},
		{name: "replay: malformed JSON", path: path + "/replay", token: h.svc, body: `{"from":`, want: 400, rejected: true},
		{name: "replay: no token", path: path + "/replay", body: map[string]any{"from": b.now.Format(time.RFC3339)}, want: 401, rejected: true},
		{name: "replay: agent", path: path + "/replay", token: agent, body: map[string]any{"from": b.now.Format(time.RFC3339)}, want: 403},
		{name: "replay: unknown", path: unknown + "/replay", token: h.svc, body: map[string]any{"from": b.now.Format(time.RFC3339)}, want: 404},
		{name: "replay: too large", path: path + "/replay", token: h.svc, body: `{"from":"` + big + `"}`, want: 413, rejected: true},
		{name: "replay: text/plain", path: path + "/replay", token: h.svc, body: map[string]any{"from": b.now.Format(time.RFC3339)}, headers: []string{"Content-Type", "text/plain"}, want: 415, rejected: true},
		{name: "replay: from in the future", path: path + "/replay", token: h.svc, body: map[string]any{"from": b.now.Add(time.Hour).Format(time.RFC3339)}, want: 422},
	} {
		c.method = http.MethodPost
		cf.run(t, c)
	}

	for _, c := range []apiCall{
		{name: "webhook delete: no token", path: path, want: 401, rejected: true},
		{name: "webhook delete: agent", path: path, token: agent, want: 403},
		{name: "webhook delete: unknown", path: unknown, token: h.svc, want: 404},
	} {
		c.method = http.MethodDelete
		cf.run(t, c)
	}
	cf.runEmpty(t, apiCall{name: "webhook delete", method: http.MethodDelete, path: path, token: h.svc, want: 204})
	cf.runEmpty(t, apiCall{name: "webhook delete as an admin", method: http.MethodDelete, path: adminPath, token: admin, want: 204})
	cf.run(t, apiCall{name: "webhook delete: gone", method: http.MethodDelete, path: path, token: h.svc, want: 404})
	require.Empty(t, h.mine(t))
}

// TestWebhookOpenAPIConformance drives the webhook routes through the
// router and checks each request and response against openapi.json, and
// that every status the document lists for them was produced.
func TestWebhookOpenAPIConformance(t *testing.T) {
	t.Parallel()
	cf := newConformance(t, setup(t))
	cf.webhooks(t)

	cf.requireSeen(t, func(path string) bool { return strings.HasPrefix(path, webhooksPath) })
}

// TestWebhookEndpointLifecycle: an endpoint registered (its secret shown
// that once), read and listed without it, each field changed, disabled
// and enabled again, its secret rotated with a day's overlap, its empty
// deliveries paged, and removed.
func TestWebhookEndpointLifecycle(t *testing.T) {
	t.Parallel()
	cf := newConformance(t, setup(t))
	h, b := newHooks(t, cf), cf.b
	admin := b.token(t, "admin", "root")

	r := cf.run(t, apiCall{name: "create", method: http.MethodPost, path: webhooksPath, token: h.svc, want: 201, body: map[string]any{
		"url": h.url("life"), "description": "Refunds to the payouts service.",
		"event_types": []string{"claim.refunded", "chargeback.settled", "claim.refunded"}}})
	created := r.json(t)
	id := created["id"].(string)
	require.True(t, strings.HasPrefix(id, "whe_"), id)
	require.Equal(t, webhooksPath+"/"+id, r.Header.Get("Location"))
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	secret := requireSecret(t, created["secret"])
	require.Equal(t, h.url("life"), created["url"])
	require.Equal(t, "Refunds to the payouts service.", created["description"])
	require.Equal(t, []any{"claim.refunded", "chargeback.settled"}, created["event_types"], "a type given twice is kept once")
	require.Equal(t, true, created["enabled"])
	for _, k := range []string{"disabled_reason", "disabled_at", "failing_since", "previous_secret_expires_at"} {
		require.Contains(t, created, k)
		require.Nil(t, created[k], k)
	}
	require.Equal(t, "service:"+h.sub, created["created_by"])
	require.True(t, b.now.Equal(instant(t, created["created_at"])))
	require.True(t, b.now.Equal(instant(t, created["updated_at"])))
	require.Equal(t, map[string]any{"pending": float64(0), "delivered": float64(0), "failed": float64(0)}, created["deliveries"])

	// Read and listed, never with the secret.
	withoutSecret := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			if k != "secret" {
				out[k] = v
			}
		}
		return out
	}
	path := webhooksPath + "/" + id
	r = cf.run(t, apiCall{name: "read", method: http.MethodGet, path: path, token: h.svc, want: 200})
	require.NotContains(t, string(r.Body), secret)
	require.Equal(t, withoutSecret(created), r.json(t))
	r = cf.run(t, apiCall{name: "read as an admin", method: http.MethodGet, path: path, token: admin, want: 200})
	require.NotContains(t, r.json(t), "secret")
	r = cf.run(t, apiCall{name: "list", method: http.MethodGet, path: webhooksPath, token: admin, want: 200})
	require.NotContains(t, string(r.Body), secret)
	require.Equal(t, []any{withoutSecret(created)}, h.mine(t))

	// "*" among the types takes them all.
	r = cf.run(t, apiCall{name: "create as an admin", method: http.MethodPost, path: webhooksPath, token: admin, want: 201,
		body: map[string]any{"url": h.url("all"), "event_types": []string{"claim.closed", "*"}}})
	all := r.json(t)
	require.Equal(t, []any{"*"}, all["event_types"])
	require.Equal(t, "admin:root", all["created_by"])
	require.Equal(t, "", all["description"])
	require.NotEqual(t, secret, requireSecret(t, all["secret"]), "each endpoint its own secret")

	// Each field changed on its own; the others stay.
	patch := func(name string, body map[string]any) map[string]any {
		t.Helper()
		b.clock.Set(b.clock.Now().Add(time.Minute))
		r := cf.run(t, apiCall{name: name, method: http.MethodPatch, path: path, token: h.svc, body: body, want: 200})
		got := r.json(t)
		require.NotContains(t, got, "secret")
		require.True(t, b.clock.Now().Equal(instant(t, got["updated_at"])), name)
		r = cf.run(t, apiCall{name: name + ", read", method: http.MethodGet, path: path, token: h.svc, want: 200})
		require.Equal(t, got, r.json(t), "%s: read back as answered", name)
		return got
	}
	before := withoutSecret(created)
	same := func(got map[string]any, changed ...string) {
		t.Helper()
		for k, v := range before {
			if k != "updated_at" && !slices.Contains(changed, k) {
				require.Equal(t, v, got[k], k)
			}
		}
		before = got
	}
	got := patch("patch url", map[string]any{"url": h.url("life/v2?source=claimsd")})
	require.Equal(t, h.url("life/v2?source=claimsd"), got["url"])
	same(got, "url")
	got = patch("patch description", map[string]any{"description": "Every claim event."})
	require.Equal(t, "Every claim event.", got["description"])
	same(got, "description")
	got = patch("patch description empty", map[string]any{"description": ""})
	require.Equal(t, "", got["description"])
	same(got, "description")
	got = patch("patch types", map[string]any{"event_types": []string{"claim.closed", "claim.submitted", "claim.closed"}})
	require.Equal(t, []any{"claim.closed", "claim.submitted"}, got["event_types"])
	same(got, "event_types")
	got = patch("patch types: all", map[string]any{"event_types": []string{"claim.closed", "*"}})
	require.Equal(t, []any{"*"}, got["event_types"])
	same(got, "event_types")

	// Disabled by hand, then again (the first time is kept), then
	// enabled: the reason and time of the last disabling stay.
	got = patch("disable", map[string]any{"enabled": false})
	disabledAt := b.clock.Now()
	require.Equal(t, false, got["enabled"])
	require.Equal(t, "manual", got["disabled_reason"])
	require.True(t, disabledAt.Equal(instant(t, got["disabled_at"])))
	require.Nil(t, got["failing_since"])
	same(got, "enabled", "disabled_reason", "disabled_at")
	got = patch("disable again", map[string]any{"enabled": false})
	require.True(t, disabledAt.Equal(instant(t, got["disabled_at"])), "disabling a disabled endpoint keeps when it was disabled")
	same(got)
	got = patch("enable", map[string]any{"enabled": true})
	require.Equal(t, true, got["enabled"])
	require.Equal(t, "manual", got["disabled_reason"], "kept: why it was last disabled")
	require.True(t, disabledAt.Equal(instant(t, got["disabled_at"])))
	require.Nil(t, got["failing_since"])
	same(got, "enabled")
	got = patch("several fields", map[string]any{"url": h.url("life/v3"), "description": "v3", "event_types": []string{"recovery.recorded"}, "enabled": false})
	require.Equal(t, []any{h.url("life/v3"), "v3", []any{"recovery.recorded"}, false},
		[]any{got["url"], got["description"], got["event_types"], got["enabled"]})
	require.True(t, b.clock.Now().Equal(instant(t, got["disabled_at"])))
	same(got, "url", "description", "event_types", "enabled", "disabled_at")
	got = patch("enable again", map[string]any{"enabled": true})
	same(got, "enabled")

	// Rotated: a new secret, shown once; the one before signs beside it
	// for a day.
	b.clock.Set(b.clock.Now().Add(time.Minute))
	r = cf.run(t, apiCall{name: "rotate", method: http.MethodPost, path: path + "/rotate-secret", token: h.svc, want: 200})
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	rotated := r.json(t)
	second := requireSecret(t, rotated["secret"])
	require.NotEqual(t, secret, second)
	require.True(t, b.clock.Now().Add(24*time.Hour).Equal(instant(t, rotated["previous_secret_expires_at"])), "%v", rotated["previous_secret_expires_at"])
	require.True(t, b.clock.Now().Equal(instant(t, rotated["updated_at"])))
	r = cf.run(t, apiCall{name: "read after rotating", method: http.MethodGet, path: path, token: h.svc, want: 200})
	require.Equal(t, withoutSecret(rotated), r.json(t))
	require.NotContains(t, string(r.Body), second)
	b.clock.Set(b.clock.Now().Add(time.Hour))
	h.svc, admin = b.token(t, "service", h.sub), b.token(t, "admin", "root") // tokens last an hour of the clock
	r = cf.run(t, apiCall{name: "rotate again", method: http.MethodPost, path: path + "/rotate-secret", token: admin, want: 200})
	third := requireSecret(t, r.json(t)["secret"])
	require.NotContains(t, []string{secret, second}, third)
	require.True(t, b.clock.Now().Add(24*time.Hour).Equal(instant(t, r.json(t)["previous_secret_expires_at"])))
	b.clock.Set(b.clock.Now().Add(24*time.Hour + time.Second))
	h.svc = b.token(t, "service", h.sub)
	r = cf.run(t, apiCall{name: "read after the overlap", method: http.MethodGet, path: path, token: h.svc, want: 200})
	require.Nil(t, r.json(t)["previous_secret_expires_at"], "the overlap is over")
	require.NotContains(t, string(r.Body), third)

	// No deliveries yet, however they are asked for.
	for _, q := range []string{"", "?limit=1", "?limit=200", "?before=1", "?before=9223372036854775807&limit=7",
		"?state=pending", "?state=delivered", "?state=failed&limit=3&before=2"} {
		r = cf.run(t, apiCall{name: "deliveries" + q, method: http.MethodGet, path: path + "/deliveries" + q, token: h.svc, want: 200})
		require.JSONEq(t, `{"deliveries":[],"next_before":null}`, string(r.Body), q)
	}

	// Removed: nothing of it answers any more.
	cf.runEmpty(t, apiCall{name: "delete", method: http.MethodDelete, path: path, token: h.svc, want: 204})
	for _, c := range []apiCall{
		{name: "read after delete", method: http.MethodGet, path: path},
		{name: "delete again", method: http.MethodDelete, path: path},
		{name: "patch after delete", method: http.MethodPatch, path: path, body: map[string]any{"enabled": true}},
		{name: "rotate after delete", method: http.MethodPost, path: path + "/rotate-secret"},
		{name: "deliveries after delete", method: http.MethodGet, path: path + "/deliveries"},
		{name: "replay after delete", method: http.MethodPost, path: path + "/replay", body: map[string]any{"from": b.now.Format(time.RFC3339)}},
	} {
		c.token, c.want = h.svc, 404
		r = cf.run(t, c)
		e := r.errorOf(t)
		require.Equal(t, "webhook_endpoint_not_found", e["code"], c.name)
		require.Contains(t, e["message"], id, c.name)
	}
	mine := h.mine(t)
	require.Len(t, mine, 1)
	require.Equal(t, all["id"], mine[0].(map[string]any)["id"])
}

// TestWebhookEndpointBadInput: every bad input is refused naming the
// field, and changes nothing: no endpoint is made, changed or removed,
// and nothing is queued.
func TestWebhookEndpointBadInput(t *testing.T) {
	t.Parallel()
	cf := newConformance(t, setup(t))
	h, b := newHooks(t, cf), cf.b
	ep := h.create(t, "create", map[string]any{"url": h.url("bad"), "event_types": []string{"claim.closed"}, "description": "Kept as it is."})
	path := webhooksPath + "/" + ep["id"].(string)
	// A second one, disabled: nothing refused may enable it.
	off := h.create(t, "create another", map[string]any{"url": h.url("off"), "event_types": []string{"*"}})
	offPath := webhooksPath + "/" + off["id"].(string)
	cf.run(t, apiCall{name: "disable", method: http.MethodPatch, path: offPath, token: h.svc, body: map[string]any{"enabled": false}, want: 200})
	snapshot := h.mine(t)
	require.Len(t, snapshot, 2)

	ok := map[string]any{"url": h.url("new"), "event_types": []string{"claim.closed", "claim.refunded"}, "description": "d"}
	with := func(field string, v any) map[string]any {
		m := map[string]any{}
		for k, x := range ok {
			m[k] = x
		}
		if v == nil {
			delete(m, field)
		} else {
			m[field] = v
		}
		return m
	}
	// The same refusals whether the endpoint is made or changed.
	type bad struct {
		name     string
		field    string
		value    any
		status   int
		code     string
		at       string // the error's field, when not field
		rejected bool   // the document refuses it too
	}
	bads := []bad{
		{name: "http", field: "url", value: "http://hooks.example.com/" + b.id, status: 422, code: "https_required"},
		{name: "ftp", field: "url", value: "ftp://hooks.example.com/" + b.id, status: 422, code: "https_required"},
		{name: "loopback", field: "url", value: "https://127.0.0.1/" + b.id, status: 422, code: "private_address"},
		{name: "loopback, IPv6", field: "url", value: "https://[::1]/" + b.id, status: 422, code: "private_address"},
		{name: "loopback inside IPv6", field: "url", value: "https://[::ffff:127.0.0.1]/" + b.id, status: 422, code: "private_address"},
		{name: "cloud metadata", field: "url", value: "https://169.254.169.254/latest/meta-data/" + b.id, status: 422, code: "private_address"},
		{name: "private", field: "url", value: "https://10.0.0.7:8443/" + b.id, status: 422, code: "private_address"},
		{name: "unspecified", field: "url", value: "https://0.0.0.0/" + b.id, status: 422, code: "private_address"},
		{name: "localhost", field: "url", value: "https://localhost/" + b.id, status: 422, code: "private_address"},
		{name: "LOCALHOST", field: "url", value: "https://LOCALHOST:443/" + b.id, status: 422, code: "private_address"},
		{name: "a name under localhost", field: "url", value: "https://hooks.localhost/" + b.id, status: 422, code: "private_address"},
		{name: "credentials", field: "url", value: "https://user:pass@hooks.example.com/" + b.id, status: 422, code: "credentials_in_url"},
		{name: "a user", field: "url", value: "https://user@hooks.example.com/" + b.id, status: 422, code: "credentials_in_url"},
		{name: "fragment", field: "url", value: "https://hooks.example.com/" + b.id + "#x", status: 422, code: "invalid_url"},
		{name: "relative", field: "url", value: "/hooks/" + b.id, status: 422, code: "invalid_url"},
		{name: "port 0", field: "url", value: "https://hooks.example.com:0/" + b.id, status: 422, code: "invalid_url"},
		{name: "port 70000", field: "url", value: "https://hooks.example.com:70000/" + b.id, status: 422, code: "invalid_url"},
		{name: "blank url", field: "url", value: "   ", status: 422, code: "required"},
		{name: "empty url", field: "url", value: "", status: 422, code: "required", rejected: true},
		{name: "3000-character url", field: "url", value: "https://hooks.example.com/" + b.id + "/" + strings.Repeat("a", 3000), status: 422, code: "too_long", rejected: true},
		{name: "unknown type at 1", field: "event_types", value: []string{"claim.closed", "claim.paid"}, status: 422, code: "unknown_event_type", at: "event_types[1]", rejected: true},
		{name: "empty type", field: "event_types", value: []string{""}, status: 422, code: "unknown_event_type", at: "event_types[0]", rejected: true},
		{name: "no types", field: "event_types", value: []string{}, status: 422, code: "required", rejected: true},
		{name: "65 types", field: "event_types", value: slices.Repeat([]string{"claim.closed"}, 65), status: 422, code: "too_many", rejected: true},
		{name: "501-byte description", field: "description", value: strings.Repeat("d", 501), status: 422, code: "too_long", rejected: true},
		{name: "300 é: 600 bytes", field: "description", value: strings.Repeat("é", 300), status: 422, code: "too_long"},
		{name: "NUL in description", field: "description", value: "a\x00b", status: 422, code: "invalid_text"},
		{name: "url a number", field: "url", value: 5, status: 400, code: "invalid_type", rejected: true},
		{name: "types a string", field: "event_types", value: "claim.closed", status: 400, code: "invalid_type", rejected: true},
		{name: "a type a number", field: "event_types", value: []any{"claim.closed", 7}, status: 400, code: "invalid_type", at: "event_types[1]", rejected: true},
		{name: "description an object", field: "description", value: map[string]any{"text": "d"}, status: 400, code: "invalid_type", rejected: true},
		{name: "unknown field", field: "secret", value: "whsec_" + strings.Repeat("A", 43) + "=", status: 400, code: "unknown_field", rejected: true},
		{name: "field named in capitals", field: "URL", value: h.url("caps"), status: 400, code: "unknown_field", rejected: true},
	}
	requireRefused := func(r response, status int, code, field string, name string) {
		t.Helper()
		require.Equal(t, status, r.Code, "%s: %s", name, r.Body)
		e := r.errorOf(t)
		require.Equal(t, code, e["code"], "%s: %s", name, r.Body)
		require.Equal(t, field, e["field"], "%s: %s", name, r.Body)
		require.Equal(t, snapshot, h.mine(t), "%s changed an endpoint", name)
	}
	for _, c := range bads {
		at := c.at
		if at == "" {
			at = c.field
		}
		r := cf.run(t, apiCall{name: "create: " + c.name, method: http.MethodPost, path: webhooksPath, token: h.svc,
			body: with(c.field, c.value), want: c.status, rejected: c.rejected})
		requireRefused(r, c.status, c.code, at, "create: "+c.name)
		for _, p := range []string{path, offPath} {
			body := map[string]any{c.field: c.value}
			if p == offPath {
				body["enabled"] = true
			}
			r = cf.run(t, apiCall{name: "patch: " + c.name, method: http.MethodPatch, path: p, token: h.svc,
				body: body, want: c.status, rejected: c.rejected})
			requireRefused(r, c.status, c.code, at, "patch: "+c.name)
		}
	}
	// What only one of them refuses.
	for _, c := range []struct {
		name, method, path string
		body               any
		status             int
		code, field        string
		rejected           bool
	}{
		{"create: no url", http.MethodPost, webhooksPath, with("url", nil), 422, "required", "url", true},
		{"create: no types", http.MethodPost, webhooksPath, with("event_types", nil), 422, "required", "event_types", true},
		{"create: types null", http.MethodPost, webhooksPath, with("event_types", []string(nil)), 422, "required", "event_types", true},
		{"create: an array", http.MethodPost, webhooksPath, []any{ok}, 400, "invalid_type", "", true},
		{"create: two objects", http.MethodPost, webhooksPath, `{"url":"` + h.url("two") + `","event_types":["*"]} {}`, 400, "malformed_json", "", false},
		{"create: a key twice", http.MethodPost, webhooksPath, `{"url":"` + h.url("twice") + `","event_types":["*"],"url":"` + h.url("twice") + `"}`, 400, "duplicate_field", "url", false},
		{"create: empty body", http.MethodPost, webhooksPath, "", 400, "empty_body", "", true},
		{"patch: nothing", http.MethodPatch, path, map[string]any{}, 422, "empty_patch", "", true},
		{"patch: only nulls", http.MethodPatch, path, `{"url":null,"event_types":null}`, 422, "empty_patch", "", true},
		{"patch: enabled a string", http.MethodPatch, offPath, map[string]any{"enabled": "true"}, 400, "invalid_type", "enabled", true},
		{"patch: enabled and an unknown field", http.MethodPatch, offPath, map[string]any{"enabled": true, "disabled_reason": nil}, 400, "unknown_field", "disabled_reason", true},
		{"patch: secret", http.MethodPatch, path, map[string]any{"secret": "whsec_x"}, 400, "unknown_field", "secret", true},
		{"replay: no from", http.MethodPost, path + "/replay", map[string]any{}, 422, "required", "from", true},
		{"replay: from null", http.MethodPost, path + "/replay", `{"from":null}`, 422, "required", "from", true},
		{"replay: malformed from", http.MethodPost, path + "/replay", map[string]any{"from": "yesterday"}, 422, "invalid_timestamp", "from", true},
		{"replay: a date", http.MethodPost, path + "/replay", map[string]any{"from": b.now.Format(time.DateOnly)}, 422, "invalid_timestamp", "from", true},
		{"replay: from in the future", http.MethodPost, path + "/replay", map[string]any{"from": b.now.Add(time.Second).Format(time.RFC3339)}, 422, "from_in_future", "from", false},
		{"replay: from in the future, another zone", http.MethodPost, path + "/replay", map[string]any{"from": b.now.Add(time.Hour).In(time.FixedZone("", 5*3600)).Format(time.RFC3339)}, 422, "from_in_future", "from", false},
		{"replay: from year 10000", http.MethodPost, path + "/replay", map[string]any{"from": "10000-01-01T00:00:00Z"}, 422, "invalid_timestamp", "from", true},
		{"replay: from year 9999", http.MethodPost, path + "/replay", map[string]any{"from": "9999-12-31T23:59:59Z"}, 422, "from_in_future", "from", false},
		{"replay: before 1970", http.MethodPost, path + "/replay", map[string]any{"from": "1969-12-31T23:59:59Z"}, 422, "out_of_range", "from", false},
		{"replay: from a number", http.MethodPost, path + "/replay", map[string]any{"from": 1733565600}, 400, "invalid_type", "from", true},
		{"replay: unknown field", http.MethodPost, path + "/replay", map[string]any{"from": b.now.Format(time.RFC3339), "to": b.now.Format(time.RFC3339)}, 400, "unknown_field", "to", true},
		{"replay of the disabled: no from", http.MethodPost, offPath + "/replay", map[string]any{}, 422, "required", "from", true},
	} {
		r := cf.run(t, apiCall{name: c.name, method: c.method, path: c.path, token: h.svc, body: c.body, want: c.status, rejected: c.rejected})
		e := r.errorOf(t)
		require.Equal(t, c.code, e["code"], "%s: %s", c.name, r.Body)
		if c.field == "" {
			require.NotContains(t, e, "field", c.name)
		} else {
			require.Equal(t, c.field, e["field"], c.name)
		}
		require.Equal(t, snapshot, h.mine(t), "%s changed an endpoint", c.name)
	}

	// The deliveries' parameters.
	for _, c := range []struct {
		query, code, field string
		rejected           bool // the document refuses it too
	}{
		{"limit=0", "invalid_limit", "limit", true},
		{"limit=201", "invalid_limit", "limit", true},
		{"limit=-1", "invalid_limit", "limit", true},
		{"limit=%2B5", "invalid_limit", "limit", false}, // the document reads +5 as 5
		{"limit=ten", "invalid_limit", "limit", true},
		{"limit=99999999999999999999", "invalid_limit", "limit", true},
		{"before=-1", "invalid_before", "before", true},
		{"before=0", "invalid_before", "before", true},
		{"before=%2B3", "invalid_before", "before", false},
		{"before=9223372036854775808", "invalid_before", "before", true},
		{"before=1.5", "invalid_before", "before", true},
		{"state=bogus", "invalid_state", "state", true},
		{"state=PENDING", "invalid_state", "state", true},
		{"limit=5&limit=6", "duplicate_parameter", "limit", false},
	} {
		r := cf.run(t, apiCall{name: "deliveries?" + c.query, method: http.MethodGet, path: path + "/deliveries?" + c.query, token: h.svc,
			want: 400, rejected: c.rejected})
		e := r.errorOf(t)
		require.Equal(t, c.code, e["code"], "%s: %s", c.query, r.Body)
		require.Equal(t, c.field, e["field"], "%s: %s", c.query, r.Body)
	}

	// Ids that are not an endpoint's: the same 404 from every route,
	// whatever the id looks like, and the message does not echo a long one.
	for _, id := range []string{"whe_" + b.id + "_nope", "nope", "whe_", "WHE_" + b.id, "whe_" + strings.Repeat("9", 61),
		"whe_" + strings.Repeat("9", 5000), "whe_a%20b", "whe_%E2%80%A6"} {
		p := webhooksPath + "/" + id
		for _, c := range []apiCall{
			{method: http.MethodGet, path: p},
			{method: http.MethodPatch, path: p, body: map[string]any{"enabled": true}},
			{method: http.MethodDelete, path: p},
			{method: http.MethodPost, path: p + "/rotate-secret"},
			{method: http.MethodGet, path: p + "/deliveries"},
			{method: http.MethodPost, path: p + "/replay", body: map[string]any{"from": b.now.Format(time.RFC3339)}},
		} {
			c.name, c.token, c.want = fmt.Sprintf("%s %.80s", c.method, c.path), h.svc, 404
			r := cf.run(t, c)
			e := r.errorOf(t)
			require.Equal(t, "webhook_endpoint_not_found", e["code"], "%s: %s", c.name, r.Body)
			require.Less(t, len(e["message"].(string)), 200, c.name)
		}
	}
	require.Equal(t, snapshot, h.mine(t))
}

// TestWebhookReplay: a replay queues the kept events of the endpoint's
// types since from, each once, in position order, and says how many; the
// deliveries list pages them. The database is the test's own, so the
// events in it are known.
func TestWebhookReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := pgtest.Store(t, "httpapi_webhooks")
	b := setupOn(t, st)
	cf := newConformance(t, b)
	h := newHooks(t, cf)

	// Before any event: nothing to queue, nothing kept.
	some := h.create(t, "create", map[string]any{"url": h.url("some"), "event_types": []string{"claim.submitted", "claim.closed"}})
	somePath := webhooksPath + "/" + some["id"].(string)
	r := cf.run(t, apiCall{name: "replay: no events", method: http.MethodPost, path: somePath + "/replay", token: h.svc,
		body: map[string]any{"from": "2000-01-01T00:00:00Z"}, want: 202})
	require.Equal(t, map[string]any{"endpoint_id": some["id"], "from": "2000-01-01T00:00:00Z", "to": b.now.Format(time.RFC3339),
		"queued": float64(0), "oldest_kept": nil}, r.json(t))

	// Two claims' events, numbered.
	sellerID := b.newSeller(t, "sel_hook")
	claims := []string{
		b.fileClaim(t, sellerID, b.name("shp_hook_a"), instantAmount, "")["id"].(string),
		b.fileClaim(t, sellerID, b.name("shp_hook_b"), instantAmount, "")["id"].(string),
	}
	numberAll(t, st, eventflow.NewRelay(st, httpapi.ClaimDocuments{Service: claimflow.NewService(st, policyfile.Default(), b.clock.Now)}, time.Now), "true")
	type event struct {
		id, typ, claim string
		position       int64
		at             time.Time
	}
	var events []event
	rows, err := st.DB().QueryContext(ctx, `SELECT id, type, coalesce(claim_id, ''), position, created_at FROM events ORDER BY position`)
	require.NoError(t, err)
	for rows.Next() {
		var e event
		require.NoError(t, rows.Scan(&e.id, &e.typ, &e.claim, &e.position, &e.at))
		events = append(events, e)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, events)
	b.clock.Set(time.Now().UTC().Add(time.Second).Truncate(time.Microsecond)) // after every event
	oldest := events[0].at
	for _, e := range events {
		if e.at.Before(oldest) {
			oldest = e.at
		}
	}
	want := func(types ...string) []event {
		var out []event
		for _, e := range events {
			if slices.Contains(types, "*") || slices.Contains(types, e.typ) {
				out = append(out, e)
			}
		}
		return out
	}
	var submitted []string
	for _, e := range want("claim.submitted") {
		submitted = append(submitted, e.claim)
	}
	require.ElementsMatch(t, claims, submitted, "each claim submitted once")

	replay := func(name, path, from string, queued int) {
		t.Helper()
		r := cf.run(t, apiCall{name: name, method: http.MethodPost, path: path + "/replay", token: h.svc, body: map[string]any{"from": from}, want: 202})
		got := r.json(t)
		require.Equal(t, strings.TrimPrefix(path, webhooksPath+"/"), got["endpoint_id"], name)
		f, err := time.Parse(time.RFC3339Nano, from)
		require.NoError(t, err)
		require.True(t, f.Equal(instant(t, got["from"])), name)
		require.True(t, strings.HasSuffix(got["from"].(string), "Z"), "from in UTC: %v", got["from"])
		require.True(t, b.clock.Now().Equal(instant(t, got["to"])), name)
		require.Equal(t, float64(queued), got["queued"], name)
		require.True(t, oldest.Equal(instant(t, got["oldest_kept"])), "%s: oldest_kept %v, want %v", name, got["oldest_kept"], oldest)
	}
	// deliveries pages through an endpoint's deliveries, limit at a time,
	// and checks each page and that they are the events, newest first.
	deliveries := func(path string, limit int, evs []event) {
		t.Helper()
		var got []any
		q := fmt.Sprintf("?limit=%d", limit)
		for pages := 0; ; pages++ {
			require.LessOrEqual(t, pages, len(evs)+1, "paging does not end")
			r := cf.run(t, apiCall{name: "deliveries" + q, method: http.MethodGet, path: path + "/deliveries" + q, token: h.svc, want: 200})
			page := r.json(t)
			ds := page["deliveries"].([]any)
			require.LessOrEqual(t, len(ds), limit)
			got = append(got, ds...)
			if len(ds) < limit {
				require.Nil(t, page["next_before"], "a page not full is the last")
				break
			}
			last := ds[len(ds)-1].(map[string]any)["id"]
			require.Equal(t, last, page["next_before"])
			q = fmt.Sprintf("?limit=%d&before=%.0f", limit, last)
		}
		require.Len(t, got, len(evs))
		var lastID float64
		for i, raw := range got {
			d := raw.(map[string]any)
			e := evs[len(evs)-1-i] // newest first
			if i > 0 {
				require.Less(t, d["id"], lastID, "newest first")
			}
			lastID = d["id"].(float64)
			require.Equal(t, e.id, d["event_id"])
			require.Equal(t, e.typ, d["event_type"])
			require.Equal(t, float64(e.position), d["position"])
			if e.claim == "" {
				require.Nil(t, d["claim_id"])
			} else {
				require.Equal(t, e.claim, d["claim_id"])
			}
			require.Equal(t, true, d["replay"])
			require.Equal(t, "pending", d["state"])
			require.Equal(t, float64(0), d["attempt_count"])
			require.Equal(t, []any{}, d["attempts"])
			require.Nil(t, d["last_status_code"])
			require.Nil(t, d["last_error"])
			require.Nil(t, d["finished_at"])
			require.True(t, b.clock.Now().Equal(instant(t, d["next_attempt_at"])), "due at once")
		}
	}

	from := b.now.Add(-time.Hour).Format(time.RFC3339)
	replay("replay some types", somePath, from, len(want("claim.submitted", "claim.closed")))
	replay("replay again: already pending", somePath, from, 0)
	deliveries(somePath, 1, want("claim.submitted", "claim.closed"))
	deliveries(somePath, 200, want("claim.submitted", "claim.closed"))
	r = cf.run(t, apiCall{name: "read", method: http.MethodGet, path: somePath, token: h.svc, want: 200})
	require.Equal(t, map[string]any{"pending": float64(len(want("claim.submitted", "claim.closed"))), "delivered": float64(0), "failed": float64(0)},
		r.json(t)["deliveries"])
	for _, state := range []string{"delivered", "failed"} {
		r = cf.run(t, apiCall{name: "deliveries " + state, method: http.MethodGet, path: somePath + "/deliveries?state=" + state, token: h.svc, want: 200})
		require.JSONEq(t, `{"deliveries":[],"next_before":null}`, string(r.Body))
	}
	r = cf.run(t, apiCall{name: "deliveries pending", method: http.MethodGet, path: somePath + "/deliveries?state=pending", token: h.svc, want: 200})
	require.Len(t, r.json(t)["deliveries"], len(want("claim.submitted", "claim.closed")))

	// Every type, from an offset in another zone; an endpoint disabled
	// takes the replay too (its deliveries wait until it is enabled).
	every := h.create(t, "create for every type", map[string]any{"url": h.url("every"), "event_types": []string{"*"}})
	everyPath := webhooksPath + "/" + every["id"].(string)
	cf.run(t, apiCall{name: "disable", method: http.MethodPatch, path: everyPath, token: h.svc, body: map[string]any{"enabled": false}, want: 200})
	replay("replay every type", everyPath, b.now.Add(-time.Hour).In(time.FixedZone("", -5*3600)).Format(time.RFC3339), len(events))
	deliveries(everyPath, 3, events)
	replay("replay from now", everyPath, b.clock.Now().Format(time.RFC3339Nano), 0)

	// From after the first claim's events: only the later ones.
	split := events[len(events)-1].at
	var later []event
	for _, e := range want("claim.submitted", "claim.closed") {
		if !e.at.Before(split) {
			later = append(later, e)
		}
	}
	fresh := h.create(t, "create fresh", map[string]any{"url": h.url("fresh"), "event_types": []string{"claim.submitted", "claim.closed"}})
	freshPath := webhooksPath + "/" + fresh["id"].(string)
	replay("replay from the last event", freshPath, split.Format(time.RFC3339Nano), len(later))

	// Removed with its deliveries.
	cf.runEmpty(t, apiCall{name: "delete", method: http.MethodDelete, path: everyPath, token: h.svc, want: 204})
	var left int
	require.NoError(t, st.DB().QueryRowContext(ctx, `SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1`, every["id"]).Scan(&left))
	require.Zero(t, left, "an endpoint's deliveries go with it")
	deliveries(somePath, 2, want("claim.submitted", "claim.closed"))
}
