package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
)

// TestRevokeSessionsEndsAPersonsSignIns: the command ends every console
// sign-in of the person named (in one role, or all) and no one else's.
func TestRevokeSessionsEndsAPersonsSignIns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL, cleanup, err := pgtest.Database(ctx, "cmdrevoke")
	require.NoError(t, err)
	t.Cleanup(cleanup)
	env := envOf(map[string]string{"DATABASE_URL": dbURL, "CLAIMSD_DATA_DIR": t.TempDir()})
	require.NoError(t, run(ctx, []string{"migrate"}, io.Discard, io.Discard, env))

	st, err := pgstore.Open(ctx, dbURL, pgstore.PoolConfig{})
	require.NoError(t, err)
	t.Cleanup(st.Close)
	now := time.Now()
	start := func(role, sub string) string {
		t.Helper()
		sum := sha256.Sum256([]byte(role + sub + now.String()))
		id := hex.EncodeToString(sum[:])
		require.NoError(t, st.StartConsoleSession(ctx, id, role, sub, now.Add(time.Hour), now))
		return id
	}
	active := func(id, role, sub string) bool {
		t.Helper()
		ok, err := st.ConsoleSessionActive(ctx, id, role, sub, time.Now())
		require.NoError(t, err)
		return ok
	}
	anaAgent, anaAdmin, ben := start("agent", "ana"), start("admin", "ana"), start("agent", "ben")

	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"revoke-sessions", "--sub", "ana", "--role", "agent"}, &out, io.Discard, env))
	require.Equal(t, "ended 1 console sign-in(s) of ana (agent)\n", out.String())
	require.False(t, active(anaAgent, "agent", "ana"))
	require.True(t, active(anaAdmin, "admin", "ana"))

	out.Reset()
	require.NoError(t, run(ctx, []string{"revoke-sessions", "--sub", "ana"}, &out, io.Discard, env))
	require.Equal(t, "ended 1 console sign-in(s) of ana\n", out.String())
	require.False(t, active(anaAdmin, "admin", "ana"))
	require.True(t, active(ben, "agent", "ben"), "another person's sign-in is kept")

	for _, args := range [][]string{
		{"revoke-sessions"},
		{"revoke-sessions", "--sub", "has space"},
		{"revoke-sessions", "--sub", "ana", "--role", "service"},
	} {
		require.Error(t, run(ctx, args, io.Discard, io.Discard, env), args)
	}
}
