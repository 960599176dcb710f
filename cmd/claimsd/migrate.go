package main

import (
	"context"
	"fmt"
	"io"
)

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, _, err := parseFlags(command{
		name:     "migrate",
		synopsis: "migrate [flags]",
		about:    "Applies the database migrations not applied yet (serve does too, unless CLAIMSD_MIGRATE_ON_START=false).",
		settings: databaseSettings,
	}, args, stdout, stderr, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.leave(log)
	applied, err := db.Migrate(ctx, db.migrateQueue)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "the database is up to date")
	}
	for _, name := range applied {
		fmt.Fprintln(stdout, "applied", name)
	}
	return nil
}
