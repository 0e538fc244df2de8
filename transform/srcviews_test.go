package transform

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// Every table of a sample-org snapshot, read by the SQL or not, is a view in
// schema src holding exactly the rows the manifest records.
func TestSourceViewsCoverEverySnapshottedTable(t *testing.T) {
	if testing.Short() {
		t.Skip("snapshots a generated org")
	}
	org, err := sampleorg.New(sampleorg.Options{Seed: 11, Cases: 60})
	if err != nil {
		t.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{})
	defer srv.Close()
	snapDir := t.TempDir()
	ctx := context.Background()
	if _, err := snapshot.Run(ctx, snapshot.Config{OrgURL: srv.URL, AuthorityURL: srv.URL,
		Credentials: snapshot.Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"},
		OutDir:      snapDir, MaxPageSize: 200}); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	dbPath := filepath.Join(t.TempDir(), "staging.duckdb")
	if _, err := Run(ctx, Config{SnapshotDir: snapDir, DBPath: dbPath}); err != nil {
		t.Fatal(err)
	}

	got := queryRows(t, dbPath, `select 'workflow', count(*) from src.workflow
		union all select 'slaitem', count(*) from src.slaitem order by 1`)
	want := []string{"slaitem|" + strconv.Itoa(org.Count("slaitem")), "workflow|" + strconv.Itoa(org.Count("workflow"))}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("src row counts = %v, want %v", got, want)
	}

	man, err := readManifest(snapDir)
	if err != nil {
		t.Fatal(err)
	}
	views := strings.Join(queryRows(t, dbPath, `select table_name from information_schema.tables
		where table_schema = 'src' order by 1`), ",")
	for _, name := range sortedKeys(man.Tables) {
		mt := man.Tables[name]
		if len(mt.parquetFiles()) == 0 {
			if strings.Contains(","+views+",", ","+name+",") {
				t.Errorf("src.%s exists, but the snapshot holds no Parquet for it (status %s)", name, mt.Status)
			}
			continue
		}
		n := queryRows(t, dbPath, "select count(*) from src."+quoteIdent(name))
		if n[0] != strconv.Itoa(int(mt.Rows)) {
			t.Errorf("src.%s has %s rows, manifest says %d", name, n[0], mt.Rows)
		}
	}
	if !strings.Contains(views, "msdyn_ocrecording") == (man.Tables["msdyn_ocrecording"].Status == "complete") {
		t.Errorf("src.msdyn_ocrecording presence does not follow its snapshot status %q",
			man.Tables["msdyn_ocrecording"].Status)
	}
}

// A failed extra table gets no view and a note; a tampered extra file stops
// the run before DuckDB reads it.
func TestExtraSourceViews(t *testing.T) {
	tests := []struct {
		name     string
		alter    func(t *testing.T, snap string)
		wantErr  string
		wantView bool
		wantNote string
	}{
		{name: "complete", wantView: true},
		{name: "failed", alter: func(t *testing.T, snap string) { setStatus(t, snap, "workflow", "failed") },
			wantNote: "workflow: snapshot status failed; no src view"},
		{name: "tampered", alter: func(t *testing.T, snap string) {
			path := filepath.Join(snap, "tables", "workflow", "part-00000.parquet")
			if err := os.WriteFile(path, []byte("not parquet"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "snapshot table workflow: file tables/workflow/part-00000.parquet does not match the manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tables := sampleTables()
			tables["workflow"] = fixtureTable{schema: "workflowid varchar, name varchar",
				rows: []string{"('w1', 'Standard SLA')", "('w2', 'Premium SLA')"}}
			snap := t.TempDir()
			writeSnapshot(t, snap, tables)
			if tt.alter != nil {
				tt.alter(t, snap)
			}
			dbPath := filepath.Join(t.TempDir(), "staging.duckdb")
			res, err := Run(context.Background(), Config{SnapshotDir: snap, DBPath: dbPath})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Run error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			views := queryRows(t, dbPath, `select count(*) from information_schema.tables
				where table_schema = 'src' and table_name = 'workflow'`)
			if (views[0] == "1") != tt.wantView {
				t.Errorf("src.workflow exists = %s, want %v", views[0], tt.wantView)
			}
			if tt.wantView {
				if got := queryRows(t, dbPath, "select name from src.workflow order by workflowid"); strings.Join(got, ",") !=
					"Standard SLA,Premium SLA" {
					t.Errorf("src.workflow names = %v", got)
				}
			}
			if tt.wantNote != "" && !strings.Contains(strings.Join(res.Notes, "\n"), tt.wantNote) {
				t.Errorf("notes %q lack %q", res.Notes, tt.wantNote)
			}
			recon := queryRows(t, dbPath, "select count(*) from reports.reconciliation where source_table = 'workflow'")
			if recon[0] != "0" {
				t.Errorf("workflow is reconciled (%s rows); extra tables must not be", recon[0])
			}
		})
	}
}

// setStatus rewrites one table's status in the snapshot's manifest.
func setStatus(t *testing.T, snap, table, status string) {
	t.Helper()
	path := filepath.Join(snap, "manifest.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var man map[string]any
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	man["tables"].(map[string]any)[table].(map[string]any)["status"] = status
	if b, err = json.Marshal(man); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
