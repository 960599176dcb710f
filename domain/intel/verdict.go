package intel

import (
	"errors"
	"fmt"
	"math/bits"
	"net/url"
	"strings"

	"github.com/claimsd/claimsd/domain/validation"
)

// Verdict is a rights holder's word on a claimed counterfeit: is the item
// genuine or not. Only the package's variables and ParseVerdict produce
// one.
type Verdict struct{ slug string }

// The verdicts.
var (
	VerdictGenuine     = Verdict{"genuine"}
	VerdictCounterfeit = Verdict{"counterfeit"}
)

// Verdicts lists every verdict.
var Verdicts = []Verdict{VerdictGenuine, VerdictCounterfeit}

// ErrUnknownVerdict is returned by ParseVerdict for a slug it does not
// know.
var ErrUnknownVerdict = errors.New("unknown verdict")

// ParseVerdict returns the Verdict for its slug, "genuine" or
// "counterfeit".
func ParseVerdict(s string) (Verdict, error) {
	for _, v := range Verdicts {
		if v.slug == s {
			return v, nil
		}
	}
	return Verdict{}, fmt.Errorf("%w: %q", ErrUnknownVerdict, s)
}

// String returns the verdict's slug.
func (v Verdict) String() string { return v.slug }

// VerdictParams are the fields of a verdict CheckVerdict validates.
type VerdictParams struct {
	Verdict string // "genuine" or "counterfeit"
	// Note is why: 1 to MaxNoteLen bytes, required.
	Note string
	// DocumentURL optionally points at the rights holder's report: an
	// absolute https URL of at most MaxDocumentURLLen bytes.
	DocumentURL string
}

// MaxDocumentURLLen is the longest DocumentURL a verdict takes.
const MaxDocumentURLLen = 2048

// CheckVerdict validates a rights holder's verdict and returns it parsed.
// Errors are *validation.Error naming the field: "verdict" (code
// invalid_verdict, listing the values), "note" (required, too_long,
// invalid_text) or "document_url" (invalid_url).
//
//	v, err := intel.CheckVerdict(intel.VerdictParams{Verdict: "counterfeit", Note: "stitching and serial do not match"})
func CheckVerdict(p VerdictParams) (Verdict, *validation.Error) {
	v, err := ParseVerdict(p.Verdict)
	if err != nil {
		return Verdict{}, validation.Newf("verdict", "invalid_verdict", "must be %q or %q", VerdictGenuine, VerdictCounterfeit)
	}
	if err := validation.CheckText("note", p.Note, 1, MaxNoteLen); err != nil {
		return Verdict{}, err
	}
	if p.DocumentURL != "" {
		if err := checkDocumentURL(p.DocumentURL); err != nil {
			return Verdict{}, err
		}
	}
	return v, nil
}

// checkDocumentURL takes an absolute https URL with a host and no
// credentials (which whoever reads the verdict would see).
func checkDocumentURL(s string) *validation.Error {
	const field, code = "document_url", "invalid_url"
	if len(s) > MaxDocumentURLLen {
		return validation.Newf(field, code, "must be at most %d characters", MaxDocumentURLLen)
	}
	u, err := url.Parse(s)
	if err != nil || !strings.EqualFold(u.Scheme, "https") || u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return validation.New(field, code, "must be an absolute https URL, e.g. https://example.com/report.pdf")
	}
	if u.User != nil {
		return validation.New(field, code, "must not carry a user name or password")
	}
	return nil
}

// Settled is what became of a claim once the engine settled it, as far
// as a verdict on it can be borne out.
type Settled int

// The outcomes.
const (
	// SettledPending: the charge to the seller is open or contested, or
	// there is none yet. The zero value.
	SettledPending Settled = iota
	// SettledConfirmed: the charge is final, or upheld on contest: the
	// item was counterfeit.
	SettledConfirmed
	// SettledCleared: the charge was reversed or waived on contest or
	// voided, or an agent rejected the claim: the item was not shown to be
	// counterfeit.
	SettledCleared
)

// BorneOut reports whether the outcome s decides verdict v (decided) and,
// if so, whether it bears v out. A counterfeit verdict is borne out by
// SettledConfirmed and not by SettledCleared; a genuine verdict the
// reverse; SettledPending (or an unknown verdict or outcome) decides
// nothing.
func BorneOut(v Verdict, s Settled) (decided, borne bool) {
	if s != SettledConfirmed && s != SettledCleared {
		return false, false
	}
	switch v {
	case VerdictCounterfeit:
		return true, s == SettledConfirmed
	case VerdictGenuine:
		return true, s == SettledCleared
	}
	return false, false
}

// The good-faith bar, as the brands' good-faith programmes set it: a
// rights holder whose verdicts were borne out at least 90 % of the time,
// over at least 10 decided verdicts.
const (
	GoodFaithPerMille   = 900
	GoodFaithMinDecided = 10
)

// Rating is how often a rights holder's verdicts were borne out.
type Rating struct {
	Verdicts int64 // verdicts given
	Decided  int64 // verdicts whose claims have settled
	BorneOut int64 // decided verdicts the outcome bore out
	// PerMille is BorneOut*1000/Decided rounded down; 0 when nothing is
	// decided.
	PerMille int
	// GoodFaith: at least GoodFaithMinDecided decided, at least
	// GoodFaithPerMille borne out.
	GoodFaith bool
}

// Rate rates a rights holder from its counts: verdicts given, decided
// and borne out. Counts are not negative and borneOut ≤ decided; a
// negative count is read as 0 and borneOut is capped at decided.
//
//	r := intel.Rate(12, 10, 9) // PerMille 900, GoodFaith true
func Rate(verdicts, decided, borneOut int64) Rating {
	r := Rating{Verdicts: verdicts, Decided: decided, BorneOut: borneOut}
	d, b := max(decided, 0), min(max(borneOut, 0), max(decided, 0))
	if d == 0 {
		return r
	}
	// b*1000/d without overflow, for any counts.
	hi, lo := bits.Mul64(uint64(b), 1000)
	q, _ := bits.Div64(hi, lo, uint64(d)) // hi < d since b ≤ d
	r.PerMille = int(q)
	r.GoodFaith = d >= GoodFaithMinDecided && r.PerMille >= GoodFaithPerMille
	return r
}
