package policyflow

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPacerHoldsTheRate: a thousand calls at 4,000 a second take at least
// a quarter of a second (a slow machine only makes them slower); no rate
// never waits; a cancelled context ends a wait.
func TestPacerHoldsTheRate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newPacer(4000)
	start := time.Now()
	for range 1000 {
		require.NoError(t, p.wait(ctx))
	}
	require.GreaterOrEqual(t, time.Since(start), 240*time.Millisecond)

	for _, rate := range []int{0, -1} {
		p := newPacer(rate)
		for range 100000 {
			require.NoError(t, p.wait(ctx))
		}
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	p = newPacer(1)
	require.NoError(t, p.wait(cctx), "the first call is due at once")
	require.ErrorIs(t, p.wait(cctx), context.Canceled)
}
