package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/config"
)

// TestHelpSucceeds: help asked for in any of the usual ways goes to
// standard output, and claimsd succeeds.
func TestHelpSucceeds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		give []string
		want string
	}{
		{give: []string{"--help"}, want: "Commands:"},
		{give: []string{"-h"}, want: "Commands:"},
		{give: []string{"help"}, want: "Commands:"},
		{give: []string{"help", "help"}, want: "Commands:"},
		{give: []string{"serve", "--help"}, want: "Usage: claimsd serve"},
		{give: []string{"serve", "-h"}, want: "Usage: claimsd serve"},
		{give: []string{"help", "serve"}, want: "Usage: claimsd serve"},
		{give: []string{"migrate", "--help"}, want: "Usage: claimsd migrate"},
		{give: []string{"seed-demo", "--help"}, want: "Usage: claimsd seed-demo"},
		{give: []string{"token", "--help"}, want: "Usage: claimsd token"},
		{give: []string{"help", "token"}, want: "Usage: claimsd token"},
		{give: []string{"token", "--role", "agent", "--help"}, want: "Usage: claimsd token"},
		{give: []string{"sandbox", "--help"}, want: "Usage: claimsd sandbox ACTION"},
		{give: []string{"help", "sandbox"}, want: "Usage: claimsd sandbox ACTION"},
		{give: []string{"sandbox", "stray-refund", "--help"}, want: "Usage: claimsd sandbox stray-refund --claim ID --amount N"},
		{give: []string{"revoke-sessions", "--help"}, want: "Usage: claimsd revoke-sessions --sub S"},
		{give: []string{"help", "revoke-sessions"}, want: "Usage: claimsd revoke-sessions --sub S"},
	} {
		t.Run(strings.Join(tt.give, " "), func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.give, &out, &errOut, envOf(map[string]string{"CLAIMSD_DATA_DIR": t.TempDir()}))
			require.NoError(t, err)
			require.Contains(t, out.String(), tt.want)
			require.Empty(t, errOut.String())
		})
	}
}

// TestUsageMistakes: a command, flag or argument claimsd does not know is
// explained on standard error with where to read more, and is a usage
// error (exit status 2).
func TestUsageMistakes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		give []string
		want []string
	}{
		{give: nil, want: []string{"Commands:"}},
		{give: []string{"fly"}, want: []string{`unknown command "fly"`, "Run 'claimsd help'"}},
		{give: []string{"help", "fly"}, want: []string{`unknown command "fly"`, "Run 'claimsd help'"}},
		{give: []string{"--http-addr", ":1"}, want: []string{"--http-addr comes after a command", "Run 'claimsd help'"}},
		{give: []string{"serve", "--bogus"}, want: []string{"claimsd serve: unknown flag --bogus", "Run 'claimsd serve --help'"}},
		{give: []string{"token", "--bogus"}, want: []string{"claimsd token: unknown flag --bogus", "Run 'claimsd token --help'"}},
		{give: []string{"token", "--ttl", "soon"}, want: []string{"claimsd token: invalid value", "Run 'claimsd token --help'"}},
		{give: []string{"token", "--role", "shopper"}, want: []string{"--role and --sub are needed", "Run 'claimsd token --help'"}},
		{give: []string{"migrate", "now"}, want: []string{`claimsd migrate: unexpected argument "now"`, "Run 'claimsd migrate --help'"}},
		{give: []string{"sandbox"}, want: []string{"Usage: claimsd sandbox ACTION"}},
		{give: []string{"sandbox", "burn-refund", "--claim", "clm_1"}, want: []string{`unknown action "burn-refund"`, "Run 'claimsd sandbox --help'"}},
		{give: []string{"sandbox", "lose-refund", "--bogus"}, want: []string{"claimsd sandbox lose-refund: unknown flag --bogus", "Run 'claimsd sandbox lose-refund --help'"}},
		{give: []string{"revoke-sessions"}, want: []string{"--sub is needed", "Run 'claimsd revoke-sessions --help'"}},
		{give: []string{"revoke-sessions", "--sub", "ana", "--bogus"}, want: []string{"claimsd revoke-sessions: unknown flag --bogus"}},
	} {
		t.Run(strings.Join(tt.give, " "), func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.give, &out, &errOut, envOf(map[string]string{"CLAIMSD_DATA_DIR": t.TempDir()}))
			require.ErrorIs(t, err, errUsage)
			require.Equal(t, 2, exitCode(err))
			for _, want := range tt.want {
				require.Contains(t, errOut.String(), want)
			}
			require.Empty(t, out.String())
		})
	}
}

// TestTokenHelpShowsItsOwnFlags: token's help starts with its own flags,
// in the order its synopsis names them, and lists only the few settings
// it reads instead of all of them.
func TestTokenHelpShowsItsOwnFlags(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"help", "token"}, &out, &bytes.Buffer{}, envOf(nil)))
	help := out.String()
	var at []int
	for _, f := range []string{"--role string", "--sub string", "--ttl duration", "--login-url\n", "--base-url string", "Settings it reads", "--jwt-secret, CLAIMSD_JWT_SECRET"} {
		i := strings.Index(help, f)
		require.GreaterOrEqual(t, i, 0, "token's help lacks %q:\n%s", f, help)
		at = append(at, i)
	}
	require.True(t, slices.IsSorted(at), "token's help is out of order:\n%s", help)
	require.NotContains(t, help, "CLAIMSD_SANDBOX_FAIL_RATE")
	require.Contains(t, help, "'claimsd serve --help' lists them all")
	require.Less(t, strings.Count(help, "\n"), 40)

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"serve", "--help"}, &out, &bytes.Buffer{}, envOf(nil)))
	for _, s := range config.Settings() {
		require.Contains(t, out.String(), "--"+s.Flag+", "+s.Env, "serve's help lists every setting")
	}
}

// TestCommandSettingsExist keeps the settings the commands' help lists
// true to config.
func TestCommandSettingsExist(t *testing.T) {
	t.Parallel()
	var flags []string
	for _, s := range config.Settings() {
		flags = append(flags, s.Flag)
	}
	for _, f := range append(slices.Clone(databaseSettings), tokenSettings...) {
		require.Contains(t, flags, f)
	}
}

// TestExitStatus runs the binary: help succeeds, a usage mistake exits 2,
// a failure exits 1.
func TestExitStatus(t *testing.T) {
	t.Parallel()
	env := map[string]string{"CLAIMSD_DATA_DIR": t.TempDir()}
	for _, tt := range []struct {
		give []string
		env  map[string]string
		want int
	}{
		{give: []string{"--help"}, want: 0},
		{give: []string{"serve", "--help"}, want: 0},
		{give: []string{"help", "token"}, want: 0},
		{give: []string{"token", "--role", "agent", "--sub", "ana"}, want: 0},
		{give: []string{"serve", "--bogus"}, want: 2},
		{give: []string{"fly"}, want: 2},
		{give: []string{"token", "--role", "king", "--sub", "ana"}, want: 1},
		{give: []string{"serve"}, env: map[string]string{"CLAIMSD_LOG_FORMAT": "xml"}, want: 1},
	} {
		t.Run(strings.Join(tt.give, " "), func(t *testing.T) {
			t.Parallel()
			e := map[string]string{}
			for k, v := range env {
				e[k] = v
			}
			for k, v := range tt.env {
				e[k] = v
			}
			_, errOut, err := runCommand(t, e, tt.give...)
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tt.want, code, errOut)
		})
	}
}
