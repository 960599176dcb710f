package blobstore_test

import (
	"os"
	"testing"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
)

// store is the package's migrated database (pgtest.Main).
var store *pgstore.Store

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, "blobstore", &store)) }
