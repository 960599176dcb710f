package httpapi

import (
	"encoding/json"
	"errors"
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
