package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/d2i/d2i/replay"
	"github.com/d2i/d2i/report"
)

type reportOptions struct {
	db     string
	logDir string
	out    string
	log    logOptions
}

func runReport(ctx context.Context, args []string, stdout io.Writer) error {
	var o reportOptions
	fs := newFlagSet("report", "report --db FILE --out DIR [--log-dir DIR] [flags]",
		`  d2i report --db staging.duckdb --log-dir writelog --out reports

Without --log-dir the report stops at "staged"; with it, the write log adds
what reached Intercom.`, stdout)
	fs.StringVar(&o.db, "db", "", "staging DuckDB file written by 'd2i transform'")
	fs.StringVar(&o.logDir, "log-dir", "", "write-log directory of 'd2i replay' (optional)")
	fs.StringVar(&o.out, "out", "", "directory for reconciliation.md and reconciliation.csv")
	o.log.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.db == "" || o.out == "" {
		return usagef("--db and --out are required")
	}
	if err := requireFile(o.db, "run 'd2i transform' first"); err != nil {
		return err
	}
	if o.logDir != "" {
		if err := requireDir(o.logDir, "the replay's --log-dir"); err != nil {
			return err
		}
	}
	logger, err := o.log.logger()
	if err != nil {
		return err
	}

	res, err := buildReport(ctx, o.db, o.logDir, o.out, logger)
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "reports written to %s (reconciliation.md, reconciliation.csv)\n", o.out)
	if !res.AllOK {
		return fmt.Errorf("reconciliation: some objects do not conserve their rows; see %s/reconciliation.md", o.out)
	}
	return nil
}

func buildReport(ctx context.Context, db, logDir, out string, logger *slog.Logger) (*report.Result, error) {
	written, err := writtenFromLogs(logDir)
	if err != nil {
		return nil, err
	}
	return report.Build(ctx, report.Config{DBPath: db, OutDir: out, Written: written, Logger: logger})
}

// writtenFromLogs turns the write log's per-kind counts into the report's
// per-stage-table counts; an absent log directory means nothing was replayed.
func writtenFromLogs(logDir string) (map[string]int64, error) {
	if logDir == "" {
		return nil, nil
	}
	counts, err := replay.ReadLogs(logDir)
	if err != nil {
		return nil, fmt.Errorf("read write logs in %s: %w", logDir, err)
	}

	tableOf := map[string]string{
		"data_attribute":    "data_attributes",
		"company":           "companies",
		"contact":           "contacts",
		"conversation":      "conversations",
		"conversation_part": "conversation_parts",
	}
	written := map[string]int64{}
	// An object an earlier, interrupted run created and a later run found
	// again is written all the same; one a rollback undid is not.
	add := func(byKind map[string]int, sign int64) {
		for kind, n := range byKind {
			if table, ok := tableOf[kind]; ok {
				written[table] += sign * int64(n)
			}
		}
	}
	add(counts.Written, 1)
	add(counts.Existing, 1)
	add(counts.Undone, -1)
	for table, n := range written {
		written[table] = max(n, 0)
	}
	return written, nil
}
