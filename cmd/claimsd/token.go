package main

import (
	"flag"
	"fmt"
	"github.com/claimsd/claimsd/adapters/auth"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"io"
	"net"
	"time"

	"github.com/claimsd/claimsd/adapters/console"
)

func token(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var role, sub, baseURL string
	var ttl time.Duration
	var loginURL bool
	cfg, fs, err := parseFlags(command{
		name:     "token",
		synopsis: "token --role R --sub S [--ttl 24h] [--login-url [--base-url URL]] [flags]",
		about: "Prints an API token signed with the engine's secret, or with --login-url a one-time\n" +
			"link that signs the person in to the web console. Run it where serve runs, with the\n" +
			"same data directory (or CLAIMSD_JWT_SECRET), so the engine accepts what it prints.",
		settings: tokenSettings,
		own: func(fs *flag.FlagSet) {
			fs.StringVar(&role, "role", "", "shopper, seller, agent, finance, admin, service, rights_holder, enforcement or risk")
			fs.StringVar(&sub, "sub", "", "the subject: a shopper id, a seller id, an agent's name, a service name")
			fs.DurationVar(&ttl, "ttl", 24*time.Hour, "how long the token is valid (a sign-in link: 15m unless set)")
			fs.BoolVar(&loginURL, "login-url", false, "print a one-time sign-in link to the web console instead of an API token")
			fs.StringVar(&baseURL, "base-url", "", "where people reach the engine, for --login-url (default http:// and CLAIMSD_HTTP_ADDR)")
		},
	}, args, stdout, stderr, getenv)
	if err != nil {
		return err
	}
	if role == "" || sub == "" {
		return usageError(stderr, "token", "--role and --sub are needed, e.g. claimsd token --role shopper --sub shp_alice")
	}
	ttlSet := false
	fs.Visit(func(f *flag.Flag) { ttlSet = ttlSet || f.Name == "ttl" })
	if loginURL && !ttlSet {
		ttl = console.LoginTTL
	}
	if ttl <= 0 {
		return usageError(stderr, "token", "--ttl must be positive")
	}
	secret, err := cfg.Secret()
	if err != nil {
		return err
	}
	keys := auth.Keys{Secret: secret, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience}
	var out string
	if loginURL {
		if baseURL == "" {
			baseURL = defaultBaseURL(cfg.HTTPAddr)
		}
		out, err = console.LoginURL(keys, baseURL, role, sub, ttl, time.Now())
	} else {
		out, err = keys.Mint(claimflow.Role(role), sub, ttl, time.Now())
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, out)
	return nil
}

// defaultBaseURL is the engine's own address as a browser on the same
// machine reaches it: a listener on every interface (":8080",
// "0.0.0.0:8080") is reached through localhost.
func defaultBaseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
