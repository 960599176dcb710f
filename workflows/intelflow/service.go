package intelflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/claimsd/claimsd/domain/ident"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// ErrCaseMoved: the case moved on since it was read; read it again.
var ErrCaseMoved = errors.New("the case's status changed meanwhile")

// CaseLines is how many of a case's confirmed lines a case page and its
// packet carry (newest first); the totals count them all.
const CaseLines = 5000

// Service runs the intelligence use cases.
type Service struct {
	store  Store
	signer *intel.Signer
	rules  intel.Rules
	now    func() time.Time
}

// NewService returns a Service on store; signer signs case packets; now
// is the clock.
func NewService(store Store, signer *intel.Signer, now func() time.Time) *Service {
	return &Service{store: store, signer: signer, rules: intel.DefaultRules(), now: now}
}

// Signer returns the packet signer, whose public key is published.
func (s *Service) Signer() *intel.Signer { return s.signer }

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request's id, which the access
// log records.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// log records an access. A read that cannot be recorded is not made.
func (s *Service) log(ctx context.Context, v claimflow.Viewer, action, resource string, detail map[string]any) error {
	rid, _ := ctx.Value(requestIDKey{}).(string)
	if detail == nil {
		detail = map[string]any{}
	}
	return s.store.LogAccess(ctx, Access{At: s.now().UTC(), Role: string(v.Role), Subject: v.Subject,
		Action: action, Resource: resource, Detail: detail, RequestID: rid})
}

// RecordAccess writes a read made elsewhere to the access log (a rights
// holder's reads of a counterfeit's photos). A read that cannot be
// recorded must not be made.
func (s *Service) RecordAccess(ctx context.Context, v claimflow.Viewer, action, resource string, detail map[string]any) error {
	return s.log(ctx, v, action, resource, detail)
}

// Brands returns the brands v may read intelligence of: a rights holder's
// own, every brand for an admin.
func (s *Service) Brands(ctx context.Context, v claimflow.Viewer) ([]BrandRef, error) {
	switch v.Role {
	case claimflow.RoleAdmin:
		return s.store.HoldersBrands(ctx, "")
	case claimflow.RoleRightsHolder:
		if v.Subject == "" {
			return []BrandRef{}, nil
		}
		return s.store.HoldersBrands(ctx, v.Subject)
	}
	return []BrandRef{}, nil
}

// brandFor returns the brand id if v may read its intelligence; any other
// brand, existing or not, is the same not-found.
func (s *Service) brandFor(ctx context.Context, v claimflow.Viewer, brandID string) (BrandRef, error) {
	notFound := &claimflow.NotFoundError{Resource: "brand", ID: brandID}
	if validation.CheckID("id", brandID) != nil {
		return BrandRef{}, notFound
	}
	brands, err := s.Brands(ctx, v)
	if err != nil {
		return BrandRef{}, err
	}
	for _, b := range brands {
		if b.ID == brandID {
			return b, nil
		}
	}
	return BrandRef{}, notFound
}

// CheckQuery validates q and fills in its defaults: the last 365 days,
// confirmed, DefaultLimit. Errors: *validation.Error naming the parameter.
func CheckQuery(q Query, now time.Time) (Query, error) {
	if q.Status == "" {
		q.Status = StatusConfirmed
	}
	if !slices.Contains(Statuses, q.Status) {
		return q, validation.Newf("status", "invalid_status", "must be one of %v", Statuses)
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 1 || q.Limit > MaxLimit:
		return q, validation.Newf("limit", "out_of_range", "must be between 1 and %d", MaxLimit)
	}
	if q.To.IsZero() {
		q.To = now.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	}
	if q.From.IsZero() {
		q.From = q.To.AddDate(0, 0, -365)
	}
	if !q.From.Before(q.To) {
		return q, validation.New("from", "out_of_range", "must be before to")
	}
	return q, nil
}

// Counterfeits returns a page of the brand's counterfeit lines with the
// totals of the period, for the brand's rights holders and admins.
// Errors: *claimflow.NotFoundError for a brand v may not read,
// *validation.Error for a bad query.
func (s *Service) Counterfeits(ctx context.Context, v claimflow.Viewer, brandID string, q Query) (Page, error) {
	b, err := s.brandFor(ctx, v, brandID)
	if err != nil {
		return Page{}, err
	}
	if q, err = CheckQuery(q, s.now()); err != nil {
		return Page{}, err
	}
	lines, next, err := s.store.BrandLines(ctx, b.ID, q)
	if err != nil {
		return Page{}, err
	}
	totals, err := s.store.BrandTotals(ctx, b.ID, q.From, q.To)
	if err != nil {
		return Page{}, err
	}
	if err := s.log(ctx, v, ActionBrandCounterfeits, "brand:"+b.ID, map[string]any{
		"status": q.Status, "from": q.From, "to": q.To, "lines": len(lines), "cursor": q.Cursor != ""}); err != nil {
		return Page{}, err
	}
	return Page{BrandID: b.ID, BrandName: b.Name, Query: q, Lines: lines, Next: next, Totals: totals}, nil
}

// ExportCounterfeits checks v may read the brand's lines and records the
// export; then each calls fn for every line of the period, newest first.
func (s *Service) ExportCounterfeits(ctx context.Context, v claimflow.Viewer, brandID string, q Query) (each func(fn func(Line) error) error, err error) {
	b, err := s.brandFor(ctx, v, brandID)
	if err != nil {
		return nil, err
	}
	if q, err = CheckQuery(q, s.now()); err != nil {
		return nil, err
	}
	if err := s.log(ctx, v, ActionBrandCounterfeitsCSV, "brand:"+b.ID, map[string]any{
		"status": q.Status, "from": q.From, "to": q.To}); err != nil {
		return nil, err
	}
	return func(fn func(Line) error) error { return s.store.EachBrandLine(ctx, b.ID, q, fn) }, nil
}

// PutVerdict records the rights holder's authentication of a claim of
// their brand; it changes no money. Errors: *claimflow.NotFoundError for
// a brand that is not theirs or a claim with no charged counterfeit line
// of it, *validation.Error naming the field.
func (s *Service) PutVerdict(ctx context.Context, v claimflow.Viewer, brandID, claimID string, p intel.VerdictParams) (Verdict, bool, error) {
	if v.Role != claimflow.RoleRightsHolder {
		return Verdict{}, false, &claimflow.NotFoundError{Resource: "brand", ID: brandID}
	}
	b, err := s.brandFor(ctx, v, brandID)
	if err != nil {
		return Verdict{}, false, err
	}
	if validation.CheckID("claim_id", claimID) != nil {
		return Verdict{}, false, &claimflow.NotFoundError{Resource: "claim", ID: claimID}
	}
	verdict, verr := intel.CheckVerdict(p)
	if verr != nil {
		return Verdict{}, false, verr
	}
	rec, created, err := s.store.PutVerdict(ctx, Verdict{ClaimID: claimID, BrandID: b.ID, Subject: v.Subject,
		Verdict: verdict, Note: p.Note, DocumentURL: p.DocumentURL}, s.now().UTC())
	if err != nil {
		return Verdict{}, false, err
	}
	if err := s.log(ctx, v, ActionVerdict, "claim:"+claimID, map[string]any{"brand": b.ID, "verdict": verdict.String()}); err != nil {
		return Verdict{}, false, err
	}
	return rec, created, nil
}

// RatedVerdict is a verdict with its rights holder's rating, as agents
// read it on a claim.
type RatedVerdict struct {
	Verdict
	Rating intel.Rating
}

// ClaimVerdicts returns the verdicts recorded on a claim, each with its
// rights holder's rating, for agents and admins reading the claim.
func (s *Service) ClaimVerdicts(ctx context.Context, claimID string) ([]RatedVerdict, error) {
	vs, err := s.store.ClaimVerdicts(ctx, claimID)
	if err != nil || len(vs) == 0 {
		return []RatedVerdict{}, err
	}
	subjects := make([]string, 0, len(vs))
	for _, v := range vs {
		subjects = append(subjects, v.Subject)
	}
	tallies, err := s.store.HolderTallies(ctx, subjects)
	if err != nil {
		return nil, err
	}
	rates := make(map[string]intel.Rating, len(tallies))
	for _, t := range tallies {
		rates[t.Subject] = intel.Rate(t.Verdicts, t.Decided, t.BorneOut)
	}
	out := make([]RatedVerdict, len(vs))
	for i, v := range vs {
		out[i] = RatedVerdict{Verdict: v, Rating: rates[v.Subject]}
	}
	return out, nil
}

// HolderRating is a rights holder's rating.
type HolderRating struct {
	Subject string
	Rating  intel.Rating
}

// Ratings returns every rights holder's rating, for admins: how often
// agents and contests bore their verdicts out.
func (s *Service) Ratings(ctx context.Context, v claimflow.Viewer) ([]HolderRating, error) {
	tallies, err := s.store.HolderTallies(ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := s.log(ctx, v, ActionRatings, "rights_holders", nil); err != nil {
		return nil, err
	}
	out := make([]HolderRating, len(tallies))
	for i, t := range tallies {
		out[i] = HolderRating{Subject: t.Subject, Rating: intel.Rate(t.Verdicts, t.Decided, t.BorneOut)}
	}
	return out, nil
}

// refreshCases clusters the sellers afresh and stores the clusters as
// cases, returning every case and the clusters.
func (s *Service) refreshCases(ctx context.Context) ([]StoredCase, []intel.Cluster, error) {
	facts, err := s.store.ClusterFacts(ctx, s.rules.MaxSharers)
	if err != nil {
		return nil, nil, err
	}
	clusters := intel.Clusters(facts, s.rules)
	now := s.now().UTC()
	stored, err := s.store.SyncCases(ctx, clusters, func() (string, error) { return ident.New("case_", now, nil) }, now)
	return stored, clusters, err
}

// Cases lists the enforcement cases, newest first (status "" is every
// status), each with its sellers and totals, for enforcement and admins.
// Errors: *validation.Error for an unknown status.
func (s *Service) Cases(ctx context.Context, v claimflow.Viewer, status string) ([]Case, error) {
	if status != "" {
		if _, err := intel.ParseStatus(status); err != nil {
			return nil, validation.Newf("status", "invalid_status", "must be one of %v", intel.Statuses)
		}
	}
	stored, _, err := s.refreshCases(ctx)
	if err != nil {
		return nil, err
	}
	var shown []StoredCase
	var ids []string
	for _, sc := range stored {
		if status == "" || sc.Status.String() == status {
			shown = append(shown, sc)
			ids = append(ids, sc.Sellers...)
		}
	}
	// Every case's sellers in one read.
	sellers, err := s.store.SellerSummaries(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]SellerSummary, len(sellers))
	for _, sl := range sellers {
		byID[sl.ID] = sl
	}
	out := make([]Case, 0, len(shown))
	for _, sc := range shown {
		c, err := summarise(sc, byID)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := s.log(ctx, v, ActionCases, "cases", map[string]any{"status": status, "cases": len(out)}); err != nil {
		return nil, err
	}
	return out, nil
}

// summarise adds up a stored case's sellers, read into byID.
func summarise(sc StoredCase, byID map[string]SellerSummary) (Case, error) {
	c := Case{ID: sc.ID, Status: sc.Status, CreatedAt: sc.CreatedAt, UpdatedAt: sc.UpdatedAt, Sellers: []SellerSummary{}}
	var err error
	brands := map[string]bool{}
	for _, id := range sc.Sellers {
		sl, ok := byID[id]
		if !ok {
			continue
		}
		c.Sellers = append(c.Sellers, sl)
		c.Confirmed += sl.Confirmed
		if c.Amounts, err = addAmounts(c.Amounts, sl.Amounts); err != nil {
			return Case{}, err
		}
		if sl.FirstSeen != nil && (c.FirstSeen == nil || sl.FirstSeen.Before(*c.FirstSeen)) {
			c.FirstSeen = sl.FirstSeen
		}
		if sl.LastSeen != nil && (c.LastSeen == nil || sl.LastSeen.After(*c.LastSeen)) {
			c.LastSeen = sl.LastSeen
		}
		for _, b := range sl.Brands {
			brands[b] = true
		}
	}
	c.Brands = make([]string, 0, len(brands))
	for b := range brands {
		c.Brands = append(c.Brands, b)
	}
	sort.Strings(c.Brands)
	return c, nil
}

// addAmounts adds b into a by currency, refusing a sum that would wrap.
func addAmounts(a, b []Amount) ([]Amount, error) {
	for _, x := range b {
		i := slices.IndexFunc(a, func(y Amount) bool { return y.Currency == x.Currency })
		if i < 0 {
			a = append(a, x)
			continue
		}
		sum, err := money.AddMinor(a[i].Amount, x.Amount)
		if err != nil {
			return nil, fmt.Errorf("total of %s: %w", x.Currency, err)
		}
		a[i].Amount = sum
	}
	sort.Slice(a, func(i, j int) bool { return a[i].Currency < a[j].Currency })
	return a, nil
}

// caseDetail reads one case whole: sellers, links, lines, events.
func (s *Service) caseDetail(ctx context.Context, id string) (Case, error) {
	notFound := &claimflow.NotFoundError{Resource: "case", ID: id}
	if validation.CheckID("id", id) != nil {
		return Case{}, notFound
	}
	_, clusters, err := s.refreshCases(ctx)
	if err != nil {
		return Case{}, err
	}
	c, sc, err := s.storedCase(ctx, id)
	if err != nil {
		return Case{}, err
	}
	if c.Shoppers, err = s.store.CaseShoppers(ctx, sc.Sellers); err != nil {
		return Case{}, err
	}
	if c.Lines, err = s.store.SellerLines(ctx, sc.Sellers, CaseLines); err != nil {
		return Case{}, err
	}
	// The links that bind its sellers now.
	members := map[string]bool{}
	for _, sl := range sc.Sellers {
		members[sl] = true
	}
	for _, cl := range clusters {
		for _, l := range cl.Links {
			if members[l.A] && members[l.B] {
				c.Links = append(c.Links, l)
			}
		}
	}
	return c, nil
}

// Case returns one case whole, for enforcement and admins. Errors:
// *claimflow.NotFoundError.
func (s *Service) Case(ctx context.Context, v claimflow.Viewer, id string) (Case, error) {
	c, err := s.caseDetail(ctx, id)
	if err != nil {
		return Case{}, err
	}
	if err := s.log(ctx, v, ActionCase, "case:"+id, map[string]any{"lines": len(c.Lines)}); err != nil {
		return Case{}, err
	}
	return c, nil
}

// Packet is a case's evidence as handed out: the bytes, their detached
// signature, and what identifies them in the access log.
type Packet struct {
	ID          string // pkt_…, in the packet and the log
	Body        []byte
	Signature   []byte
	KeyID       string
	SHA256      string
	GeneratedAt time.Time
}

// Packet builds a case's packet with render (JSON or CSV, which the
// adapter writes), signs the bytes and records who took it, with its id
// and digest. Errors: *claimflow.NotFoundError.
func (s *Service) Packet(ctx context.Context, v claimflow.Viewer, id, format string, render func(c Case, p Packet) ([]byte, error)) (Packet, error) {
	c, err := s.caseDetail(ctx, id)
	if err != nil {
		return Packet{}, err
	}
	now := s.now().UTC()
	pid, err := ident.New("pkt_", now, nil)
	if err != nil {
		return Packet{}, err
	}
	p := Packet{ID: pid, KeyID: s.signer.KeyID(), GeneratedAt: now}
	if p.Body, err = render(c, p); err != nil {
		return Packet{}, err
	}
	sum := sha256.Sum256(p.Body)
	p.SHA256 = hex.EncodeToString(sum[:])
	p.Signature = s.signer.Sign(p.Body)
	if err := s.log(ctx, v, ActionPacket, "case:"+id, map[string]any{
		"packet_id": p.ID, "format": format, "sha256": p.SHA256, "key_id": p.KeyID, "lines": len(c.Lines)}); err != nil {
		return Packet{}, err
	}
	return p, nil
}

// MoveCase records a step of the funnel: an admin refers a case (or
// dismisses an open one), enforcement records what became of it.
// Errors: *claimflow.NotFoundError, *validation.Error (an unknown status,
// a move v may not make, a missing note), ErrCaseMoved.
func (s *Service) MoveCase(ctx context.Context, v claimflow.Viewer, id, to, note string) (Case, error) {
	notFound := &claimflow.NotFoundError{Resource: "case", ID: id}
	if validation.CheckID("id", id) != nil {
		return Case{}, notFound
	}
	target, err := intel.ParseStatus(to)
	if err != nil {
		return Case{}, validation.Newf("status", "invalid_status", "must be one of %v", intel.Statuses)
	}
	actor := intel.ActorAdmin
	if v.Role == claimflow.RoleEnforcement {
		actor = intel.ActorEnforcement
	}
	sc, _, err := s.store.GetCase(ctx, id)
	if err != nil {
		return Case{}, err
	}
	if verr := intel.Transition(sc.Status, target, actor, note); verr != nil {
		return Case{}, verr
	}
	if err := s.store.MoveCase(ctx, id, sc.Status, target, v, note, s.now().UTC()); err != nil {
		return Case{}, err
	}
	if err := s.log(ctx, v, ActionCaseStatus, "case:"+id, map[string]any{"from": sc.Status.String(), "to": target.String()}); err != nil {
		return Case{}, err
	}
	c, _, err := s.storedCase(ctx, id)
	return c, err
}

// storedCase reads one stored case with its events and adds up its
// sellers.
func (s *Service) storedCase(ctx context.Context, id string) (Case, StoredCase, error) {
	sc, events, err := s.store.GetCase(ctx, id)
	if err != nil {
		return Case{}, StoredCase{}, err
	}
	sellers, err := s.store.SellerSummaries(ctx, sc.Sellers)
	if err != nil {
		return Case{}, StoredCase{}, err
	}
	byID := make(map[string]SellerSummary, len(sellers))
	for _, sl := range sellers {
		byID[sl.ID] = sl
	}
	c, err := summarise(sc, byID)
	c.Events = events
	return c, sc, err
}

// AccessLog lists the access log for admins, newest first.
func (s *Service) AccessLog(ctx context.Context, before int64, limit int) ([]Access, error) {
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return nil, validation.Newf("limit", "out_of_range", "must be between 1 and %d", MaxLimit)
	}
	if before < 0 {
		return nil, validation.New("before", "out_of_range", "must be a positive id")
	}
	return s.store.AccessLog(ctx, before, limit)
}
