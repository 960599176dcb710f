package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/claimsd/claimsd/config"
)

// errUsage marks a mistake in how claimsd was called. What was wrong, and
// where to read how to call it, is already on standard error; main exits
// with status 2, as command-line tools do for usage errors.
var errUsage = errors.New("usage")

// errHelped says that help was asked for and printed; run returns nil.
var errHelped = errors.New("help printed")

// usageError writes a usage mistake of cmd ("" for claimsd itself) and
// where its help is to stderr, and returns errUsage.
func usageError(stderr io.Writer, cmd, format string, args ...any) error {
	if cmd == "" {
		fmt.Fprintf(stderr, "claimsd: %s\nRun 'claimsd help' to see the commands.\n", fmt.Sprintf(format, args...))
		return errUsage
	}
	fmt.Fprintf(stderr, "claimsd %s: %s\nRun 'claimsd %s --help' to see how to call it.\n", cmd, fmt.Sprintf(format, args...), cmd)
	return errUsage
}

// Settings some commands read, by flag name; a command's help lists the
// ones it reads (every command accepts every setting).
var (
	databaseSettings = []string{"database-url", "data-dir", "embedded-pg-port", "embedded-pg-user",
		"db-max-conns", "db-min-conns", "log-level", "log-format"}
	tokenSettings = []string{"data-dir", "jwt-secret", "jwt-issuer", "jwt-audience", "http-addr"}
)

// command describes a subcommand for parsing its flags and for its help.
type command struct {
	name     string // as typed after claimsd: "token", "sandbox lose-refund"
	synopsis string // how it is called, after "claimsd "
	about    string // what it does, in a sentence or two
	// settings lists the flags of the settings it reads; nil means all
	// of them (serve).
	settings []string
	own      func(*flag.FlagSet) // its own flags, or nil
}

// parseFlags parses a command's flags (every setting, plus its own) and
// loads the configuration. --help prints the command's help to stdout and
// returns errHelped; a flag it does not know, or an argument it does not
// take, is a usage error.
func parseFlags(cmd command, args []string, stdout, stderr io.Writer, getenv func(string) string) (config.Config, *flag.FlagSet, error) {
	fs := config.FlagSet(cmd.name, cmd.own)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cmd.help(stdout)
			return config.Config{}, nil, errHelped
		}
		// The flag package spells flags with one dash; people type two.
		msg := strings.Replace(err.Error(), "flag provided but not defined: -", "unknown flag --", 1)
		return config.Config{}, nil, usageError(stderr, cmd.name, "%s", msg)
	}
	if fs.NArg() > 0 {
		return config.Config{}, nil, usageError(stderr, cmd.name, "unexpected argument %q", fs.Arg(0))
	}
	cfg, err := config.FromFlags(fs, getenv)
	return cfg, fs, err
}

// help writes the command's help: how to call it, its own flags first
// (in the order the synopsis names them), then the settings it reads.
func (cmd command) help(w io.Writer) {
	fmt.Fprintf(w, "Usage: claimsd %s\n\n%s\n", cmd.synopsis, cmd.about)
	if cmd.own != nil {
		own := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		cmd.own(own)
		var flags []*flag.Flag
		own.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
		pos := func(f *flag.Flag) int {
			if i := strings.Index(cmd.synopsis, "--"+f.Name); i >= 0 {
				return i
			}
			return len(cmd.synopsis)
		}
		slices.SortStableFunc(flags, func(a, b *flag.Flag) int { return pos(a) - pos(b) })
		fmt.Fprintf(w, "\nFlags:\n")
		for _, f := range flags {
			typ, usage := flag.UnquoteUsage(f)
			head := "--" + f.Name
			if typ != "" {
				head += " " + typ
			}
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
				usage += " (default " + f.DefValue + ")"
			}
			fmt.Fprintf(w, "  %s\n        %s\n", head, usage)
		}
	}
	all := config.Settings()
	if cmd.settings == nil {
		fmt.Fprintf(w, "\nSettings (each an environment variable; the flag overrides it):\n")
	} else {
		fmt.Fprintf(w, "\nSettings it reads (each an environment variable; the flag overrides it):\n")
	}
	for _, s := range all {
		if cmd.settings != nil && !slices.Contains(cmd.settings, s.Flag) {
			continue
		}
		def := s.Default
		if def == "" {
			def = "empty"
		}
		fmt.Fprintf(w, "  --%s, %s (default %s)\n        %s\n", s.Flag, s.Env, def, s.Help)
	}
	if cmd.settings != nil {
		fmt.Fprintf(w, "\nIt accepts every other setting too; 'claimsd serve --help' lists them all.\n")
	}
}
