package embeddedpg

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The download fallback cannot reach the network in CI, so this checks that
// it fails with advice instead of hanging or leaving a half-made folder; with
// network access it must yield a usable bin folder.
func TestDownloadFallback(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin, err := downloadBinaries(t.Context(), dir)
	if err != nil {
		require.ErrorContains(t, err, "install PostgreSQL")
		require.ErrorContains(t, err, "DATABASE_URL")
		require.NoDirExists(t, dir+"/"+distProbe)
		require.NoDirExists(t, dir+"/"+distRuntime)
		return
	}
	require.NoError(t, hasTools(bin))
}
