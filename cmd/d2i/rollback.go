package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/d2i/d2i/replay"
)

type rollbackOptions struct {
	intercomURL string
	logDir      string
	run         string
	dryRun      bool
	preview     bool
	kinds       []string
	sample      int
	seed        int64
	tolerance   time.Duration
	log         logOptions
}

func runRollback(ctx context.Context, args []string, stdout io.Writer) error {
	var o rollbackOptions
	fs := newFlagSet("rollback", "rollback --log-dir DIR [--run ID] [--preview] [--kind K,...] [--sample N] [flags]",
		`  d2i rollback --log-dir writelog --preview
  d2i rollback --log-dir writelog --kind conversation
  d2i rollback --log-dir writelog --sample 50 --seed 7
  d2i rollback --log-dir writelog --run 20261203T100000Z-ab12

Reads the write log newest first: deletes what replay created, restores the
before-image of what it updated, archives the data attributes it made. What
Intercom cannot undo (contact notes, single conversation parts, close times) is
listed as residue. An object changed in Intercom after our write is held back:
listed and left alone, with what depends on it. --preview reads Intercom and
prints the plan, sending and logging nothing. The rollback logs itself, so
rerunning it resumes.`, stdout)
	fs.StringVar(&o.intercomURL, "intercom-url", replay.BaseURLUS, "Intercom API base URL")
	fs.StringVar(&o.logDir, "log-dir", "", "write-log directory of the replay to undo")
	fs.StringVar(&o.run, "run", "", "undo only this replay run (default: every run in --log-dir)")
	fs.BoolVar(&o.preview, "preview", false, "print what would be undone and held back; send and log nothing")
	fs.BoolVar(&o.dryRun, "dry-run", false, "log what would be undone, send no mutating request")
	fs.StringSliceVar(&o.kinds, "kind", nil, "roll back only these kinds (comma-separated); "+
		"kinds that depend on them must be named too")
	fs.IntVar(&o.sample, "sample", 0, "roll back only this many conversations (with their parts, state and "+
		"attributes), picked as replay --sample picks them; 0 = everything")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the --sample pick: use the replay's --seed")
	fs.DurationVar(&o.tolerance, "hold-back-tolerance", replay.DefaultHoldBackTolerance,
		"hold back an object whose updated_at is later than our last write to it by more than this")
	o.log.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return err
	}
	logger, token, err := intercomSession(o.log)
	if err != nil {
		return err
	}

	sum, err := replay.Rollback(ctx, replay.RollbackConfig{
		BaseURL: o.intercomURL, Token: token, LogDir: o.logDir, RunID: o.run,
		DryRun: o.dryRun, Preview: o.preview, Kinds: o.kinds, Sample: o.sample, Seed: o.seed,
		HoldBackTolerance: o.tolerance, Logger: logger,
	})
	if sum != nil {
		printRollbackSummary(stdout, sum)
	}
	var kerr *replay.KindsError
	if errors.As(err, &kerr) {
		return usageError{kerr.Error()}
	}
	if err != nil {
		return asUsageIfLocked(err)
	}
	if n := len(sum.Failures); n > 0 {
		return fmt.Errorf("%d undo operations failed (listed above); rerun to resume", n)
	}
	return nil
}

// check reports flag mistakes before any log is read or request sent.
func (o *rollbackOptions) check() error {
	if o.logDir == "" {
		return usagef("--log-dir is required")
	}
	if err := requireDir(o.logDir, "the replay's --log-dir"); err != nil {
		return err
	}
	if err := requireHTTPURL("--intercom-url", o.intercomURL); err != nil {
		return err
	}
	switch {
	case o.preview && o.dryRun:
		return usagef("--preview and --dry-run exclude each other: --preview logs nothing, --dry-run logs a dry run")
	case o.sample < 0:
		return usagef("--sample %d: want 0 (everything) or more", o.sample)
	case o.sample > 0 && len(o.kinds) > 0:
		return usagef("--sample rolls back conversations only; it cannot be combined with --kind")
	case o.tolerance < 0:
		return usagef("--hold-back-tolerance %s: want 0 or more", o.tolerance)
	}
	if err := replay.CheckRollbackKinds(o.kinds); err != nil {
		return usagef("--kind: %v", err)
	}
	return nil
}

func printRollbackSummary(w io.Writer, sum *replay.RollbackSummary) {
	if sum.Preview {
		fmt.Fprintf(w, "rollback preview %s: nothing sent, nothing logged\n", sum.RunID)
	} else {
		printRunHeader(w, "rollback", sum.RunID, sum.DryRun, sum.LogPath)
	}
	printRollbackPlan(w, sum.Plan)
	for _, h := range sum.HeldBack {
		fmt.Fprintf(w, "held back: %s %s: %s\n", h.Kind, h.IntercomID, h.Reason)
	}
	if sum.Preview {
		return
	}
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

// printRollbackPlan prints one row per kind with a column per action, then
// the first few ids of each action.
func printRollbackPlan(w io.Writer, p replay.RollbackPlan) {
	fmt.Fprintf(w, "%-24s", "plan")
	for _, a := range replay.UndoActions {
		fmt.Fprintf(w, " %9s", a)
	}
	fmt.Fprintln(w)
	names := slices.Sorted(maps.Keys(p.Counts))
	for _, k := range names {
		fmt.Fprintf(w, "%-24s", k)
		for _, a := range replay.UndoActions {
			fmt.Fprintf(w, " %9d", p.Counts[k][a])
		}
		fmt.Fprintln(w)
	}
	for _, k := range names {
		for _, a := range replay.UndoActions {
			ids := p.Examples[k][a]
			if len(ids) == 0 || a == replay.UndoRemoved || a == replay.UndoEarlier {
				continue
			}
			more := ""
			if n := p.Counts[k][a]; n > len(ids) {
				more = fmt.Sprintf(" (+%d more)", n-len(ids))
			}
			fmt.Fprintf(w, "  %s %s: %s%s\n", a, k, strings.Join(ids, ", "), more)
		}
	}
}
