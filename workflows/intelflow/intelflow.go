// Package intelflow turns the counterfeit claims the engine refunded and
// charged to sellers into intelligence: for a brand's rights holders, the
// counterfeits of their brand (by seller, SKU and month) and the verdicts
// they record on them; for enforcement, cases of linked sellers with a
// signed packet of their evidence and the funnel from lead to outcome.
// Every read is recorded in an access log admins list; shoppers are
// counted, never named.
//
//	svc := intelflow.NewService(store, signer, time.Now)
//	page, err := svc.Counterfeits(ctx, viewer, "acme", intelflow.Query{Status: intelflow.StatusConfirmed})
//	cases, err := svc.Cases(ctx, viewer, "")
package intelflow

import (
	"context"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// The statuses of a counterfeit claim's line, as the brand sees it.
const (
	// StatusConfirmed: the charge to the seller is final or was upheld on
	// contest, or the brand's rights holder authenticated the goods as
	// counterfeit (and the charge was not released).
	StatusConfirmed = "confirmed"
	// StatusPending: the seller is charged and may still contest, or is
	// contesting, and the brand has not spoken.
	StatusPending = "pending"
	// StatusDisputed: the brand's rights holder says the goods are
	// genuine; the line is left out of intelligence and cases.
	StatusDisputed = "disputed"
	// StatusCleared: the charge was reversed or waived on contest, or
	// voided: not a counterfeit after all.
	StatusCleared = "cleared"
	// StatusAll lists every line whatever its status.
	StatusAll = "all"
)

// Statuses lists the statuses a query may ask for.
var Statuses = []string{StatusConfirmed, StatusPending, StatusDisputed, StatusCleared, StatusAll}

// Amount is a sum of money in one currency, in minor units.
type Amount struct {
	Currency string
	Amount   int64
}

// Line is one line of a counterfeit claim: what a brand or an
// investigator reads. It names the seller, never the shopper.
type Line struct {
	ClaimID      string
	Line         int
	BrandID      string // "" when the order named no brand
	SellerID     string
	SellerName   string
	SKU          string
	ItemName     string
	Quantity     int64
	Amount       int64 // the line's share of the claim's amount
	Currency     string
	ClaimedAt    time.Time
	Status       string
	ChargeStatus string
	// ConfirmedAt is when the charge became final or was upheld, nil
	// otherwise.
	ConfirmedAt *time.Time
	Evidence    []claim.Evidence
	Verdict     *Verdict
}

// Verdict is a rights holder's authentication of the goods of a claim.
type Verdict struct {
	ClaimID     string
	BrandID     string
	Subject     string
	Verdict     intel.Verdict
	Note        string
	DocumentURL string
	Revisions   int
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Settled is where the claim's charge stands now, so the verdict can
	// be rated.
	Settled intel.Settled
}

// Group is a total over the lines that share a key: a seller, a SKU, a
// month.
type Group struct {
	Key      string // seller id, SKU, or month as 2006-01
	Name     string // seller's or item's name; "" for a month
	Claims   int64
	Units    int64
	Amounts  []Amount
	Shoppers int64
}

// Totals are the confirmed counterfeits of a brand over a period.
type Totals struct {
	Claims   int64
	Shoppers int64 // distinct shoppers, counted, never named
	Units    int64
	Amounts  []Amount
	BySeller []Group
	BySKU    []Group
	ByMonth  []Group
	// ByStatus counts the claims of each status over the period.
	ByStatus map[string]int64
}

// Query selects a brand's counterfeit lines.
type Query struct {
	From, To time.Time // claims filed in [From, To)
	Status   string    // one of Statuses; "" is confirmed
	Limit    int       // 1–MaxLimit; 0 is DefaultLimit
	Cursor   string    // from the previous page's Next
}

// Paging limits.
const (
	DefaultLimit = 100
	MaxLimit     = 500
)

// Page is one page of a brand's counterfeit lines, newest first, with the
// totals of the whole period.
type Page struct {
	BrandID, BrandName string
	// Query is the query as answered, its defaults filled in.
	Query  Query
	Lines  []Line
	Next   string // "" on the last page
	Totals Totals
}

// Access is one line of the access log.
type Access struct {
	ID        int64
	At        time.Time
	Role      string
	Subject   string
	Action    string // e.g. brand_counterfeits, case_packet
	Resource  string // e.g. brand:acme, case:case_01…
	Detail    map[string]any
	RequestID string
}

// Actions written to the access log.
const (
	ActionBrandCounterfeits    = "brand_counterfeits"
	ActionBrandCounterfeitsCSV = "brand_counterfeits_csv"
	ActionVerdict              = "verdict"
	ActionCases                = "cases"
	ActionCase                 = "case"
	ActionPacket               = "case_packet"
	ActionCaseStatus           = "case_status"
	ActionRatings              = "rights_holder_ratings"
	// A rights holder's reads of a confirmed counterfeit's photos
	// (evidenceflow): the list, and one file or its thumbnail.
	ActionEvidence     = "evidence"
	ActionEvidenceFile = "evidence_file"
)

// SellerSummary is a seller of a case.
type SellerSummary struct {
	ID, Name  string
	Verified  bool
	Standing  string // the seller's standing level, "" if never computed
	Confirmed int64
	Amounts   []Amount
	FirstSeen *time.Time
	LastSeen  *time.Time
	Brands    []string
}

// CaseEvent is one move of a case through the funnel.
type CaseEvent struct {
	Seq      int
	From, To intel.Status
	Actor    claimflow.Viewer
	Note     string
	At       time.Time
}

// Case is an enforcement case: linked sellers and what they sold.
type Case struct {
	ID        string
	Status    intel.Status
	CreatedAt time.Time
	UpdatedAt time.Time
	Sellers   []SellerSummary
	Links     []intel.Link
	Brands    []string
	Confirmed int64
	Shoppers  int64
	Amounts   []Amount
	FirstSeen *time.Time
	LastSeen  *time.Time
	Events    []CaseEvent
	// Lines are the confirmed counterfeit lines of its sellers; only in
	// a case read alone.
	Lines []Line
}

// StoredCase is a case as kept: its id, status and sellers.
type StoredCase struct {
	ID        string
	Status    intel.Status
	Sellers   []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Store is what intelligence needs kept and read. pgstore.Store
// implements it.
type Store interface {
	// HoldersBrands returns the ids and names of the brands that list
	// subject as a rights holder, by id; every brand for subject "".
	HoldersBrands(ctx context.Context, subject string) ([]BrandRef, error)
	// BrandLines returns a page of the brand's counterfeit lines in q's
	// period and status, newest first.
	BrandLines(ctx context.Context, brandID string, q Query) ([]Line, string, error)
	// EachBrandLine calls fn for each of the brand's lines in q's period
	// and status, newest first, for an export.
	EachBrandLine(ctx context.Context, brandID string, q Query, fn func(Line) error) error
	// BrandTotals totals the brand's confirmed lines over [from, to).
	BrandTotals(ctx context.Context, brandID string, from, to time.Time) (Totals, error)
	// PutVerdict records v (created reports whether it is the first for
	// the claim and brand). Errors: *claimflow.NotFoundError when the
	// claim has no line of the brand.
	PutVerdict(ctx context.Context, v Verdict, now time.Time) (Verdict, bool, error)
	// ClaimVerdicts returns the verdicts recorded on a claim.
	ClaimVerdicts(ctx context.Context, claimID string) ([]Verdict, error)
	// HolderTallies counts each rights holder's verdicts and how the
	// claims settled; subjects nil: every rights holder's.
	HolderTallies(ctx context.Context, subjects []string) ([]Tally, error)
	// ClusterFacts returns what clustering needs of the sellers with
	// confirmed counterfeits and of those sharing a signal with another
	// seller (maxSharers at most).
	ClusterFacts(ctx context.Context, maxSharers int) ([]intel.SellerFacts, error)
	// SyncCases stores clusters as cases under one lock: each continues
	// the case intel.Match gives it or opens a new one (newID names it),
	// and returns every stored case, newest first.
	SyncCases(ctx context.Context, clusters []intel.Cluster, newID func() (string, error), now time.Time) ([]StoredCase, error)
	// SellerSummaries sums each seller's confirmed lines.
	SellerSummaries(ctx context.Context, sellerIDs []string) ([]SellerSummary, error)
	// CaseShoppers counts the distinct shoppers of the sellers' confirmed
	// lines.
	CaseShoppers(ctx context.Context, sellerIDs []string) (int64, error)
	// SellerLines returns the confirmed lines of the sellers, newest
	// first, at most limit.
	SellerLines(ctx context.Context, sellerIDs []string, limit int) ([]Line, error)
	// GetCase returns one stored case with its events. Errors:
	// *claimflow.NotFoundError.
	GetCase(ctx context.Context, id string) (StoredCase, []CaseEvent, error)
	// MoveCase moves the case from one status to another (refusing with
	// ErrCaseMoved if it is no longer at from) and appends the event.
	MoveCase(ctx context.Context, id string, from, to intel.Status, by claimflow.Viewer, note string, now time.Time) error
	// LogAccess appends to the access log.
	LogAccess(ctx context.Context, a Access) error
	// AccessLog lists the access log, newest first, before id (0: from
	// the newest), at most limit.
	AccessLog(ctx context.Context, before int64, limit int) ([]Access, error)
}

// BrandRef names a brand.
type BrandRef struct{ ID, Name string }

// Tally is what a rights holder's rating is computed from.
type Tally struct {
	Subject                     string
	Verdicts, Decided, BorneOut int64
}
