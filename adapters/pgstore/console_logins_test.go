package pgstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestUseConsoleLoginOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	jti := uniq("jti")
	expires := now.Add(15 * time.Minute)

	first, err := store.UseConsoleLogin(ctx, jti, "agent", "ana", expires, now)
	require.NoError(t, err)
	require.True(t, first)
	again, err := store.UseConsoleLogin(ctx, jti, "agent", "ana", expires, now.Add(time.Second))
	require.NoError(t, err)
	require.False(t, again, "a link is spent once")

	var row struct {
		Role, Subject     string
		UsedAt, ExpiresAt time.Time
	}
	require.NoError(t, store.DB().QueryRowContext(ctx, `SELECT role, subject, used_at, expires_at FROM console_logins WHERE jti = $1`, jti).
		Scan(&row.Role, &row.Subject, &row.UsedAt, &row.ExpiresAt))
	require.Equal(t, "agent", row.Role)
	require.Equal(t, "ana", row.Subject)
	require.True(t, row.UsedAt.Equal(now), "the first use is what is kept")
	require.True(t, row.ExpiresAt.Equal(expires))
}

func TestUseConsoleLoginRacedOnlyOneWins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	jti := uniq("jti")
	const n = 10
	wins := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wins[i], errs[i] = store.UseConsoleLogin(ctx, jti, "shopper", "shp_1", now.Add(time.Minute), now)
		}()
	}
	wg.Wait()
	won := 0
	for i := range n {
		require.NoError(t, errs[i])
		if wins[i] {
			won++
		}
	}
	require.Equal(t, 1, won)
}
