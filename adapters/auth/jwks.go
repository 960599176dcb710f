package auth

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// JWKS holds the RSA public keys a marketplace's identity provider
// publishes as a JSON Web Key Set, so the API accepts RS256 tokens it
// signs (besides claimsd's own HS256 ones). Keys are looked up by the
// token's kid; a kid not in the set makes it fetch the set again (at most
// once per MinRefresh), and the set is refreshed when older than MaxAge.
// A failed fetch keeps the keys it had. It is safe for concurrent use.
//
//	jwks := auth.NewJWKS("https://idp.example/.well-known/jwks.json", auth.JWKSOptions{})
//	_ = jwks.Refresh(ctx) // at start; later fetches happen on demand
type JWKS struct {
	url  string
	opts JWKSOptions

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time // last fetch attempt
	loaded  time.Time // last successful fetch
}

// JWKSOptions tune the key set's fetching; zero values take the defaults.
type JWKSOptions struct {
	Client     *http.Client  // default: 5 s timeout
	MinRefresh time.Duration // default 30 s: unknown kids fetch at most this often
	MaxAge     time.Duration // default 10 min
	Logger     *slog.Logger
	Now        func() time.Time
}

// NewJWKS returns a key set read from url; nothing is fetched yet.
func NewJWKS(url string, o JWKSOptions) *JWKS {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if o.MinRefresh <= 0 {
		o.MinRefresh = 30 * time.Second
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 10 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &JWKS{url: url, opts: o, keys: map[string]*rsa.PublicKey{}}
}

// Refresh fetches the key set now.
func (j *JWKS) Refresh(ctx context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.fetchLocked(ctx)
}

// key returns the public key with id kid, fetching the set again when the
// kid is unknown or the set is old (and the last try is not too recent).
func (j *JWKS) key(ctx context.Context, kid string) (*rsa.PublicKey, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.opts.Now()
	k, ok := j.keys[kid]
	stale := now.Sub(j.loaded) > j.opts.MaxAge
	if (!ok || stale) && now.Sub(j.fetched) >= j.opts.MinRefresh {
		if err := j.fetchLocked(ctx); err != nil {
			j.opts.Logger.Warn("fetching the token key set failed; keeping the keys we had", "err", err)
		}
		k, ok = j.keys[kid]
	}
	return k, ok
}

func (j *JWKS) fetchLocked(ctx context.Context) error {
	j.fetched = j.opts.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return fmt.Errorf("token key set: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := j.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("token key set: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("token key set: %s answered %d", j.url, resp.StatusCode)
	}
	keys, err := parseJWKS(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("token key set from %s: %w", j.url, err)
	}
	j.keys, j.loaded = keys, j.opts.Now()
	return nil
}

// parseJWKS reads the RSA signing keys of a JWK Set (RFC 7517) by kid;
// keys of other types or uses, or for other algorithms, are skipped.
func parseJWKS(r io.Reader) (map[string]*rsa.PublicKey, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Use string `json:"use"`
			Alg string `json:"alg"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(r).Decode(&set); err != nil {
		return nil, fmt.Errorf("not a JSON key set: %w", err)
	}
	out := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") || k.Kid == "" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("key %q: n and e must be base64url", k.Kid)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 {
			return nil, fmt.Errorf("key %q: %d bits; at least 2048 are needed", k.Kid, pub.N.BitLen())
		}
		out[k.Kid] = pub
	}
	if len(out) == 0 {
		return nil, errors.New("no RSA signing key in the set")
	}
	return out, nil
}
