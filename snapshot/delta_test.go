package snapshot_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// deltaEnv is an emulator with a tracked table (contact) and an untracked
// one (languagelocale), and the config to snapshot both.
type deltaEnv struct {
	t     *testing.T
	org   *sampleorg.Org
	srv   *dataversetest.Server
	fault atomic.Value // func(*http.Request) int
	root  string
}

var deltaTables = []string{"contact", "languagelocale", "annotation"}

func newDeltaEnv(t *testing.T) *deltaEnv {
	t.Helper()
	org, err := sampleorg.New(sampleorg.Options{Seed: 11, Cases: 60})
	if err != nil {
		t.Fatal(err)
	}
	e := &deltaEnv{t: t, org: org, root: t.TempDir()}
	e.fault.Store(func(*http.Request) int { return 0 })
	e.srv = dataversetest.NewServer(org, dataversetest.Options{
		Fault: func(_ int64, r *http.Request) int { return e.fault.Load().(func(*http.Request) int)(r) },
	})
	t.Cleanup(e.srv.Close)
	return e
}

func (e *deltaEnv) run(out, base string) (*snapshot.Manifest, error) {
	return snapshot.Run(context.Background(), snapshot.Config{
		OrgURL: e.srv.URL, AuthorityURL: e.srv.URL,
		Credentials: snapshot.Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"},
		Tables:      deltaTables, OutDir: filepath.Join(e.root, out), MaxPageSize: 7,
		DeltaFrom: base,
		Retry:     snapshot.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxAttempts: 2},
	})
}

func (e *deltaEnv) mustRun(out, base string) *snapshot.Manifest {
	e.t.Helper()
	m, err := e.run(out, base)
	if err != nil {
		e.t.Fatalf("snapshot %s: %v", out, err)
	}
	return m
}

func (e *deltaEnv) churn(table string, c dataversetest.Churn) dataversetest.Changed {
	e.t.Helper()
	ch, err := e.srv.Churn(table, c)
	if err != nil {
		e.t.Fatal(err)
	}
	return ch
}

// want is what a delta must hold after the churns: ids changed and still
// alive, and ids deleted.
func want(chs ...dataversetest.Changed) (changed, deleted []string) {
	live, gone := map[string]bool{}, map[string]bool{}
	for _, ch := range chs {
		for _, id := range append(append([]string{}, ch.Inserted...), ch.Updated...) {
			live[id] = true
		}
		for _, id := range ch.Deleted {
			gone[id] = true
			delete(live, id)
		}
	}
	return keys(live), keys(gone)
}

func withoutInserted(ids []string, chs []dataversetest.Changed) []string {
	ins := map[string]bool{}
	for _, ch := range chs {
		for _, id := range ch.Inserted {
			ins[id] = true
		}
	}
	out := []string{}
	for _, id := range ids {
		if !ins[id] {
			out = append(out, id)
		}
	}
	return out
}

func keys(m map[string]bool) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// deltaIDs reads a delta's Parquet parts with DuckDB: changed ids and
// tombstone ids, sorted.
func deltaIDs(t *testing.T, dir, table, pk string) (changed, deleted []string) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := `select ` + pk + `, __deleted from '` + filepath.Join(dir, "tables", table, "part-*.parquet") + `' order by 1`
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	defer rows.Close()
	changed, deleted = []string{}, []string{}
	for rows.Next() {
		var id string
		var del bool
		if err := rows.Scan(&id, &del); err != nil {
			t.Fatal(err)
		}
		if del {
			deleted = append(deleted, id)
		} else {
			changed = append(changed, id)
		}
	}
	return changed, deleted
}

func (e *deltaEnv) check(m *snapshot.Manifest, out, table, mode string, chs ...dataversetest.Changed) {
	e.t.Helper()
	wantC, wantD := want(chs...)
	if mode == snapshot.DeltaWatermark {
		// A key diff cannot see a row inserted and deleted since the base;
		// change tracking reports it as a tombstone (spec §8.2 point 5).
		wantD = withoutInserted(wantD, chs)
	}
	pk := e.org.Entity(table).PrimaryIdAttribute
	gotC, gotD := deltaIDs(e.t, filepath.Join(e.root, out), table, pk)
	tm := m.Tables[table]
	if tm.Status != snapshot.StatusComplete || tm.Delta == nil || tm.Delta.Mode != mode {
		e.t.Fatalf("%s %s: status %s delta %+v, want mode %s", out, table, tm.Status, tm.Delta, mode)
	}
	if strings.Join(gotC, ",") != strings.Join(wantC, ",") {
		e.t.Errorf("%s %s changed ids:\n got %v\nwant %v", out, table, gotC, wantC)
	}
	if strings.Join(gotD, ",") != strings.Join(wantD, ",") {
		e.t.Errorf("%s %s deleted ids:\n got %v\nwant %v", out, table, gotD, wantD)
	}
	if tm.Delta.Changed != int64(len(wantC)) || tm.Delta.Deleted != int64(len(wantD)) ||
		tm.Rows != int64(len(wantC)+len(wantD)) {
		e.t.Errorf("%s %s manifest counts changed %d deleted %d rows %d, want %d %d",
			out, table, tm.Delta.Changed, tm.Delta.Deleted, tm.Rows, len(wantC), len(wantD))
	}
}

// Full snapshot, churn, delta: the tracked table follows its delta link,
// the untracked one reads by watermark and diffs keys; both find exactly
// what changed. A second delta chains on the first.
func TestDeltaAfterChurn(t *testing.T) {
	e := newDeltaEnv(t)
	full := e.mustRun("full", "")
	if full.Tables["contact"].DeltaLink == "" || !strings.Contains(full.Tables["contact"].DeltaLink, "$deltatoken=") {
		t.Fatalf("tracked table has no delta link: %+v", full.Tables["contact"])
	}
	if full.Tables["languagelocale"].DeltaLink != "" || full.Base != "" {
		t.Fatalf("untracked table has a delta link, or full names a base: %+v", full)
	}

	c1 := e.churn("contact", dataversetest.Churn{Inserts: 3, Updates: 5, Deletes: 2})
	l1 := e.churn("languagelocale", dataversetest.Churn{Inserts: 2, Updates: 3, Deletes: 2})
	a1 := e.churn("annotation", dataversetest.Churn{Inserts: 2, Updates: 2, Deletes: 1})
	base := filepath.Join(e.root, "full")
	d1 := e.mustRun("d1", base)
	if d1.Base != base || !d1.Complete {
		t.Fatalf("delta manifest base %q complete %v", d1.Base, d1.Complete)
	}
	e.check(d1, "d1", "contact", snapshot.DeltaChangeTracking, c1)
	e.check(d1, "d1", "languagelocale", snapshot.DeltaWatermark, l1)
	e.check(d1, "d1", "annotation", snapshot.DeltaChangeTracking, a1)
	if d1.Tables["contact"].DeltaLink == "" || d1.Tables["contact"].DeltaLink == full.Tables["contact"].DeltaLink {
		t.Errorf("delta did not record a new delta link")
	}
	wantLive := int64(e.org.Count("languagelocale") + 2 - 2)
	if got := d1.Tables["languagelocale"].SourceCount; got != wantLive {
		t.Errorf("languagelocale keys read %d, want %d", got, wantLive)
	}
	if d1.Tables["languagelocale"].Delta.Watermark == "" {
		t.Errorf("no watermark recorded")
	}

	checkFilesHashed(t, filepath.Join(e.root, "d1"), d1)
	// Base plus delta, read as the contract says, is what a new full read sees.
	e.mustRun("full2", "")
	for _, table := range deltaTables {
		e.sameAsFull(table, []string{"full", "d1"}, "full2")
	}

	// Chained: the watermark overlap re-reads d1's rows, dropped by version.
	c2 := e.churn("contact", dataversetest.Churn{Inserts: 1, Updates: 2, Deletes: 1})
	l2 := e.churn("languagelocale", dataversetest.Churn{Updates: 1, Deletes: 1})
	d2 := e.mustRun("d2", filepath.Join(e.root, "d1"))
	e.check(d2, "d2", "contact", snapshot.DeltaChangeTracking, c2)
	e.check(d2, "d2", "languagelocale", snapshot.DeltaWatermark, l2)
	e.mustRun("full3", "")
	for _, table := range deltaTables {
		e.sameAsFull(table, []string{"full", "d1", "d2"}, "full3")
	}

	// Nothing changed: an empty delta, still complete.
	d3 := e.mustRun("d3", filepath.Join(e.root, "d2"))
	e.check(d3, "d3", "contact", snapshot.DeltaChangeTracking)
	e.check(d3, "d3", "languagelocale", snapshot.DeltaWatermark)
}

// An expired delta token falls back to watermark and key diff, with a note.
func TestDeltaExpiredTokenFallsBack(t *testing.T) {
	e := newDeltaEnv(t)
	e.mustRun("full", "")
	c := e.churn("contact", dataversetest.Churn{Inserts: 2, Updates: 4, Deletes: 3})
	e.srv.ExpireDeltaTokens()
	d := e.mustRun("d1", filepath.Join(e.root, "full"))
	e.check(d, "d1", "contact", snapshot.DeltaWatermark, c)
	if !strings.Contains(d.Tables["contact"].Delta.Note, "refused") {
		t.Errorf("no note on the fallback: %+v", d.Tables["contact"].Delta)
	}
	if d.Tables["contact"].DeltaLink != "" {
		t.Errorf("a watermark delta recorded a delta link")
	}
}

// A delta that fails mid-way resumes into the same directory with no
// duplicate and no gap.
func TestDeltaResumes(t *testing.T) {
	e := newDeltaEnv(t)
	e.mustRun("full", "")
	c := e.churn("contact", dataversetest.Churn{Inserts: 6, Updates: 9, Deletes: 4})
	l := e.churn("languagelocale", dataversetest.Churn{Inserts: 1, Updates: 2, Deletes: 3})
	var deltaPages, keyPages atomic.Int64
	e.fault.Store(func(r *http.Request) int {
		q := r.URL.Query()
		switch {
		case q.Has("$deltatoken") && q.Has("$skiptoken") && deltaPages.Add(1) == 2:
			return http.StatusBadRequest // third delta page of contact
		case q.Get("$select") == "languagelocaleid" && keyPages.Add(1) == 1:
			return http.StatusBadRequest // first key page of languagelocale, after its changes
		}
		return 0
	})
	m, err := e.run("d1", filepath.Join(e.root, "full"))
	if err == nil || m.Complete {
		t.Fatalf("injected failures did not fail the delta: %v", err)
	}
	if m.Tables["contact"].Pages != 2 || m.Tables["languagelocale"].Status != snapshot.StatusFailed {
		t.Fatalf("first run: contact %+v, languagelocale %+v", m.Tables["contact"], m.Tables["languagelocale"])
	}
	e.fault.Store(func(*http.Request) int { return 0 })
	d := e.mustRun("d1", filepath.Join(e.root, "full"))
	e.check(d, "d1", "contact", snapshot.DeltaChangeTracking, c)
	e.check(d, "d1", "languagelocale", snapshot.DeltaWatermark, l)
}

// sameAsFull applies the deltas to the first snapshot in DuckDB (last entry
// per id wins, tombstones drop the id) and compares with a full snapshot:
// same ids, same versionnumber, same modifiedon.
func (e *deltaEnv) sameAsFull(table string, chain []string, full string) {
	e.t.Helper()
	pk := e.org.Entity(table).PrimaryIdAttribute
	var parts []string
	for i, snap := range chain {
		glob := filepath.Join(e.root, snap, "tables", table, "part-*.parquet")
		parts = append(parts, fmt.Sprintf("select *, %d as snap from read_parquet('%s', union_by_name = true)", i, glob))
	}
	cols := "versionnumber, modifiedon"
	if table == "annotation" {
		cols += ", documentbody__sha256" // files of changed notes are fetched too
	}
	applied := `select ` + pk + ` as id, ` + cols + ` from (
	    select *, row_number() over (partition by ` + pk + ` order by snap desc) as k from (` +
		strings.Join(parts, " union all by name ") + `)) where k = 1 and not coalesce(__deleted, false)`
	fresh := `select ` + pk + ` as id, ` + cols + ` from '` +
		filepath.Join(e.root, full, "tables", table, "*.parquet") + `'`
	db, err := sql.Open("duckdb", "")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	var onlyApplied, onlyFresh, n int
	q := `select (select count(*) from (` + applied + ` except all ` + fresh + `)),
	  (select count(*) from (` + fresh + ` except all ` + applied + `)), (select count(*) from (` + fresh + `))`
	if err := db.QueryRow(q).Scan(&onlyApplied, &onlyFresh, &n); err != nil {
		e.t.Fatalf("%s: %v", table, err)
	}
	if onlyApplied != 0 || onlyFresh != 0 || n == 0 {
		e.t.Errorf("%s: base+delta differs from a full read: %d rows only in base+delta, %d only in the full read (of %d)",
			table, onlyApplied, onlyFresh, n)
	}
}

// checkFilesHashed: every file the manifest names exists with its sha256.
func checkFilesHashed(t *testing.T, dir string, m *snapshot.Manifest) {
	t.Helper()
	for table, tm := range m.Tables {
		for _, f := range tm.Files {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
			if err != nil {
				t.Errorf("%s: %v", table, err)
				continue
			}
			if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Bytes {
				t.Errorf("%s: %s does not match its manifest entry", table, f.Path)
			}
		}
	}
}
