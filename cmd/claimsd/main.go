// Command claimsd is the fast-refund claims engine: one binary that serves
// the API, migrates the database, mints tokens and seeds demo data.
//
//	claimsd serve                      # API on 127.0.0.1:8080, embedded PostgreSQL
//	claimsd migrate                    # apply pending migrations and exit
//	claimsd token --role shopper --sub shp_alice
//	claimsd token --role agent --sub ana --login-url   # sign in to the console
//	claimsd seed-demo                  # demo sellers, shoppers and orders
//	claimsd sandbox lose-refund --claim clm_…  # make the sandbox disagree
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil && !errors.Is(err, errUsage) {
		fmt.Fprintln(os.Stderr, "claimsd:", err)
	}
	os.Exit(exitCode(err))
}

// exitCode is 0 on success, 2 for a mistake in how claimsd was called
// (already explained on standard error) and 1 for any other failure.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		return 1
	}
}

const usage = `claimsd — fast-refund consumer claims engine

Usage: claimsd COMMAND [flags]

Commands:
  serve       run the API and the workers (starts a private PostgreSQL when DATABASE_URL is unset)
  migrate     apply pending database migrations
  token       print an API token (--role R --sub S), or a one-time console sign-in link (--login-url)
  seed-demo   load demo sellers, shoppers, orders, a brand and a counterfeit ring's claims
  sandbox     make the sandbox provider's records disagree (lose-refund, fail-refund, stray-refund)
  revoke-sessions  end every console sign-in of a person (--sub S [--role R])
  help        show how to call a command: claimsd help token (or claimsd token --help)

Every setting is an environment variable with a matching flag; claimsd serve --help lists them.
`

// run runs the command args name. Help that was asked for goes to stdout;
// mistakes in how claimsd was called go to stderr with a hint and return
// errUsage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	err := dispatch(ctx, args, stdout, stderr, getenv)
	if errors.Is(err, errHelped) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr, getenv)
	case "migrate":
		return migrate(ctx, rest, stdout, stderr, getenv)
	case "token":
		return token(rest, stdout, stderr, getenv)
	case "seed-demo":
		return seedDemo(ctx, rest, stdout, stderr, getenv)
	case "sandbox":
		return sandboxCmd(ctx, rest, stdout, stderr, getenv)
	case "revoke-sessions":
		return revokeSessions(ctx, rest, stdout, stderr, getenv)
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			if rest[0] == "help" {
				fmt.Fprint(stdout, usage)
				return nil
			}
			return dispatch(ctx, []string{rest[0], "--help"}, stdout, stderr, getenv)
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	if strings.HasPrefix(cmd, "-") {
		return usageError(stderr, "", "%s comes after a command, e.g. claimsd serve %s", cmd, cmd)
	}
	return usageError(stderr, "", "unknown command %q", cmd)
}
