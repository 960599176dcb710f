package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/claimsd/claimsd/adapters/auth"
	"github.com/claimsd/claimsd/adapters/web"
	"github.com/claimsd/claimsd/adapters/webhooks"

	"github.com/claimsd/claimsd/adapters/console"
	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/metrics"
	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/payments/stripe"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/adapters/queue"
	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/domain/webhook"
	"github.com/claimsd/claimsd/workflows/brandflow"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/eventflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
	"github.com/claimsd/claimsd/workflows/intelflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
	"github.com/claimsd/claimsd/workflows/standingflow"
	"github.com/claimsd/claimsd/workflows/webhookflow"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, _, err := parseFlags(command{
		name:     "serve",
		synopsis: "serve [flags]",
		about: "Runs the API and the workflow workers (--role api or worker runs one of them). Without\n" +
			"DATABASE_URL it starts a private PostgreSQL in the data directory, or shares the one\n" +
			"another claimsd process on that directory runs.",
	}, args, stdout, stderr, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	started := time.Now()

	policy := policyfile.Default()
	if cfg.PolicyFile != "" {
		if policy, err = policyfile.Load(cfg.PolicyFile); err != nil {
			return err
		}
	}
	secret, err := cfg.Secret()
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.leave(log)
	if db.embedded != nil {
		if db.embedded.Shared() {
			log.Info("another claimsd process uses the embedded database too; it runs until the last of them stops",
				"data_dir", cfg.DataDir)
		}
		// Until shutdown begins, a database that stops under the engine
		// is started again; the connections the old server left broken
		// are dropped then, so requests do not meet them.
		go db.embedded.Watch(ctx, embeddedWatchInterval, db.Pool().Reset)
	}
	if cfg.MigrateOnStart {
		applied, err := db.Migrate(ctx, db.migrateQueue)
		if err != nil {
			return err
		}
		if len(applied) > 0 {
			log.Info("migrations applied", "names", applied)
		}
	}

	// The policy lab: the file (or the built-in policy) seeds the first
	// active version; from then on versions are records, and every
	// process picks up an activation within policyRefreshEvery.
	policies := policyflow.NewSource(db.Store, policyfile.Codec{}, policy, log)
	lab := policyflow.New(policyflow.Config{Store: db.Store, Codec: policyfile.Codec{}, Source: policies, Log: log})
	if seeded, err := lab.Seed(ctx, policy); err != nil {
		return fmt.Errorf("seed policy %s: %w", policy.Version, err)
	} else if seeded {
		log.Info("policy seeded as the active version", "version", policy.Version)
	}
	if err := policies.Refresh(ctx); err != nil {
		return fmt.Errorf("read policies: %w", err)
	}
	if active := policies.Active().Version; active != policy.Version {
		log.Info("the policy lab's active version decides, not the file's", "active", active, "file", policy.Version)
	}
	policyCtx, stopPolicies := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPolicies()
	go policies.Run(policyCtx, policyRefreshEvery)

	// One pace for a shopper's claims, through the API or the console:
	// both file through the service.
	svc := claimflow.NewService(db.Store, policy, time.Now, claimflow.WithPolicies(policies),
		claimflow.WithLimiter(claimflow.NewClaimLimiter(claimflow.DefaultClaimsPerMinute, claimflow.DefaultClaimBurst, time.Now)))
	pay, err := provider(db, cfg, log)
	if err != nil {
		return err
	}
	seed := cfg.PacketSigningKey
	if seed == nil {
		seed = intel.DeriveSeed(secret)
	}
	signer, err := intel.NewSigner(seed)
	if err != nil {
		return fmt.Errorf("packet signing key: %w", err)
	}
	intelligence := intelflow.NewService(db.Store, signer, time.Now)
	proofs, err := evidenceService(ctx, cfg, db, svc, intelligence, log)
	if err != nil {
		return err
	}
	fin := financeflow.New(financeflow.Config{Store: db.Store, Providers: []financeflow.ProviderRecords{pay}, Log: log})
	standings := standingflow.NewService(db.Store, time.Now)
	m := metrics.New(db.Pool(), log)
	if cfg.Role != "api" {
		qcfg := queueConfig(cfg, log)
		qcfg.Observe = m.ObserveStep
		st := steps(db, cfg, policies, pay, fin, standings, log)
		st.SweepEvidence = proofs.Sweep
		st.Backtests = lab
		workers, err := queue.NewWorkers(db.Pool(), st, qcfg)
		if err != nil {
			return err
		}
		// The workers stop when serve says so, after the HTTP server, so
		// steps in flight can finish.
		if err := workers.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("start workers: %w", err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
			defer cancel()
			if err := workers.Stop(sctx); err != nil {
				log.Error("stop workers", "err", err)
			}
		}()
		// The outbound events' relay: every worker runs it, one numbers at
		// a time (the store locks), so events keep moving while any
		// worker is up.
		relay := eventflow.NewRelay(db.Store, httpapi.ClaimDocuments{Service: svc}, time.Now)
		relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
		relayDone := make(chan struct{})
		go func() { defer close(relayDone); relay.Loop(relayCtx, relayEvery, log) }()
		defer func() { stopRelay(); <-relayDone }()
		// Webhooks: every worker fans out and delivers; leases keep two
		// from sending one delivery at once.
		dispatcher := webhookflow.NewDispatcher(db.Store, webhooks.NewSender(webhooks.Options{AllowPrivate: cfg.WebhookAllowPrivate}),
			webhookflow.DispatcherOptions{Log: log, Observe: func(o webhook.Outcome, d time.Duration) { m.ObserveWebhook(string(o), d) }})
		hooksCtx, stopHooks := context.WithCancel(context.WithoutCancel(ctx))
		hooksDone := make(chan struct{})
		go func() { defer close(hooksDone); dispatcher.Loop(hooksCtx, relayEvery) }()
		defer func() { stopHooks(); <-hooksDone }()
		// The stream: every worker runs its loop, one publishes at a time.
		if cfg.NATSURL != "" {
			stopStream, err := streamEvents(ctx, cfg.NATSURL, db.Store, log)
			if err != nil {
				return err
			}
			defer stopStream()
		}
	}
	var stripeWebhook http.Handler
	if cfg.Payments == "stripe" && cfg.StripeWebhookSecret != "" {
		stripeWebhook = &stripe.Webhook{Secret: cfg.StripeWebhookSecret, Events: db.Store, Log: log,
			Settler: &claimflow.Settler{Store: db.Store, Now: time.Now, Log: log, Policy: policy, Policies: policies,
				Charge: chargeStep(db, cfg, policies, pay)}}
	} else if cfg.Payments == "stripe" {
		log.Warn("STRIPE_WEBHOOK_SECRET is not set: refunds Stripe leaves pending, or fails later, are not settled")
	}
	if cfg.PprofAddr != "" {
		stopPprof, err := servePprof(cfg.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	jwks := identityProviderKeys(ctx, cfg, log)
	hooks := webhookflow.NewService(db.Store, webhookflow.Options{AllowPrivate: cfg.WebhookAllowPrivate})
	e := httpapi.New(httpapi.Deps{
		JWKS:            jwks,
		ExportPaths:     console.DownloadPaths(),
		StreamPaths:     console.UploadPaths(cfg.EvidenceMaxFiles),
		Claims:          svc,
		Finance:         fin,
		Standing:        standings,
		Brands:          brandflow.NewService(db.Store, time.Now),
		Intel:           intelligence,
		Events:          db.Store,
		Webhooks:        hooks,
		Evidence:        proofs,
		Policies:        lab,
		Ready:           readiness(db),
		Secret:          secret,
		PreviousSecrets: previousSecrets(cfg),
		Issuer:          cfg.JWTIssuer,
		Audience:        cfg.JWTAudience,
		Logger:          log,
		MaxBodyBytes:    cfg.MaxBodyBytes,
		RequestTimeout:  cfg.RequestTimeout,
		HealthOnly:      cfg.Role == "worker",
		Metrics:         m,
		StripeWebhook:   stripeWebhook,
	})
	if cfg.Role != "worker" {
		console.Mount(e, console.Deps{
			Claims:   svc,
			Finance:  fin,
			Standing: standings,
			Intel:    intelligence,
			Events:   db.Store,
			Webhooks: hooks,
			Evidence: proofs,
			Policies: lab,
			Keys:     auth.Keys{Secret: secret, Previous: previousSecrets(cfg), Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience},
			Logins:   db.Store,
			Logger:   log,
		})
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		// The error names the address already.
		return fmt.Errorf("%w (set CLAIMSD_HTTP_ADDR to another address)", err)
	}
	// A client gets 10 s to send its headers and 30 s for the whole
	// request; responses are bounded by the request timeout, and each
	// write of an export by its own deadline. Headers are read well past
	// the API's limit, so the API refuses oversized ones in its own shape.
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: web.ServerMaxHeaderBytes}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("claimsd serving", "addr", ln.Addr().String(), "role", cfg.Role, "policy_version", policies.Active().Version,
		"embedded_db", db.embedded != nil, "startup", time.Since(started).Round(time.Millisecond).String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// embeddedWatchInterval is how often serve checks that the embedded
// PostgreSQL still runs.
const embeddedWatchInterval = time.Second

// relayEvery is how often a worker numbers the outbound events written
// since its last turn: a fifth of a second keeps an event's wait short for
// one indexed query a turn.
const relayEvery = 200 * time.Millisecond

// policyRefreshEvery is how often a process looks for a change of the
// active or shadow policy: one indexed read.
const policyRefreshEvery = time.Second

// readiness reports ready when the database answers and no migration is
// pending.
func readiness(db *database) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			if db.embedded == nil {
				return errors.New("database unreachable")
			}
			if p := db.embedded.Problem(); p != nil {
				return fmt.Errorf("database unreachable: %w", p)
			}
			return errors.New("database unreachable; the embedded PostgreSQL is started again when it stops")
		}
		n, err := db.PendingMigrations(ctx)
		if err != nil {
			return errors.New("cannot read the migration state")
		}
		q, err := queue.Pending(ctx, db.Pool())
		if err != nil {
			return errors.New("cannot read the job queue's migration state")
		}
		n += q
		if n > 0 {
			return fmt.Errorf("%d migrations pending; run claimsd migrate", n)
		}
		return nil
	}
}

// paymentProvider is the payment provider the engine refunds through,
// which finance also reconciles against.
type paymentProvider interface {
	claimflow.PaymentProvider
	financeflow.ProviderRecords
}

// provider builds the configured payment provider.
func provider(db *database, cfg config.Config, log *slog.Logger) (paymentProvider, error) {
	if cfg.Payments == "stripe" {
		return stripe.New(stripe.Config{
			APIKey: cfg.StripeAPIKey, APIBase: cfg.StripeAPIBase, Timeout: cfg.StripeTimeout,
			RatePerSec: cfg.StripeRate, Logger: log, ReverseTransfer: cfg.StripeSellerCharge == "connect_destination",
		})
	}
	return sandbox.New(db.DB(), sandbox.Config{
		FailRate: cfg.SandboxFailRate, Latency: cfg.SandboxLatency, DeclineAbove: cfg.SandboxDeclineAbove,
		SpikeRate: cfg.SandboxSpikeRate, SpikeLatency: cfg.SandboxSpikeLatency,
	}), nil
}

// identityProviderKeys returns the identity provider's key set when one is
// configured, fetched once now; a failed first fetch is logged and tried
// again when a token needs a key.
func identityProviderKeys(ctx context.Context, cfg config.Config, log *slog.Logger) *auth.JWKS {
	if cfg.JWTJWKSURL == "" {
		return nil
	}
	jwks := auth.NewJWKS(cfg.JWTJWKSURL, auth.JWKSOptions{Logger: log})
	if err := jwks.Refresh(ctx); err != nil {
		log.Warn("the identity provider's key set could not be fetched; RS256 tokens fail until it can", "err", err)
	}
	return jwks
}

// chargeStep is the charge-seller step as the platform's set-up has it:
// how the amount comes back from the seller.
func chargeStep(db *database, cfg config.Config, policies *policyflow.Source, p paymentProvider) *claimflow.ChargeSellerStep {
	charge := &claimflow.ChargeSellerStep{Store: db.Store, Now: time.Now, Policy: policies.Active(), Policies: policies}
	if sp, ok := p.(*stripe.Provider); ok {
		switch cfg.StripeSellerCharge {
		case "connect_destination":
			charge.RecoveredWithRefund = true
		case "connect_transfers":
			charge.Recoverer, charge.Sellers = sp, db.Store
		}
	}
	return charge
}

// steps builds the workflow steps on the store and the configured payment
// provider. Only that provider is registered: an order paid through another
// fails its refund with a clear reason rather than refunding through the
// wrong one.
func steps(db *database, cfg config.Config, policies *policyflow.Source, p paymentProvider, fin *financeflow.Service,
	standings *standingflow.Service, log *slog.Logger) queue.Steps {
	providers := claimflow.Providers{p.Name(): p}
	policy := policies.Active()
	charge := chargeStep(db, cfg, policies, p)
	settler := &claimflow.Settler{Store: db.Store, Now: time.Now, Log: log, Policy: policy, Policies: policies, Charge: charge}
	var prune func(ctx context.Context) (int, error)
	if cfg.EventsKeep > 0 {
		prune = func(ctx context.Context) (int, error) {
			n, err := eventflow.Prune(ctx, db.Store, cfg.EventsKeep, time.Now())
			if err != nil {
				return n, err
			}
			// Finished webhook deliveries go with the events they sent.
			d, err := webhookflow.Prune(ctx, db.Store, cfg.EventsKeep, time.Now())
			return n + d, err
		}
	}
	return queue.Steps{
		// A refund the provider settles at once is charged to the seller in
		// the same transaction, unless the charge calls the provider too.
		Refund: &claimflow.RefundStep{Store: db.Store, Providers: providers, Now: time.Now, Log: log, Policy: policy, Policies: policies,
			Charge: charge},
		ChargeSeller: charge,
		Deadlines:    &claimflow.DeadlineStep{Store: db.Store, Policy: policy, Policies: policies, Now: time.Now, Log: log},
		Redrive:      &claimflow.Redrive{Store: db.Store, Jobs: db.jobs, Now: time.Now, Log: log},
		SweepPending: func(ctx context.Context) (int, error) {
			return settler.SweepPending(ctx, db.Store, providers, cfg.PendingRefundAfter)
		},
		Reconcile: fin,
		Standing:  standings.RefreshChanged,
		// Outbound events past their retention.
		PruneEvents: prune,
	}
}

func queueConfig(cfg config.Config, log *slog.Logger) queue.Config {
	return queue.Config{
		Concurrency: cfg.WorkerConcurrency, MaxAttempts: cfg.JobMaxAttempts,
		JobTimeout: cfg.JobTimeout, RescueAfter: cfg.JobRescueAfter, Logger: log,
	}
}

// servePprof serves Go's profiles on their own listener, apart from the
// API: an operator points it at loopback or a private network.
func servePprof(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serve profiles: %w (set CLAIMSD_PPROF_ADDR to another address)", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("profiles server", "err", err)
		}
	}()
	log.Info("serving profiles", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

// previousSecrets are the rotated-out token secrets that still verify.
func previousSecrets(cfg config.Config) [][]byte {
	out := make([][]byte, len(cfg.JWTPreviousSecrets))
	for i, s := range cfg.JWTPreviousSecrets {
		out[i] = []byte(s)
	}
	return out
}
