package pgstore

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/decision"
)

// sameFacts compares decoded facts: times by instant and offset (a
// parsed offset is a new *time.Location each time), the rest as they are.
func sameFacts(t *testing.T, want, got factsJSON) {
	t.Helper()
	sameTime := func(a, b time.Time) {
		t.Helper()
		_, oa := a.Zone()
		_, ob := b.Zone()
		require.True(t, a.Equal(b) && oa == ob, "%s and %s", a, b)
	}
	sameTime(want.PaidAt, got.PaidAt)
	sameTime(want.ShopperFirstOrderAt, got.ShopperFirstOrderAt)
	require.Equal(t, want.DeliveredAt == nil, got.DeliveredAt == nil)
	if want.DeliveredAt != nil {
		sameTime(*want.DeliveredAt, *got.DeliveredAt)
	}
	want.PaidAt, want.ShopperFirstOrderAt, want.DeliveredAt = time.Time{}, time.Time{}, nil
	got.PaidAt, got.ShopperFirstOrderAt, got.DeliveredAt = time.Time{}, time.Time{}, nil
	require.True(t, reflect.DeepEqual(want, got), "%+v\n%+v", want, got)
}

func TestDecodeFactsReadsWhatTheEngineWrites(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for range 2000 {
		f := drawFacts(r, at.Add(time.Duration(r.Int64N(int64(300*24*time.Hour)))))
		_, raw, err := DecisionJSON(decision.Decision{}, f)
		require.NoError(t, err)
		// As written, and as PostgreSQL renders the jsonb column.
		for _, doc := range [][]byte{raw, []byte(jsonbText(t, raw))} {
			var want, got factsJSON
			require.NoError(t, json.Unmarshal(doc, &want))
			require.True(t, (&factsReader{data: doc}).read(&got), "read by hand: %s", doc)
			sameFacts(t, want, got)
			require.Equal(t, want.domain(), got.domain())
		}
	}
}

func TestDecodeFactsLeavesTheUnusualToEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, give := range []string{
		`{}`,
		` { "amount" : 12 , "currency":"EUR" } `,
		`{"amount": -0, "order_amount": -9223372036854775808, "shopper_refunded_90d": 9223372036854775807}`,
		`{"amount": 9223372036854775808}`,
		`{"amount": -9223372036854775809}`,
		`{"amount": 012}`,
		`{"amount": 1.0}`,
		`{"amount": 1e3}`,
		`{"amount": "12"}`,
		`{"amount": null}`,
		`{"Amount": 12}`,
		`{"amount": 12, "amount": 13}`,
		`{"currency": "E\u0055R"}`,
		`{"currency": "EUR\n"}`,
		`{"claim_reason": "d\u00e9g\u00e2t"}`,
		`{"seller_standing": "wätch"}`,
		`{"delivered_at": null, "paid_at": "2026-01-02T03:04:05.123456789+02:00"}`,
		`{"delivered_at": "2026-01-02T03:04:05Z"}`,
		`{"paid_at": "2026-13-02T03:04:05Z"}`,
		`{"paid_at": "yesterday"}`,
		`{"paid_at": null}`,
		`{"linked_signals": []}`,
		`{"linked_signals": ["device", "shipping_address"]}`,
		`{"linked_signals": null}`,
		`{"linked_signals": ["device",]}`,
		`{"linked_signals": [1]}`,
		`{"items_already_claimed": true, "seller_verified": false}`,
		`{"items_already_claimed": 1}`,
		`{"seller_risk_score": 30, "unknown": {"nested": [1, {"a": null}]}}`,
		`{"amount": 12,}`,
		`{"amount": 12} x`,
		`{"amount": 12`,
		`[]`,
		``,
		`null`,
	} {
		var want, got factsJSON
		wantErr := json.Unmarshal([]byte(give), &want)
		gotErr := decodeFacts([]byte(give), &got)
		require.Equal(t, wantErr == nil, gotErr == nil, "%s: %v, %v", give, wantErr, gotErr)
		if wantErr == nil {
			sameFacts(t, want, got)
		}
	}
}

// FuzzDecodeFacts holds the hand reading to encoding/json: whatever it
// reads, encoding/json reads too, and the same.
func FuzzDecodeFacts(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		_, raw, err := DecisionJSON(decision.Decision{}, drawFacts(r, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)))
		require.NoError(f, err)
		f.Add(raw)
		f.Add([]byte(jsonbText(f, raw)))
	}
	f.Add([]byte(`{"amount": -0, "linked_signals": [], "delivered_at": null}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var got factsJSON
		if !(&factsReader{data: doc}).read(&got) {
			return // encoding/json's to read
		}
		var want factsJSON
		require.NoError(t, json.Unmarshal(doc, &want), "read by hand: %q", doc)
		sameFacts(t, want, got)
	})
}
