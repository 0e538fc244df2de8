package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/d2i/d2i/replay"
)

type replayOptions struct {
	db          string
	intercomURL string
	logDir      string
	workers     int
	rate        int
	dryRun      bool
	asNotes     bool
	reqMapping  bool
	searchLag   time.Duration
	log         logOptions
}

func runReplay(ctx context.Context, args []string, stdout io.Writer) error {
	var o replayOptions
	fs := newFlagSet("replay", "replay --db FILE --log-dir DIR [flags]",
		`  export D2I_INTERCOM_TOKEN_FILE=~/.config/d2i/intercom-token
  d2i replay --db staging.duckdb --log-dir writelog --dry-run
  d2i replay --db staging.duckdb --log-dir writelog --intercom-url https://api.eu.intercom.io

The token comes from D2I_INTERCOM_TOKEN or D2I_INTERCOM_TOKEN_FILE, never a flag.
Rerunning with the same --log-dir resumes: what earlier runs wrote is not written
again, and a write whose answer was lost is looked up before anything is resent.`, stdout)
	fs.StringVar(&o.db, "db", "", "staging DuckDB file written by 'd2i transform'")
	fs.StringVar(&o.intercomURL, "intercom-url", replay.BaseURLUS, "Intercom API base URL (US, EU, AU region or any URL)")
	fs.StringVar(&o.logDir, "log-dir", "", "write-log directory: earlier runs are read, a new log is appended")
	fs.IntVar(&o.workers, "workers", 4, "conversations written in parallel")
	fs.IntVar(&o.rate, "rate", replay.DefaultRatePerMinute, "starting pace in calls per minute; corrected from Intercom's headers")
	fs.BoolVar(&o.dryRun, "dry-run", false, "log what would be written, send no mutating request")
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

	progress := newStepProgress(os.Stderr, "replay", logger)
	sum, err := replay.Run(ctx, replay.Config{
		DBPath: o.db, BaseURL: o.intercomURL, Token: token, LogDir: o.logDir,
		Workers: o.workers, RatePerMinute: o.rate, DryRun: o.dryRun,
		RepliesAsNotes: o.asNotes, RequireMapping: o.reqMapping, SearchLag: o.searchLag,
		Logger: logger, Progress: progress.update,
	})
	progress.finish()
	if sum != nil {
		printReplaySummary(stdout, sum)
	}
	var mapErr *replay.MappingError
	if errors.As(err, &mapErr) {
		return usagef("%v", err) // nothing was written: the staging database needs a mapping
	}
	if err != nil {
		return asUsageIfLocked(err)
	}
	if n := len(sum.Failures); n > 0 {
		return fmt.Errorf("%d operations failed (listed above, reasons in %s); fix the cause and rerun to resume", n, sum.LogPath)
	}
	return nil
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
	return nil
}

func printReplaySummary(w io.Writer, sum *replay.Summary) {
	printRunHeader(w, "replay", sum.RunID, sum.DryRun, sum.LogPath)
	kinds := slices.Sorted(maps.Keys(sum.Kinds))
	fmt.Fprintf(w, "%-24s %8s %8s %8s %8s\n", "kind", "created", "existing", "skipped", "failed")
	for _, k := range kinds {
		c := sum.Kinds[k]
		fmt.Fprintf(w, "%-24s %8d %8d %8d %8d\n", k, c.Created, c.Existing, c.Skipped, c.Failed)
	}
	for _, f := range sum.Failures {
		fmt.Fprintf(w, "failed: %s: %s\n", f.Op, f.Reason)
	}
}
