package transform_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/d2i/d2i/report"
	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
	"github.com/d2i/d2i/transform"
)

// End to end over the emulator: a generated org is snapshotted and
// transformed, and every source table must conserve its rows.
func TestEndToEndSampleOrgConserves(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	org, err := sampleorg.New(sampleorg.Options{Seed: 7, Cases: 60})
	if err != nil {
		t.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{})
	defer srv.Close()

	snapDir := t.TempDir()
	ctx := context.Background()
	_, err = snapshot.Run(ctx, snapshot.Config{
		OrgURL:       srv.URL,
		AuthorityURL: srv.URL,
		Credentials:  snapshot.Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"},
		Tables: []string{"systemuser", "queue", "account", "contact", "incident", "email",
			"activityparty", "queueitem"},
		OutDir:      snapDir,
		MaxPageSize: 50,
	})
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}

	dbPath := filepath.Join(t.TempDir(), "s.duckdb")
	res, err := transform.Run(ctx, transform.Config{SnapshotDir: snapDir, DBPath: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Reconciliation {
		t.Logf("%+v", r)
		if !r.Conserved {
			t.Errorf("%s does not conserve", r.SourceTable)
		}
	}
	if res.Staged["conversations"] == 0 || res.Staged["contacts"] == 0 || res.Staged["conversation_parts"] == 0 {
		t.Errorf("nothing staged: %v", res.Staged)
	}
	t.Logf("notes: %v", res.Notes)

	rep, err := report.Build(ctx, report.Config{DBPath: dbPath, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.AllOK {
		t.Errorf("reconciliation report has ✗ rows: %s", rep.Markdown)
	}
}
