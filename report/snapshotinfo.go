package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// snapshotFile finds the snapshot directory in a src view's SQL: transform
// defines every view over '<snapshot>/tables/<table>/part-*.parquet'.
var snapshotFile = regexp.MustCompile(`'([^']*)/tables/[^/']+/[^/']*\.parquet'`)

// snapshotOf names the snapshot the staging database was built from and
// when it finished, for the index: the directory from the src views, the
// time from its manifest. Either is left empty (shown as "unknown") when
// the views or the manifest are not there; the index is no less useful.
func snapshotOf(ctx context.Context, db *sql.DB) (name string, finished time.Time) {
	var text string
	err := db.QueryRowContext(ctx, `select sql from duckdb_views()
		where schema_name = 'src' and sql like '%/tables/%' order by view_name limit 1`).Scan(&text)
	if err != nil {
		return "", time.Time{}
	}
	m := snapshotFile.FindStringSubmatch(text)
	if m == nil {
		return "", time.Time{}
	}
	dir := filepath.FromSlash(m[1])
	return filepath.Base(dir), manifestFinished(dir)
}

// manifestFinished reads finished_at from dir/manifest.json (contracts §1).
func manifestFinished(dir string) time.Time {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return time.Time{}
	}
	var m struct {
		FinishedAt time.Time `json:"finished_at"`
	}
	if json.Unmarshal(b, &m) != nil {
		return time.Time{}
	}
	return m.FinishedAt
}
