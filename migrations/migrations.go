// Package migrations embeds the numbered SQL files that build claimsd's
// schema. Files are named NNNN_description.sql and applied in order, each
// in its own transaction, by the store's migrator (`claimsd migrate`, and
// `claimsd serve` at start).
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
