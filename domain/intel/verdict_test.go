package intel_test

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/intel"
)

func TestParseVerdict(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		give string
		want intel.Verdict
	}{
		{give: "genuine", want: intel.VerdictGenuine},
		{give: "counterfeit", want: intel.VerdictCounterfeit},
	} {
		got, err := intel.ParseVerdict(tt.give)
		require.NoError(t, err)
		require.Equal(t, tt.want, got)
		require.Equal(t, tt.give, got.String())
	}
	for _, give := range []string{"", "fake", "Genuine"} {
		_, err := intel.ParseVerdict(give)
		require.ErrorIs(t, err, intel.ErrUnknownVerdict, give)
	}
}

func TestCheckVerdict(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		give      intel.VerdictParams
		want      intel.Verdict
		wantField string // "" when taken
		wantCode  string
	}{
		{name: "counterfeit", give: intel.VerdictParams{Verdict: "counterfeit", Note: "serial unknown"}, want: intel.VerdictCounterfeit},
		{name: "genuine with a document", give: intel.VerdictParams{Verdict: "genuine", Note: "ours", DocumentURL: "https://brand.example/reports/17.pdf?v=2"}, want: intel.VerdictGenuine},
		{name: "a URL of 2048 bytes", give: intel.VerdictParams{Verdict: "genuine", Note: "ours", DocumentURL: "https://x.example/" + strings.Repeat("a", 2048-18)}, want: intel.VerdictGenuine},
		{name: "no verdict", give: intel.VerdictParams{Note: "n"}, wantField: "verdict", wantCode: "invalid_verdict"},
		{name: "unknown verdict", give: intel.VerdictParams{Verdict: "fake", Note: "n"}, wantField: "verdict", wantCode: "invalid_verdict"},
		{name: "no note", give: intel.VerdictParams{Verdict: "genuine"}, wantField: "note", wantCode: "required"},
		{name: "blank note", give: intel.VerdictParams{Verdict: "genuine", Note: "   "}, wantField: "note", wantCode: "required"},
		{name: "long note", give: intel.VerdictParams{Verdict: "genuine", Note: strings.Repeat("n", 2001)}, wantField: "note", wantCode: "too_long"},
		{name: "http", give: intel.VerdictParams{Verdict: "genuine", Note: "n", DocumentURL: "http://brand.example/r.pdf"}, wantField: "document_url", wantCode: "invalid_url"},
		{name: "relative", give: intel.VerdictParams{Verdict: "genuine", Note: "n", DocumentURL: "/reports/17.pdf"}, wantField: "document_url", wantCode: "invalid_url"},
		{name: "no host", give: intel.VerdictParams{Verdict: "genuine", Note: "n", DocumentURL: "https:///r.pdf"}, wantField: "document_url", wantCode: "invalid_url"},
		{name: "opaque", give: intel.VerdictParams{Verdict: "genuine", Note: "n", DocumentURL: "https:brand.example"}, wantField: "document_url", wantCode: "invalid_url"},
		{name: "javascript", give: intel.VerdictParams{Verdict: "genuine", Note: "n", DocumentURL: "javascript:alert(1)"}, wantField: "document_url", wantCode: "invalid_url"},
		{name: "not a URL", give: intel.VerdictParams{Verdict: "genuine", Note: "n", DocumentURL: "https://bad host/"}, wantField: "document_url", wantCode: "invalid_url"},
		{name: "credentials", give: intel.VerdictParams{Verdict: "genuine", Note: "n", DocumentURL: "https://u:p@brand.example/r.pdf"}, wantField: "document_url", wantCode: "invalid_url"},
		{name: "a URL of 2049 bytes", give: intel.VerdictParams{Verdict: "genuine", Note: "n", DocumentURL: "https://x.example/" + strings.Repeat("a", 2049-18)}, wantField: "document_url", wantCode: "invalid_url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := intel.CheckVerdict(tt.give)
			if tt.wantField == "" {
				require.Nil(t, err)
				require.Equal(t, tt.want, got)
				return
			}
			require.NotNil(t, err)
			require.Equal(t, tt.wantField, err.Field)
			require.Equal(t, tt.wantCode, err.Code)
			require.Equal(t, intel.Verdict{}, got)
			if tt.wantField == "verdict" {
				require.Contains(t, err.Message, `"genuine"`)
				require.Contains(t, err.Message, `"counterfeit"`)
			}
		})
	}
}

func TestBorneOut(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		giveVerdict intel.Verdict
		giveSettled intel.Settled
		wantDecided bool
		wantBorne   bool
	}{
		{intel.VerdictCounterfeit, intel.SettledPending, false, false},
		{intel.VerdictCounterfeit, intel.SettledConfirmed, true, true},
		{intel.VerdictCounterfeit, intel.SettledCleared, true, false},
		{intel.VerdictGenuine, intel.SettledPending, false, false},
		{intel.VerdictGenuine, intel.SettledConfirmed, true, false},
		{intel.VerdictGenuine, intel.SettledCleared, true, true},
		{intel.Verdict{}, intel.SettledConfirmed, false, false},
		{intel.VerdictCounterfeit, intel.Settled(9), false, false},
	} {
		decided, borne := intel.BorneOut(tt.giveVerdict, tt.giveSettled)
		require.Equal(t, tt.wantDecided, decided, "%s %d", tt.giveVerdict, tt.giveSettled)
		require.Equal(t, tt.wantBorne, borne, "%s %d", tt.giveVerdict, tt.giveSettled)
	}
	var zero intel.Settled
	require.Equal(t, intel.SettledPending, zero)
}

func TestRate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name                                 string
		giveVerdicts, giveDecided, giveBorne int64
		wantPerMille                         int
		wantGoodFaith                        bool
	}{
		{name: "nothing yet", wantPerMille: 0},
		{name: "none decided", giveVerdicts: 40, wantPerMille: 0},
		{name: "9 decided at 100 % is too few", giveVerdicts: 9, giveDecided: 9, giveBorne: 9, wantPerMille: 1000},
		{name: "10 decided at 90 %", giveVerdicts: 12, giveDecided: 10, giveBorne: 9, wantPerMille: 900, wantGoodFaith: true},
		{name: "10 decided at 80 %", giveVerdicts: 10, giveDecided: 10, giveBorne: 8, wantPerMille: 800},
		{name: "89.9 %", giveVerdicts: 1000, giveDecided: 1000, giveBorne: 899, wantPerMille: 899},
		{name: "89.99 % rounds down", giveVerdicts: 10000, giveDecided: 10000, giveBorne: 8999, wantPerMille: 899},
		{name: "2 of 3", giveVerdicts: 3, giveDecided: 3, giveBorne: 2, wantPerMille: 666},
		{name: "huge counts do not overflow", giveVerdicts: math.MaxInt64, giveDecided: math.MaxInt64, giveBorne: math.MaxInt64 - 1, wantPerMille: 999, wantGoodFaith: true},
		{name: "more borne out than decided is capped", giveVerdicts: 10, giveDecided: 10, giveBorne: 11, wantPerMille: 1000, wantGoodFaith: true},
		{name: "negative counts are none", giveVerdicts: -1, giveDecided: -5, giveBorne: -1, wantPerMille: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := intel.Rate(tt.giveVerdicts, tt.giveDecided, tt.giveBorne)
			require.Equal(t, intel.Rating{
				Verdicts: tt.giveVerdicts, Decided: tt.giveDecided, BorneOut: tt.giveBorne,
				PerMille: tt.wantPerMille, GoodFaith: tt.wantGoodFaith,
			}, got)
		})
	}
}
