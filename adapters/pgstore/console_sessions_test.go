package pgstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func sessionHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// TestConsoleSessionLifecycle: a started sign-in is current for its own
// role and subject until it expires or ends, and for nobody else.
func TestConsoleSessionLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sub := uniq("ana")
	id := sessionHash(uniq("session"))
	expires := now.Add(12 * time.Hour)
	require.NoError(t, store.StartConsoleSession(ctx, id, "agent", sub, expires, now))

	active := func(id string, role, sub string, at time.Time) bool {
		t.Helper()
		ok, err := store.ConsoleSessionActive(ctx, id, role, sub, at)
		require.NoError(t, err)
		return ok
	}
	require.True(t, active(id, "agent", sub, now))
	require.True(t, active(id, "agent", sub, expires.Add(-time.Second)))
	require.False(t, active(id, "agent", sub, expires), "expired")
	require.False(t, active(id, "admin", sub, now), "another role")
	require.False(t, active(id, "agent", uniq("ben"), now), "another subject")
	require.False(t, active(sessionHash(uniq("session")), "agent", sub, now), "another session")

	var raw string
	require.NoError(t, store.DB().QueryRowContext(ctx, `SELECT id_hash FROM console_sessions WHERE subject = $1`, sub).Scan(&raw))
	require.Equal(t, id, raw, "only the hash is kept")

	require.NoError(t, store.EndConsoleSession(ctx, id))
	require.False(t, active(id, "agent", sub, now), "signed out")
	require.NoError(t, store.EndConsoleSession(ctx, id), "ending it again is no error")
}

// TestRevokeConsoleSessions: revoking ends every sign-in of the subject
// (in one role, or in all) and leaves everyone else's.
func TestRevokeConsoleSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ana, ben := uniq("ana"), uniq("ben")
	start := func(role, sub string) string {
		t.Helper()
		id := sessionHash(uniq("session"))
		require.NoError(t, store.StartConsoleSession(ctx, id, role, sub, now.Add(time.Hour), now))
		return id
	}
	anaAgent1, anaAgent2, anaAdmin, benAgent := start("agent", ana), start("agent", ana), start("admin", ana), start("agent", ben)
	active := func(id string, role, sub string) bool {
		t.Helper()
		ok, err := store.ConsoleSessionActive(ctx, id, role, sub, now)
		require.NoError(t, err)
		return ok
	}

	n, err := store.RevokeConsoleSessions(ctx, "agent", ana)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.False(t, active(anaAgent1, "agent", ana))
	require.False(t, active(anaAgent2, "agent", ana))
	require.True(t, active(anaAdmin, "admin", ana), "another role of the same subject is kept")
	require.True(t, active(benAgent, "agent", ben), "another person is kept")

	n, err = store.RevokeConsoleSessions(ctx, "", ana)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.False(t, active(anaAdmin, "admin", ana))
	require.True(t, active(benAgent, "agent", ben))

	n, err = store.RevokeConsoleSessions(ctx, "", ana)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to end")
}

// TestStartConsoleSessionForgetsEndedOnes: a sign-in deletes the
// sign-ins more than a day past their expiry by the database's clock,
// and keeps the others.
func TestStartConsoleSessionForgetsEndedOnes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sub := uniq("ana")
	var dbNow time.Time
	require.NoError(t, store.DB().QueryRowContext(ctx, `SELECT now()`).Scan(&dbNow))
	old, recent := sessionHash(uniq("old")), sessionHash(uniq("recent"))
	for id, ends := range map[string]time.Time{old: dbNow.Add(-25 * time.Hour), recent: dbNow.Add(-time.Hour)} {
		_, err := store.DB().ExecContext(ctx, `INSERT INTO console_sessions (id_hash, role, subject, created_at, expires_at)
			VALUES ($1, 'agent', $2, $3, $4)`, id, sub, now.Add(-12*time.Hour), ends)
		require.NoError(t, err)
	}
	require.NoError(t, store.StartConsoleSession(ctx, sessionHash(uniq("new")), "agent", sub, now.Add(12*time.Hour), now))
	count := func(id string) int {
		var n int
		require.NoError(t, store.DB().QueryRowContext(ctx, `SELECT count(*) FROM console_sessions WHERE id_hash = $1`, id).Scan(&n))
		return n
	}
	require.Zero(t, count(old), "a sign-in more than a day past its expiry is forgotten")
	require.Equal(t, 1, count(recent), "one an hour past it is kept (and refused)")
}
