package pgtest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
)

// EvidenceBlobs counts the blobs stored in st's database for a claim's
// evidence (a file and its thumbnail are two), and the notes of blobs
// waiting to be deleted: a refused upload leaves neither.
func EvidenceBlobs(t testing.TB, st *pgstore.Store, claimID string) (blobs, notes int) {
	t.Helper()
	prefix := "evidence/" + claimID + "/%"
	ctx := context.Background()
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(DISTINCT blob_key) FROM evidence_blobs WHERE blob_key LIKE $1`, prefix).Scan(&blobs))
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM evidence_blob_gc WHERE blob_key LIKE $1`, prefix).Scan(&notes))
	return blobs, notes
}
