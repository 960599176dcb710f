package config_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/config"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.Load(nil, env(nil))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", c.HTTPAddr)
	require.Empty(t, c.DatabaseURL)
	require.True(t, filepath.IsAbs(c.DataDir))
	require.Equal(t, int32(16), c.DBMaxConns)
	require.Equal(t, 15*time.Second, c.RequestTimeout)
	require.True(t, c.MigrateOnStart)
}

func TestFlagOverridesEnv(t *testing.T) {
	t.Parallel()
	c, err := config.Load([]string{"--http-addr", "127.0.0.1:9999"},
		env(map[string]string{"CLAIMSD_HTTP_ADDR": "127.0.0.1:7777", "CLAIMSD_DB_MAX_CONNS": "40"}))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9999", c.HTTPAddr)
	require.Equal(t, int32(40), c.DBMaxConns)
}

func TestLoadReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := config.Load([]string{"--log-level", "loud"}, env(map[string]string{
		"CLAIMSD_HTTP_ADDR":            "nonsense",
		"DATABASE_URL":                 "mysql://x",
		"CLAIMSD_DB_MAX_CONNS":         "0",
		"CLAIMSD_JWT_SECRET":           "short",
		"CLAIMSD_MIGRATE_ON_START":     "maybe",
		"CLAIMSD_REQUEST_TIMEOUT":      "-1s",
		"CLAIMSD_PPROF_ADDR":           "6060",
		"CLAIMSD_JWT_PREVIOUS_SECRETS": strings.Repeat("k", 32) + ",short",
		"CLAIMSD_JWT_ISSUER":           "",
	}))
	var cerr *config.Error
	require.ErrorAs(t, err, &cerr)
	joined := strings.Join(cerr.Problems, "\n")
	for _, want := range []string{"CLAIMSD_HTTP_ADDR", "DATABASE_URL", "CLAIMSD_DB_MAX_CONNS",
		"CLAIMSD_JWT_SECRET", "CLAIMSD_MIGRATE_ON_START", "CLAIMSD_REQUEST_TIMEOUT", "CLAIMSD_LOG_LEVEL (from --log-level)",
		"CLAIMSD_PPROF_ADDR", "CLAIMSD_JWT_PREVIOUS_SECRETS"} {
		require.Contains(t, joined, want)
	}
	// An empty issuer from the environment means "unset": the default.
	require.Len(t, cerr.Problems, 9)
}

// TestProblemNamesItsSettingOnce: a bad value names its variable once,
// and the flag when it came from one.
func TestProblemNamesItsSettingOnce(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{name: "environment", env: map[string]string{"CLAIMSD_LOG_FORMAT": "xml"},
			want: "CLAIMSD_LOG_FORMAT: must be json or text"},
		{name: "flag", args: []string{"--log-format", "xml"},
			want: "CLAIMSD_LOG_FORMAT (from --log-format): must be json or text"},
		{name: "flag over environment", args: []string{"--log-format", "xml"}, env: map[string]string{"CLAIMSD_LOG_FORMAT": "text"},
			want: "CLAIMSD_LOG_FORMAT (from --log-format): must be json or text"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(tt.args, env(tt.env))
			var cerr *config.Error
			require.ErrorAs(t, err, &cerr)
			require.Equal(t, []string{tt.want}, cerr.Problems)
			require.Equal(t, 1, strings.Count(err.Error(), "CLAIMSD_LOG_FORMAT"), err.Error())
		})
	}
}

func TestTokenAndProfileSettings(t *testing.T) {
	t.Parallel()
	a, b := strings.Repeat("a", 32), strings.Repeat("b", 40)
	c, err := config.Load([]string{"--jwt-previous-secrets", a + ", " + b, "--jwt-issuer", "market-idp"},
		env(map[string]string{"CLAIMSD_JWT_AUDIENCE": "claimsd-eu", "CLAIMSD_PPROF_ADDR": "127.0.0.1:6060"}))
	require.NoError(t, err)
	require.Equal(t, []string{a, b}, c.JWTPreviousSecrets)
	require.Equal(t, "market-idp", c.JWTIssuer)
	require.Equal(t, "claimsd-eu", c.JWTAudience)
	require.Equal(t, "127.0.0.1:6060", c.PprofAddr)
	d, err := config.Load(nil, env(nil))
	require.NoError(t, err)
	require.Equal(t, "claimsd", d.JWTIssuer)
	require.Empty(t, d.JWTPreviousSecrets)
	require.Empty(t, d.PprofAddr)
	_, err = config.Load([]string{"--jwt-issuer", ""}, env(nil))
	require.ErrorContains(t, err, "CLAIMSD_JWT_ISSUER")
}

func TestMinConnsAboveMax(t *testing.T) {
	t.Parallel()
	_, err := config.Load(nil, env(map[string]string{"CLAIMSD_DB_MAX_CONNS": "4", "CLAIMSD_DB_MIN_CONNS": "8"}))
	require.ErrorContains(t, err, "CLAIMSD_DB_MIN_CONNS")
}

// TestREADMEListsEverySetting keeps the README's configuration table true:
// every setting appears with its default.
func TestREADMEListsEverySetting(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	for _, s := range config.Settings() {
		def := s.Default
		if def == "" {
			def = "(empty)"
		}
		row := regexp.MustCompile(`(?m)^\| ` + "`" + regexp.QuoteMeta(s.Env) + "`" + ` \| ` + "`--" + regexp.QuoteMeta(s.Flag) + "`" + ` \| ` + "`?" + regexp.QuoteMeta(def) + "`?" + ` \|`)
		require.Regexp(t, row, string(readme), "README.md must list %s with flag --%s and default %q", s.Env, s.Flag, def)
	}
}

func TestStripeNeedsAKey(t *testing.T) {
	t.Parallel()
	_, err := config.Load([]string{"--payments", "stripe"}, env(nil))
	require.ErrorContains(t, err, "STRIPE_API_KEY: is required")
	c, err := config.Load([]string{"--payments", "stripe"}, env(map[string]string{
		"STRIPE_API_KEY": "sk_test_123", "STRIPE_API_BASE": "http://127.0.0.1:12111"}))
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:12111", c.StripeAPIBase)
	_, err = config.Load(nil, env(map[string]string{"STRIPE_API_KEY": "pk_test_123"}))
	require.ErrorContains(t, err, "STRIPE_API_KEY")
}

func TestSandboxSpikeSettings(t *testing.T) {
	t.Parallel()
	c, err := config.Load([]string{"--sandbox-spike-rate", "0.05"}, env(map[string]string{"CLAIMSD_SANDBOX_SPIKE_LATENCY": "2s"}))
	require.NoError(t, err)
	require.Equal(t, 0.05, c.SandboxSpikeRate)
	require.Equal(t, 2*time.Second, c.SandboxSpikeLatency)
	d, err := config.Load(nil, env(nil))
	require.NoError(t, err)
	require.Zero(t, d.SandboxSpikeRate)
	require.Equal(t, 5*time.Second, d.SandboxSpikeLatency)
	_, err = config.Load(nil, env(map[string]string{"CLAIMSD_SANDBOX_SPIKE_RATE": "1.5", "CLAIMSD_SANDBOX_SPIKE_LATENCY": "-1s"}))
	var cerr *config.Error
	require.ErrorAs(t, err, &cerr)
	require.Len(t, cerr.Problems, 2)
	require.Contains(t, cerr.Problems[0]+cerr.Problems[1], "CLAIMSD_SANDBOX_SPIKE_RATE")
	require.Contains(t, cerr.Problems[0]+cerr.Problems[1], "CLAIMSD_SANDBOX_SPIKE_LATENCY")
}

func TestJWKSURLSetting(t *testing.T) {
	t.Parallel()
	c, err := config.Load([]string{"--jwt-jwks-url", "https://idp.example/.well-known/jwks.json"}, env(nil))
	require.NoError(t, err)
	require.Equal(t, "https://idp.example/.well-known/jwks.json", c.JWTJWKSURL)
	for _, bad := range []string{"idp.example/jwks.json", "ftp://idp.example/jwks.json", "https://", "::"} {
		_, err := config.Load(nil, env(map[string]string{"CLAIMSD_JWT_JWKS_URL": bad}))
		require.ErrorContains(t, err, "CLAIMSD_JWT_JWKS_URL", bad)
	}
}

func TestNATSURL(t *testing.T) {
	t.Parallel()
	d, err := config.Load(nil, env(nil))
	require.NoError(t, err)
	require.Empty(t, d.NATSURL, "no stream unless asked")
	c, err := config.Load([]string{"--nats-url", "nats://127.0.0.1:4222"}, env(nil))
	require.NoError(t, err)
	require.Equal(t, "nats://127.0.0.1:4222", c.NATSURL)
	c, err = config.Load(nil, env(map[string]string{"CLAIMSD_NATS_URL": "nats://a:4222, tls://b:4222"}))
	require.NoError(t, err)
	require.Equal(t, "nats://a:4222, tls://b:4222", c.NATSURL)
	for _, give := range []string{"127.0.0.1:4222", "http://127.0.0.1:4222", "nats://"} {
		_, err := config.Load(nil, env(map[string]string{"CLAIMSD_NATS_URL": give}))
		require.ErrorContains(t, err, "CLAIMSD_NATS_URL", give)
	}
}

func TestEventsKeepSetting(t *testing.T) {
	t.Parallel()
	c, err := config.Load(nil, env(nil))
	require.NoError(t, err)
	require.Equal(t, 720*time.Hour, c.EventsKeep)
	c, err = config.Load(nil, env(map[string]string{"CLAIMSD_EVENTS_KEEP": "0"}))
	require.NoError(t, err)
	require.Zero(t, c.EventsKeep, "0 keeps them for ever")
	for _, give := range []string{"-1h", "30m", "soon", "1d"} {
		_, err := config.Load(nil, env(map[string]string{"CLAIMSD_EVENTS_KEEP": give}))
		require.ErrorContains(t, err, "CLAIMSD_EVENTS_KEEP", give)
	}
}

func TestEvidenceSettings(t *testing.T) {
	t.Parallel()
	d, err := config.Load(nil, env(nil))
	require.NoError(t, err)
	require.Equal(t, "postgres", d.EvidenceStore, "files stay in the engine's database unless told")
	require.EqualValues(t, 10<<20, d.EvidenceMaxBytes)
	require.Equal(t, 10, d.EvidenceMaxFiles)
	require.Equal(t, 30, d.UploadsPerMinute)

	s3 := map[string]string{"CLAIMSD_EVIDENCE_STORE": "s3", "CLAIMSD_S3_ENDPOINT": "127.0.0.1:7070", "CLAIMSD_S3_BUCKET": "claimsd-evidence",
		"CLAIMSD_S3_ACCESS_KEY": "key", "CLAIMSD_S3_SECRET_KEY": "secret", "CLAIMSD_S3_INSECURE": "true"}
	c, err := config.Load(nil, env(s3))
	require.NoError(t, err)
	require.Equal(t, "s3", c.EvidenceStore)
	require.True(t, c.S3Insecure)
	require.Equal(t, "us-east-1", c.S3Region)

	// The bucket's settings are required with s3, each named.
	_, err = config.Load(nil, env(map[string]string{"CLAIMSD_EVIDENCE_STORE": "s3"}))
	for _, name := range []string{"CLAIMSD_S3_ENDPOINT", "CLAIMSD_S3_BUCKET", "CLAIMSD_S3_ACCESS_KEY", "CLAIMSD_S3_SECRET_KEY"} {
		require.ErrorContains(t, err, name)
	}
	for name, bad := range map[string][]string{
		"CLAIMSD_EVIDENCE_STORE":     {"disk", "S3"},
		"CLAIMSD_EVIDENCE_MAX_BYTES": {"0", "1023", "104857601", "-1", "9223372036854775808", "10MB"},
		"CLAIMSD_EVIDENCE_MAX_FILES": {"0", "101", "-3", "ten", "99999999999999999999"},
		"CLAIMSD_UPLOADS_PER_MINUTE": {"0", "10001", "x"},
		"CLAIMSD_S3_ENDPOINT":        {"https://s3.example", "s3.example", "/path"},
		"CLAIMSD_S3_BUCKET":          {"ab", "Upper", "under_score", strings.Repeat("a", 64)},
		"CLAIMSD_S3_INSECURE":        {"maybe"},
	} {
		for _, v := range bad {
			_, err := config.Load(nil, env(map[string]string{name: v}))
			require.ErrorContains(t, err, name, "%s=%q", name, v)
		}
	}
}
