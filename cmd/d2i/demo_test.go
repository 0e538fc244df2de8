package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/d2i/d2i/replay"
	"github.com/d2i/d2i/report"
)

// TestDemoEndToEnd runs the whole migration on a small generated org and
// holds it to the walking product's promises: every source row is written or
// rejected with a reason, no customer is notified, the snapshot opens in
// plain DuckDB, and a rollback leaves Intercom holding nothing the run made.
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end demo")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	res, err := demo(context.Background(), demoOptions{
		out: dir, seed: 7, cases: 150, workers: 4, rollback: true,
	}, logger, io.Discard)
	if err != nil {
		t.Fatalf("demo: %v", err)
	}

	if res.notifications != 0 {
		t.Errorf("notifications = %d, want 0", res.notifications)
	}
	assertEveryRowAccounted(t, res)
	assertReportsHoldNoSecretOrBody(t, res)
	assertSnapshotOpensInDuckDB(t, res.snapshot, "incident")
	for kind, n := range res.intercomAfterRollback {
		if n != 0 {
			t.Errorf("after rollback Intercom still holds %d %s", n, kind)
		}
	}
	if res.intercomAfterReplay["conversation"] == 0 || res.intercomAfterReplay["contact"] == 0 {
		t.Errorf("replay wrote nothing: %v", res.intercomAfterReplay)
	}
	counts, err := replay.ReadLogs(res.logDir)
	if err != nil {
		t.Fatal(err)
	}
	written, _ := writtenBySource(counts)
	for table, n := range written {
		if n != 0 {
			t.Errorf("after rollback the report would still count %d %s as written", n, table)
		}
	}

	var out bytes.Buffer
	res.print(&out)
	for _, want := range []string{res.snapshot, res.staging, res.logDir, "index.html", "notifications"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}

func assertEveryRowAccounted(t *testing.T, res *demoResult) {
	t.Helper()
	if len(res.reconciliation) == 0 {
		t.Fatal("no reconciliation rows")
	}
	notes := map[string]int64{}
	for _, row := range res.reconciliation {
		if row.Object == "conversation_parts" && row.SourceTable != "email" {
			notes[row.SourceTable] = row.Staged
		}
		if !row.OK() {
			t.Errorf("%s (%s) does not balance: %+v", row.Object, row.SourceTable, row)
		}
		if row.Written != nil && *row.Written != row.Staged {
			t.Errorf("%s: staged %d but written %d", row.Object, row.Staged, *row.Written)
		}
	}
	for _, table := range []string{"phonecall", "task", "appointment"} {
		if notes[table] == 0 {
			t.Errorf("no %s staged as a conversation note: %v", table, notes)
		}
	}
	for _, name := range []string{"index.html", "reconciliation.md", "reconciliation.csv", "reviewer_sample.md",
		"validation.md", "flow_inventory.md", "channel_assets.md", "routing_inventory.md", "sla_inventory.md",
		"plan.md", "writelog_audit.md"} {
		if _, err := os.Stat(filepath.Join(res.reports, name)); err != nil {
			t.Errorf("report %s: %v", name, err)
		}
	}
}

func assertSnapshotOpensInDuckDB(t *testing.T, snap, table string) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var n int64
	query := "select count(*) from '" + filepath.Join(snap, "tables", table) + "/*.parquet'"
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if n == 0 {
		t.Errorf("%s counted no rows", query)
	}
}

func TestDemoRefusesForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	err := prepareDemoDir(dir)

	var usage usageError
	if err == nil || !errorsAs(err, &usage) {
		t.Fatalf("prepareDemoDir on a foreign dir = %v, want a usage error", err)
	}
	if _, statErr := os.Stat(filepath.Join(dir, "precious.txt")); statErr != nil {
		t.Errorf("foreign file removed: %v", statErr)
	}
}

// assertReportsHoldNoSecretOrBody reads every file of the report folder: no
// credential, no message body (of a part or a case description), and no
// e-mail address in the reports that do not need one to be useful.
func assertReportsHoldNoSecretOrBody(t *testing.T, res *demoResult) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(res.reports, "*"))
	if err != nil || len(files) < 10 {
		t.Fatalf("report folder holds %d files (%v)", len(files), err)
	}
	secrets := []string{res.emulators.token, res.emulators.creds.ClientSecret}
	bodies := stagedBodyExcerpts(t, res.staging)
	email := regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	needsEmail := map[string]bool{"routing_inventory": true, "reviewer_sample": true, "validation": true}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text, name := string(b), strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("%s holds a credential", f)
			}
		}
		for _, body := range bodies {
			if strings.Contains(text, body) {
				t.Errorf("%s holds a message body: %q", f, body)
			}
		}
		if m := email.FindString(text); m != "" && !needsEmail[name] {
			t.Errorf("%s holds an e-mail address (%s) it does not need", f, m)
		}
	}
}

// stagedBodyExcerpts returns a 30-character stretch of plain text from each
// of the longest staged bodies: enough to recognise one anywhere.
func stagedBodyExcerpts(t *testing.T, staging string) []string {
	t.Helper()
	db, err := sql.Open("duckdb", staging+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`select b from (
			select regexp_replace(body, '<[^>]*>', ' ', 'g') as b from stage.conversation_parts
			union all select regexp_replace(body, '<[^>]*>', ' ', 'g') from stage.conversations)
		where length(trim(b)) >= 60 and b not like '%&%' order by length(b) desc, b limit 200`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		b = strings.Join(strings.Fields(b), " ")
		if len(b) >= 50 {
			out = append(out, b[10:40])
		}
	}
	if len(out) == 0 {
		t.Fatal("no staged body to look for")
	}
	return out
}

// The demo's summary table keeps its columns in line however long a
// "source → object" label is (knowledgearticlescategories → article_collections).
func TestDemoPrintAlignsColumns(t *testing.T) {
	written := int64(3)
	res := &demoResult{reconciliation: []report.Row{
		{SourceTable: "account", Object: "companies", SnapshotRows: 3, Staged: 3, Conserved: true, Written: &written},
		{SourceTable: "knowledgearticlescategories", Object: "article_collections", SnapshotRows: 70,
			OutOfScope: 70, Conserved: true},
	}}
	var out strings.Builder
	res.print(&out)
	// The last column (the header's "balanced", each row's mark) must start
	// at the same rune offset on every line of the table.
	col, lines := -1, 0
	for _, line := range strings.Split(out.String(), "\n") {
		if !strings.Contains(line, " → ") {
			continue
		}
		lines++
		last := []rune(strings.TrimRight(line, " "))
		start := len(last) - len([]rune(strings.Fields(line)[len(strings.Fields(line))-1]))
		if col < 0 {
			col = start
		} else if start != col {
			t.Errorf("last column starts at %d, the header's at %d:\n%s", start, col, out.String())
		}
	}
	if lines != 3 {
		t.Fatalf("want a header and 2 rows, got %d lines:\n%s", lines, out.String())
	}
}
