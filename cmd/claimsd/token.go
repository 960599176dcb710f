package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/claimsd/claimsd/adapters/httpapi"
)

func token(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var role, sub string
	var ttl time.Duration
	cfg, _, err := parseFlags("token", args, stdout, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&role, "role", "", "shopper, agent, finance, admin or service")
		fs.StringVar(&sub, "sub", "", "the subject: a shopper id, an agent's name, a service name")
		fs.DurationVar(&ttl, "ttl", 24*time.Hour, "how long the token is valid")
	})
	if err != nil {
		return err
	}
	if role == "" || sub == "" {
		return fmt.Errorf("token needs --role and --sub, e.g. claimsd token --role shopper --sub shp_alice")
	}
	if ttl <= 0 {
		return fmt.Errorf("--ttl must be positive")
	}
	secret, err := cfg.Secret()
	if err != nil {
		return err
	}
	tok, err := httpapi.Keys{Secret: secret, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience}.Mint(role, sub, ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
