package storetest

import "github.com/claimsd/claimsd/domain/decision"

// PutFacts replaces the facts snapshot kept with claim id, as SubmitClaim
// keeps it; a test uses it to give a claim put with Put a seller standing.
// A claim not stored is ignored.
//
//	st.PutFacts("clm_1", decision.Facts{SellerStanding: standing.LevelCreditable})
func (m *Memory) PutFacts(id string, f decision.Facts) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.claims[id]
	if !ok {
		return
	}
	s.facts = f
	m.claims[id] = s
}
