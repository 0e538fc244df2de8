package report

import (
	"context"
	"database/sql"
	"flag"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// stagingFixture writes the reports tables transform would leave, with one
// row (queue) that does not conserve.
func stagingFixture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "staging.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stmts := []string{
		`create schema reports`,
		`create table reports.reconciliation as select * from (values
			('admins', 'systemuser', 3, 3, 1, 0, 1, 1, true, 'complete', 1),
			('teams', 'queue', 3, 3, 1, 0, 0, 1, false, 'complete', 2),
			('companies', 'account', 4, 4, 3, 0, 1, 0, true, 'complete', 3),
			('contacts', 'contact', 7, 7, 5, 2, 0, 0, true, 'complete', 4),
			('conversations', 'incident', 6, 6, 5, 0, 1, 0, true, 'complete', 5),
			('conversation_parts', 'email', 8, 8, 4, 0, 2, 2, true, 'complete', 6),
			('email_participants', 'activityparty', -1, 6, 0, 0, 0, 6, true, 'complete', 7))
			t(object, source_table, source_count, snapshot_rows, staged, merged, rejected, out_of_scope,
			  conserved, snapshot_status, ord)`,
		`create table reports.rejects_by_reason as select * from (values
			('admins', 'no_email', 'system user has no internalemailaddress', 1),
			('companies', 'missing_name', 'account has no name', 1),
			('conversation_parts', 'no_admin', 'outgoing email | no agent', 1),
			('conversation_parts', 'parent_rejected', 'the case was rejected', 1),
			('conversations', 'no_contact', 'case customer has no contact', 1))
			t(object, rule, reason, rows)`,
		`create table reports.out_of_scope as select * from (values
			('systemuser', 'u3', 'application user'), ('queue', 'q2', 'private queue'),
			('email', 'e6', 'email not regarding a case'), ('email', 'e7', 'email not regarding a case'))
			t(source_table, source_id, reason)`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	return path
}

func TestBuildGolden(t *testing.T) {
	dbPath := stagingFixture(t)
	tests := []struct {
		name    string
		written map[string]int64
		allOK   bool
	}{
		{"not_replayed", nil, false},
		{"replayed", map[string]int64{"companies": 3, "contacts": 5, "conversations": 5,
			"conversation_parts": 3, "data_attributes": 6}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			res, err := Build(context.Background(), Config{DBPath: dbPath, OutDir: out, Written: tt.written})
			if err != nil {
				t.Fatal(err)
			}
			if res.AllOK != tt.allOK {
				t.Errorf("AllOK = %v, want %v", res.AllOK, tt.allOK)
			}
			for _, f := range []string{"reconciliation.md", "reconciliation.csv"} {
				compareGolden(t, filepath.Join(out, f), filepath.Join("testdata", tt.name+"_"+f))
			}
		})
	}
}

func compareGolden(t *testing.T, gotPath, goldenPath string) {
	t.Helper()
	got, err := os.ReadFile(gotPath)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from %s:\n%s", gotPath, goldenPath, got)
	}
}

func TestRowOK(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	tests := []struct {
		name string
		row  Row
		want bool
	}{
		{"conserved, not replayed", Row{Staged: 2, Conserved: true}, true},
		{"conserved, all written", Row{Staged: 2, Conserved: true, Written: n(2)}, true},
		{"conserved, one missing", Row{Staged: 2, Conserved: true, Written: n(1)}, false},
		{"not conserved", Row{Staged: 2, Conserved: false}, false},
	}
	for _, tt := range tests {
		if got := tt.row.OK(); got != tt.want {
			t.Errorf("%s: OK() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestBuildMissingDatabase(t *testing.T) {
	_, err := Build(context.Background(), Config{DBPath: filepath.Join(t.TempDir(), "nope.duckdb"), OutDir: t.TempDir()})
	if err == nil {
		t.Fatal("want an error for a missing staging database")
	}
}

// The report opens staging read-only: the file is unchanged afterwards.
func TestBuildLeavesDatabaseUntouched(t *testing.T) {
	dbPath := stagingFixture(t)
	before, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Build(context.Background(), Config{DBPath: dbPath, OutDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(dbPath)
	if string(before) != string(after) {
		t.Error("staging database changed while building the report")
	}
	if _, err := os.Stat(dbPath + ".wal"); err == nil {
		t.Error("a write-ahead log appeared next to the staging database")
	}
}
