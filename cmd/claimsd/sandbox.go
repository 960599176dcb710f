package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
)

const sandboxUsage = `Usage: claimsd sandbox ACTION --claim ID [flags]

Makes the sandbox payment provider's records disagree with the engine's,
to see a reconciliation find it:
  lose-refund    forget the claim's refunds (the provider has no record)
  fail-refund    report the claim's refunds failed, without a webhook
  stray-refund   record a refund of --amount --currency naming --claim,
                 which need not exist

'claimsd sandbox ACTION --help' shows an action's flags.
`

// sandboxActions are what sandbox can do, by name.
var sandboxActions = []string{"lose-refund", "fail-refund", "stray-refund"}

// sandboxCmd runs one of the sandbox provider's controls.
func sandboxCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, sandboxUsage)
		return errUsage
	}
	action := args[0]
	if action == "-h" || action == "--help" || action == "-help" {
		fmt.Fprint(stdout, sandboxUsage)
		return errHelped
	}
	if !slices.Contains(sandboxActions, action) {
		return usageError(stderr, "sandbox", "unknown action %q (%s)", action, strings.Join(sandboxActions, ", "))
	}
	var claimID, currency string
	var amount int64
	cfg, _, err := parseFlags(command{
		name:     "sandbox " + action,
		synopsis: "sandbox " + action + " --claim ID" + map[bool]string{true: " --amount N [--currency EUR]"}[action == "stray-refund"] + " [flags]",
		about:    "Makes the sandbox provider's records of a claim disagree with the engine's (see claimsd sandbox --help).",
		settings: databaseSettings,
		own: func(fs *flag.FlagSet) {
			fs.StringVar(&claimID, "claim", "", "the claim whose refunds to change, or to name")
			fs.Int64Var(&amount, "amount", 0, "stray-refund: amount in minor units")
			fs.StringVar(&currency, "currency", "EUR", "stray-refund: ISO 4217 currency")
		},
	}, args[1:], stdout, stderr, getenv)
	if err != nil {
		return err
	}
	if err := validation.CheckID("--claim", claimID); err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.leave(log)
	p := sandbox.New(db.DB(), sandbox.Config{})
	switch action {
	case "lose-refund":
		n, err := p.LoseRefunds(ctx, claimID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "the sandbox forgot %d refund(s) of %s\n", n, claimID)
	case "fail-refund":
		n, err := p.FailRefunds(ctx, claimID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "the sandbox reports %d refund(s) of %s failed\n", n, claimID)
	case "stray-refund":
		m, err := money.New(amount, currency)
		if err != nil {
			return fmt.Errorf("--currency: %w", err)
		}
		id, err := p.StrayRefund(ctx, claimID, m)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "the sandbox made refund %s of %s naming %s\n", id, m, claimID)
	}
	return nil
}
