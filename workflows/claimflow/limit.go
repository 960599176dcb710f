package claimflow

import (
	"sync"
	"time"
)

// Limiter paces how often one caller may do something: Reserve takes a
// turn or says how long until one is free; giveBack returns the turn, for
// a request that did nothing (a replay, or a failure on our side).
type Limiter interface {
	Reserve(v Viewer) (ok bool, wait time.Duration, giveBack func())
}

var _ Limiter = (*ClaimLimiter)(nil)

// ClaimLimiter paces how fast each shopper may file claims, with a token
// bucket per caller (role and subject), so one shopper filing claims in a
// loop is slowed without touching others. The Service holds one, so every
// front door files through the same limit. Buckets idle for ten minutes
// are forgotten.
//
//	lim := claimflow.NewClaimLimiter(20, 10, time.Now)
//	ok, wait, giveBack := lim.Reserve(Viewer{Role: RoleShopper, Subject: "shp_alice"})
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
func (s *ClaimLimiter) Reserve(v Viewer) (ok bool, wait time.Duration, giveBack func()) {
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
