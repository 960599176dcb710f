package policyflow

import (
	"context"
	"time"

	"github.com/claimsd/claimsd/workflows/claimflow"
)

// This file is the lab's part of the application edge (see claimflow's
// edge.go): the requests that create something, each at most once per
// idempotency key, answering what the first one answered.

// on returns the service working on st: a store bound to one transaction.
func (s *Service) on(st Store) *Service {
	c := *s
	c.store = st
	return &c
}

// StartBacktestOnce queues a backtest at most once per key of the
// viewer's (an API's Idempotency-Key): the same key with the same request
// again returns the run the first request queued, with replayed true, and
// queues nothing; the run, its job and the key commit together. Without a
// key every request queues a run of its own.
//
//	bt, replayed, err := lab.StartBacktestOnce(ctx, v, "2026-12-07.1", req, claimflow.Key{Door: claimflow.DoorAPI, Value: k})
//
// Errors: StartBacktest's; *validation.Error on claimflow.KeyField for a
// key that is not a valid key; claimflow.ErrIdempotencyKeyReused when the
// key was used with another request.
func (s *Service) StartBacktestOnce(ctx context.Context, v claimflow.Viewer, version string, req BacktestRequest, key claimflow.Key) (Backtest, bool, error) {
	if key.Value == "" {
		b, err := s.StartBacktest(ctx, v, version, req)
		return b, false, err
	}
	if err := key.Validate(); err != nil {
		return Backtest{}, false, err
	}
	hash, err := claimflow.Fingerprint("start backtest", fingerprintOf(version, req))
	if err != nil {
		return Backtest{}, false, err
	}
	var b Backtest
	kept, replayed, err := s.store.PolicyOnce(ctx, "backtest:"+key.Scope(v), key.Value, hash, func(tx Store) ([]byte, error) {
		var err error
		if b, err = s.on(tx).StartBacktest(ctx, v, version, req); err != nil {
			return nil, err
		}
		return []byte(b.ID), nil
	})
	if err != nil || !replayed {
		return b, false, err
	}
	b, err = s.store.Backtest(ctx, string(kept))
	return b, true, err
}

// backtestFingerprint is a backtest request as its key compares it: the
// filters' values by name (claim.Reason and money.Currency encode as
// nothing in JSON).
type backtestFingerprint struct {
	Version    string    `json:"version"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Reasons    []string  `json:"reasons"`
	Currencies []string  `json:"currencies"`
	SellerID   string    `json:"seller_id"`
	DecidedBy  string    `json:"decided_by"`
}

func fingerprintOf(version string, req BacktestRequest) backtestFingerprint {
	f := backtestFingerprint{Version: version, From: req.From.UTC(), To: req.To.UTC(),
		SellerID: req.Filters.SellerID, DecidedBy: req.Filters.DecidedBy}
	for _, r := range req.Filters.Reasons {
		f.Reasons = append(f.Reasons, r.String())
	}
	for _, c := range req.Filters.Currencies {
		f.Currencies = append(f.Currencies, c.String())
	}
	return f
}
