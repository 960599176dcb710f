// Package config loads every claimsd setting from the environment, lets
// command-line flags override them, and validates them all at once so an
// operator sees every problem in one go.
//
//	cfg, err := config.Load(os.Args[2:], os.Getenv)
package config

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the engine's whole configuration.
type Config struct {
	HTTPAddr       string
	DatabaseURL    string
	DataDir        string
	EmbeddedPGPort uint32
	EmbeddedPGUser string
	DBMaxConns     int32
	DBMinConns     int32
	JWTSecret      string
	// JWTPreviousSecrets still verify tokens after a rotation; new ones
	// are signed with JWTSecret only.
	JWTPreviousSecrets []string
	JWTIssuer          string // tokens must carry it as iss
	JWTAudience        string // "" checks no audience
	JWTJWKSURL         string // "" accepts HS256 tokens only
	PolicyFile         string
	LogLevel           slog.Level
	LogFormat          string
	MaxBodyBytes       int64
	RequestTimeout     time.Duration
	PprofAddr          string // "" serves no profiles
	ShutdownTimeout    time.Duration
	MigrateOnStart     bool

	Role    string // all, api or worker
	NATSURL string // "" streams no events
	// WebhookAllowPrivate lets webhook endpoints be http:// and private,
	// loopback or link-local addresses (development and tests).
	WebhookAllowPrivate bool
	// Evidence files: the store ("postgres" or "s3"), the limits, and the
	// bucket when the store is s3.
	EvidenceStore       string
	EvidenceMaxBytes    int64
	EvidenceMaxFiles    int
	UploadsPerMinute    int
	S3Endpoint          string
	S3Bucket            string
	S3Region            string
	S3AccessKey         string
	S3SecretKey         string
	S3Insecure          bool
	Payments            string
	StripeAPIKey        string
	StripeAPIBase       string
	StripeWebhookSecret string
	// PacketSigningKey is the Ed25519 seed (32 bytes) case packets are
	// signed with; nil derives one from the JWT secret.
	PacketSigningKey   []byte
	StripeSellerCharge string
	PendingRefundAfter time.Duration
	// EventsKeep is how long outbound events are kept once every consumer
	// took them; 0 keeps them for ever.
	EventsKeep          time.Duration
	StripeRate          float64
	StripeTimeout       time.Duration
	SandboxFailRate     float64
	SandboxLatency      time.Duration
	SandboxSpikeRate    float64
	SandboxSpikeLatency time.Duration
	SandboxDeclineAbove int64
	WorkerConcurrency   int
	JobMaxAttempts      int
	JobTimeout          time.Duration
	JobRescueAfter      time.Duration
}

// Setting describes one setting: its environment variable, its flag, its
// default and what it does. Settings() lists them; the README's table is
// checked against that list.
type Setting struct {
	Env     string
	Flag    string
	Default string
	Help    string
	apply   func(c *Config, v string) error
}

// Settings returns every setting in the order the README lists them.
func Settings() []Setting {
	return []Setting{
		{Env: "CLAIMSD_HTTP_ADDR", Flag: "http-addr", Default: "127.0.0.1:8080",
			Help: "address the API listens on",
			apply: func(c *Config, v string) error {
				if _, _, err := net.SplitHostPort(v); err != nil {
					return errors.New("must be host:port, e.g. 127.0.0.1:8080")
				}
				c.HTTPAddr = v
				return nil
			}},
		{Env: "DATABASE_URL", Flag: "database-url", Default: "",
			Help: "PostgreSQL URL; empty starts a private PostgreSQL in the data directory",
			apply: func(c *Config, v string) error {
				if v != "" {
					u, err := url.Parse(v)
					if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
						return errors.New("must be a postgres:// URL")
					}
				}
				c.DatabaseURL = v
				return nil
			}},
		{Env: "CLAIMSD_DATA_DIR", Flag: "data-dir", Default: ".claimsd",
			Help: "folder for the embedded database and the generated JWT secret",
			apply: func(c *Config, v string) error {
				if v == "" {
					return errors.New("must not be empty")
				}
				abs, err := filepath.Abs(v)
				if err != nil {
					return err
				}
				c.DataDir = abs
				return nil
			}},
		{Env: "CLAIMSD_EMBEDDED_PG_PORT", Flag: "embedded-pg-port", Default: "0",
			Help: "TCP port of the embedded PostgreSQL on 127.0.0.1; 0 picks a free one and keeps it",
			apply: func(c *Config, v string) error {
				n, err := strconv.ParseUint(v, 10, 16)
				if err != nil {
					return errors.New("must be a port number from 0 to 65535")
				}
				c.EmbeddedPGPort = uint32(n)
				return nil
			}},
		{Env: "CLAIMSD_EMBEDDED_PG_USER", Flag: "embedded-pg-user", Default: "nobody",
			Help: "unprivileged user that runs the embedded PostgreSQL when claimsd runs as root",
			apply: func(c *Config, v string) error {
				if v == "" {
					return errors.New("must not be empty")
				}
				c.EmbeddedPGUser = v
				return nil
			}},
		{Env: "CLAIMSD_DB_MAX_CONNS", Flag: "db-max-conns", Default: "16",
			Help:  "most connections the engine opens to PostgreSQL",
			apply: intSetting(1, 1000, func(c *Config, n int64) { c.DBMaxConns = int32(n) })},
		{Env: "CLAIMSD_DB_MIN_CONNS", Flag: "db-min-conns", Default: "2",
			Help:  "connections kept open while idle",
			apply: intSetting(0, 1000, func(c *Config, n int64) { c.DBMinConns = int32(n) })},
		{Env: "CLAIMSD_JWT_SECRET", Flag: "jwt-secret", Default: "",
			Help: "HS256 secret for API tokens (32+ bytes); empty creates one in the data directory",
			apply: func(c *Config, v string) error {
				if v != "" && len(v) < 32 {
					return errors.New("must be at least 32 bytes")
				}
				c.JWTSecret = v
				return nil
			}},
		{Env: "CLAIMSD_JWT_PREVIOUS_SECRETS", Flag: "jwt-previous-secrets", Default: "",
			Help: "comma-separated secrets that still verify tokens after a rotation (each 32+ bytes); tokens are signed with CLAIMSD_JWT_SECRET",
			apply: func(c *Config, v string) error {
				c.JWTPreviousSecrets = nil
				for _, s := range strings.Split(v, ",") {
					if s = strings.TrimSpace(s); s == "" {
						continue
					}
					if len(s) < 32 {
						return errors.New("each secret must be at least 32 bytes")
					}
					c.JWTPreviousSecrets = append(c.JWTPreviousSecrets, s)
				}
				return nil
			}},
		{Env: "CLAIMSD_PACKET_SIGNING_KEY", Flag: "packet-signing-key", Default: "",
			Help: "Ed25519 private key seed (32 bytes, base64) that signs enforcement case packets; empty derives one from the JWT secret, so rotating that secret changes the published key",
			apply: func(c *Config, v string) error {
				c.PacketSigningKey = nil
				if v == "" {
					return nil
				}
				b, err := base64.StdEncoding.DecodeString(v)
				if err != nil || len(b) != 32 {
					return errors.New("must be 32 bytes in base64 (openssl rand -base64 32)")
				}
				c.PacketSigningKey = b
				return nil
			}},
		{Env: "CLAIMSD_JWT_ISSUER", Flag: "jwt-issuer", Default: "claimsd",
			Help: "issuer (iss) tokens must carry, and claimsd token writes",
			apply: func(c *Config, v string) error {
				if v == "" {
					return errors.New("must not be empty")
				}
				c.JWTIssuer = v
				return nil
			}},
		{Env: "CLAIMSD_JWT_AUDIENCE", Flag: "jwt-audience", Default: "",
			Help:  "audience (aud) tokens must name, and claimsd token writes; empty checks none",
			apply: func(c *Config, v string) error { c.JWTAudience = v; return nil }},
		{Env: "CLAIMSD_JWT_JWKS_URL", Flag: "jwt-jwks-url", Default: "",
			Help: "an identity provider's JSON Web Key Set; RS256 tokens signed by its keys are accepted too (empty: HS256 only)",
			apply: func(c *Config, v string) error {
				if v != "" {
					u, err := url.Parse(v)
					if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
						return errors.New("must be an http(s) URL such as https://idp.example/.well-known/jwks.json")
					}
				}
				c.JWTJWKSURL = v
				return nil
			}},
		{Env: "CLAIMSD_POLICY_FILE", Flag: "policy-file", Default: "",
			Help: "JSON decision policy that seeds the first active version; empty uses the built-in policy",
			apply: func(c *Config, v string) error {
				if v != "" {
					if _, err := os.Stat(v); err != nil {
						return fmt.Errorf("cannot read %s", v)
					}
				}
				c.PolicyFile = v
				return nil
			}},
		{Env: "CLAIMSD_LOG_LEVEL", Flag: "log-level", Default: "info",
			Help: "debug, info, warn or error",
			apply: func(c *Config, v string) error {
				if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
					return errors.New("must be debug, info, warn or error")
				}
				return nil
			}},
		{Env: "CLAIMSD_LOG_FORMAT", Flag: "log-format", Default: "json",
			Help:  "json or text",
			apply: enumSetting(func(c *Config, v string) { c.LogFormat = v }, "json", "text")},
		{Env: "CLAIMSD_MAX_BODY_BYTES", Flag: "max-body-bytes", Default: "262144",
			Help: "largest request body accepted, in bytes",
			apply: func(c *Config, v string) error {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 1024 || n > 64<<20 {
					return errors.New("must be a whole number of bytes from 1024 to 67108864")
				}
				c.MaxBodyBytes = n
				return nil
			}},
		{Env: "CLAIMSD_REQUEST_TIMEOUT", Flag: "request-timeout", Default: "15s",
			Help:  "longest time one API request may take",
			apply: durationSetting(func(c *Config, d time.Duration) { c.RequestTimeout = d })},
		{Env: "CLAIMSD_PPROF_ADDR", Flag: "pprof-addr", Default: "",
			Help: "address (e.g. 127.0.0.1:6060) serving Go's profiles at /debug/pprof/; empty serves none",
			apply: func(c *Config, v string) error {
				if v != "" {
					if _, _, err := net.SplitHostPort(v); err != nil {
						return errors.New("must be host:port, such as 127.0.0.1:6060")
					}
				}
				c.PprofAddr = v
				return nil
			}},
		{Env: "CLAIMSD_SHUTDOWN_TIMEOUT", Flag: "shutdown-timeout", Default: "20s",
			Help:  "how long serve waits for requests in flight when stopping",
			apply: durationSetting(func(c *Config, d time.Duration) { c.ShutdownTimeout = d })},
		{Env: "CLAIMSD_MIGRATE_ON_START", Flag: "migrate-on-start", Default: "true",
			Help: "apply pending migrations when serve starts",
			apply: func(c *Config, v string) error {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return errors.New("must be true or false")
				}
				c.MigrateOnStart = b
				return nil
			}},
		{Env: "CLAIMSD_ROLE", Flag: "role", Default: "all",
			Help:  "what serve runs: all (API and workers), api or worker",
			apply: enumSetting(func(c *Config, v string) { c.Role = v }, "all", "api", "worker")},
		{Env: "CLAIMSD_NATS_URL", Flag: "nats-url", Default: "",
			Help: "NATS server (e.g. nats://127.0.0.1:4222; several, comma-separated, for a cluster) whose JetStream stream CLAIMSD_EVENTS the worker processes publish every outbound event to; empty streams none",
			apply: func(c *Config, v string) error {
				for _, s := range strings.Split(v, ",") {
					if s = strings.TrimSpace(s); s == "" {
						continue
					}
					u, err := url.Parse(s)
					if err != nil || !slices.Contains([]string{"nats", "tls", "ws", "wss"}, u.Scheme) || u.Host == "" {
						return errors.New("must be a nats:// (or tls://, ws://, wss://) URL such as nats://127.0.0.1:4222")
					}
				}
				c.NATSURL = v
				return nil
			}},
		{Env: "CLAIMSD_WEBHOOK_ALLOW_PRIVATE", Flag: "webhook-allow-private", Default: "false",
			Help: "let webhook endpoints be http:// and private, loopback or link-local addresses (checked after DNS resolution, at every attempt); for development and tests only",
			apply: func(c *Config, v string) error {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return errors.New("must be true or false")
				}
				c.WebhookAllowPrivate = b
				return nil
			}},
		{Env: "CLAIMSD_EVIDENCE_STORE", Flag: "evidence-store", Default: "postgres",
			Help:  "where evidence files are kept: postgres (this engine's database, in chunks) or s3 (an S3-compatible bucket, CLAIMSD_S3_*)",
			apply: enumSetting(func(c *Config, v string) { c.EvidenceStore = v }, "postgres", "s3")},
		{Env: "CLAIMSD_EVIDENCE_MAX_BYTES", Flag: "evidence-max-bytes", Default: "10485760",
			Help: "largest evidence file taken, in bytes (1 KiB to 100 MiB); larger uploads get 413",
			apply: func(c *Config, v string) error {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 1<<10 || n > 100<<20 {
					return errors.New("must be a whole number of bytes from 1024 to 104857600")
				}
				c.EvidenceMaxBytes = n
				return nil
			}},
		{Env: "CLAIMSD_EVIDENCE_MAX_FILES", Flag: "evidence-max-files", Default: "10",
			Help: "most evidence files one claim holds, its shopper's and seller's together (1 to 100)",
			apply: func(c *Config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 100 {
					return errors.New("must be a whole number from 1 to 100")
				}
				c.EvidenceMaxFiles = n
				return nil
			}},
		{Env: "CLAIMSD_UPLOADS_PER_MINUTE", Flag: "uploads-per-minute", Default: "30",
			Help: "evidence uploads one shopper or seller may make a minute, after a burst of 10 (1 to 10000)",
			apply: func(c *Config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 10000 {
					return errors.New("must be a whole number from 1 to 10000")
				}
				c.UploadsPerMinute = n
				return nil
			}},
		{Env: "CLAIMSD_S3_ENDPOINT", Flag: "s3-endpoint", Default: "",
			Help: "S3-compatible server as host:port (e.g. s3.eu-west-1.amazonaws.com:443); required with CLAIMSD_EVIDENCE_STORE=s3",
			apply: func(c *Config, v string) error {
				if v != "" {
					host, port, err := net.SplitHostPort(v)
					if n, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil || n == 0 || host == "" || strings.ContainsAny(v, "/@?#") {
						return errors.New("must be host:port, without a scheme, e.g. s3.eu-west-1.amazonaws.com:443")
					}
				}
				c.S3Endpoint = v
				return nil
			}},
		{Env: "CLAIMSD_S3_BUCKET", Flag: "s3-bucket", Default: "",
			Help: "bucket evidence files are kept in (it must exist); required with CLAIMSD_EVIDENCE_STORE=s3",
			apply: func(c *Config, v string) error {
				if v != "" && (len(v) < 3 || len(v) > 63 || strings.Trim(v, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "") {
					return errors.New("must be an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens")
				}
				c.S3Bucket = v
				return nil
			}},
		{Env: "CLAIMSD_S3_REGION", Flag: "s3-region", Default: "us-east-1",
			Help:  "the bucket's region",
			apply: func(c *Config, v string) error { c.S3Region = v; return nil }},
		{Env: "CLAIMSD_S3_ACCESS_KEY", Flag: "s3-access-key", Default: "",
			Help:  "access key id for the bucket",
			apply: func(c *Config, v string) error { c.S3AccessKey = v; return nil }},
		{Env: "CLAIMSD_S3_SECRET_KEY", Flag: "s3-secret-key", Default: "",
			Help:  "secret access key for the bucket",
			apply: func(c *Config, v string) error { c.S3SecretKey = v; return nil }},
		{Env: "CLAIMSD_S3_INSECURE", Flag: "s3-insecure", Default: "false",
			Help: "talk to the S3 server over plain http (a server on this machine only)",
			apply: func(c *Config, v string) error {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return errors.New("must be true or false")
				}
				c.S3Insecure = b
				return nil
			}},
		{Env: "CLAIMSD_PAYMENTS", Flag: "payments", Default: "sandbox",
			Help:  "payment provider for refunds: sandbox (built in, records refunds in its own table) or stripe",
			apply: enumSetting(func(c *Config, v string) { c.Payments = v }, "sandbox", "stripe")},
		{Env: "STRIPE_API_KEY", Flag: "stripe-api-key", Default: "",
			Help: "Stripe secret key (sk_test_… or sk_live_…, or a restricted rk_ key); required with CLAIMSD_PAYMENTS=stripe",
			apply: func(c *Config, v string) error {
				if v != "" && !strings.HasPrefix(v, "sk_") && !strings.HasPrefix(v, "rk_") {
					return errors.New("must be a Stripe secret key starting sk_ or rk_")
				}
				c.StripeAPIKey = v
				return nil
			}},
		{Env: "STRIPE_API_BASE", Flag: "stripe-api-base", Default: "",
			Help: "Stripe API URL; empty is Stripe's own, http://127.0.0.1:12111 is a local stripe-mock",
			apply: func(c *Config, v string) error {
				if v != "" {
					u, err := url.Parse(v)
					if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
						return errors.New("must be an http(s) URL")
					}
				}
				c.StripeAPIBase = v
				return nil
			}},
		{Env: "STRIPE_WEBHOOK_SECRET", Flag: "stripe-webhook-secret", Default: "",
			Help: "signing secret (whsec_…) of the Stripe webhook endpoint POST /webhooks/stripe; empty turns the endpoint off",
			apply: func(c *Config, v string) error {
				if v != "" && !strings.HasPrefix(v, "whsec_") {
					return errors.New("must be a webhook signing secret starting whsec_")
				}
				c.StripeWebhookSecret = v
				return nil
			}},
		{Env: "CLAIMSD_EVENTS_KEEP", Flag: "events-keep", Default: "720h",
			Help: "how long outbound events are kept (for the feed to catch up from, and replays) once the stream has taken them; 0 keeps them for ever; pruned hourly",
			apply: func(c *Config, v string) error {
				d, err := time.ParseDuration(v)
				if err != nil || d < 0 || (d > 0 && d < time.Hour) {
					return errors.New("must be 0 (for ever) or a duration of at least 1h, such as 720h")
				}
				c.EventsKeep = d
				return nil
			}},
		{Env: "CLAIMSD_PENDING_REFUND_AFTER", Flag: "pending-refund-after", Default: "30m",
			Help:  "a refund the provider left pending this long is re-read from the provider (in case its webhook was lost); checked every 5 minutes",
			apply: durationSetting(func(c *Config, d time.Duration) { c.PendingRefundAfter = d })},
		{Env: "CLAIMSD_STRIPE_SELLER_CHARGE", Flag: "stripe-seller-charge", Default: "ledger",
			Help:  "how a seller pays back a refund with Stripe: ledger (their debt stays in the ledger, netted against payouts), connect_destination (the refund reverses the destination charge's transfer) or connect_transfers (a transfer reversal on the order's transfer)",
			apply: enumSetting(func(c *Config, v string) { c.StripeSellerCharge = v }, "ledger", "connect_destination", "connect_transfers")},
		{Env: "CLAIMSD_STRIPE_RATE", Flag: "stripe-rate", Default: "20",
			Help: "Stripe API calls per second per process (Stripe allows 25 in test mode)",
			apply: func(c *Config, v string) error {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || f <= 0 || f > 1000 {
					return errors.New("must be a number above 0 and at most 1000")
				}
				c.StripeRate = f
				return nil
			}},
		{Env: "CLAIMSD_STRIPE_TIMEOUT", Flag: "stripe-timeout", Default: "8s",
			Help:  "longest one Stripe API call may take (keep it below CLAIMSD_JOB_TIMEOUT)",
			apply: durationSetting(func(c *Config, d time.Duration) { c.StripeTimeout = d })},
		{Env: "CLAIMSD_SANDBOX_FAIL_RATE", Flag: "sandbox-fail-rate", Default: "0",
			Help:  "share of sandbox refund calls that fail transiently (0 to 1), to watch retries",
			apply: shareSetting(func(c *Config, f float64) { c.SandboxFailRate = f })},
		{Env: "CLAIMSD_SANDBOX_LATENCY", Flag: "sandbox-latency", Default: "0s",
			Help:  "delay added to every sandbox refund call",
			apply: delaySetting(func(c *Config, d time.Duration) { c.SandboxLatency = d })},
		{Env: "CLAIMSD_SANDBOX_SPIKE_RATE", Flag: "sandbox-spike-rate", Default: "0",
			Help:  "share of sandbox refund calls (0 to 1) that take CLAIMSD_SANDBOX_SPIKE_LATENCY instead, to watch timeouts",
			apply: shareSetting(func(c *Config, f float64) { c.SandboxSpikeRate = f })},
		{Env: "CLAIMSD_SANDBOX_SPIKE_LATENCY", Flag: "sandbox-spike-latency", Default: "5s",
			Help:  "how long a sandbox latency spike lasts",
			apply: delaySetting(func(c *Config, d time.Duration) { c.SandboxSpikeLatency = d })},
		{Env: "CLAIMSD_SANDBOX_DECLINE_ABOVE", Flag: "sandbox-decline-above", Default: "0",
			Help: "the sandbox declines refunds above this many minor units; 0 declines none (orders paid with a reference starting pay_decline are always declined)",
			apply: func(c *Config, v string) error {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 0 {
					return errors.New("must be a whole number of minor units, 0 or more")
				}
				c.SandboxDeclineAbove = n
				return nil
			}},
		{Env: "CLAIMSD_WORKER_CONCURRENCY", Flag: "worker-concurrency", Default: "20",
			Help:  "workflow steps one process runs at once",
			apply: intSetting(1, 10000, func(c *Config, n int64) { c.WorkerConcurrency = int(n) })},
		{Env: "CLAIMSD_JOB_MAX_ATTEMPTS", Flag: "job-max-attempts", Default: "10",
			Help:  "tries of a step (with exponential backoff) before its claim is marked failed",
			apply: intSetting(1, 100, func(c *Config, n int64) { c.JobMaxAttempts = int(n) })},
		{Env: "CLAIMSD_JOB_TIMEOUT", Flag: "job-timeout", Default: "10s",
			Help:  "longest one attempt of a step may run",
			apply: durationSetting(func(c *Config, d time.Duration) { c.JobTimeout = d })},
		{Env: "CLAIMSD_JOB_RESCUE_AFTER", Flag: "job-rescue-after", Default: "15s",
			Help:  "when a step whose process died is run again (must exceed CLAIMSD_JOB_TIMEOUT)",
			apply: durationSetting(func(c *Config, d time.Duration) { c.JobRescueAfter = d })},
	}
}

// intSetting parses a whole number from lo to hi.
func intSetting(lo, hi int64, set func(*Config, int64)) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("must be a whole number from %d to %d", lo, hi)
		}
		set(c, n)
		return nil
	}
}

// enumSetting accepts one of values.
func enumSetting(set func(*Config, string), values ...string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if !slices.Contains(values, v) {
			return fmt.Errorf("must be %s or %s", strings.Join(values[:len(values)-1], ", "), values[len(values)-1])
		}
		set(c, v)
		return nil
	}
}

func durationSetting(set func(*Config, time.Duration)) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration such as 15s")
		}
		set(c, d)
		return nil
	}
}

// shareSetting accepts a share from 0 to 1.
func shareSetting(set func(*Config, float64)) func(*Config, string) error {
	return func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			return errors.New("must be a number from 0 to 1")
		}
		set(c, f)
		return nil
	}
}

// delaySetting accepts a duration of zero or more.
func delaySetting(set func(*Config, time.Duration)) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return errors.New("must be a duration such as 200ms, or 0s")
		}
		set(c, d)
		return nil
	}
}

// settingFlag holds a setting's flag value until FromFlags applies it; its
// type tells settings apart from a subcommand's own flags.
type settingFlag string

func (f *settingFlag) String() string     { return string(*f) }
func (f *settingFlag) Set(v string) error { *f = settingFlag(v); return nil }

// Error lists every invalid setting.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	return "invalid configuration:\n  " + strings.Join(e.Problems, "\n  ")
}

// FlagSet returns a flag set with one string flag per setting. own, if
// not nil, first adds the subcommand's own flags; a setting whose flag name
// the subcommand took (token's --role) is then left to its environment
// variable.
func FlagSet(name string, own func(*flag.FlagSet)) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if own != nil {
		own(fs)
	}
	for _, s := range Settings() {
		if fs.Lookup(s.Flag) != nil {
			continue
		}
		fs.Var(new(settingFlag), s.Flag, fmt.Sprintf("%s (env %s, default %q)", s.Help, s.Env, s.Default))
	}
	return fs
}

// FromFlags builds the Config from the environment (through getenv) and
// the flags parsed into fs; a flag that was given wins over its variable.
// Every invalid setting is reported in one *Error.
func FromFlags(fs *flag.FlagSet, getenv func(string) string) (Config, error) {
	given := map[string]string{}
	fs.Visit(func(f *flag.Flag) {
		if _, ok := f.Value.(*settingFlag); ok {
			given[f.Name] = f.Value.String()
		}
	})
	var c Config
	var problems []string
	for _, s := range Settings() {
		// Each problem names its variable once, and the flag when the
		// value came from there.
		v, name := s.Default, s.Env+" (default)"
		if e := getenv(s.Env); e != "" {
			v, name = e, s.Env
		}
		if f, ok := given[s.Flag]; ok {
			v, name = f, s.Env+" (from --"+s.Flag+")"
		}
		if err := s.apply(&c, v); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
		}
	}
	if len(problems) == 0 {
		if c.DBMinConns > c.DBMaxConns {
			problems = append(problems, "CLAIMSD_DB_MIN_CONNS: must not exceed CLAIMSD_DB_MAX_CONNS")
		}
		if c.EvidenceStore == "s3" {
			for _, need := range []struct{ env, v string }{{"CLAIMSD_S3_ENDPOINT", c.S3Endpoint}, {"CLAIMSD_S3_BUCKET", c.S3Bucket},
				{"CLAIMSD_S3_ACCESS_KEY", c.S3AccessKey}, {"CLAIMSD_S3_SECRET_KEY", c.S3SecretKey}} {
				if need.v == "" {
					problems = append(problems, need.env+": is required with CLAIMSD_EVIDENCE_STORE=s3")
				}
			}
		}
		if c.Payments == "stripe" && c.StripeAPIKey == "" {
			problems = append(problems, "STRIPE_API_KEY: is required with CLAIMSD_PAYMENTS=stripe")
		}
		if c.Payments == "stripe" && c.StripeTimeout >= c.JobTimeout {
			problems = append(problems, "CLAIMSD_STRIPE_TIMEOUT: must be shorter than CLAIMSD_JOB_TIMEOUT, or a slow call would outlive its job")
		}
		if c.JobRescueAfter <= c.JobTimeout {
			problems = append(problems, "CLAIMSD_JOB_RESCUE_AFTER: must exceed CLAIMSD_JOB_TIMEOUT, or a slow step would run twice")
		}
	}
	if len(problems) > 0 {
		return Config{}, &Error{Problems: problems}
	}
	return c, nil
}

// Load parses args as flags and combines them with the environment.
func Load(args []string, getenv func(string) string) (Config, error) {
	fs := FlagSet("claimsd", nil)
	if err := fs.Parse(args); err != nil {
		return Config{}, &Error{Problems: []string{err.Error()}}
	}
	return FromFlags(fs, getenv)
}
