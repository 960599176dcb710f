// Command claimsbench loads claimsd through its public API, as a
// marketplace would, and reports how fast decisions come back, how many
// claims per second the whole engine carries to closed, what each claim
// costs the database, and how that compares with the least plain SQL can
// do on the same machine (the SQL floor).
//
//	claimsbench -db postgres://postgres@127.0.0.1:5432/postgres -floor      # start an engine on a fresh database
//	claimsbench -target http://127.0.0.1:8080 -db $DATABASE_URL -json      # load a running engine
//	claimsbench -db $DATABASE_URL -webhook -nats nats://127.0.0.1:4222       # with webhooks and the NATS stream
//	claimsbench -db $DATABASE_URL -backtest 1000000 -rates 100 -json         # policy backtests over a year of claims
//
// Started engines get a database of their own on the -db server, dropped
// afterwards; a running engine's tokens are minted from the same
// configuration `claimsd token` reads (CLAIMSD_JWT_SECRET or the data
// directory).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/claimsd/claimsd/adapters/stream"
	"github.com/claimsd/claimsd/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "claimsbench:", err)
		}
		os.Exit(1)
	}
}

// options are claimsbench's own flags.
type options struct {
	target      string
	claimsd     string
	db          string
	rates       []int
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	floor       bool
	floorDir    string
	floorSecs   int
	preload     int
	backtest    int
	json        bool
	pprof       string
	keep        bool
	check       bool
	webhook     bool
	nats        string
	statements  int
}

func parse(args []string, stdout io.Writer, getenv func(string) string) (options, config.Config, error) {
	var o options
	var rates string
	fs := config.FlagSet("claimsbench", func(fs *flag.FlagSet) {
		fs.StringVar(&o.target, "target", "", "URL of a running engine to load; empty starts one")
		fs.StringVar(&o.claimsd, "claimsd", "", "claimsd binary to start; empty builds ./cmd/claimsd")
		fs.StringVar(&o.db, "db", getenv("DATABASE_URL"), "PostgreSQL URL: with -target, the engine's database (for the database figures); otherwise the server on which a fresh database is made for the engine, with pg_stat_statements and pg_walinspect where a superuser may add them (empty: the engine's embedded database, without database figures). Statements per claim need pg_stat_statements in the engine's database and its library loaded (shared_preload_libraries); WAL commits per claim need pg_walinspect there, and, like WAL bytes, are the whole cluster's")
		fs.StringVar(&rates, "rates", "50,100,200,400", "open-loop rates, claims per second, comma-separated; empty skips the open loop")
		fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each open-loop step and of the closed loop")
		fs.DurationVar(&o.warmup, "warmup", 5*time.Second, "closed-loop load before anything is measured")
		fs.IntVar(&o.concurrency, "concurrency", 32, "closed-loop shoppers, each filing a claim once the previous one has settled (closed, or waiting for a person); 0 skips the closed loop")
		fs.BoolVar(&o.floor, "floor", false, "also run the SQL floor (pgbench) against the same PostgreSQL")
		fs.StringVar(&o.floorDir, "floor-dir", "../shared/bench", "folder of the SQL floor's run_floor.sh")
		fs.IntVar(&o.floorSecs, "floor-seconds", 30, "length of the SQL floor's run")
		fs.IntVar(&o.preload, "preload", 0, "after the first runs, load this many historical claims (with orders and events) and repeat the open loop")
		fs.IntVar(&o.backtest, "backtest", 0, "instead of the closed loop, the SQL floor and -preload: load this many claims decided over a year (with their orders, timelines and what became of them), then time backtests over them of the active policy (which must change none) and of a stricter candidate, each alone, and run the open loop (-rates) without and during a backtest of the candidate")
		fs.BoolVar(&o.json, "json", false, "print one JSON object instead of a table")
		fs.StringVar(&o.pprof, "pprof", "", "started engine: serve its profiles on this address (CLAIMSD_PPROF_ADDR)")
		fs.BoolVar(&o.keep, "keep", false, "started engine: keep its database afterwards")
		fs.BoolVar(&o.check, "check", false, "exit non-zero when a request failed or the closed loop closed no claim (for a smoke run)")
		fs.BoolVar(&o.webhook, "webhook", false, "receive webhooks in claimsbench (an endpoint on 127.0.0.1 for every event type, registered before the load; a running engine needs CLAIMSD_WEBHOOK_ALLOW_PRIVATE=true) and report their deliveries and lag once all the run's claims' events have arrived")
		fs.StringVar(&o.nats, "nats", "", "NATS server (e.g. nats://127.0.0.1:4222): a started engine publishes to it (CLAIMSD_NATS_URL); report what stream "+stream.DefaultStreamName+" took of the run once all the run's claims' events are there")
		fs.IntVar(&o.statements, "statements", 0, "print the N statements the engine's database ran most in the closed loop, with their calls per claim (pg_stat_statements), and put them in the JSON")
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintln(stdout, "Usage of claimsbench:")
			fs.PrintDefaults()
		}
		return o, config.Config{}, err
	}
	if fs.NArg() > 0 {
		return o, config.Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, f := range strings.Split(rates, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 100000 {
			return o, config.Config{}, fmt.Errorf("-rates: %q is not a rate from 1 to 100000", f)
		}
		o.rates = append(o.rates, n)
	}
	switch {
	case o.duration < time.Second:
		return o, config.Config{}, errors.New("-duration: at least 1s")
	case o.concurrency < 0:
		return o, config.Config{}, errors.New("-concurrency: must not be negative")
	case o.statements < 0:
		return o, config.Config{}, errors.New("-statements: must not be negative")
	case o.preload < 0:
		return o, config.Config{}, errors.New("-preload: must not be negative")
	case o.floor && o.db == "":
		return o, config.Config{}, errors.New("-floor needs -db (or DATABASE_URL): the floor runs on a PostgreSQL server")
	case o.preload > 0 && o.db == "":
		return o, config.Config{}, errors.New("-preload needs -db (or DATABASE_URL)")
	case o.backtest < 0:
		return o, config.Config{}, errors.New("-backtest: must not be negative")
	case o.backtest > 0 && o.db == "":
		return o, config.Config{}, errors.New("-backtest needs -db (or DATABASE_URL): the history is loaded into the engine's database")
	case o.backtest > 0 && (o.preload > 0 || o.floor):
		return o, config.Config{}, errors.New("-backtest runs its own sequence: not with -preload or -floor")
	case o.webhook && o.db == "":
		return o, config.Config{}, errors.New("-webhook needs -db (or DATABASE_URL): the run's events are read from the database")
	case o.nats != "" && o.db == "":
		return o, config.Config{}, errors.New("-nats needs -db (or DATABASE_URL): the run's events are read from the database")
	case o.nats != "" && !strings.Contains(o.nats, "://"):
		return o, config.Config{}, fmt.Errorf("-nats: %q is not a URL such as nats://127.0.0.1:4222", o.nats)
	}
	cfg, err := config.FromFlags(fs, getenv)
	return o, cfg, err
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	o, cfg, err := parse(args, stdout, getenv)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	b := &bench{o: o, logf: logf}
	if o.target == "" {
		eng, err := startEngine(ctx, o, logf)
		if err != nil {
			return err
		}
		defer eng.stop(o.keep)
		b.engine, b.base, b.secret, b.dbURL = eng, eng.base, eng.secret, eng.dbURL
	} else {
		secret, err := cfg.Secret()
		if err != nil {
			return err
		}
		b.base, b.secret, b.dbURL = strings.TrimRight(o.target, "/"), secret, o.db
		b.issuer, b.audience = cfg.JWTIssuer, cfg.JWTAudience
	}
	res, err := b.run(ctx)
	if err != nil {
		return err
	}
	if o.json {
		err = res.writeJSON(stdout)
	} else {
		res.writeTable(stdout)
	}
	if err == nil && o.check {
		err = res.check()
	}
	return err
}
