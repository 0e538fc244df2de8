// Command d2i migrates a Dynamics 365 Customer Service help desk to Intercom:
// snapshot the Dataverse tables, transform them into Intercom-shaped staging
// tables, replay those into Intercom with a write log, report, and roll back.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
)

// Exit codes, one table for every verb; each verb's --help repeats it.
const (
	exitOK          = 0   // the step finished
	exitFailure     = 1   // the step ran and failed; its artifacts say how far it got
	exitUsage       = 2   // bad flags, arguments or configuration; nothing was done
	exitInterrupted = 130 // stopped by a signal; rerun the same command to resume
)

const exitCodesHelp = `Exit codes:
  0    finished
  1    failed; rerun resumes from the artifacts already written
  2    bad flags, arguments or configuration; nothing was done
  130  interrupted; rerun the same command to resume
`

type verb struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout io.Writer) error
}

func verbs() []verb {
	return []verb{
		{"discover", "scope a migration from the org's metadata and counts", runDiscover},
		{"snapshot", "export Dataverse tables to a Parquet snapshot", runSnapshot},
		{"map", "propose a mapping file from a snapshot, or confirm one", runMap},
		{"transform", "build Intercom-shaped staging tables from a snapshot", runTransform},
		{"replay", "write staged rows to Intercom, logging every write", runReplay},
		{"report", "write the reconciliation report", runReport},
		{"rollback", "undo a replay from its write log", runRollback},
		{"verify", "read written objects back and compare them with staging", runVerify},
		{"serve", "run the Dataverse or Intercom emulator on its own", runServe},
		{"demo", "run the whole migration on a generated org against the emulators", runDemo},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		return exitOK
	}

	v, ok := findVerb(args[0])
	if !ok {
		fmt.Fprintf(stderr, "d2i: unknown command %q\n\n", args[0])
		printUsage(stderr)
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	err := v.run(ctx, args[1:], stdout)
	return exitCode(ctx, v.name, err, stderr)
}

func exitCode(ctx context.Context, name string, err error, stderr io.Writer) int {
	var usage usageError
	switch {
	case err == nil, errors.Is(err, pflag.ErrHelp):
		return exitOK
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "d2i %s: %v\nRun 'd2i %s --help' for usage.\n", name, err, name)
		return exitUsage
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "d2i %s: interrupted: %v\n", name, err)
		return exitInterrupted
	default:
		fmt.Fprintf(stderr, "d2i %s: %v\n", name, err)
		return exitFailure
	}
}

func findVerb(name string) (verb, bool) {
	for _, v := range verbs() {
		if v.name == name {
			return v, true
		}
	}
	return verb{}, false
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, "d2i moves a Dynamics 365 Customer Service help desk to Intercom.\n\n")
	fmt.Fprint(w, "Usage: d2i <command> [flags]\n\nCommands:\n")
	for _, v := range verbs() {
		fmt.Fprintf(w, "  %-10s %s\n", v.name, v.summary)
	}
	fmt.Fprint(w, "\nRun 'd2i <command> --help' for a command's flags and an example.\n\n")
	fmt.Fprint(w, exitCodesHelp)
}
