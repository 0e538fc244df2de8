package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/d2i/d2i/replay"
	"github.com/d2i/d2i/report"
)

type reportOptions struct {
	db         string
	logDir     string
	verifyDir  string
	out        string
	sampleSize int
	seed       int64
	rate       int
	capMB      int64
	log        logOptions
}

func runReport(ctx context.Context, args []string, stdout io.Writer) error {
	var o reportOptions
	fs := newFlagSet("report", "report --db FILE --out DIR [--log-dir DIR] [--verify-dir DIR] [flags]",
		`  d2i report --db staging.duckdb --out reports
  d2i report --db staging.duckdb --log-dir writelog --verify-dir verify --out reports

Writes one Markdown and one CSV file per report, and index.html linking them
with charts: reconciliation, reviewer's sample, validation, flow inventory,
channel assets, routing and SLA inventories, the replay plan and, with
--log-dir, the write-log audit. Without --log-dir the reconciliation stops at
"staged"; with it, the write log adds what reached Intercom and what a
rollback took back; --verify-dir adds what 'd2i verify' read back equal.`, stdout)
	fs.StringVar(&o.db, "db", "", "staging DuckDB file written by 'd2i transform'")
	fs.StringVar(&o.logDir, "log-dir", "", "write-log directory of 'd2i replay' (optional)")
	fs.StringVar(&o.verifyDir, "verify-dir", "", "--out directory of 'd2i verify' (optional)")
	fs.StringVar(&o.out, "out", "", "directory for the reports and index.html")
	fs.IntVar(&o.sampleSize, "sample-size", report.DefaultSampleSize,
		fmt.Sprintf("conversations in the reviewer's sample (%d-%d)", report.MinSampleSize, report.MaxSampleSize))
	fs.Int64Var(&o.seed, "seed", 1, "seed of the reviewer's sample: the same seed picks the same conversations")
	fs.IntVar(&o.rate, "rate", replay.DefaultRatePerMinute, "requests per minute the replay plan assumes")
	fs.Int64Var(&o.capMB, "attachment-cap-mb", 0,
		"attachments larger than this (MiB) are listed as channel assets (default: the mapping file's cap that transform applied)")
	o.log.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	logger, err := o.log.logger()
	if err != nil {
		return err
	}

	res, err := buildReport(ctx, o.config(logger))
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "%d reports written to %s; open %s\n", len(res.Docs), o.out,
		filepath.Join(o.out, report.IndexFile))
	if !res.AllOK {
		return fmt.Errorf("reconciliation: some source tables need a look (✗); see %s",
			filepath.Join(o.out, "reconciliation.md"))
	}
	return nil
}

func (o reportOptions) validate() error {
	if o.db == "" || o.out == "" {
		return usagef("--db and --out are required")
	}
	if o.rate <= 0 || o.capMB < 0 {
		return usagef("--rate must be positive and --attachment-cap-mb not negative")
	}
	if err := requireFile(o.db, "run 'd2i transform' first"); err != nil {
		return err
	}
	for _, d := range []struct{ path, what string }{{o.logDir, "the replay's --log-dir"},
		{o.verifyDir, "the --out of 'd2i verify'"}} {
		if d.path == "" {
			continue
		}
		if err := requireDir(d.path, d.what); err != nil {
			return err
		}
	}
	return nil
}

func (o reportOptions) config(logger *slog.Logger) report.Config {
	return report.Config{DBPath: o.db, OutDir: o.out, LogDir: o.logDir, VerifyDir: o.verifyDir,
		AttachmentCap: o.capMB << 20, Logger: logger,
		Sample: &report.SampleInput{Size: o.sampleSize, Seed: o.seed, LogDir: o.logDir, VerifyDir: o.verifyDir},
		Plan:   &report.PlanInput{RatePerMinute: o.rate}}
}

// buildReport fills in what the write logs and a replay plan say, then
// builds every report. cfg.Plan carries only the rate on the way in.
func buildReport(ctx context.Context, cfg report.Config) (*report.Result, error) {
	if cfg.LogDir != "" {
		staged, err := stagedAfterDeletions(ctx, cfg.DBPath)
		if err != nil {
			return nil, err
		}
		counts, err := replay.ReadLogsWhere(cfg.LogDir, staged)
		if err != nil {
			return nil, fmt.Errorf("read write logs in %s: %w", cfg.LogDir, err)
		}
		// Logs of dry runs only (or none) mean nothing reached Intercom yet:
		// the reconciliation then says "not replayed" instead of failing
		// every row as 0 of N written.
		if liveOps(counts) {
			cfg.Written, cfg.RolledBack = writtenBySource(counts)
		}
	}
	if cfg.Plan != nil {
		plan, err := planInput(ctx, cfg.DBPath, cfg.LogDir, cfg.Plan.RatePerMinute)
		if err != nil {
			return nil, err
		}
		cfg.Plan = plan
	}
	return report.Build(ctx, cfg)
}

// liveOps says whether the write logs record any op that was sent for real.
func liveOps(c *replay.LogCounts) bool {
	for _, m := range []map[string]int{c.Written, c.Existing, c.Failed, c.Undone} {
		for _, n := range m {
			if n > 0 {
				return true
			}
		}
	}
	return false
}

// writtenBySource turns the write log's counts into the reconciliation's:
// objects in Intercom now and objects a rollback took back, per source
// table. An object an earlier, interrupted run created and a later run found
// again is written all the same.
func writtenBySource(c *replay.LogCounts) (written, rolledBack map[string]int64) {
	reconciled := map[string]bool{replay.KindCompany: true, replay.KindContact: true,
		replay.KindConversation: true, replay.KindConversationPart: true,
		replay.KindCollection: true, replay.KindArticle: true, replay.KindContactNote: true}
	written, rolledBack = map[string]int64{}, map[string]int64{}
	for ks, n := range c.WrittenBySource {
		if reconciled[ks.Kind] {
			written[ks.SourceTable] += int64(n)
		}
	}
	for ks, n := range c.ExistingBySource {
		if reconciled[ks.Kind] {
			written[ks.SourceTable] += int64(n)
		}
	}
	for ks, n := range c.UndoneBySource {
		if reconciled[ks.Kind] {
			written[ks.SourceTable] -= int64(n)
			rolledBack[ks.SourceTable] += int64(n)
		}
	}
	for table, n := range written {
		written[table] = max(n, 0)
	}
	written["data_attributes"] = int64(c.Written[replay.KindDataAttribute] + c.Existing[replay.KindDataAttribute] -
		c.Undone[replay.KindDataAttribute])
	return written, rolledBack
}

// planInput runs replay's planner over the staging database: once for the
// whole migration, which the plan's table shows before and after replay
// alike, and, given write logs, once more for what a rerun would still send.
func planInput(ctx context.Context, db, logDir string, rate int) (*report.PlanInput, error) {
	p, err := runPlan(ctx, db, "", rate)
	if err != nil {
		return nil, err
	}
	in := &report.PlanInput{Staging: filepath.Base(db), RatePerMinute: p.RatePerMinute,
		OtherReads: int64(p.WorkspaceReads), Duration: p.Duration, Checklist: p.Checklist}
	for _, k := range p.Kinds {
		in.Kinds = append(in.Kinds, report.PlanKind{Kind: k.Kind, Records: int64(k.Objects),
			Writes: int64(k.Writes), Reads: int64(k.Reads), Duration: k.Duration})
	}
	if logDir != "" {
		rest, err := runPlan(ctx, db, logDir, rate)
		if err != nil {
			return nil, err
		}
		in.Remaining = &report.PlanRemaining{LogDir: filepath.Base(logDir),
			Requests: int64(rest.Requests), Duration: rest.Duration}
	}
	return in, nil
}

// runPlan is one replay.Plan. A plan that stops (an unmatched admin) is
// still a plan worth reading; the stop itself is replay's to report, so it
// is logged here, not returned.
func runPlan(ctx context.Context, db, logDir string, rate int) (*replay.PlanSummary, error) {
	// The plan assumes replay's default tag (the --tag flag's default), so
	// that it counts the tag requests a default replay sends.
	p, err := replay.Plan(ctx, replay.PlanConfig{DBPath: db, RatePerMinute: rate, LogDir: logDir,
		Tag: replay.DefaultTag})
	if p == nil {
		return nil, fmt.Errorf("replay plan: %w", err)
	}
	if err != nil {
		slog.Default().Warn("replay plan stops early", "err", err)
	}
	return p, nil
}

// stagedAfterDeletions says which source rows the staging holds, when it was
// built from a delta that deleted rows (stage.deletions not empty): the
// objects replay wrote for the deleted rows, and their parts and notes, are
// then left out of the written counts, whatever the delete policy did with
// them. Otherwise it returns nil: every written row is staged.
func stagedAfterDeletions(ctx context.Context, dbPath string) (func(table, id string) bool, error) {
	db, err := sql.Open("duckdb", dbPath+"?access_mode=read_only")
	if err != nil {
		return nil, fmt.Errorf("open staging %s: %w", dbPath, err)
	}
	defer db.Close()
	var deletions int
	err = db.QueryRowContext(ctx, `select count(*) from information_schema.tables
		where table_schema = 'stage' and table_name = 'deletions'`).Scan(&deletions)
	if err == nil && deletions > 0 {
		err = db.QueryRowContext(ctx, "select count(*) from stage.deletions").Scan(&deletions)
	}
	if err != nil || deletions == 0 {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, stagedRowsQuery(ctx, db))
	if err != nil {
		return nil, fmt.Errorf("read staged rows of %s: %w", dbPath, err)
	}
	defer rows.Close()
	staged := map[[2]string]bool{}
	for rows.Next() {
		var table, id string
		if err := rows.Scan(&table, &id); err != nil {
			return nil, err
		}
		staged[[2]string{table, id}] = true
	}
	return func(table, id string) bool { return staged[[2]string{table, id}] }, rows.Err()
}

// stagedRowsQuery lists the (source_table, source_id) of every stage table
// that replay writes from and the staging has.
func stagedRowsQuery(ctx context.Context, db *sql.DB) string {
	var parts []string
	for _, t := range []string{"companies", "contacts", "conversations", "conversation_parts", "contact_notes",
		"collections", "articles"} {
		var n int
		if db.QueryRowContext(ctx, `select count(*) from information_schema.tables
			where table_schema = 'stage' and table_name = ?`, t).Scan(&n) == nil && n > 0 {
			parts = append(parts, "select source_table, source_id from stage."+t)
		}
	}
	return strings.Join(parts, " union all ")
}
