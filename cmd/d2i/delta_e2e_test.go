package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2i/d2i/replay"
	"github.com/d2i/d2i/report"
	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
	"github.com/d2i/d2i/transform"
	"github.com/d2i/d2i/transform/mapping"
	"github.com/d2i/d2i/transform/mapping/mappingtest"
)

// deltaE2E is one org migrated, changed in Dynamics and migrated again as a
// delta, through the same steps an engineer runs.
type deltaE2E struct {
	t       *testing.T
	emu     *emulators
	dir     string
	logDir  string
	mapPath string
	logger  *slog.Logger
}

// The cutover: after a full migration the org changes; a delta snapshot,
// its transform and a replay into the same write log bring Intercom level
// with Dynamics without a duplicate or a notification, verify finds every
// object equal, and a rollback of everything leaves Intercom empty.
func TestDeltaMigrationEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	org, err := sampleorg.New(sampleorg.Options{Seed: 3, Cases: 60})
	if err != nil {
		t.Fatal(err)
	}
	e := &deltaE2E{t: t, emu: startEmulators(org, 0, false), dir: t.TempDir(),
		logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	t.Cleanup(e.emu.close)
	e.logDir = filepath.Join(e.dir, "writelog")

	full := e.snapshot("full", "")
	// Deleted in Dynamics: conversations and companies go, contacts are archived.
	e.mapPath = mappingtest.Confirmed(t, full, func(m *mapping.Mapping) {
		m.Deletes = &mapping.DeletePolicy{Contacts: mapping.DeleteArchive, Conversations: mapping.DeleteDelete,
			Companies: mapping.DeleteDelete}
	})
	first := e.replay(e.transform(full, "full.duckdb"))
	before := e.emu.intercom.Counts()

	// No contact is deleted: the emulator does not cascade a contact's
	// deletion to its cases as Dynamics does, and a conversation cannot be
	// moved to another contact (replay/delta_test.go covers archiving).
	changed := e.churn("contact", dataversetest.Churn{Updates: 6})
	cases := e.churn("incident", dataversetest.Churn{Updates: 4, Deletes: 3})
	e.churn("account", dataversetest.Churn{Updates: 2})
	deltaDB := e.transform(e.snapshot("delta", full), "delta.duckdb")
	sum := e.replay(deltaDB)

	if n := e.emu.intercom.Notifications(); n != 0 {
		t.Errorf("notifications = %d, want 0", n)
	}
	if k := sum.Kinds[replay.KindContact]; k == nil || k.Created != 0 {
		t.Errorf("the delta created contacts %+v: the churn made none", k)
	}
	if k := sum.Kinds[replay.KindContactUpdate]; k == nil || k.Existing == 0 || k.Existing > len(changed.Updated) {
		t.Errorf("contact revisions %+v, want 1..%d", k, len(changed.Updated))
	}
	if k := sum.Kinds[replay.KindDeletion]; k == nil || k.Created != len(cases.Deleted) {
		t.Errorf("deletions %+v: the churn deleted %d cases", k, len(cases.Deleted))
	}
	after := e.emu.intercom.Counts()
	if got, want := after["conversation"], before["conversation"]-len(cases.Deleted); got != want {
		t.Errorf("conversations %d -> %d, want %d", before["conversation"], got, want)
	}
	if after["contact"] != before["contact"] || after["company"] != before["company"] {
		t.Errorf("contacts or companies created by the delta: %v -> %v", before, after)
	}
	t.Logf("first run %s, delta run %s: %s", first.RunID, sum.RunID, formatCounts(after))

	vs, err := replay.Verify(context.Background(), replay.VerifyConfig{DBPath: deltaDB, LogDir: e.logDir,
		BaseURL: e.emu.intercom.URL, Token: e.emu.token, OutDir: filepath.Join(e.dir, "verify"), Logger: e.logger})
	if err != nil {
		t.Fatal(err)
	}
	if !vs.Clean() {
		for kind, c := range vs.Kinds {
			t.Errorf("verify %s: %+v", kind, *c)
		}
		b, _ := os.ReadFile(vs.TextPath)
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(l, "=") && !strings.HasPrefix(l, "✓") {
				t.Log(l)
			}
		}
	}

	rep, err := buildReport(context.Background(), report.Config{DBPath: deltaDB, OutDir: filepath.Join(e.dir, "reports"),
		LogDir: e.logDir, Logger: e.logger})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.AllOK {
		t.Errorf("the reconciliation after the delta does not balance:\n%s", rep.Markdown)
	}

	rs, err := replay.Rollback(context.Background(), replay.RollbackConfig{BaseURL: e.emu.intercom.URL,
		Token: e.emu.token, LogDir: e.logDir, Logger: e.logger})
	if err != nil || len(rs.Failures) > 0 {
		t.Fatalf("rollback: %v %+v", err, rs.Failures)
	}
	for kind, n := range e.emu.intercom.Counts() {
		if n != 0 {
			t.Errorf("after rollback Intercom still holds %d %s", n, kind)
		}
	}
}

func (e *deltaE2E) snapshot(name, base string) string {
	e.t.Helper()
	out := filepath.Join(e.dir, name)
	_, err := snapshot.Run(context.Background(), snapshot.Config{OrgURL: e.emu.dataverse.URL,
		AuthorityURL: e.emu.dataverse.URL, Credentials: e.emu.creds, Tables: demoTables, OutDir: out,
		DeltaFrom: base, Logger: e.logger})
	if err != nil {
		e.t.Fatalf("snapshot %s: %v", name, err)
	}
	return out
}

func (e *deltaE2E) transform(snapDir, db string) string {
	e.t.Helper()
	path := filepath.Join(e.dir, db)
	_, err := transform.Run(context.Background(), transform.Config{SnapshotDir: snapDir, DBPath: path,
		MappingPath: e.mapPath, Logger: e.logger})
	if err != nil && !strings.Contains(err.Error(), "does not conserve") {
		e.t.Fatalf("transform %s: %v", snapDir, err)
	}
	if err != nil {
		e.t.Errorf("transform %s: %v", snapDir, err)
	}
	return path
}

func (e *deltaE2E) replay(db string) *replay.Summary {
	e.t.Helper()
	sum, err := replay.Run(context.Background(), replay.Config{DBPath: db, BaseURL: e.emu.intercom.URL,
		Token: e.emu.token, LogDir: e.logDir, Tag: replay.DefaultTag, Logger: e.logger, RequireMapping: true})
	if err != nil || len(sum.Failures) > 0 {
		e.t.Fatalf("replay %s: %v %+v", filepath.Base(db), err, sum.Failures)
	}
	return sum
}

func (e *deltaE2E) churn(table string, c dataversetest.Churn) dataversetest.Changed {
	e.t.Helper()
	ch, err := e.emu.dataverse.Churn(table, c)
	if err != nil {
		e.t.Fatal(err)
	}
	return ch
}
