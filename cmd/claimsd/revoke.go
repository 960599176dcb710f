package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/claimsd/claimsd/adapters/console"
)

// revokeSessions ends every console sign-in of a person, as an
// administrator does on the console's Sign-ins page: their session
// cookies open nothing afterwards.
//
//	claimsd revoke-sessions --sub ana [--role agent]
func revokeSessions(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var role, sub string
	cfg, _, err := parseFlags(command{
		name:     "revoke-sessions",
		synopsis: "revoke-sessions --sub S [--role R] [flags]",
		about: "Ends every console sign-in of a person, as an administrator does on the console's\n" +
			"Sign-ins page: their session cookies open nothing afterwards.",
		settings: databaseSettings,
		own: func(fs *flag.FlagSet) {
			fs.StringVar(&sub, "sub", "", "whose sign-ins to end: an agent's name, a seller or shopper id")
			fs.StringVar(&role, "role", "", "only their sign-ins in this role (shopper, seller, agent, finance, admin); empty: every role")
		},
	}, args, stdout, stderr, getenv)
	if err != nil {
		return err
	}
	if sub == "" {
		return usageError(stderr, "revoke-sessions", "--sub is needed, e.g. claimsd revoke-sessions --sub ana")
	}
	log := newLogger(cfg, stderr)
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.leave(log)
	n, err := console.RevokeSessions(ctx, db.Store, role, sub)
	if err != nil {
		return err
	}
	log.Info("console sessions revoked", "sub", sub, "role", role, "ended", n, "by", "claimsd revoke-sessions")
	who := sub
	if role != "" {
		who += " (" + role + ")"
	}
	fmt.Fprintf(stdout, "ended %d console sign-in(s) of %s\n", n, who)
	return nil
}
