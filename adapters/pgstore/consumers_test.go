package pgstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConsumerLockOneAtATime: while one turn holds a consumer's lock,
// another turn of that consumer does not run, one of another consumer
// does, and the lock goes with the turn, whatever fn returned.
func TestConsumerLockOneAtATime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	consumer, other := uniq("test_consumer"), uniq("test_consumer")
	boom := errors.New("boom")
	ran, err := store.WithConsumerLock(ctx, consumer, func(ctx context.Context) error {
		inner, err := store.WithConsumerLock(ctx, consumer, func(context.Context) error {
			t.Error("ran while another turn held the lock")
			return nil
		})
		require.NoError(t, err)
		require.False(t, inner)
		inner, err = store.WithConsumerLock(ctx, other, func(context.Context) error { return nil })
		require.NoError(t, err)
		require.True(t, inner, "another consumer's lock is its own")
		return boom
	})
	require.True(t, ran)
	require.ErrorIs(t, err, boom, "fn's error comes back as it was")

	ran, err = store.WithConsumerLock(ctx, consumer, func(context.Context) error { return nil })
	require.NoError(t, err)
	require.True(t, ran, "the lock went with the turn")
}
