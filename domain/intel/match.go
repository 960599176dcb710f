package intel

// StoredCase is a case as the store keeps it: its stable id and the
// sellers it held when last computed.
type StoredCase struct {
	ID      string
	Sellers []string
}

// Match maps freshly computed clusters to the stored cases they continue,
// so a case keeps its id (and its history with rights holders and
// enforcement) while its ring grows, shrinks or is recomputed. stored is
// given oldest first.
//
// It returns, for each cluster, the id of the stored case it continues,
// or "" for a new case. A cluster continues the oldest stored case it
// shares a seller with that no earlier cluster (in the order given) has
// taken; when two rings merge, the merged one keeps the older case, and
// when one splits, the first part listed keeps it.
//
//	ids := intel.Match(intel.Clusters(facts, rules), stored)
func Match(clusters []Cluster, stored []StoredCase) []string {
	// bySeller lists, for each seller, the stored cases holding it,
	// oldest first.
	bySeller := make(map[string][]int)
	for i, sc := range stored {
		for _, s := range sc.Sellers {
			l := bySeller[s]
			if len(l) > 0 && l[len(l)-1] == i {
				continue // a seller listed twice in one case
			}
			bySeller[s] = append(l, i)
		}
	}
	taken := make([]bool, len(stored))
	out := make([]string, len(clusters))
	for ci, c := range clusters {
		best := -1
		for _, s := range c.Sellers {
			for _, i := range bySeller[s] {
				if taken[i] {
					continue
				}
				if best < 0 || i < best {
					best = i
				}
				break // the rest are younger
			}
		}
		if best >= 0 {
			taken[best] = true
			out[ci] = stored[best].ID
		}
	}
	return out
}
