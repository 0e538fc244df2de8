package report

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/d2i/d2i/report/internal/cell"
	"github.com/duckdb/duckdb-go/v2"
)

// Doc is one report as files: OutDir/<Name>.md and OutDir/<Name>.csv. Every
// report of the run folder is a Doc, so the HTML index can list them all the
// same way.
type Doc struct {
	Name     string // file stem, e.g. "flow_inventory"
	Title    string // heading for people, e.g. "Flow inventory"
	Summary  string // one line for the index: what the reader learns here
	Markdown string
	CSV      [][]string // header first; rows sorted so that reruns diff cleanly
}

// Write puts the Doc's two files in dir and returns their paths.
func (d Doc) Write(dir string) (mdPath, csvPath string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("create report directory %s: %w", dir, err)
	}

	mdPath = filepath.Join(dir, d.Name+".md")
	if err := os.WriteFile(mdPath, []byte(d.Markdown), 0o600); err != nil {
		return "", "", fmt.Errorf("write %s: %w", mdPath, err)
	}

	// The CSV is meant for spreadsheets, so names that start like a
	// formula are guarded on the way out (cell.CSV).
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(cell.CSVRecords(d.CSV)); err != nil {
		return "", "", fmt.Errorf("report %s: csv: %w", d.Name, err)
	}
	csvPath = filepath.Join(dir, d.Name+".csv")
	if err := os.WriteFile(csvPath, buf.Bytes(), 0o600); err != nil {
		return "", "", fmt.Errorf("write %s: %w", csvPath, err)
	}
	return mdPath, csvPath, nil
}

// openReadOnly opens a DuckDB file without taking its write lock, so a
// report can run while another read-only reader holds the file.
func openReadOnly(ctx context.Context, path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("staging database: %w", err)
	}
	connector, err := duckdb.NewConnector(path+"?access_mode=read_only", nil)
	if err != nil {
		return nil, fmt.Errorf("open staging database %s read-only: %w", path, err)
	}
	db := sql.OpenDB(connector)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open staging database %s: %w", path, err)
	}
	return db, nil
}

// tableExists says whether schema.name is a table or view in db; reports
// over optional source tables (an org without SLAs, a run never replayed)
// print "none found" instead of failing.
func tableExists(ctx context.Context, db *sql.DB, schema, name string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `select count(*) from information_schema.tables
		where table_schema = ? and table_name = ?`, schema, name).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up %s.%s: %w", schema, name, err)
	}
	return n > 0, nil
}

// RatePoint is one minute of a replay run's traffic, for the index's chart
// of request rate over time.
type RatePoint struct {
	Run       string
	Minute    time.Time // UTC, truncated to the minute
	Requests  int64     // HTTP requests sent, retries included
	Throttled int64     // of which answered 429
}
