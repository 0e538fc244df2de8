package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/d2i/d2i/replay"
	"github.com/d2i/d2i/replay/intercomtest"
	"github.com/d2i/d2i/report"
	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
	"github.com/d2i/d2i/transform"
)

type demoOptions struct {
	out            string
	seed           int64
	cases          int
	workers        int
	intercomPer10s int
	rollback       bool
	keepServing    bool
	omnichannel    bool // the org has Omnichannel conversations (msdyn_ tables)
	log            logOptions
}

// demoMarker marks a directory as the demo's own, so that a rerun may clear it.
const demoMarker = ".d2i-demo"

func runDemo(ctx context.Context, args []string, stdout io.Writer) error {
	var o demoOptions
	fs := newFlagSet("demo", "demo [--out DIR] [flags]",
		`  d2i demo --out demo-out
  d2i demo --out demo-out --cases 20000 --rollback

Generates a messy Dynamics org, starts the Dataverse and Intercom emulators on
loopback, runs snapshot, transform, replay and report, and prints where each
artifact is. It fails when a source row is unaccounted for or when Intercom
would have notified a customer.`, stdout)
	fs.StringVar(&o.out, "out", "demo-out", "directory for the demo's artifacts (cleared if it is an earlier demo's)")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the generated org")
	fs.IntVar(&o.cases, "cases", 2000, "cases in the generated org")
	fs.IntVar(&o.workers, "workers", 4, "conversations replayed in parallel")
	fs.IntVar(&o.intercomPer10s, "intercom-budget", 1666, "Intercom emulator's requests per 10-second window (10,000/min)")
	fs.BoolVar(&o.rollback, "rollback", false, "roll the replay back at the end and show what Intercom still holds")
	fs.BoolVar(&o.omnichannel, "omnichannel", false, "give the org Omnichannel conversations, sessions, transcripts and voice recordings")
	fs.BoolVar(&o.keepServing, "keep-serving", false, "keep both emulators up after the run (until Ctrl-C) to try the other verbs on them")
	o.log.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.cases < 1 || o.workers < 1 || o.intercomPer10s < 0 {
		return usagef("--cases and --workers must be at least 1, --intercom-budget at least 0")
	}
	// On a terminal the progress bars tell the story; info logs would tear them.
	if isTerminal(os.Stderr) && !fs.Changed("log-level") {
		o.log.level = "warn"
	}
	logger, err := o.log.logger()
	if err != nil {
		return err
	}

	res, err := demo(ctx, o, logger, os.Stderr)
	if res != nil {
		res.print(stdout)
	}
	if err != nil || !o.keepServing {
		return err
	}
	return res.serveUntilDone(ctx, stdout)
}

// demoResult is what a demo run produced, for the summary and for tests.
type demoResult struct {
	snapshot, staging, logDir, reports string
	tables                             []string // the tables the snapshot reads
	elapsed                            time.Duration
	reconciliation                     []report.Row
	replay                             *replay.Summary
	notifications                      int
	intercomAfterReplay                map[string]int
	rollback                           *replay.RollbackSummary
	intercomAfterRollback              map[string]int
	emulators                          *emulators // closed when the demo returns, unless keepServing
}

func demo(ctx context.Context, o demoOptions, logger *slog.Logger, progressOut io.Writer) (*demoResult, error) {
	start := time.Now()
	res := &demoResult{
		snapshot: filepath.Join(o.out, "snapshot"),
		staging:  filepath.Join(o.out, "staging.duckdb"),
		logDir:   filepath.Join(o.out, "writelog"),
		reports:  filepath.Join(o.out, "reports"),
		tables:   demoTables,
	}
	if o.omnichannel { // read, not yet migrated: they show in the snapshot for a look
		res.tables = append(slices.Clone(demoTables), "msdyn_ocliveworkitem", "msdyn_ocsession",
			"msdyn_transcript", "msdyn_ocrecording")
	}
	if err := prepareDemoDir(o.out); err != nil {
		return nil, err
	}

	org, err := sampleorg.New(sampleorg.Options{Seed: o.seed, Cases: o.cases, Omnichannel: o.omnichannel})
	if err != nil {
		return nil, fmt.Errorf("generate org: %w", err)
	}
	emu := startEmulators(org, o.intercomPer10s, o.keepServing)
	res.emulators = emu
	if !o.keepServing {
		defer emu.close()
	}
	logger.Info("demo: org generated", "cases", o.cases, "seed", o.seed,
		"dataverse", emu.dataverse.URL, "intercom", emu.intercom.URL)

	rep, err := res.migrate(ctx, emu, o.workers, logger, progressOut)
	if err != nil {
		return res, err
	}

	if o.rollback {
		res.rollback, err = replay.Rollback(ctx, replay.RollbackConfig{
			BaseURL: emu.intercom.URL, Token: emu.token, LogDir: res.logDir, Logger: logger})
		if err != nil {
			return res, fmt.Errorf("rollback: %w", err)
		}
		res.intercomAfterRollback = emu.intercom.Counts()
	}
	res.elapsed = time.Since(start)

	return res, res.check(rep)
}

// emulators are the two APIs the demo migrates between, with the throwaway
// credentials it made for them; the credentials are never printed.
type emulators struct {
	dataverse *dataversetest.Server
	intercom  *intercomtest.Server
	creds     snapshot.Credentials
	token     string
}

// startEmulators makes throwaway credentials; emulators left serving accept
// any, so that a person can point the other verbs at them without a secret
// ever being printed.
func startEmulators(org *sampleorg.Org, intercomPer10s int, open bool) *emulators {
	e := &emulators{
		creds: snapshot.Credentials{TenantID: "demo-tenant", ClientID: "d2i-demo", ClientSecret: randomSecret()},
		token: randomSecret(),
	}
	dvOpts := dataversetest.Options{
		TenantID: e.creds.TenantID, ClientID: e.creds.ClientID, ClientSecret: e.creds.ClientSecret,
		RequestsPerWindow: 6000, Window: 300 * time.Second,
	}
	if open {
		dvOpts.TenantID, dvOpts.ClientID, dvOpts.ClientSecret = "", "", ""
	}
	// Dataverse's default service protection: 6,000 requests per 5 minutes.
	e.dataverse = dataversetest.NewServer(org, dvOpts)
	icOpts := intercomOptions(org, intercomPer10s)
	if !open {
		icOpts.Token = e.token
	}
	e.intercom = intercomtest.NewServer(icOpts)
	return e
}

func (e *emulators) close() {
	e.dataverse.Close()
	e.intercom.Close()
}

// migrate runs snapshot, transform, replay and report, as an engineer would
// run the four verbs one after another.
func (r *demoResult) migrate(ctx context.Context, emu *emulators, workers int, logger *slog.Logger, progressOut io.Writer) (*report.Result, error) {
	snapProgress := newStepProgress(progressOut, "snapshot", logger)
	_, err := snapshot.Run(ctx, snapshot.Config{
		OrgURL: emu.dataverse.URL, AuthorityURL: emu.dataverse.URL, Credentials: emu.creds,
		Tables: r.tables, OutDir: r.snapshot, Logger: logger,
		Progress: func(table string, rows, _ int) { snapProgress.update(table, rows, -1) },
	})
	snapProgress.finish()
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}

	if _, err := transform.Run(ctx, transform.Config{SnapshotDir: r.snapshot, DBPath: r.staging, Logger: logger}); err != nil {
		return nil, fmt.Errorf("transform: %w", err)
	}

	replayProgress := newStepProgress(progressOut, "replay", logger)
	r.replay, err = replay.Run(ctx, replay.Config{
		DBPath: r.staging, BaseURL: emu.intercom.URL, Token: emu.token, LogDir: r.logDir,
		Workers: workers, Tag: replay.DefaultTag, Logger: logger, Progress: replayProgress.update,
	})
	replayProgress.finish()
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	r.notifications = emu.intercom.Notifications()
	r.intercomAfterReplay = emu.intercom.Counts()

	rep, err := buildReport(ctx, report.Config{DBPath: r.staging, OutDir: r.reports, LogDir: r.logDir,
		Sample: &report.SampleInput{Seed: 1, LogDir: r.logDir},
		Plan:   &report.PlanInput{RatePerMinute: replay.DefaultRatePerMinute}, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	r.reconciliation = rep.Rows
	return rep, nil
}

// serveUntilDone keeps the emulators of a finished demo up so that the
// other verbs can be tried on them, e.g. a rollback from the demo's write log.
func (r *demoResult) serveUntilDone(ctx context.Context, w io.Writer) error {
	defer r.emulators.close()
	fmt.Fprintf(w, `
Emulators stay up until Ctrl-C; they accept any credentials:
  Dataverse  %s
  Intercom   %s

  export D2I_INTERCOM_TOKEN=anything
  d2i verify --db %[3]s --log-dir %[4]s --intercom-url %[2]s --out %[5]s
  d2i report --db %[3]s --log-dir %[4]s --verify-dir %[5]s --out %[6]s
  d2i rollback --log-dir %[4]s --intercom-url %[2]s
`, r.emulators.dataverse.URL, r.emulators.intercom.URL, r.staging, r.logDir,
		filepath.Join(filepath.Dir(r.reports), "verify"), r.reports)
	<-ctx.Done()
	return nil
}

// check turns the demo's promises into an error: every row accounted for,
// nothing failed, no customer notified.
func (r *demoResult) check(rep *report.Result) error {
	var errs []error
	if !rep.AllOK {
		errs = append(errs, fmt.Errorf("reconciliation does not balance: see %s", filepath.Join(r.reports, "reconciliation.md")))
	}
	if n := len(r.replay.Failures); n > 0 {
		errs = append(errs, fmt.Errorf("%d replay operations failed: see the write log in %s", n, r.logDir))
	}
	if r.notifications > 0 {
		errs = append(errs, fmt.Errorf("intercom would have notified customers %d times", r.notifications))
	}
	return errors.Join(errs...)
}

func (r *demoResult) print(w io.Writer) {
	fmt.Fprintf(w, "\nd2i demo finished in %s\n\n", r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "  snapshot        %s\n  staging         %s\n  write log       %s\n  reports         %s\n\n",
		r.snapshot, r.staging, r.logDir, filepath.Join(r.reports, report.IndexFile))

	if len(r.reconciliation) > 0 {
		// The label column is as wide as its longest label (fmt pads by
		// runes), so long table names do not push their row out of line.
		width := len("source → object")
		for _, row := range r.reconciliation {
			width = max(width, utf8.RuneCountInString(row.SourceTable+" → "+row.Object))
		}
		fmt.Fprintf(w, "  %-*s %9s %8s %7s %8s %7s %8s  %s\n", width,
			"source → object", "snapshot", "staged", "merged", "rejected", "out", "written", "balanced")
		for _, row := range r.reconciliation {
			written := "-"
			if row.Written != nil {
				written = fmt.Sprint(*row.Written)
			}
			mark := "✓"
			if !row.OK() {
				mark = "✗"
			}
			fmt.Fprintf(w, "  %-*s %9d %8d %7d %8d %7d %8s  %s\n", width, row.SourceTable+" → "+row.Object, row.SnapshotRows,
				row.Staged, row.Merged, row.Rejected, row.OutOfScope, written, mark)
		}
		fmt.Fprintln(w)
	}
	if r.replay != nil {
		fmt.Fprintf(w, "  replay run %s: %d failed operations\n", r.replay.RunID, len(r.replay.Failures))
	}
	fmt.Fprintf(w, "  customer notifications Intercom would have sent: %d\n", r.notifications)
	fmt.Fprintf(w, "  Intercom holds: %s\n", formatCounts(r.intercomAfterReplay))
	if r.rollback != nil {
		fmt.Fprintf(w, "  after rollback: %s\n", formatCounts(r.intercomAfterRollback))
	}
}

func formatCounts(counts map[string]int) string {
	parts := make([]string, 0, len(counts))
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	return strings.Join(parts, ", ")
}

// prepareDemoDir creates dir, or clears it when an earlier demo made it; any
// other non-empty directory is left alone so that a typo cannot delete work.
func prepareDemoDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("demo dir %s: %w", dir, err)
	case len(entries) == 0:
	default:
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
			return usagef("%s is not empty and was not made by d2i demo; choose another --out", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("clear demo dir %s: %w", dir, err)
		}
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("demo dir %s: %w", dir, err)
	}
	return os.WriteFile(filepath.Join(dir, demoMarker), nil, 0o600)
}

func randomSecret() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}
