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

// TestUseConsoleLoginForgetsExpiredLinks: a sign-in deletes links more
// than a day past their expiry, and keeps the rest.
func TestUseConsoleLoginForgetsExpiredLinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old, recent := uniq("jti_old"), uniq("jti_recent")
	for jti, expired := range map[string]time.Time{old: now.Add(-50 * time.Hour), recent: now.Add(-time.Hour)} {
		_, err := store.DB().ExecContext(ctx, `INSERT INTO console_logins (jti, role, subject, used_at, expires_at)
			VALUES ($1, 'agent', 'ana', $2, $2)`, jti, expired)
		require.NoError(t, err)
	}

	first, err := store.UseConsoleLogin(ctx, uniq("jti_new"), "agent", "ana", now.Add(15*time.Minute), now)
	require.NoError(t, err)
	require.True(t, first)
	count := func(jti string) int {
		var n int
		require.NoError(t, store.DB().QueryRowContext(ctx, `SELECT count(*) FROM console_logins WHERE jti = $1`, jti).Scan(&n))
		return n
	}
	require.Zero(t, count(old), "a link two days past its expiry is forgotten")
	require.Equal(t, 1, count(recent), "a link an hour past its expiry is kept")
}
