package main

import (
	"testing"
	"time"

	"github.com/d2i/d2i/replay"
	"github.com/d2i/d2i/replay/intercomtest"
	"github.com/d2i/d2i/replay/replaytest"
	"github.com/d2i/d2i/report"
)

// reviewIncidentRow is the reconciliation row of incident after the logs
// in logDir, as the report counts them against the delta staging, which
// holds inc1 and inc2.
func reviewIncidentRow(t *testing.T, logDir, staging string) report.Row {
	t.Helper()
	staged, err := stagedAfterDeletions(t.Context(), staging)
	if err != nil || staged == nil {
		t.Fatalf("staged rows of %s: %v (nil: %v)", staging, err, staged == nil)
	}
	lc, err := replay.ReadLogsWhere(logDir, staged)
	if err != nil {
		t.Fatal(err)
	}
	written, rolledBack := writtenBySource(lc)
	w, b := written["incident"], rolledBack["incident"]
	return report.Row{Object: "conversations", SourceTable: "incident", Staged: 2, Conserved: true,
		Written: &w, RolledBack: &b}
}

func reviewReplay(t *testing.T, srv *intercomtest.Server, db, logDir string) {
	t.Helper()
	sum, err := replay.Run(t.Context(), replay.Config{DBPath: db, BaseURL: srv.URL, Token: "tok", LogDir: logDir,
		SearchLag: 10 * time.Millisecond})
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("replay: %v %+v", err, sum.Failures)
	}
}

func reviewServer(t *testing.T) *intercomtest.Server {
	return newIntercom(t, intercomtest.Options{Token: "tok",
		Admins:    []intercomtest.Admin{{ID: "991267696", Name: "Agent One", Email: "agent@example.com"}},
		Teams:     []intercomtest.Team{{ID: "5", Name: "Support", AdminIDs: []string{"991267696"}}},
		SearchLag: 10 * time.Millisecond})
}

// A delta deletes inc3 in Intercom (conversations: delete), then everything
// is rolled back. Intercom holds no conversation; the incident row should
// balance: 0 written + 2 rolled back = 2 staged.
func TestReportAfterDeletionAndRollback(t *testing.T) {
	srv := reviewServer(t)
	logDir := t.TempDir()
	reviewReplay(t, srv, replaytest.WriteStage(t, replaytest.StageRows), logDir)
	delta := replaytest.WriteStage(t, replaytest.DeltaRows("keep", "delete"))
	reviewReplay(t, srv, delta, logDir)
	rs, err := replay.Rollback(t.Context(), replay.RollbackConfig{BaseURL: srv.URL, Token: "tok", LogDir: logDir})
	if err != nil || len(rs.Failures) > 0 {
		t.Fatalf("rollback: %v %+v", err, rs.Failures)
	}
	if n := len(srv.Conversations()); n != 0 {
		t.Fatalf("conversations after rollback: %d", n)
	}
	r := reviewIncidentRow(t, logDir, delta)
	if !r.OK() {
		t.Errorf("incident row after deletion + full rollback: written %d, rolled back %d, staged %d: not OK",
			*r.Written, *r.RolledBack, r.Staged)
	}
}

// The default policy (keep): inc3, deleted in Dynamics, stays in Intercom.
// The reconciliation of the delta staging should still balance.
func TestReportAfterKeptDeletion(t *testing.T) {
	srv := reviewServer(t)
	logDir := t.TempDir()
	reviewReplay(t, srv, replaytest.WriteStage(t, replaytest.StageRows), logDir)
	delta := replaytest.WriteStage(t, replaytest.DeltaRows("keep", "keep"))
	reviewReplay(t, srv, delta, logDir)
	r := reviewIncidentRow(t, logDir, delta)
	if !r.OK() {
		t.Errorf("incident row after a keep delta: written %d, rolled back %d, staged %d: not OK",
			*r.Written, *r.RolledBack, r.Staged)
	}
}
