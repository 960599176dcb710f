package claimflow_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

var shopper1 = claimflow.Viewer{Role: claimflow.RoleShopper, Subject: "shp_1"}

func fileReq(items ...claim.Item) claimflow.FileClaim {
	return claimflow.FileClaim{OrderID: "ord_1", Reason: "damaged", Description: "broken", Items: items}
}

// TestFileOncePerKey: the same key and request give the first claim again,
// replayed, and file nothing; the same key with another request is
// refused; each door and each caller has its own keys.
func TestFileOncePerKey(t *testing.T) {
	t.Parallel()
	svc, fs := setup(t)
	ctx := context.Background()
	api := claimflow.Key{Door: claimflow.DoorAPI, Value: "k-1"}

	first, err := svc.File(ctx, shopper1, fileReq(claim.Item{SKU: "a", Quantity: 1}), api)
	require.NoError(t, err)
	require.False(t, first.Replayed)
	again, err := svc.File(ctx, shopper1, fileReq(claim.Item{SKU: "a", Quantity: 1}), api)
	require.NoError(t, err)
	require.True(t, again.Replayed)
	require.Equal(t, first.Record.Claim.ID(), again.Record.Claim.ID())
	require.Len(t, fs.saved, 1, "a replay files nothing")

	_, err = svc.File(ctx, shopper1, fileReq(claim.Item{SKU: "b", Quantity: 1}), api)
	require.ErrorIs(t, err, claimflow.ErrIdempotencyKeyReused)

	// The console's form with the same key value is another key.
	form, err := svc.File(ctx, shopper1, fileReq(claim.Item{SKU: "a", Quantity: 1}), claimflow.Key{Door: claimflow.DoorConsole, Value: "k-1"})
	require.NoError(t, err)
	require.False(t, form.Replayed)
	require.Len(t, fs.saved, 2)

	// Without a key, each call files.
	part := fileReq(claim.Item{SKU: "b", Quantity: 1})
	amount := int64(500)
	part.Amount = &amount
	for range 2 {
		ch, err := svc.File(ctx, shopper1, part, claimflow.Key{Door: claimflow.DoorAPI})
		require.NoError(t, err)
		require.False(t, ch.Replayed)
	}
	require.Len(t, fs.saved, 4)
}

// TestFileRefusesBadInputFirst: the key and the request name their field
// before anything is filed.
func TestFileRefusesBadInputFirst(t *testing.T) {
	t.Parallel()
	svc, fs := setup(t)
	for _, tt := range []struct {
		name      string
		give      claimflow.FileClaim
		giveKey   string
		wantField string
		wantCode  string
	}{
		{"key too long", fileReq(), strings.Repeat("k", claimflow.MaxKeyLength+1), claimflow.KeyField, "invalid_idempotency_key"},
		{"key with a space", fileReq(), "two words", claimflow.KeyField, "invalid_idempotency_key"},
		{"key not ASCII", fileReq(), "clé", claimflow.KeyField, "invalid_idempotency_key"},
		{"no order", claimflow.FileClaim{Reason: "damaged", Description: "x"}, "", "order_id", "required"},
		{"bad order id", claimflow.FileClaim{OrderID: "has space", Reason: "damaged", Description: "x"}, "", "order_id", "invalid_id"},
		{"unknown reason", claimflow.FileClaim{OrderID: "ord_1", Reason: "meh", Description: "x"}, "", "reason", "unknown_reason"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.File(context.Background(), shopper1, tt.give, claimflow.Key{Door: claimflow.DoorAPI, Value: tt.giveKey})
			var ve *validation.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tt.wantField, ve.Field)
			require.Equal(t, tt.wantCode, ve.Code)
		})
	}
	require.Empty(t, fs.saved)
}

// TestFileGivesBackWhatFiledNothing: with a burst of two, requests that
// failed on our side or replayed a key leave the shopper's turns alone;
// ones that filed or were refused for what they asked spend them.
func TestFileGivesBackWhatFiledNothing(t *testing.T) {
	t.Parallel()
	// The clock moves a millisecond per look, as a real one would: a
	// turn given back after its reservation must still count.
	at := now
	var mu sync.Mutex
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		at = at.Add(time.Millisecond)
		return at
	}
	svc, fs := setup(t, claimflow.WithLimiter(claimflow.NewClaimLimiter(1, 2, clock)))
	ctx := context.Background()
	key := claimflow.Key{Door: claimflow.DoorAPI, Value: "replayed"}

	_, err := svc.File(ctx, shopper1, fileReq(claim.Item{SKU: "a", Quantity: 1}), key)
	require.NoError(t, err, "the first of the burst")
	fs.fail = fmt.Errorf("submit: %w", claimflow.ErrUnavailable)
	for range 20 {
		_, err := svc.File(ctx, shopper1, fileReq(claim.Item{SKU: "b", Quantity: 1}), claimflow.Key{Door: claimflow.DoorAPI})
		require.ErrorIs(t, err, claimflow.ErrUnavailable)
		ch, err := svc.File(ctx, shopper1, fileReq(claim.Item{SKU: "a", Quantity: 1}), key)
		require.NoError(t, err)
		require.True(t, ch.Replayed)
	}
	fs.fail = nil
	_, err = svc.File(ctx, shopper1, claimflow.FileClaim{OrderID: "ord_1", Reason: "meh"}, claimflow.Key{Door: claimflow.DoorAPI})
	var ve *validation.Error
	require.ErrorAs(t, err, &ve, "the second of the burst, spent on bad input")
	_, err = svc.File(ctx, shopper1, fileReq(claim.Item{SKU: "b", Quantity: 1}), claimflow.Key{Door: claimflow.DoorAPI})
	var rl *claimflow.RateLimitedError
	require.ErrorAs(t, err, &rl, "the burst is spent")
	require.Positive(t, rl.RetryAfter)
	require.False(t, claimflow.IsRefusal(fmt.Errorf("x: %w", claimflow.ErrUnavailable)))
	require.True(t, claimflow.IsRefusal(rl))

	// Another shopper has turns of their own.
	_, err = svc.File(ctx, claimflow.Viewer{Role: claimflow.RoleShopper, Subject: "shp_2"}, fileReq(), claimflow.Key{Door: claimflow.DoorAPI})
	require.ErrorIs(t, err, claimflow.ErrNotFound, "not rate limited: the order is simply not theirs")
}
