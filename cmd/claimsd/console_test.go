package main

import (
	"bytes"
	"context"
	"github.com/claimsd/claimsd/adapters/auth"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
)

func TestTokenPrintsAConsoleLoginURL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	link := func(t *testing.T, env map[string]string, args ...string) (*url.URL, jwt.MapClaims) {
		t.Helper()
		env["CLAIMSD_DATA_DIR"] = dir
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), append([]string{"token", "--role", "agent", "--sub", "ana", "--login-url"}, args...),
			&out, io.Discard, envOf(env)))
		u, err := url.Parse(strings.TrimSpace(out.String()))
		require.NoError(t, err)
		claims := jwt.MapClaims{}
		_, _, err = jwt.NewParser().ParseUnverified(u.Query().Get("t"), claims)
		require.NoError(t, err)
		return u, claims
	}

	u, claims := link(t, map[string]string{"CLAIMSD_HTTP_ADDR": "127.0.0.1:9999"})
	require.Equal(t, "http://127.0.0.1:9999/console/login", u.Scheme+"://"+u.Host+u.Path)
	require.Equal(t, "agent", claims["role"])
	require.Equal(t, "ana", claims["sub"])
	require.NotEmpty(t, claims["jti"])
	exp, iat := claims["exp"].(float64), claims["iat"].(float64)
	require.Equal(t, (15 * time.Minute).Seconds(), exp-iat, "a sign-in link lasts 15 minutes unless --ttl says otherwise")

	// The link's token is not an API token.
	secret, err := os.ReadFile(filepath.Join(dir, "jwt-secret"))
	require.NoError(t, err)
	_, err = auth.Keys{Secret: bytes.TrimSpace(secret)}.Verify(u.Query().Get("t"), time.Now())
	require.ErrorIs(t, err, auth.ErrTokenInvalid)

	_, again := link(t, map[string]string{})
	require.NotEqual(t, claims["jti"], again["jti"], "every link is a new one")

	u, claims = link(t, map[string]string{"CLAIMSD_HTTP_ADDR": ":8080"}, "--ttl", "5m")
	require.Equal(t, "http://localhost:8080/console/login", u.Scheme+"://"+u.Host+u.Path)
	require.Equal(t, (5 * time.Minute).Seconds(), claims["exp"].(float64)-claims["iat"].(float64))

	u, _ = link(t, map[string]string{}, "--base-url", "https://claims.example.com/ops/")
	require.Equal(t, "https://claims.example.com/ops/console/login", u.Scheme+"://"+u.Host+u.Path)

	env := envOf(map[string]string{"CLAIMSD_DATA_DIR": dir})
	for _, args := range [][]string{
		{"token", "--role", "service", "--sub", "platform", "--login-url"},
		{"token", "--role", "agent", "--sub", "ana", "--login-url", "--base-url", "claims.example.com"},
		{"token", "--role", "agent", "--sub", "has space", "--login-url"},
	} {
		require.Error(t, run(context.Background(), args, io.Discard, io.Discard, env), args)
	}
}

// TestServeSignsInToTheConsole runs serve and signs in through a link the
// token command made, as a person would.
func TestServeSignsInToTheConsole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL, cleanup, err := pgtest.Database(ctx, "cmdconsole")
	require.NoError(t, err)
	t.Cleanup(cleanup)
	addr := freeAddr(t)
	env := envOf(map[string]string{"DATABASE_URL": dbURL, "CLAIMSD_DATA_DIR": t.TempDir(), "CLAIMSD_HTTP_ADDR": addr})

	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(sctx, []string{"serve"}, io.Discard, io.Discard, env) }()
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-done)
	})
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped before it was ready: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}

	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"token", "--role", "agent", "--sub", "ana", "--login-url"}, &out, io.Discard, env))
	link := strings.TrimSpace(out.String())
	require.True(t, strings.HasPrefix(link, "http://"+addr+"/console/login?t="), link)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(link)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "signs you in as <strong>ana</strong>")

	u, err := url.Parse(link)
	require.NoError(t, err)
	nonce := regexp.MustCompile(`name="n" value="([^"]+)"`).FindStringSubmatch(string(body))
	require.NotNil(t, nonce, "the sign-in form has no nonce")
	resp, err = client.PostForm("http://"+addr+"/console/login", url.Values{"t": {u.Query().Get("t")}, "n": {nonce[1]}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "claimsd_session" {
			session = c
		}
	}
	require.NotNil(t, session)

	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/console/queue", nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
	resp, err = client.Do(req)
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "<h1>Review queue</h1>")
}
