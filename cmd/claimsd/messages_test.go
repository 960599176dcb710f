package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
)

// TestErrorsNameEachThingOnce: a failure's message names the setting,
// address or way out it is about once, not once per layer it went
// through.
func TestErrorsNameEachThingOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, cleanup, err := pgtest.Database(ctx, "cmd_messages")
	require.NoError(t, err)
	t.Cleanup(cleanup)
	busy := freeAddr(t)
	held, err := net.Listen("tcp", busy)
	require.NoError(t, err)
	t.Cleanup(func() { _ = held.Close() })

	// The embedded database refuses a folder whose name the shell would
	// expand; its parents are reachable so that refusal is what happens.
	odd, _ := embeddedEnv(t)
	oddDir := filepath.Join(filepath.Dir(odd["CLAIMSD_DATA_DIR"]), "da$ta")
	require.NoError(t, os.MkdirAll(oddDir, 0o755))

	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		once string
	}{
		{name: "setting from the environment", args: []string{"migrate"},
			env: map[string]string{"CLAIMSD_LOG_FORMAT": "xml"}, once: "CLAIMSD_LOG_FORMAT"},
		{name: "embedded database", args: []string{"migrate"},
			env: map[string]string{"CLAIMSD_DATA_DIR": oddDir}, once: "DATABASE_URL"},
		{name: "HTTP address taken", args: []string{"serve"},
			env: map[string]string{"DATABASE_URL": url, "CLAIMSD_HTTP_ADDR": busy}, once: busy},
		{name: "profiles address taken", args: []string{"serve"},
			env: map[string]string{"DATABASE_URL": url, "CLAIMSD_HTTP_ADDR": freeAddr(t), "CLAIMSD_PPROF_ADDR": busy}, once: busy},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"CLAIMSD_DATA_DIR": t.TempDir(), "CLAIMSD_JWT_SECRET": procSecret}
			for k, v := range tt.env {
				env[k] = v
			}
			err := run(ctx, tt.args, &bytes.Buffer{}, &bytes.Buffer{}, envOf(env))
			require.Error(t, err)
			require.Equal(t, 1, strings.Count(err.Error(), tt.once), err.Error())
		})
	}
}
