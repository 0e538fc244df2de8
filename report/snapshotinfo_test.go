package report

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The index names the snapshot behind the staging database: the directory
// its src views read and the finish time in its manifest.
func TestSnapshotOf(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "snap-2026")
	table := filepath.Join(snap, "tables", "account")
	if err := os.MkdirAll(table, 0o700); err != nil {
		t.Fatal(err)
	}
	manifest := `{"finished_at": "2026-12-04T18:06:18Z", "complete": true}`
	if err := os.WriteFile(filepath.Join(snap, "manifest.json"), []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	part := filepath.ToSlash(filepath.Join(table, "part-00000.parquet"))
	db := invFixture(t, `copy (select 1 as accountid) to '`+part+`' (format parquet)`,
		`create schema src`,
		`create view src.account as select * from read_parquet(list_value('`+part+`'), union_by_name = true)`)

	name, at := snapshotOf(context.Background(), db)
	if name != "snap-2026" || !at.Equal(time.Date(2026, 12, 4, 18, 6, 18, 0, time.UTC)) {
		t.Errorf("snapshotOf = %q, %v; want snap-2026, 2026-12-04 18:06:18 UTC", name, at)
	}

	if err := os.Remove(filepath.Join(snap, "manifest.json")); err != nil {
		t.Fatal(err)
	}
	if name, at := snapshotOf(context.Background(), db); name != "snap-2026" || !at.IsZero() {
		t.Errorf("without a manifest: %q, %v; want the name and no time", name, at)
	}
	if name, _ := snapshotOf(context.Background(), emptyDB(t)); name != "" {
		t.Errorf("without src views: %q, want unknown", name)
	}
}

func emptyDB(t *testing.T) *sql.DB { return invFixture(t) }
