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
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "claimsd:", err)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `claimsd — fast-refund consumer claims engine

Usage:
  claimsd serve      [flags]   run the API (starts a private PostgreSQL when DATABASE_URL is unset)
  claimsd migrate    [flags]   apply pending database migrations
  claimsd token      --role R --sub S [--ttl 24h] [--login-url] [flags]   print an API token, or a one-time console sign-in link
  claimsd seed-demo  [flags]   load demo sellers, shoppers and orders
  claimsd sandbox    ACTION --claim ID   make the sandbox provider's records disagree (lose-refund, fail-refund, stray-refund)
  claimsd revoke-sessions --sub S [--role R]   end every console sign-in of a person
  claimsd help       [command] show the flags of a command

Every setting is an environment variable with a matching flag; see the README.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
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
	case "help", "-h", "--help":
		if len(rest) > 0 {
			return run(ctx, []string{rest[0], "--help"}, stdout, stderr, getenv)
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "claimsd: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}
