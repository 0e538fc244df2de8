package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/d2i/d2i/replay"
)

type replayOptions struct {
	db           string
	intercomURL  string
	logDir       string
	workers      int
	rate         int
	dryRun       bool
	planOnly     bool
	asNotes      bool
	reqMapping   bool
	unassignedOK bool
	sample       int
	seed         int64
	tag          string
	searchLag    time.Duration
	log          logOptions
	fs           *pflag.FlagSet // to tell a flag given from its default
}

func runReplay(ctx context.Context, args []string, stdout io.Writer) error {
	var o replayOptions
	fs := newFlagSet("replay", "replay --db FILE --log-dir DIR [flags]",
		`  export D2I_INTERCOM_TOKEN_FILE=~/.config/d2i/intercom-token
  d2i replay --db staging.duckdb --log-dir writelog --plan-only
  d2i replay --db staging.duckdb --log-dir sandbox-log --intercom-url https://api.eu.intercom.io --sample 50 --seed 7
  d2i replay --db staging.duckdb --log-dir writelog --intercom-url https://api.eu.intercom.io

Before sending anything, replay runs a pre-flight and prints it: the sample
and tag, owners and queues that match no Intercom teammate or team, requests
and time per kind at --rate, and the workspace settings to switch off first.
It then goes on without asking, so a cutover can run unattended; use
--plan-only to stop after the pre-flight (exit 0), or --dry-run to log every
write without sending it. An unmatched owner or queue stops replay before
anything is written, unless --unassigned-ok.

--sample N --seed S replays N conversations with their contacts, companies and
parts, tagged d2i-sample-S, so they can be reviewed (best in a sandbox
workspace; 'd2i verify --sample N --seed S' checks the same ones). Every other
run tags what it writes with --tag.

The token comes from D2I_INTERCOM_TOKEN or D2I_INTERCOM_TOKEN_FILE, never a flag.
Rerunning with the same --log-dir resumes: what earlier runs wrote is not written
again, and a write whose answer was lost is looked up before anything is resent.
A resume must keep the earlier --sample, --seed and --tag.`, stdout)
	o.fs = fs
	fs.StringVar(&o.db, "db", "", "staging DuckDB file written by 'd2i transform'")
	fs.StringVar(&o.intercomURL, "intercom-url", replay.BaseURLUS, "Intercom API base URL (US, EU, AU region or any URL)")
	fs.StringVar(&o.logDir, "log-dir", "", "write-log directory: earlier runs are read, a new log is appended")
	fs.IntVar(&o.workers, "workers", 4, "conversations written in parallel")
	fs.IntVar(&o.rate, "rate", replay.DefaultRatePerMinute, "starting pace in calls per minute; corrected from Intercom's headers")
	fs.BoolVar(&o.dryRun, "dry-run", false, "log what would be written, send no mutating request")
	fs.BoolVar(&o.planOnly, "plan-only", false, "print the pre-flight and plan, then stop without writing")
	fs.IntVar(&o.sample, "sample", 0, "replay only this many conversations (with what they depend on), tagged d2i-sample-SEED; 0 = all")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the --sample pick: the same seed picks the same conversations as 'd2i verify --sample'")
	fs.StringVar(&o.tag, "tag", replay.DefaultTag, `tag put on every conversation, contact and company written; "" for none`)
	fs.BoolVar(&o.unassignedOK, "unassigned-ok", false,
		"replay conversations of owners and queues that match no Intercom teammate or team unassigned, instead of stopping")
	fs.BoolVar(&o.asNotes, "replies-as-notes", false, "send historical agent emails as internal notes")
	fs.BoolVar(&o.reqMapping, "require-mapping", false,
		"refuse a staging database built without a confirmed mapping file")
	fs.DurationVar(&o.searchLag, "search-lag", replay.DefaultSearchLag,
		"after a crash, how long to wait before trusting a search that does not find an uncertain lead or conversation")
	o.log.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	logger, token, err := intercomSession(o.log)
	if err != nil {
		return err
	}
	cfg := replay.Config{
		DBPath: o.db, BaseURL: o.intercomURL, Token: token, LogDir: o.logDir,
		Workers: o.workers, RatePerMinute: o.rate, DryRun: o.dryRun,
		RepliesAsNotes: o.asNotes, RequireMapping: o.reqMapping, SearchLag: o.searchLag,
		Sample: o.sample, Seed: o.seed, Tag: o.tag, UnassignedOK: o.unassignedOK,
		Logger: logger,
	}

	if err := preflight(ctx, cfg, o, stdout); err != nil || o.planOnly {
		return err
	}
	progress := newStepProgress(os.Stderr, "replay", logger)
	cfg.Progress = progress.update
	sum, err := replay.Run(ctx, cfg)
	progress.finish()
	if sum != nil {
		printReplaySummary(stdout, sum)
	}
	if err := asUsageIfRefused(err); err != nil {
		return err
	}
	if n := len(sum.Failures); n > 0 {
		return fmt.Errorf("%d operations failed (listed above, reasons in %s); fix the cause and rerun to resume", n, sum.LogPath)
	}
	return nil
}

// preflight prints what replay will do and stops (before any write) when it
// must: a refused staging database or log directory, or unmatched owners
// and queues without --unassigned-ok.
func preflight(ctx context.Context, cfg replay.Config, o replayOptions, w io.Writer) error {
	rep, err := replay.Preflight(ctx, cfg)
	if rep != nil {
		printPreflight(w, rep, o)
	}
	if err := asUsageIfRefused(err); err != nil {
		return err
	}
	if rep.Unmatched != nil && !o.unassignedOK {
		return usagef("pre-flight: %d owners and %d queues match no Intercom teammate or team (listed above); "+
			"create them in Intercom (the API cannot) or rerun with --unassigned-ok; nothing was written",
			len(rep.Unmatched.Admins), len(rep.Unmatched.Teams))
	}
	return nil
}

// asUsageIfRefused reports a run refused before any write (no confirmed
// mapping, a resume with other settings, a locked log directory) as a usage
// error: nothing was done, and the command line must change.
func asUsageIfRefused(err error) error {
	var mapErr *replay.MappingError
	var setErr *replay.SettingsError
	if errors.As(err, &mapErr) || errors.As(err, &setErr) {
		return usagef("%v", err)
	}
	return asUsageIfLocked(err)
}

func (o *replayOptions) validate() error {
	if o.db == "" || o.logDir == "" {
		return usagef("--db and --log-dir are required")
	}
	if err := requireFile(o.db, "run 'd2i transform' first"); err != nil {
		return err
	}
	if err := requireHTTPURL("--intercom-url", o.intercomURL); err != nil {
		return err
	}
	if o.workers < 1 || o.rate < 1 {
		return usagef("--workers and --rate must be at least 1")
	}
	if o.sample < 0 {
		return usagef("--sample %d: want a number of conversations, or 0 for all", o.sample)
	}
	if o.fs.Changed("seed") && o.sample == 0 {
		return usagef("--seed picks a sample: give --sample N too")
	}
	if o.fs.Changed("tag") && o.sample > 0 {
		return usagef("a --sample run is tagged %s; --tag is for full runs", replay.SampleTag(o.seed))
	}
	if o.planOnly && o.dryRun {
		return usagef("--plan-only and --dry-run: choose one (--plan-only stops after the plan, --dry-run logs every write)")
	}
	return nil
}

func printPreflight(w io.Writer, rep *replay.PreflightReport, o replayOptions) {
	fmt.Fprintf(w, "pre-flight: %s\n", describeSettings(rep.Settings))
	if p := rep.Plan; p != nil {
		fmt.Fprintf(w, "plan at %d requests/min (retries and lookups after faults come on top):\n", p.RatePerMinute)
		fmt.Fprintf(w, "  %-24s %8s %8s %8s %10s\n", "kind", "objects", "writes", "reads", "time")
		for _, k := range p.Kinds {
			if k.Requests() > 0 {
				fmt.Fprintf(w, "  %-24s %8d %8d %8d %10s\n", k.Kind, k.Objects, k.Writes, k.Reads, roundDuration(k.Duration))
			}
		}
		fmt.Fprintf(w, "  %-24s %8s %8s %8d %10s\n", "workspace reads", "", "", p.WorkspaceReads, "")
		fmt.Fprintf(w, "  total %d requests, about %s\n", p.Requests, roundDuration(p.Duration))
	}
	if u := rep.Unmatched; u != nil {
		verdict := "replay stops before writing anything"
		if o.unassignedOK {
			verdict = "--unassigned-ok: their conversations go unassigned"
		}
		fmt.Fprintf(w, "unmatched owners and queues (%s):\n", verdict)
		for _, a := range u.Admins {
			fmt.Fprintf(w, "  owner %s\n", a)
		}
		for _, t := range u.Teams {
			fmt.Fprintf(w, "  queue %s\n", t)
		}
	}
	printUnassigned(w, rep.Unassigned)
	if p := rep.Plan; p != nil && len(p.Checklist) > 0 {
		fmt.Fprintln(w, "switch off in Intercom before replay (the API cannot), and back on after verify:")
		for _, item := range p.Checklist {
			fmt.Fprintf(w, "  - %s\n", item)
		}
	}
}

func describeSettings(s replay.RunSettings) string {
	what := "every staged object"
	if s.Sample > 0 {
		what = fmt.Sprintf("sample of %d conversations (seed %d): %d conversations, %d contacts, %d companies",
			s.Sample, s.Seed, s.Conversations, s.Contacts, s.Companies)
	}
	if s.Tag == "" {
		return what + ", no tag"
	}
	return fmt.Sprintf("%s, tagged %q", what, s.Tag)
}

// maxListed bounds how many conversation ids a summary prints inline.
const maxListed = 20

func printUnassigned(w io.Writer, u *replay.Unassigned) {
	if u == nil {
		return
	}
	ids := u.Conversations
	more := ""
	if len(ids) > maxListed {
		ids, more = ids[:maxListed], fmt.Sprintf(" and %d more", len(u.Conversations)-maxListed)
	}
	fmt.Fprintf(w, "unassigned: %d conversations without their owner or queue: %s%s\n",
		len(u.Conversations), strings.Join(ids, ", "), more)
	if u.Parts > 0 {
		fmt.Fprintf(w, "unassigned: %d replies and notes by unmatched owners are sent as admin %s\n", u.Parts, u.ActorID)
	}
}

func roundDuration(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

func printReplaySummary(w io.Writer, sum *replay.Summary) {
	printRunHeader(w, "replay", sum.RunID, sum.DryRun, sum.LogPath)
	kinds := slices.Sorted(maps.Keys(sum.Kinds))
	fmt.Fprintf(w, "%-24s %8s %8s %8s %8s\n", "kind", "created", "existing", "skipped", "failed")
	for _, k := range kinds {
		c := sum.Kinds[k]
		fmt.Fprintf(w, "%-24s %8d %8d %8d %8d\n", k, c.Created, c.Existing, c.Skipped, c.Failed)
	}
	printUnassigned(w, sum.Unassigned)
	for _, f := range sum.Failures {
		fmt.Fprintf(w, "failed: %s: %s\n", f.Op, f.Reason)
	}
}
