package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTypeErrorPathHasIndexes(t *testing.T) {
	t.Parallel()
	type item struct {
		SKU      string `json:"sku"`
		Quantity int64  `json:"quantity"`
	}
	type req struct {
		OrderID string `json:"order_id"`
		Items   []item `json:"items"`
		Nested  struct {
			Tags []string `json:"tags"`
		} `json:"nested"`
	}
	tests := []struct {
		give string
		want string
	}{
		{give: `{"order_id": 5}`, want: "order_id"},
		{give: `{"items":[{"sku":"a","quantity":1},{"sku":"b","quantity":"2"}]}`, want: "items[1].quantity"},
		{give: `{"items":[{"sku":"a","quantity":1},{"quantity":1,"sku":7}]}`, want: "items[1].sku"},
		{give: `{"items":[[1]]}`, want: "items[0]"},
		{give: `{"items":{"sku":"a"}}`, want: "items"},
		{give: `{"nested":{"tags":["a",{"x":1},3]}}`, want: "nested.tags[1]"},
		{give: `{"order_id":"x","items":[{"sku":"a","quantity":1.5}]}`, want: "items[0].quantity"},
	}
	for _, tt := range tests {
		var r req
		err := decodeError([]byte(tt.give), json.Unmarshal([]byte(tt.give), &r))
		var typ *json.UnmarshalTypeError
		require.True(t, errors.As(err, &typ), "%s: %v", tt.give, err)
		require.Equal(t, tt.want, typ.Field, tt.give)
	}
}

// TestCheckJSONRefuses holds the strict reading to what the published
// schema says: exact field names, each key once, valid UTF-8, at any
// depth, each refusal naming the field.
func TestCheckJSONRefuses(t *testing.T) {
	t.Parallel()
	type item struct {
		SKU      string `json:"sku"`
		Quantity int64  `json:"quantity"`
	}
	type embedded struct {
		Note string `json:"note"`
	}
	type req struct {
		embedded
		OrderID string            `json:"order_id"`
		Items   []item            `json:"items,omitempty"`
		Labels  map[string]string `json:"labels"`
		Skip    string            `json:"-"`
		Extra   json.RawMessage   `json:"extra"`
	}
	tests := []struct {
		give      string
		wantCode  string
		wantField string
	}{
		{give: `{"ORDER_ID":"a"}`, wantCode: "unknown_field", wantField: "ORDER_ID"},
		{give: `{"Order_Id":"a","order_id":"b"}`, wantCode: "unknown_field", wantField: "Order_Id"},
		{give: `{"items":[{"sku":"a"},{"SKU":"b"}]}`, wantCode: "unknown_field", wantField: "items[1].SKU"},
		{give: `{"Note":"x"}`, wantCode: "unknown_field", wantField: "Note"},
		{give: `{"Skip":"x"}`, wantCode: "unknown_field", wantField: "Skip"},
		{give: `{"items":[{"sku":"a","colour":"red"}]}`, wantCode: "unknown_field", wantField: "items[0].colour"},
		{give: `{"order_id":"a","order_id":"b"}`, wantCode: "duplicate_field", wantField: "order_id"},
		{give: `{"items":[{"sku":"a"},{"sku":"b","quantity":1,"sku":"c"}]}`, wantCode: "duplicate_field", wantField: "items[1].sku"},
		{give: `{"labels":{"a":"1","a":"2"}}`, wantCode: "duplicate_field", wantField: "labels.a"},
		{give: `{"extra":{"x":{"y":1,"y":2}}}`, wantCode: "duplicate_field", wantField: "extra.x.y"},
		{give: "{\"order_id\":\"a\xffb\"}", wantCode: "invalid_utf8", wantField: "order_id"},
		{give: "{\"items\":[{\"sku\":\"ok\"},{\"sku\":\"\xc3\"}]}", wantCode: "invalid_utf8", wantField: "items[1].sku"},
		{give: "{\"labels\":{\"k\xfe\":\"v\"}}", wantCode: "invalid_utf8", wantField: "labels"},
		{give: "{\"k\xfe\":\"v\"}", wantCode: "invalid_utf8", wantField: ""},
		{give: `{"order_id":"\ud800"}`, wantCode: "invalid_utf8", wantField: "order_id"},
		{give: `{"order_id":"a\udc00"}`, wantCode: "invalid_utf8", wantField: "order_id"},
		{give: `{"order_id":"\ud800\u0041"}`, wantCode: "invalid_utf8", wantField: "order_id"},
		{give: `{"labels":{"\udfff":"v"}}`, wantCode: "invalid_utf8", wantField: "labels"},
		{give: `{"extra":` + strings.Repeat("[", 40), wantCode: "too_deep", wantField: "extra" + strings.Repeat("[0]", 31)},
		{give: strings.Repeat(`{"extra":`, 40), wantCode: "too_deep", wantField: strings.TrimSuffix(strings.Repeat("extra.", 32), ".")},
	}
	for _, tt := range tests {
		err := checkJSON([]byte(tt.give), reflect.TypeFor[*req]())
		var ae *apiError
		require.True(t, errors.As(err, &ae), "%s: %v", tt.give, err)
		require.Equal(t, http.StatusBadRequest, ae.Status, tt.give)
		require.Equal(t, tt.wantCode, ae.Code, tt.give)
		require.Equal(t, tt.wantField, ae.Field, tt.give)
		require.NotEmpty(t, ae.Message, tt.give)
	}
}

// TestCheckJSONTakes: what the schema allows passes, and what is not JSON
// at all is left for the decoder to report.
func TestCheckJSONTakes(t *testing.T) {
	t.Parallel()
	type item struct {
		SKU string `json:"sku"`
	}
	type req struct {
		OrderID string            `json:"order_id"`
		Items   []item            `json:"items"`
		Labels  map[string]string `json:"labels"`
	}
	for _, give := range []string{
		`{"order_id":"a","items":[{"sku":"a"},{"sku":"a"}],"labels":{"a":"1","A":"2"}}`,
		`{"order_id":"caf\u00e9 \ud83d\ude00 \\ud800","items":[]}`,
		"{\"order_id\":\"café 😀\"}",
		`[{"order_id":"a"}]`,
		`{"order_id":`,
		`{"order_id":"a"} {"order_id":"a"}`,
		`not json`,
	} {
		require.NoError(t, checkJSON([]byte(give), reflect.TypeFor[*req]()), give)
	}
}
