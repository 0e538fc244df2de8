package transform

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2i/d2i/report"
)

// The report reads what Run wrote: a fully replayed fixture reconciles.
func TestRunThenReport(t *testing.T) {
	dbPath, res, err := runFixture(t, sampleTables())
	if err != nil {
		t.Fatal(err)
	}
	// as if replay had written every staged row, counted per source table as
	// the write log counts them
	written := map[string]int64{}
	for _, r := range res.Reconciliation {
		written[r.SourceTable] = r.Staged
	}
	out := t.TempDir()
	rep, err := report.Build(context.Background(), report.Config{DBPath: dbPath, OutDir: out, Written: written})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.AllOK {
		t.Errorf("report not all ✓: %+v", rep.Rows)
	}
	md, err := os.ReadFile(filepath.Join(out, "reconciliation.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"✓ contact → contacts: 7 in = 5 staged + 2 merged + 0 rejected + 0 out of scope; 5 of 5 written",
		"| conversation_parts | parent_rejected | the case this email is about was rejected | 1 |",
		"| activityparty | consumed as email and appointment participants | 7 |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("reconciliation.md lacks %q:\n%s", want, md)
		}
	}
}
