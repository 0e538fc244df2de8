// Package report renders the staging database's reconciliation (and, once
// replay has run, what was written) as files a person reads without d2i:
// reconciliation.md and reconciliation.csv, one line per source table with a
// ✓ or ✗ in the manner of rclone check.
package report

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/duckdb/duckdb-go/v2"
)

// Config names the staging database to read and where to write the report.
type Config struct {
	DBPath string
	OutDir string
	// Written holds rows written to Intercom per stage table name (contacts,
	// conversations, ...), from replay's write log; nil means not replayed yet.
	Written map[string]int64
	Logger  *slog.Logger
}

// Row is one line of the reconciliation: a source table and the stage object
// it feeds.
type Row struct {
	Object       string
	SourceTable  string
	SourceCount  int64 // -1 when the source could not count
	SnapshotRows int64
	Staged       int64
	Merged       int64
	Rejected     int64
	OutOfScope   int64
	Conserved    bool   // snapshot = staged + merged + rejected + out of scope
	Written      *int64 // nil when not replayed or the object is not written by replay
	RejectedBy   []Reason
}

// Reason counts one reject rule (or out-of-scope reason) of an object.
type Reason struct {
	Rule   string
	Reason string
	Rows   int64
}

// OK says whether the row is whole: conserved, and written = staged once replayed.
func (r Row) OK() bool {
	return r.Conserved && (r.Written == nil || *r.Written == r.Staged)
}

// Result lists the files written and whether every row is whole.
type Result struct {
	Markdown   string
	CSV        string
	Rows       []Row
	OutOfScope []OutOfScope
	AllOK      bool
}

// OutOfScope counts the rows of a source table deliberately not migrated.
type OutOfScope struct {
	SourceTable string
	Reason      string
	Rows        int64
}

// writtenObjects are the stage tables replay creates objects from; admins and
// teams are matched to existing ones, so "written" does not apply to them.
var writtenObjects = map[string]bool{"companies": true, "contacts": true, "conversations": true,
	"conversation_parts": true, "data_attributes": true}

// Build reads reports.* from the staging database (opened read-only) and
// writes OutDir/reconciliation.md and OutDir/reconciliation.csv.
func Build(ctx context.Context, cfg Config) (*Result, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	res, err := load(ctx, cfg)
	if err != nil {
		return nil, err
	}

	if err := os.MkdirAll(cfg.OutDir, 0o700); err != nil {
		return nil, fmt.Errorf("create report directory %s: %w", cfg.OutDir, err)
	}
	res.Markdown = filepath.Join(cfg.OutDir, "reconciliation.md")
	res.CSV = filepath.Join(cfg.OutDir, "reconciliation.csv")
	if err := os.WriteFile(res.Markdown, []byte(renderMarkdown(res, cfg)), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", res.Markdown, err)
	}
	csvText, err := renderCSV(res.Rows)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(res.CSV, csvText, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", res.CSV, err)
	}
	log.Info("reconciliation report written", "rows", len(res.Rows), "all_ok", res.AllOK)
	return res, nil
}

// load opens the database read-only and collects every row the renderers need.
func load(ctx context.Context, cfg Config) (*Result, error) {
	if _, err := os.Stat(cfg.DBPath); err != nil {
		return nil, fmt.Errorf("staging database: %w", err)
	}
	connector, err := duckdb.NewConnector(cfg.DBPath+"?access_mode=read_only", nil)
	if err != nil {
		return nil, fmt.Errorf("open staging database %s read-only: %w", cfg.DBPath, err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()

	rows, err := readRows(ctx, db)
	if err != nil {
		return nil, err
	}
	if err := attachReasons(ctx, db, rows); err != nil {
		return nil, err
	}
	oos, err := readOutOfScope(ctx, db)
	if err != nil {
		return nil, err
	}

	res := &Result{Rows: rows, OutOfScope: oos, AllOK: true}
	for i := range res.Rows {
		r := &res.Rows[i]
		if cfg.Written != nil && writtenObjects[r.Object] {
			w := cfg.Written[r.Object]
			r.Written = &w
		}
		res.AllOK = res.AllOK && r.OK()
	}
	return res, nil
}

func readRows(ctx context.Context, db *sql.DB) ([]Row, error) {
	q, err := db.QueryContext(ctx, `select object, source_table, source_count, snapshot_rows, staged,
		merged, rejected, out_of_scope, conserved from reports.reconciliation order by ord`)
	if err != nil {
		return nil, fmt.Errorf("read reports.reconciliation: %w", err)
	}
	defer q.Close()
	var out []Row
	for q.Next() {
		var r Row
		if err := q.Scan(&r.Object, &r.SourceTable, &r.SourceCount, &r.SnapshotRows, &r.Staged,
			&r.Merged, &r.Rejected, &r.OutOfScope, &r.Conserved); err != nil {
			return nil, fmt.Errorf("scan reports.reconciliation: %w", err)
		}
		out = append(out, r)
	}
	return out, q.Err()
}

func attachReasons(ctx context.Context, db *sql.DB, rows []Row) error {
	q, err := db.QueryContext(ctx, `select object, rule, reason, rows from reports.rejects_by_reason
		order by object, rule, reason`)
	if err != nil {
		return fmt.Errorf("read reports.rejects_by_reason: %w", err)
	}
	defer q.Close()
	byObject := map[string][]Reason{}
	for q.Next() {
		var obj string
		var r Reason
		if err := q.Scan(&obj, &r.Rule, &r.Reason, &r.Rows); err != nil {
			return fmt.Errorf("scan reports.rejects_by_reason: %w", err)
		}
		byObject[obj] = append(byObject[obj], r)
	}
	if err := q.Err(); err != nil {
		return err
	}
	for i := range rows {
		rows[i].RejectedBy = byObject[rows[i].Object]
	}
	return nil
}

func readOutOfScope(ctx context.Context, db *sql.DB) ([]OutOfScope, error) {
	q, err := db.QueryContext(ctx, `select source_table, reason, count(*) from reports.out_of_scope
		group by source_table, reason order by source_table, reason`)
	if err != nil {
		return nil, fmt.Errorf("read reports.out_of_scope: %w", err)
	}
	defer q.Close()
	var out []OutOfScope
	for q.Next() {
		var o OutOfScope
		if err := q.Scan(&o.SourceTable, &o.Reason, &o.Rows); err != nil {
			return nil, fmt.Errorf("scan reports.out_of_scope: %w", err)
		}
		out = append(out, o)
	}
	return out, q.Err()
}
