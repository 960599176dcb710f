package webhook_test

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/claimsd/claimsd/domain/webhook"
)

// The reference library verifies what Sign makes, with either of two
// secrets while both sign, and refuses a changed body or a secret that
// did not sign.
func TestSignVerifiesWithTheReferenceLibrary(t *testing.T) {
	t.Parallel()
	oldSecret, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	newSecret, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := webhook.NewSecret()
	body := []byte(`{"id":"evt_clm_1_1","type":"claim.submitted"}`)
	now := time.Now()
	sig, err := webhook.Sign([]string{newSecret, oldSecret}, "evt_clm_1_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(sig)); n != 2 {
		t.Fatalf("signature %q has %d parts, want 2", sig, n)
	}
	h := http.Header{}
	h.Set(webhook.HeaderID, "evt_clm_1_1")
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(webhook.HeaderSignature, sig)
	for name, s := range map[string]string{"new": newSecret, "old": oldSecret} {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(body, h); err != nil {
			t.Errorf("the %s secret does not verify: %v", name, err)
		}
		if err := wh.Verify([]byte(`{"id":"evt_clm_1_1","type":"claim.refunded"}`), h); err == nil {
			t.Errorf("the %s secret verifies a changed body", name)
		}
	}
	wh, _ := standardwebhooks.NewWebhook(other)
	if err := wh.Verify(body, h); err == nil {
		t.Error("a secret that did not sign verifies")
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	s, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	key, err := webhook.ParseSecret(s)
	if err != nil || len(key) != webhook.SecretBytes {
		t.Fatalf("ParseSecret(%q) = %d bytes, %v", s, len(key), err)
	}
	if s2, _ := webhook.NewSecret(); s2 == s {
		t.Fatal("two secrets alike")
	}
	for _, bad := range []string{"", "whsec_", "whsec_!!!", "sk_" + s[6:], "whsec_" + "c2hvcnQ=", s + "x"} {
		if _, err := webhook.ParseSecret(bad); err == nil {
			t.Errorf("ParseSecret(%q) accepted", bad)
		}
	}
	if _, err := webhook.Sign(nil, "x", time.Now(), nil); err == nil {
		t.Error("Sign without a secret succeeded")
	}
}

// The schedule: ten attempts, the spec's waits, none after the last.
func TestNextAttempt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
		10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour}
	var total time.Duration
	for i, w := range want {
		next, ok := webhook.NextAttempt(i+1, now)
		if !ok || next.Sub(now) != w {
			t.Errorf("after attempt %d: %v, %v; want +%v", i+1, next.Sub(now), ok, w)
		}
		total += w
	}
	if _, ok := webhook.NextAttempt(webhook.MaxAttempts, now); ok {
		t.Error("a retry after the last attempt")
	}
	if _, ok := webhook.NextAttempt(0, now); ok {
		t.Error("a retry before any attempt")
	}
	if total < 75*time.Hour || total > 76*time.Hour {
		t.Errorf("the schedule spans %v, want about 75.6 h", total)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status int
		err    error
		want   webhook.Outcome
	}{
		{200, nil, webhook.Delivered}, {204, nil, webhook.Delivered}, {299, nil, webhook.Delivered},
		{301, nil, webhook.Failed}, {302, nil, webhook.Failed}, {400, nil, webhook.Failed}, {404, nil, webhook.Failed},
		{410, nil, webhook.Gone}, {429, nil, webhook.Failed}, {500, nil, webhook.Failed}, {0, nil, webhook.Failed},
		{200, http.ErrHandlerTimeout, webhook.Failed},
	} {
		if got := webhook.Classify(c.status, c.err); got != c.want {
			t.Errorf("Classify(%d, %v) = %s, want %s", c.status, c.err, got, c.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		url          string
		allowPrivate bool
		code         string // "" accepted
	}{
		{"https://hooks.example.com/claimsd", false, ""},
		{"https://hooks.example.com:8443/x?y=1", false, ""},
		{"https://93.184.216.34/hook", false, ""},
		{"http://hooks.example.com/claimsd", false, "https_required"},
		{"http://127.0.0.1:9000/hook", true, ""},
		{"ftp://hooks.example.com/", false, "https_required"},
		{"", false, "required"},
		{"   ", false, "required"},
		{"/relative", false, "invalid_url"},
		{"https://", false, "invalid_url"},
		{"https://user:pw@hooks.example.com/", false, "credentials_in_url"},
		{"https://hooks.example.com/#x", false, "invalid_url"},
		{"https://hooks.example.com:0/", false, "invalid_url"},
		{"https://hooks.example.com:99999/", false, "invalid_url"},
		{"https://localhost/hook", false, "private_address"},
		{"https://api.localhost/hook", false, "private_address"},
		{"https://127.0.0.1/hook", false, "private_address"},
		{"https://10.1.2.3/hook", false, "private_address"},
		{"https://172.16.0.1/hook", false, "private_address"},
		{"https://192.168.1.1/hook", false, "private_address"},
		{"https://169.254.169.254/latest/meta-data", false, "private_address"},
		{"https://[::1]/hook", false, "private_address"},
		{"https://[fe80::1]/hook", false, "private_address"},
		{"https://[fd00::1]/hook", false, "private_address"},
		{"https://[::ffff:127.0.0.1]/hook", false, "private_address"},
		{"https://0.0.0.0/hook", false, "private_address"},
		{"https://100.64.0.1/hook", false, "private_address"},
		{"https://hooks.example.com/" + strings.Repeat("a", webhook.MaxURL), false, "too_long"},
	} {
		err := webhook.CheckURL("url", c.url, c.allowPrivate)
		switch {
		case c.code == "" && err != nil:
			t.Errorf("CheckURL(%q) = %v, want accepted", c.url, err)
		case c.code != "" && (err == nil || err.Code != c.code || err.Field != "url"):
			t.Errorf("CheckURL(%q) = %v, want %s on url", c.url, err, c.code)
		}
	}
}

func TestCheckDial(t *testing.T) {
	t.Parallel()
	for addr, refused := range map[string]bool{
		"127.0.0.1:443": true, "[::1]:443": true, "10.0.0.1:443": true, "169.254.169.254:80": true,
		"[::ffff:10.0.0.1]:443": true, "93.184.216.34:443": false, "[2606:2800:220:1::]:443": false,
	} {
		err := webhook.CheckDial(addr)
		if (err != nil) != refused {
			t.Errorf("CheckDial(%s) = %v, refused want %v", addr, err, refused)
		}
	}
	if webhook.Refused(netip.MustParseAddr("8.8.8.8")) != "" {
		t.Error("a public address refused")
	}
}
