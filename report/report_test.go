package report

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// reportsFixture is the reports tables transform would leave, with one row
// (queue) that does not conserve.
var reportsFixture = []string{
	`create schema if not exists reports`,
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
		('admins', 'systemuser', 'no_email', 'system user has no internalemailaddress', 1),
		('companies', 'account', 'missing_name', 'account has no name', 1),
		('conversation_parts', 'email', 'no_admin', 'outgoing email | no agent', 1),
		('conversation_parts', 'email', 'parent_rejected', 'the case was rejected', 1),
		('conversations', 'incident', 'no_contact', 'case customer has no contact', 1))
		t(object, source_table, rule, reason, rows)`,
	`create table reports.out_of_scope as select * from (values
		('systemuser', 'u3', 'application user'), ('queue', 'q2', 'private queue'),
		('email', 'e6', 'email not regarding a case'), ('email', 'e7', 'email not regarding a case'))
		t(source_table, source_id, reason)`,
}

// stagingFixture writes a staging database holding only reportsFixture.
func stagingFixture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "staging.duckdb")
	withReportsTables(t, path)
	return path
}

// withReportsTables adds reportsFixture to the database at path.
func withReportsTables(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range reportsFixture {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
}

// verifyFixture writes a verify.txt with the given lines into a new
// directory, as 'd2i verify --out' leaves it.
func verifyFixture(t *testing.T, lines ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "verify")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "verify.txt"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// repeatLine is n verify lines of one symbol and kind, numbered ids.
func repeatLine(n int, sym, kind, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s %s %s%d ic-%s%d", sym, kind, prefix, i+1, prefix, i+1)
	}
	return out
}

func TestBuildGolden(t *testing.T) {
	dbPath := stagingFixture(t)
	writtenAll := map[string]int64{"account": 3, "contact": 5, "incident": 5,
		"email": 3, "data_attributes": 6}
	// A full verify after one conversation (with its part) was rolled back:
	// one company differs, the rolled-back ones read as missing.
	fullVerify := verifyFixture(t, slices.Concat(
		repeatLine(2, "=", "company", "a"), []string{"* company a3 ic-a3 name,website"},
		repeatLine(5, "=", "contact", "c"),
		repeatLine(4, "=", "conversation", "i"), []string{"- conversation i5 -"},
		repeatLine(3, "=", "conversation_part", "e"), []string{"- conversation_part e4 -"})...)
	// verify --sample 2: two conversations and what they depend on, one unreadable.
	sampleVerify := verifyFixture(t, slices.Concat(
		repeatLine(1, "=", "company", "a"), repeatLine(2, "=", "contact", "c"),
		[]string{"= conversation i1 ic-i1", "! conversation i2 ic-i2 http_500"},
		repeatLine(2, "=", "conversation_part", "e"))...)
	tests := []struct {
		name       string
		written    map[string]int64
		rolledBack map[string]int64
		verifyDir  string
		wantBad    []string // objects marked ✗
	}{
		{"not_replayed", nil, nil, "", []string{"teams"}},
		{"replayed", writtenAll, nil, "", []string{"teams", "conversation_parts"}},
		{"verified_after_rollback",
			map[string]int64{"account": 3, "contact": 5, "incident": 4, "email": 3,
				"data_attributes": 6},
			map[string]int64{"incident": 1, "email": 1, "data_attributes": 0},
			fullVerify, []string{"teams", "companies"}},
		{"verified_sample",
			map[string]int64{"account": 3, "contact": 5, "incident": 5, "email": 4,
				"data_attributes": 6},
			map[string]int64{}, sampleVerify, []string{"teams", "conversations"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			res, err := Build(context.Background(), Config{DBPath: dbPath, OutDir: out, Written: tt.written,
				RolledBack: tt.rolledBack, VerifyDir: tt.verifyDir})
			if err != nil {
				t.Fatal(err)
			}
			var bad []string
			for _, r := range res.Rows {
				if !r.OK() {
					bad = append(bad, r.Object)
				}
			}
			if !slices.Equal(bad, tt.wantBad) {
				t.Errorf("objects marked ✗ = %v, want %v", bad, tt.wantBad)
			}
			if res.AllOK {
				t.Error("AllOK = true, want false (the queue row does not conserve)")
			}
			if len(res.Docs) == 0 || res.Docs[0].Name != "reconciliation" {
				t.Fatalf("Docs = %+v, want the reconciliation first", res.Docs)
			}
			for _, f := range []string{"reconciliation.md", "reconciliation.csv"} {
				compareGolden(t, filepath.Join(out, f), filepath.Join("testdata", tt.name+"_"+f))
			}
		})
	}
}

// The counts verify.txt yields land on the right rows, and the sampled
// ones say how many of the staged were checked.
func TestBuildVerifyCounts(t *testing.T) {
	dir := verifyFixture(t, "= company a1 ic1", "* contact c1 ic2 name,phone", "- contact c2 -",
		"! conversation i1 ic3 http_500", "= conversation_part e1 ic4", "= conversation_part e2 ic5")
	res, err := Build(context.Background(), Config{DBPath: stagingFixture(t), OutDir: t.TempDir(),
		VerifyDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*VerifyCounts{
		"admins": nil, "teams": nil, "email_participants": nil,
		"companies":          {Equal: 1},
		"contacts":           {Differ: 1, Missing: 1},
		"conversations":      {Errors: 1},
		"conversation_parts": {Equal: 2},
	}
	for _, r := range res.Rows {
		w := want[r.Object]
		switch {
		case w == nil && r.Verify != nil:
			t.Errorf("%s: Verify = %+v, want none (verify does not cover it)", r.Object, *r.Verify)
		case w != nil && (r.Verify == nil || *r.Verify != *w):
			t.Errorf("%s: Verify = %v, want %+v", r.Object, r.Verify, *w)
		case w != nil && !r.VerifySampled():
			t.Errorf("%s: %d of %d checked, want it read as a sample", r.Object, w.Checked(), r.Staged)
		}
	}
}

func TestBuildVerifyDirErrors(t *testing.T) {
	dbPath := stagingFixture(t)
	tests := []struct {
		name string
		dir  string
		want string
	}{
		{"no verify.txt", t.TempDir(), "d2i verify"},
		{"not a verify line", verifyFixture(t, "= company a1 ic1", "company a2 ic2"), "line 2"},
	}
	for _, tt := range tests {
		_, err := Build(context.Background(), Config{DBPath: dbPath, OutDir: t.TempDir(), VerifyDir: tt.dir})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", tt.name, err, tt.want)
		}
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
	vc := func(eq, differ, missing, errs int64) *VerifyCounts {
		return &VerifyCounts{Equal: eq, Differ: differ, Missing: missing, Errors: errs}
	}
	tests := []struct {
		name string
		row  Row
		want bool
	}{
		{"conserved, not replayed", Row{Staged: 2, Conserved: true}, true},
		{"conserved, all written", Row{Staged: 2, Conserved: true, Written: n(2)}, true},
		{"conserved, one missing", Row{Staged: 2, Conserved: true, Written: n(1)}, false},
		{"not conserved", Row{Staged: 2, Conserved: false}, false},
		{"one written, one rolled back", Row{Staged: 2, Conserved: true, Written: n(1), RolledBack: n(1)}, true},
		{"one written, none rolled back", Row{Staged: 2, Conserved: true, Written: n(1), RolledBack: n(0)}, false},
		{"full verify, all equal", Row{Staged: 2, Conserved: true, Written: n(2), Verify: vc(2, 0, 0, 0)}, true},
		{"full verify, one written but missing",
			Row{Staged: 2, Conserved: true, Written: n(2), Verify: vc(1, 0, 1, 0)}, false},
		{"full verify, rolled back one missing",
			Row{Staged: 2, Conserved: true, Written: n(1), RolledBack: n(1), Verify: vc(1, 0, 1, 0)}, true},
		{"full verify, one differs", Row{Staged: 2, Conserved: true, Written: n(2), Verify: vc(1, 1, 0, 0)}, false},
		{"sample, checked equal", Row{Staged: 10, Conserved: true, Written: n(10), Verify: vc(3, 0, 0, 0)}, true},
		{"sample, one unreadable", Row{Staged: 10, Conserved: true, Written: n(10), Verify: vc(2, 0, 0, 1)}, false},
		{"sample, written one missing", Row{Staged: 10, Conserved: true, Written: n(10), Verify: vc(2, 0, 1, 0)}, false},
		{"sample, rolled back one missing",
			Row{Staged: 10, Conserved: true, Written: n(9), RolledBack: n(1), Verify: vc(2, 0, 1, 0)}, true},
		{"verified without write log, missing", Row{Staged: 2, Conserved: true, Verify: vc(1, 0, 1, 0)}, false},
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

// Notes on contacts (from phone calls and notes) are verified under their
// own kind but reconciled with the parts of their source table: a full
// verify of both reads as full, not as a sample.
func TestBuildVerifyCountsContactNotes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "staging.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`create schema reports`, `create schema stage`,
		`create table reports.reconciliation as select * from (values
			('conversation_parts', 'email', 1, 1, 1, 0, 0, 0, true, 'complete', 1),
			('conversation_parts', 'phonecall', 3, 3, 3, 0, 0, 0, true, 'complete', 2))
			t(object, source_table, source_count, snapshot_rows, staged, merged, rejected, out_of_scope,
			  conserved, snapshot_status, ord)`,
		`create table reports.rejects_by_reason (object varchar, source_table varchar, rule varchar,
			reason varchar, rows bigint)`,
		`create table reports.out_of_scope (source_table varchar, source_id varchar, reason varchar)`,
		`create table stage.conversation_parts as select * from (values ('email', 'e1'), ('phonecall', 'pc1'))
			t(source_table, source_id)`,
		`create table stage.contact_notes as select * from (values ('phonecall', 'pc2'), ('phonecall', 'pc3'))
			t(source_table, source_id)`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	db.Close()
	dir := verifyFixture(t, "= conversation_part e1 ic1", "= conversation_part pc1 ic2", "= contact_note pc2 n1",
		"= contact_note pc3 n2")
	res, err := Build(context.Background(), Config{DBPath: path, OutDir: t.TempDir(), VerifyDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rows {
		if r.SourceTable == "phonecall" && (r.Verify == nil || r.Verify.Equal != 3 || r.VerifySampled()) {
			t.Errorf("phonecall row: Verify = %v, sampled %v; want 3 equal, a full verify", r.Verify, r.VerifySampled())
		}
	}
}
