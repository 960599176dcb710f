package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// headlineRate is the open-loop rate the targets speak of.
const headlineRate = 200

func (b *bench) run(ctx context.Context) (*result, error) {
	b.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second,
	}}
	b.run_ = "b" + strconv.FormatInt(time.Now().Unix()%1_000_000, 36)
	b.svcTok, b.agent = b.token("service", "claimsbench"), b.token("agent", "claimsbench")
	res := &result{Machine: machine(), Date: time.Now().UTC().Format("2006-01-02"), Duration: b.o.duration.String(),
		Concurrency: b.o.concurrency}
	if err := b.seedSellers(ctx); err != nil {
		return nil, err
	}
	var hooks *receiver
	if b.o.webhook {
		r, err := startReceiver()
		if err != nil {
			return nil, err
		}
		defer r.close()
		id, err := b.registerEndpoint(ctx, r.url)
		if err != nil {
			return nil, err
		}
		defer b.deleteEndpoint(id)
		b.logf("webhook endpoint %s delivers to %s", id, r.url)
		hooks = r
	}
	var natsW *natsWatch
	if b.o.nats != "" {
		w, err := watchNATS(ctx, b.o.nats)
		if err != nil {
			return nil, err
		}
		defer w.close()
		natsW = w
	}

	// Warm-up: closed-loop load nobody measures.
	if b.o.warmup > 0 && b.o.concurrency > 0 {
		orders, err := b.seedOrders(ctx, perSecondCap*int(b.o.warmup.Seconds()+1))
		if err != nil {
			return nil, err
		}
		b.logf("warming up for %s", b.o.warmup)
		_, _, _ = b.closedLoop(ctx, b.o.concurrency, b.o.warmup, orders)
		if err := b.drain(ctx); err != nil {
			return nil, err
		}
	}

	var err error
	if b.o.backtest > 0 {
		res.Concurrency = 0 // no closed loop is measured
		err = b.backtests(ctx, res)
	} else {
		err = b.load(ctx, res)
	}
	if err != nil {
		return nil, err
	}
	// After the load, every event of the run's claims should reach the
	// receiver and the stream; wait for each, however long it takes.
	if hooks != nil {
		if res.Webhooks, err = b.webhookReport(ctx, hooks); err != nil {
			return nil, err
		}
	}
	if natsW != nil {
		if res.NATS, err = b.natsReport(ctx, natsW); err != nil {
			return nil, err
		}
	}
	res.summarise()
	return res, nil
}

// load runs the open loops, the closed loop, the SQL floor and the
// history's open loops, as the options ask.
func (b *bench) load(ctx context.Context, res *result) error {
	steps, err := b.openLoops(ctx, false)
	if err != nil {
		return err
	}
	res.Open = append(res.Open, steps...)

	if b.o.concurrency > 0 {
		if err := b.closed(ctx, res); err != nil {
			return err
		}
	}
	if b.o.floor {
		floor, err := runFloor(ctx, b.o.floorDir, b.dbURL, b.o.floorSecs, b.logf)
		if err != nil {
			return err
		}
		res.FloorClaimsPerS = floor
		if floor > 0 {
			res.E2EVsFloor = res.E2EClaimsPerS / floor
		}
	}
	if b.o.preload > 0 {
		if err := preload(ctx, b.dbURL, b.run_, b.o.preload, b.logf); err != nil {
			return err
		}
		res.Preloaded = b.o.preload
		steps, err := b.openLoops(ctx, true)
		if err != nil {
			return err
		}
		res.Open = append(res.Open, steps...)
	}
	return nil
}

// perSecondCap bounds how many claims per second a closed loop may file,
// to size the orders seeded for it.
const perSecondCap = 1000

// openLoops runs each rate for the duration.
func (b *bench) openLoops(ctx context.Context, preloaded bool) ([]openStep, error) {
	var steps []openStep
	for _, rate := range b.o.rates {
		n := rate * int(b.o.duration.Seconds())
		orders, err := b.seedOrders(ctx, n)
		if err != nil {
			return nil, err
		}
		if err := b.drain(ctx); err != nil {
			return nil, err
		}
		b.logf("open loop at %d claims/s for %s", rate, b.o.duration)
		st := b.openLoop(ctx, rate, orders)
		st.Preloaded = preloaded
		steps = append(steps, st)
		if err := b.drain(ctx); err != nil {
			return nil, err
		}
	}
	return steps, nil
}

// closed runs the measured closed loop and fills the end-to-end, memory
// and database figures.
func (b *bench) closed(ctx context.Context, res *result) error {
	orders, err := b.seedOrders(ctx, perSecondCap*int(b.o.duration.Seconds()+1))
	if err != nil {
		return err
	}
	if err := b.drain(ctx); err != nil {
		return err
	}
	time.Sleep(1500 * time.Millisecond) // let statistics of earlier work land
	var before dbCounters
	if b.dbURL != "" {
		if before, err = readCounters(ctx, b.dbURL, true); err != nil {
			b.logf("statements per claim left out: %v", err)
			if before, err = readCounters(ctx, b.dbURL, false); err != nil {
				return err
			}
		}
	}
	mem := b.watchEngine(ctx)
	b.logf("closed loop with %d shoppers for %s", b.o.concurrency, b.o.duration)
	ids, errs, own := b.closedLoop(ctx, b.o.concurrency, b.o.duration, orders)
	if err := b.drain(ctx); err != nil {
		return err
	}
	peakRSS, cpu, wall := mem()
	res.Errors += errs
	res.EngineRSSMB = float64(peakRSS) / (1 << 20)
	if wall > 0 {
		res.EngineCPUCores = cpu.Seconds() / wall.Seconds()
	}
	if b.dbURL != "" {
		time.Sleep(1500 * time.Millisecond)
		after, err := readCounters(ctx, b.dbURL, before.statements != nil)
		if err != nil {
			return err
		}
		cost, err := costBetween(before, after, own)
		if err != nil {
			return err
		}
		walCommits, walErr := walCommits(ctx, b.dbURL, before.walLSN, after.walLSN)
		if walErr != nil {
			b.logf("WAL commits per claim left out: %v", walErr)
		}
		if len(ids) > 0 {
			filed := float64(len(ids))
			res.CommitsPerClaim = float64(cost.commits) / filed
			res.WALBytesPerClaim = float64(cost.walBytes) / filed
			if walErr == nil {
				res.WALCommitsPerClaim = float64(walCommits) / filed
			}
			if cost.hasStatements {
				res.StatementsPerClaim, res.TransactionsPerClaim = float64(cost.statements)/filed, float64(cost.transactions)/filed
				res.TopStatements = topStatements(cost.byStatement, b.o.statements, len(ids))
				b.logTopStatements(res.TopStatements)
			}
			n, p50, p99, err := relayLag(ctx, b.dbURL, ids)
			if err != nil {
				return fmt.Errorf("relay lag: %w", err)
			}
			res.EventsPerClaim, res.RelayLagP50ms, res.RelayLagP99ms = float64(n)/float64(len(ids)), p50, p99
		}
	}
	js, err := b.journeys(ctx, ids)
	if err != nil {
		return err
	}
	h := newHistogram()
	var first, last time.Time
	closed := 0
	for _, j := range js {
		if first.IsZero() || j.submitted.Before(first) {
			first = j.submitted
		}
		if j.closed.IsZero() {
			continue
		}
		closed++
		if j.closed.After(last) {
			last = j.closed
		}
		_ = h.RecordValue(j.closed.Sub(j.submitted).Microseconds())
	}
	res.ClosedLoopClaims, res.ClosedLoopClosed = len(ids), closed
	if closed > 0 {
		res.EngineCPUmsPerClaim = float64(cpu.Microseconds()) / 1000 / float64(closed)
	}
	if closed > 0 && last.After(first) {
		res.E2EClaimsPerS = float64(closed) / last.Sub(first).Seconds()
		res.E2EP50ms = float64(h.ValueAtQuantile(50)) / 1000
		res.E2EP99ms = float64(h.ValueAtQuantile(99)) / 1000
	}
	return nil
}

// watchEngine samples the engine's resident memory every 100 ms until the
// returned function is called, which gives the peak, the CPU time used
// and the wall time. A running engine is read from its /metrics.
func (b *bench) watchEngine(ctx context.Context) func() (int64, time.Duration, time.Duration) {
	sample := func() (procSample, error) { return b.engineSample(ctx) }
	start := time.Now()
	first, _ := sample()
	peak := first.rssBytes
	stop := every(100*time.Millisecond, func(time.Time) {
		if s, err := sample(); err == nil {
			peak = max(peak, s.rssBytes)
		}
	})
	return func() (int64, time.Duration, time.Duration) {
		stop()
		last, _ := sample()
		return max(peak, last.rssBytes), last.cpu - first.cpu, time.Since(start)
	}
}

// every calls f with the tick's time every d until the returned stop is
// called; stop returns once f has run for the last time, so what f wrote
// may then be read without a lock.
func every(d time.Duration, f func(now time.Time)) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				f(now)
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// engineSample reads the engine's resident memory and CPU time: from
// /proc for an engine claimsbench started, else from its /metrics.
func (b *bench) engineSample(ctx context.Context) (procSample, error) {
	if b.engine != nil {
		return sampleProc(b.engine.cmd.Process.Pid)
	}
	return b.scrapeProcess(ctx)
}

// scrapeProcess reads the process figures a running engine publishes.
func (b *bench) scrapeProcess(ctx context.Context) (procSample, error) {
	code, body, err := b.do(ctx, http.MethodGet, "/metrics", b.agent, nil)
	if err != nil || code != http.StatusOK {
		return procSample{}, fmt.Errorf("scrape /metrics: %d %v", code, err)
	}
	var s procSample
	for _, line := range strings.Split(string(body), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "process_resident_memory_bytes":
			s.rssBytes = int64(v)
		case "process_cpu_seconds_total":
			s.cpu = time.Duration(v * float64(time.Second))
		}
	}
	return s, nil
}
