package main

import (
	"bytes"
	"context"
	"github.com/claimsd/claimsd/adapters/web"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/config"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestTokenUsesTheDataDirSecret(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := envOf(map[string]string{"CLAIMSD_DATA_DIR": dir})
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"token", "--role", "agent", "--sub", "ana", "--ttl", "1h"}, &out, &errOut, env))

	secret, err := os.ReadFile(filepath.Join(dir, "jwt-secret"))
	require.NoError(t, err)
	info, err := os.Stat(filepath.Join(dir, "jwt-secret"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(strings.TrimSpace(out.String()), claims, func(*jwt.Token) (any, error) {
		return []byte(strings.TrimSpace(string(secret))), nil
	})
	require.NoError(t, err)
	require.Equal(t, "agent", claims["role"])
	require.Equal(t, "ana", claims["sub"])

	// A second token reuses the same secret.
	out.Reset()
	require.NoError(t, run(context.Background(), []string{"token", "--role", "shopper", "--sub", "shp_1"}, &out, &errOut, env))
	again, err := os.ReadFile(filepath.Join(dir, "jwt-secret"))
	require.NoError(t, err)
	require.Equal(t, secret, again)
}

func TestTokenRefusesBadInput(t *testing.T) {
	t.Parallel()
	env := envOf(map[string]string{"CLAIMSD_DATA_DIR": t.TempDir()})
	for _, args := range [][]string{
		{"token", "--role", "shopper"},
		{"token", "--role", "king", "--sub", "x"},
		{"token", "--role", "shopper", "--sub", "has space"},
		{"token", "--role", "shopper", "--sub", "x", "--ttl", "-1h"},
	} {
		err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}, env)
		require.Error(t, err, args)
	}
}

func TestBadConfigurationListsEveryProblem(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"serve", "--db-max-conns", "0"}, &bytes.Buffer{}, &bytes.Buffer{},
		envOf(map[string]string{"CLAIMSD_HTTP_ADDR": "nowhere", "CLAIMSD_LOG_FORMAT": "xml"}))
	var cerr *config.Error
	require.ErrorAs(t, err, &cerr)
	require.Len(t, cerr.Problems, 3)
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	var errOut bytes.Buffer
	err := run(context.Background(), []string{"fly"}, &bytes.Buffer{}, &errOut, envOf(nil))
	require.ErrorIs(t, err, errUsage)
	require.Contains(t, errOut.String(), "unknown command")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestServeMigrateSeed runs the real commands against a database of their
// own: migrate, seed-demo twice (it is repeatable), then serve until
// /readyz answers, then a clean stop.
func TestServeMigrateSeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, cleanup, err := pgtest.Database(ctx, "cmd")
	require.NoError(t, err)
	t.Cleanup(cleanup)
	addr := freeAddr(t)
	env := envOf(map[string]string{"DATABASE_URL": url, "CLAIMSD_DATA_DIR": t.TempDir(), "CLAIMSD_HTTP_ADDR": addr})

	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"migrate"}, &out, &bytes.Buffer{}, env))
	require.Contains(t, out.String(), "applied 0001_init.sql")
	out.Reset()
	require.NoError(t, run(ctx, []string{"migrate"}, &out, &bytes.Buffer{}, env))
	require.Contains(t, out.String(), "up to date")

	for range 2 {
		out.Reset()
		require.NoError(t, run(ctx, []string{"seed-demo"}, &out, &bytes.Buffer{}, env))
		require.Contains(t, out.String(), "ord_1001")
	}

	// The sandbox's controls: a stray refund, then lost, then nothing left
	// to fail; bad input is refused.
	out.Reset()
	require.NoError(t, run(ctx, []string{"sandbox", "stray-refund", "--claim", "clm_ghost", "--amount", "777"}, &out, &bytes.Buffer{}, env))
	require.Contains(t, out.String(), "of 7.77 EUR naming clm_ghost")
	out.Reset()
	require.NoError(t, run(ctx, []string{"sandbox", "fail-refund", "--claim", "clm_ghost"}, &out, &bytes.Buffer{}, env))
	require.Contains(t, out.String(), "reports 1 refund(s) of clm_ghost failed")
	out.Reset()
	require.NoError(t, run(ctx, []string{"sandbox", "lose-refund", "--claim", "clm_ghost"}, &out, &bytes.Buffer{}, env))
	require.Contains(t, out.String(), "forgot 1 refund(s)")
	out.Reset()
	require.NoError(t, run(ctx, []string{"sandbox", "lose-refund", "--claim", "clm_ghost"}, &out, &bytes.Buffer{}, env))
	require.Contains(t, out.String(), "forgot 0 refund(s)")
	require.ErrorIs(t, run(ctx, []string{"sandbox", "burn-refund", "--claim", "clm_ghost"}, io.Discard, io.Discard, env), errUsage)
	require.ErrorContains(t, run(ctx, []string{"sandbox", "lose-refund"}, io.Discard, io.Discard, env), "--claim")
	require.ErrorContains(t, run(ctx, []string{"sandbox", "stray-refund", "--claim", "c1", "--amount", "5", "--currency", "XYZ"}, io.Discard, io.Discard, env), "--currency")
	require.ErrorContains(t, run(ctx, []string{"sandbox", "stray-refund", "--claim", "c1", "--amount", "0"}, io.Discard, io.Discard, env), "positive")
	require.ErrorContains(t, run(ctx, []string{"sandbox", "stray-refund", "--claim", "c1", "--amount", "9223372036854775807"}, io.Discard, io.Discard, env),
		"at most 10000000000.00 EUR")

	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(sctx, []string{"serve"}, io.Discard, io.Discard, env) }()
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped before it was ready: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	requireHeadersRefusedInShape(t, addr)
	stop()
	require.NoError(t, <-done)
}

// requireHeadersRefusedInShape sends headers over the API's limit, and
// over net/http's default one, to the serving process: the API answers in
// its error shape, the console with its error page, never net/http's plain
// text.
func requireHeadersRefusedInShape(t *testing.T, addr string) {
	t.Helper()
	for _, size := range []int{web.MaxHeaderBytes, 2 << 20} {
		for _, path := range []string{"/healthz", "/console/signin"} {
			req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
			require.NoError(t, err)
			req.Header.Set("X-Padding", strings.Repeat("p", size))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode, "%s with %d bytes: %s", path, size, body)
			if path == "/healthz" {
				require.Contains(t, string(body), `"code":"headers_too_large"`, "%s with %d bytes", path, size)
			} else {
				require.Contains(t, resp.Header.Get("Content-Type"), "text/html", "%s with %d bytes", path, size)
				require.Contains(t, string(body), "Request too large", "%s with %d bytes", path, size)
			}
		}
	}
}
