package snapshot

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// emulatorSnapshot runs a full snapshot of a small sample org into dir.
func emulatorSnapshot(t *testing.T, dir string, cases int) (*sampleorg.Org, *Manifest) {
	t.Helper()
	org, err := sampleorg.New(sampleorg.Options{Seed: 11, Cases: cases})
	if err != nil {
		t.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{})
	t.Cleanup(srv.Close)
	m, err := Run(context.Background(), emulatorConfig(srv.URL, dir, 100, org.Tables()...))
	if err != nil {
		t.Fatal(err)
	}
	return org, m
}

func emulatorConfig(orgURL, dir string, pageSize int, tables ...string) Config {
	return Config{
		OrgURL: orgURL, AuthorityURL: orgURL,
		Credentials: Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"},
		Tables:      tables, OutDir: dir, MaxPageSize: pageSize,
		Retry: RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond, MaxAttempts: 20},
	}
}

// sameRows fails unless the two Parquet globs hold the same rows: same
// count, same distinct keys, and nothing in one that is not in the other
// (except all, so duplicates count too).
func sameRows(t *testing.T, db *sql.DB, table, pk, globA, globB string) {
	t.Helper()
	var nA, nB, dA, dB, onlyA, onlyB int64
	q := fmt.Sprintf(`select
	  (select count(*) from '%[1]s'), (select count(*) from '%[2]s'),
	  (select count(distinct %[3]s) from '%[1]s'), (select count(distinct %[3]s) from '%[2]s'),
	  (select count(*) from (select * from '%[1]s' except all select * from '%[2]s')),
	  (select count(*) from (select * from '%[2]s' except all select * from '%[1]s'))`, globA, globB, pk)
	if err := db.QueryRow(q).Scan(&nA, &nB, &dA, &dB, &onlyA, &onlyB); err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	if nA != nB || dA != dB || dA != nA || onlyA != 0 || onlyB != 0 {
		t.Errorf("%s: rows %d vs %d, distinct %s %d vs %d, only in first %d, only in second %d",
			table, nA, nB, pk, dA, dB, onlyA, onlyB)
	}
}

func TestRebuildFromOwnPagesGivesSameRows(t *testing.T) {
	src := filepath.Join(t.TempDir(), "snap")
	org, orig := emulatorSnapshot(t, src, 60)
	out := filepath.Join(t.TempDir(), "rebuilt")
	m, err := Rebuild(context.Background(), RebuildConfig{
		PagesDir: filepath.Join(src, "pages"), MetadataDir: filepath.Join(src, "metadata"), OutDir: out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Complete || m.OrgURL != orig.OrgURL || len(m.Tables) != len(orig.Tables) {
		t.Errorf("complete=%v org=%q (want %q) tables=%d (want %d)", m.Complete, m.OrgURL, orig.OrgURL, len(m.Tables), len(orig.Tables))
	}
	verifyManifest(t, out, m)
	db := openDuck(t)
	for _, table := range org.Tables() {
		a, b := orig.Tables[table], m.Tables[table]
		if b == nil || b.Status != StatusComplete || b.Rows != a.Rows || b.Pages != a.Pages || b.EntitySet != a.EntitySet {
			t.Errorf("%s: rebuilt %+v, original rows %d pages %d", table, b, a.Rows, a.Pages)
			continue
		}
		if a.SourceCount >= 0 && a.SourceCount < countCap && b.SourceCount != a.SourceCount {
			t.Errorf("%s: source_count %d, original %d", table, b.SourceCount, a.SourceCount)
		}
		sameRows(t, db, table, org.Entity(table).PrimaryIdAttribute,
			filepath.Join(src, "tables", table, "*.parquet"), filepath.Join(out, "tables", table, "*.parquet"))
	}
}

// Pages saved by hand: plain JSON, numbered from 1, with other files about.
func TestRebuildFromHandSavedJSONPages(t *testing.T) {
	src := filepath.Join(t.TempDir(), "snap")
	org, orig := emulatorSnapshot(t, src, 250)
	hand := t.TempDir()
	pages := filepath.Join(hand, "pages")
	for i := 0; i < orig.Tables["incident"].Pages; i++ {
		body, err := readSavedPage(filepath.Join(src, pageRel("incident", i)))
		if err != nil {
			t.Fatal(err)
		}
		writeTestFile(t, filepath.Join(pages, "incident", fmt.Sprintf("page-%d.json", i+1)), "\xef\xbb\xbf"+string(body))
	}
	writeTestFile(t, filepath.Join(pages, "incident", "README.txt"), "saved from the browser")
	meta := filepath.Join(hand, "meta")
	copyTree(t, filepath.Join(src, "metadata"), meta)

	out := filepath.Join(t.TempDir(), "rebuilt")
	m, err := Rebuild(context.Background(), RebuildConfig{PagesDir: pages, MetadataDir: meta, OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	if tm := m.Tables["incident"]; len(m.Tables) != 1 || tm.Rows != int64(org.Count("incident")) || tm.Pages < 3 {
		t.Fatalf("manifest = %+v", m.Tables)
	}
	verifyManifest(t, out, m)
	sameRows(t, openDuck(t), "incident", "incidentid",
		filepath.Join(src, "tables/incident/*.parquet"), filepath.Join(out, "tables/incident/*.parquet"))
}

func TestRebuildRefusals(t *testing.T) {
	src := filepath.Join(t.TempDir(), "snap")
	_, orig := emulatorSnapshot(t, src, 250)
	pages, meta := filepath.Join(src, "pages"), filepath.Join(src, "metadata")

	t.Run("out dir holds the input", func(t *testing.T) {
		_, err := Rebuild(context.Background(), RebuildConfig{PagesDir: pages, MetadataDir: meta, OutDir: src})
		if err == nil || !strings.Contains(err.Error(), "inside OutDir") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("last page missing", func(t *testing.T) {
		cut := filepath.Join(t.TempDir(), "pages")
		copyTree(t, filepath.Join(pages, "incident"), filepath.Join(cut, "incident"))
		last := orig.Tables["incident"].Pages - 1
		os.Remove(filepath.Join(cut, "incident", fmt.Sprintf("%05d.json.zst", last)))
		out := filepath.Join(t.TempDir(), "out")
		m, err := Rebuild(context.Background(), RebuildConfig{PagesDir: cut, MetadataDir: meta, OutDir: out})
		want := fmt.Sprintf("table incident page %d: only %d page(s) saved", last, last)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want %q", err, want)
		}
		if tm := m.Tables["incident"]; tm.Status != StatusFailed || tm.Pages != last {
			t.Errorf("manifest = %+v", tm)
		}
		verifyManifest(t, out, m)
	})
	t.Run("no metadata", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		m, err := Rebuild(context.Background(), RebuildConfig{PagesDir: pages, MetadataDir: t.TempDir(),
			OutDir: out, Tables: []string{"incident"}})
		if err == nil || !strings.Contains(err.Error(), "no metadata/incident.json") || m.Tables["incident"].Status != StatusFailed {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("two pages with one number", func(t *testing.T) {
		dup := filepath.Join(t.TempDir(), "pages")
		copyTree(t, filepath.Join(pages, "incident"), filepath.Join(dup, "incident"))
		writeTestFile(t, filepath.Join(dup, "incident", "0.json"), `{"value":[]}`)
		_, err := Rebuild(context.Background(), RebuildConfig{PagesDir: dup, MetadataDir: meta, OutDir: filepath.Join(t.TempDir(), "o")})
		if err == nil || !strings.Contains(err.Error(), "have the same number") {
			t.Errorf("err = %v", err)
		}
	})
}

func writeTestFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}
