package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
)

// result is everything one run measured.
type result struct {
	Date        string `json:"date"`
	Machine     string `json:"machine"`
	Duration    string `json:"duration"`
	Concurrency int    `json:"concurrency"`

	Open []openStep `json:"open_loop"`

	// At the headline rate (200/s, or the nearest rate run), empty history.
	DecisionP50ms float64 `json:"decision_p50_ms"`
	DecisionP99ms float64 `json:"decision_p99_ms"`
	// The same with -preload claims in history, and its ratio to the above.
	Preloaded              int     `json:"preloaded_claims,omitempty"`
	DecisionP99msPreloaded float64 `json:"decision_p99_ms_preloaded,omitempty"`
	PreloadedP99Ratio      float64 `json:"preloaded_p99_ratio,omitempty"`

	ClosedLoopClaims int     `json:"closed_loop_claims"`
	ClosedLoopClosed int     `json:"closed_loop_closed"`
	E2EClaimsPerS    float64 `json:"e2e_claims_per_s"`
	E2EP50ms         float64 `json:"e2e_p50_ms"`
	E2EP99ms         float64 `json:"e2e_p99_ms"`
	EngineRSSMB      float64 `json:"engine_rss_mb"`
	EngineCPUCores   float64 `json:"engine_cpu_cores"`
	// The engine's CPU time over the closed loop per claim closed.
	EngineCPUmsPerClaim float64 `json:"engine_cpu_ms_per_claim"`
	// The engine database's work over the closed loop per claim filed,
	// without claimsbench's own queries. Commits include read-only
	// transactions; WAL commits are those that wrote, and like the WAL
	// bytes they are the whole cluster's. Statements (pg_stat_statements)
	// leave out BEGIN, COMMIT and ROLLBACK; transactions are the COMMITs.
	CommitsPerClaim      float64 `json:"commits_per_claim"`
	WALBytesPerClaim     float64 `json:"wal_bytes_per_claim"`
	WALCommitsPerClaim   float64 `json:"wal_commits_per_claim,omitempty"`
	StatementsPerClaim   float64 `json:"statements_per_claim,omitempty"`
	TransactionsPerClaim float64 `json:"transactions_per_claim,omitempty"`
	// With -statements N: the N statements called most in the closed loop.
	TopStatements []topStatement `json:"top_statements,omitempty"`
	// The outbound events of the closed loop's claims: how many per
	// claim, and how long each waited for the relay to number it.
	EventsPerClaim float64 `json:"events_per_claim,omitempty"`
	RelayLagP50ms  float64 `json:"relay_lag_p50_ms,omitempty"`
	RelayLagP99ms  float64 `json:"relay_lag_p99_ms,omitempty"`
	// With -webhook and -nats: what reached the receiver and the stream
	// of every event of the run's claims (all loops).
	Webhooks *webhookResult `json:"webhooks,omitempty"`
	NATS     *natsResult    `json:"nats,omitempty"`
	// With -backtest: the history, the backtests and the open loop
	// without and during one.
	Backtest        *backtestResult `json:"backtest,omitempty"`
	FloorClaimsPerS float64         `json:"floor_claims_per_s,omitempty"`
	E2EVsFloor      float64         `json:"e2e_vs_floor,omitempty"`
	Errors          int             `json:"errors"`
}

// summarise picks the headline figures and counts every error.
func (r *result) summarise() {
	pick := func(preloaded bool) *openStep {
		var best *openStep
		for i := range r.Open {
			s := &r.Open[i]
			if s.Preloaded != preloaded {
				continue
			}
			if best == nil || abs(s.Rate-headlineRate) < abs(best.Rate-headlineRate) {
				best = s
			}
		}
		return best
	}
	for _, s := range r.Open {
		r.Errors += s.Errors
	}
	if bt := r.Backtest; bt != nil {
		for _, s := range bt.Intake {
			r.Errors += s.Without.Errors + s.During.Errors
		}
		if len(bt.Intake) > 0 {
			s := bt.Intake[0]
			r.DecisionP50ms, r.DecisionP99ms = s.Without.P50ms, s.Without.P99ms
		}
	}
	if s := pick(false); s != nil {
		r.DecisionP50ms, r.DecisionP99ms = s.P50ms, s.P99ms
	}
	if s := pick(true); s != nil {
		r.DecisionP99msPreloaded = s.P99ms
		if r.DecisionP99ms > 0 {
			r.PreloadedP99Ratio = s.P99ms / r.DecisionP99ms
		}
	}
}

// check fails a run that had errors, whose closed loop closed nothing,
// or (-webhook, -nats) that had no event of its claims delivered or
// published, or not all of them.
func (r *result) check() error {
	switch {
	case r.Errors > 0:
		return fmt.Errorf("%d requests failed", r.Errors)
	case r.Backtest != nil && !r.Backtest.SelfChangedNone:
		return fmt.Errorf("the backtest of the active policy changed %d of %d claims: a replay of the policy that decided them must change none",
			r.Backtest.Self.Changed, r.Backtest.Self.Claims)
	case r.Concurrency > 0 && r.ClosedLoopClosed == 0:
		return fmt.Errorf("the closed loop filed %d claims and closed none", r.ClosedLoopClaims)
	case r.Webhooks != nil && (!r.Webhooks.AllDelivered || r.Webhooks.Events == 0):
		return fmt.Errorf("webhooks: %d of %d events of the run's claims delivered", r.Webhooks.Delivered, r.Webhooks.Events)
	case r.NATS != nil && (!r.NATS.AllPublished || r.NATS.Events == 0):
		return fmt.Errorf("NATS: %d of %d events of the run's claims in the stream", r.NATS.Messages, r.NATS.Events)
	}
	return nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func (r *result) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r *result) writeTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "claimsbench %s on %s, %s per step\n\n", r.Date, r.Machine, r.Duration)
	if bt := r.Backtest; bt != nil {
		bt.writeTable(w)
		fmt.Fprintf(w, "\n%-20s %d\n", "errors", r.Errors)
		return
	}
	fmt.Fprintln(tw, "rate/s\thistory\tsent\terrors\tachieved/s\tkept\tp50 ms\tp95 ms\tp99 ms\tmax ms\t")
	for _, s := range r.Open {
		hist := "empty"
		if s.Preloaded {
			hist = fmt.Sprintf("+%d", r.Preloaded)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%.1f\t%v\t%.2f\t%.2f\t%.2f\t%.2f\t\n", s.Rate, hist, s.Sent, s.Errors, s.Achieved, s.KeptRate,
			s.P50ms, s.P95ms, s.P99ms, s.MaxMs)
	}
	_ = tw.Flush() // a table for the terminal: nothing to do if it fails
	fmt.Fprintln(w)
	lines := [][2]string{
		{"closed loop", fmt.Sprintf("%d shoppers: %d claims filed, %d closed", r.Concurrency, r.ClosedLoopClaims, r.ClosedLoopClosed)},
		{"end to end", fmt.Sprintf("%.1f claims/s closed, p50 %.1f ms, p99 %.1f ms", r.E2EClaimsPerS, r.E2EP50ms, r.E2EP99ms)},
		{"engine", fmt.Sprintf("peak RSS %.1f MB, %.2f cores", r.EngineRSSMB, r.EngineCPUCores)},
		{"engine per claim", fmt.Sprintf("%.2f ms of CPU", r.EngineCPUmsPerClaim)},
		{"database per claim", r.databaseLine()},
	}
	if r.EventsPerClaim > 0 {
		lines = append(lines, [2]string{"outbound events", fmt.Sprintf("%.1f per claim; relay lag p50 %.1f ms, p99 %.1f ms",
			r.EventsPerClaim, r.RelayLagP50ms, r.RelayLagP99ms)})
	}
	if w := r.Webhooks; w != nil {
		lines = append(lines, [2]string{"webhooks", fmt.Sprintf("%d deliveries, %d duplicates; %d of %d events of the run's claims (all: %v), lag p50 %.1f ms, p99 %.1f ms, max %.1f ms; waited %.1f s for the last once the load was measured",
			w.Deliveries, w.Duplicates, w.Delivered, w.Events, w.AllDelivered, w.LagP50ms, w.LagP99ms, w.LagMaxms, w.WaitS)})
	}
	if n := r.NATS; n != nil {
		lines = append(lines, [2]string{"NATS " + n.Stream, fmt.Sprintf("%d messages during the run; %d of %d events of the run's claims (all: %v, %d duplicates), lag p50 %.1f ms, p99 %.1f ms, max %.1f ms; waited %.1f s for the last once the load was measured",
			n.Published, n.Messages, n.Events, n.AllPublished, n.Duplicates, n.LagP50ms, n.LagP99ms, n.LagMaxms, n.WaitS)})
	}
	if r.FloorClaimsPerS > 0 {
		lines = append(lines, [2]string{"SQL floor", fmt.Sprintf("%.1f claims/s; engine at %.2f of it", r.FloorClaimsPerS, r.E2EVsFloor)})
	}
	if r.Preloaded > 0 {
		lines = append(lines, [2]string{"history", fmt.Sprintf("decision p99 %.2f ms with %d claims, %.2f× the empty figure", r.DecisionP99msPreloaded, r.Preloaded, r.PreloadedP99Ratio)})
	}
	lines = append(lines, [2]string{"errors", fmt.Sprint(r.Errors)})
	for _, l := range lines {
		fmt.Fprintf(w, "%-20s %s\n", l[0], l[1])
	}
}

// databaseLine is the closed loop's database figures per claim, those
// measured.
func (r *result) databaseLine() string {
	s := fmt.Sprintf("%.2f commits", r.CommitsPerClaim)
	if r.WALCommitsPerClaim > 0 {
		s += fmt.Sprintf(" (%.2f that wrote)", r.WALCommitsPerClaim)
	}
	if r.StatementsPerClaim > 0 {
		s += fmt.Sprintf(", %.1f statements in %.2f transactions", r.StatementsPerClaim, r.TransactionsPerClaim)
	}
	return s + fmt.Sprintf(", %.0f bytes of WAL", r.WALBytesPerClaim)
}

// topStatement is one of the statements called most in the closed loop.
type topStatement struct {
	Query         string  `json:"query"`
	Calls         int64   `json:"calls"`
	CallsPerClaim float64 `json:"calls_per_claim"`
}

// topStatements are the first n of statements (most called first) per
// claim of filed, with their text on one line and cut short.
func topStatements(statements []statementCost, n, filed int) []topStatement {
	if n <= 0 || filed <= 0 {
		return nil
	}
	out := make([]topStatement, 0, min(n, len(statements)))
	for _, st := range statements[:min(n, len(statements))] {
		out = append(out, topStatement{Query: shorten(normaliseSQL(st.query), 120), Calls: st.calls,
			CallsPerClaim: float64(st.calls) / float64(filed)})
	}
	return out
}

// shorten cuts s to at most n characters, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// logTopStatements writes the top statements to the log, where they are
// read beside the table or the JSON.
func (b *bench) logTopStatements(top []topStatement) {
	if len(top) == 0 {
		return
	}
	b.logf("statements called most in the closed loop (calls per claim):")
	for _, st := range top {
		b.logf("%8.2f  %s", st.CallsPerClaim, st.Query)
	}
}

// machine describes where the run happened: cores, memory, kernel.
func machine() string {
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				_, _ = fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
				mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return fmt.Sprintf("%d cores%s, %s/%s", runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH)
}

func (bt *backtestResult) writeTable(w io.Writer) {
	h := bt.History
	fmt.Fprintf(w, "history: %d claims decided by %s from %s to %s (%v), %d events, loaded in %.0f s, settled in %.0f s\n\n",
		h.Outcomes["instant_refund"]+h.Outcomes["manual_review"]+h.Outcomes["rejected"], h.PolicyVersion,
		h.DecidedFrom.Format("2006-01-02"), h.DecidedTo.Format("2006-01-02"), h.Outcomes, h.Events, h.LoadSeconds, h.SettleSeconds)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "backtest\tclaims\tchanged\tseconds\tclaims/s\tRSS before MB\tpeak MB\tcores\t")
	runs := []struct {
		name string
		r    backtestRun
	}{{"active (self)", bt.Self}, {"candidate", bt.Candidate}}
	for _, s := range bt.Intake {
		runs = append(runs, struct {
			name string
			r    backtestRun
		}{fmt.Sprintf("candidate, %d claims/s filed", s.Rate), s.Backtest})
	}
	for _, x := range runs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.0f\t%.0f\t%.0f\t%.2f\t\n", x.name, x.r.Claims, x.r.Changed, x.r.Seconds, x.r.ClaimsPerS,
			x.r.RSSBeforeMB, x.r.RSSPeakMB, x.r.EngineCPUCores)
	}
	_ = tw.Flush()
	u := bt.Unpaced
	fmt.Fprintf(w, "\nthe candidate unpaced, in claimsbench: %d claims in %.1f s (%.0f/s), %d changed; live Go heap %.1f MB before, %.1f MB at most\n",
		u.Claims, u.Seconds, u.ClaimsPerS, u.Changed, u.HeapBeforeMB, u.HeapPeakMB)
	fmt.Fprintf(w, "self-backtest changed none: %v\n\n", bt.SelfChangedNone)
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rate/s\tbacktest\tsent\terrors\tachieved/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\t")
	for _, s := range bt.Intake {
		for _, x := range []struct {
			name string
			o    openStep
		}{{"none", s.Without}, {fmt.Sprintf("running (covered: %v)", s.Covered), s.During}} {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", s.Rate, x.name, x.o.Sent, x.o.Errors, x.o.Achieved,
				x.o.P50ms, x.o.P95ms, x.o.P99ms, x.o.MaxMs)
		}
	}
	_ = tw.Flush()
}
