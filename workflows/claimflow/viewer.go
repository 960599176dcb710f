package claimflow

import (
	"slices"
	"strings"

	"github.com/claimsd/claimsd/domain/claim"
)

// Role is what a caller acts as: the role its token (or console sign-in)
// carries. Every front door and use case speaks of roles through these
// constants, never through literals.
type Role string

// The roles.
const (
	// RoleShopper files claims and follows their own; the subject is the
	// shopper's id.
	RoleShopper Role = "shopper"
	// RoleSeller sees the claims against them and contests charges; the
	// subject is the seller's id.
	RoleSeller Role = "seller"
	// RoleAgent works the review queue, overrides decisions and settles
	// contests; the subject is the agent's name.
	RoleAgent Role = "agent"
	// RoleFinance reads the books, records recoveries and reconciles.
	RoleFinance Role = "finance"
	// RoleAdmin administers the engine and reads what staff read.
	RoleAdmin Role = "admin"
	// RoleService is the marketplace's platform feeding orders and
	// sellers in.
	RoleService Role = "service"
	// RoleRightsHolder is a brand's rights holder (the owner of a mark or
	// their agent), who reads the brands that list them; the subject is
	// the rights holder's id, as a brand's rights_holders names it. It
	// reaches nothing about claims, orders or the books.
	RoleRightsHolder Role = "rights_holder"
	// RoleEnforcement is the platform's brand-protection team. It reaches
	// no route yet: the counterfeit reports it will work arrive later.
	RoleEnforcement Role = "enforcement"
	// RoleRisk tunes the decision policy: drafts versions, backtests and
	// shadows them, activates them. It reaches the policy lab alone, not
	// claims, orders or the books.
	RoleRisk Role = "risk"
)

// Roles lists every role.
var Roles = []Role{RoleShopper, RoleSeller, RoleAgent, RoleFinance, RoleAdmin, RoleService, RoleRightsHolder, RoleEnforcement, RoleRisk}

// RoleNames lists the names of roles, e.g. RoleNames(Roles) for every
// role's.
func RoleNames(roles []Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// JoinRoles writes roles' names with sep between them, for messages.
func JoinRoles(roles []Role, sep string) string {
	return strings.Join(RoleNames(roles), sep)
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// String returns the role's name.
func (r Role) String() string { return string(r) }

// Viewer is who is asking: the role and subject of the caller's token.
type Viewer struct {
	Role    Role
	Subject string // for a seller, the seller's id
}

// IsShopper reports whether the viewer sees only their own claims.
func (v Viewer) IsShopper() bool { return v.Role == RoleShopper }

// IsSeller reports whether the viewer is a seller, who sees only the
// claims against them, without the shopper's personal data.
func (v Viewer) IsSeller() bool { return v.Role == RoleSeller }

// String is the viewer as records name who acted: "role:subject", e.g.
// "finance:fin".
func (v Viewer) String() string { return string(v.Role) + ":" + v.Subject }

// Actor is the viewer as the timeline records them.
func (v Viewer) Actor() claim.Actor { return claim.Actor{Kind: string(v.Role), ID: v.Subject} }

// owns reports whether the viewer may see the claim: staff see every
// claim, a shopper their own, a seller those against them, any other role
// none (the route tables already keep them out).
func (v Viewer) owns(c *claim.Claim) bool {
	switch {
	case v.IsShopper():
		return c.ShopperID() == v.Subject
	case v.IsSeller():
		return c.SellerID() == v.Subject
	}
	return v.IsStaff()
}
