package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/claimflow"
)

// ClaimLimiter paces how fast each shopper may file claims, with a token
// bucket per caller (role and subject), so one shopper filing claims in a
// loop is slowed without touching others. The API and the console share
// one, so neither is a way around the other. Buckets idle for ten
// minutes are forgotten.
//
//	lim := httpapi.NewClaimLimiter(20, 10, time.Now)
//	ok, wait, giveBack := lim.Reserve(claimflow.Viewer{Role: claimflow.RoleShopper, Subject: "shp_alice"})
type ClaimLimiter struct {
	every time.Duration // one token back per every
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

// How fast one shopper may file claims unless told otherwise.
const (
	DefaultClaimsPerMinute = 20
	DefaultClaimBurst      = 10
)

// NewClaimLimiter allows perMinute claims a minute after a burst of burst.
func NewClaimLimiter(perMinute, burst int, now func() time.Time) *ClaimLimiter {
	return &ClaimLimiter{every: time.Minute / time.Duration(perMinute), burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// Reserve takes a token for the viewer; ok false says how long
// until one is free. giveBack returns the token, for a request that
// filed nothing (a replay, or a failure on our side).
func (s *ClaimLimiter) Reserve(v claimflow.Viewer) (ok bool, wait time.Duration, giveBack func()) {
	return s.reserve(v.String())
}

type bucket struct {
	tokens float64
	last   time.Time // when tokens was brought up to date
	seen   time.Time
}

// reserve takes a token for key; ok false says how long until one is
// free. giveBack returns the token, for a request that filed nothing.
func (s *ClaimLimiter) reserve(key string) (ok bool, wait time.Duration, giveBack func()) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.swept) > time.Minute {
		for k, b := range s.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(s.buckets, k)
			}
		}
		s.swept = now
	}
	b, found := s.buckets[key]
	if !found {
		b = &bucket{tokens: s.burst, last: now}
		s.buckets[key] = b
	}
	b.seen = now
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(s.burst, b.tokens+float64(elapsed)/float64(s.every))
		b.last = now
	}
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(s.every)), nil
	}
	b.tokens--
	return true, 0, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		b.tokens = min(s.burst, b.tokens+1)
	}
}

// limitSubject answers 429 with Retry-After once the caller has used
// its burst and its rate. A request that filed nothing new does not
// count: a replay of an Idempotency-Key, or one that failed on our side
// (a shopper retrying through a database outage is not flooding).
func (a *api) limitSubject(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		v := viewer(c)
		ok, wait, giveBack := a.claimLimiter.Reserve(v)
		if !ok {
			secs := int(math.Ceil(wait.Seconds()))
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
			return newError(http.StatusTooManyRequests, "rate_limited",
				fmt.Sprintf("too many claims from you in a short time; retry in %d s", secs), "")
		}
		err := next(c)
		if (err != nil && toAPIError(err).Status >= http.StatusInternalServerError) ||
			c.Response().Header().Get(headerReplayed) == "true" {
			giveBack()
		}
		return err
	}
}
