package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/d2i/d2i/replay"
)

type rollbackOptions struct {
	intercomURL string
	logDir      string
	run         string
	dryRun      bool
	log         logOptions
}

func runRollback(ctx context.Context, args []string, stdout io.Writer) error {
	var o rollbackOptions
	fs := newFlagSet("rollback", "rollback --log-dir DIR [--run ID] [flags]",
		`  d2i rollback --log-dir writelog --dry-run
  d2i rollback --log-dir writelog --run 20261203T100000Z-ab12

Reads the write log newest first: deletes what replay created, restores the
before-image of what it updated, archives the data attributes it made. What
Intercom cannot undo (contact notes, single conversation parts, close times) is
listed as residue. The rollback logs itself, so rerunning it resumes.`, stdout)
	fs.StringVar(&o.intercomURL, "intercom-url", replay.BaseURLUS, "Intercom API base URL")
	fs.StringVar(&o.logDir, "log-dir", "", "write-log directory of the replay to undo")
	fs.StringVar(&o.run, "run", "", "undo only this replay run (default: every run in --log-dir)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "log what would be undone, send no mutating request")
	o.log.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.logDir == "" {
		return usagef("--log-dir is required")
	}
	if err := requireDir(o.logDir, "the replay's --log-dir"); err != nil {
		return err
	}
	if err := requireHTTPURL("--intercom-url", o.intercomURL); err != nil {
		return err
	}
	logger, token, err := intercomSession(o.log)
	if err != nil {
		return err
	}

	sum, err := replay.Rollback(ctx, replay.RollbackConfig{
		BaseURL: o.intercomURL, Token: token, LogDir: o.logDir, RunID: o.run,
		DryRun: o.dryRun, Logger: logger,
	})
	if sum != nil {
		printRollbackSummary(stdout, sum)
	}
	if err != nil {
		return asUsageIfLocked(err)
	}
	if n := len(sum.Failures); n > 0 {
		return fmt.Errorf("%d undo operations failed (listed above); rerun to resume", n)
	}
	return nil
}

func printRollbackSummary(w io.Writer, sum *replay.RollbackSummary) {
	printRunHeader(w, "rollback", sum.RunID, sum.DryRun, sum.LogPath)
	kinds := map[string]bool{}
	for _, m := range []map[string]int{sum.Undone, sum.Skipped, sum.Removed} {
		for k := range m {
			kinds[k] = true
		}
	}
	names := slices.Sorted(maps.Keys(kinds))
	fmt.Fprintf(w, "%-24s %8s %8s %8s\n", "kind", "undone", "earlier", "removed")
	for _, k := range names {
		fmt.Fprintf(w, "%-24s %8d %8d %8d\n", k, sum.Undone[k], sum.Skipped[k], sum.Removed[k])
	}
	for _, r := range sum.Residue {
		fmt.Fprintf(w, "residue: %s %s: %s\n", r.Kind, r.IntercomID, r.Reason)
	}
	for _, f := range sum.Failures {
		fmt.Fprintf(w, "failed: %s: %s\n", f.Op, f.Reason)
	}
}
