package snapshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A run dies after page 1 and after writing, but not committing, page 2's
// files; the rerun starts at the stored next link and ends with every row
// exactly once.
func TestResumeAfterCrashNoDuplicateNoGap(t *testing.T) {
	f := newFakeDV(t)
	addIncident(f, 1)
	f.failFrom = 2
	dir := t.TempDir()
	cfg := f.config(dir, "incident")
	cfg.Retry.MaxAttempts = 1

	m, err := Run(context.Background(), cfg)
	if err == nil || m.Tables["incident"].Status != StatusFailed || m.Tables["incident"].Rows != 2 {
		t.Fatalf("first run: err=%v manifest=%+v", err, m.Tables["incident"])
	}
	cp, err := loadCheckpoint(dir, "incident")
	if err != nil || cp.LastPage != 1 || cp.Complete || !strings.Contains(cp.NextLink, "pagenumber=%223%22") {
		t.Fatalf("checkpoint = %+v, %v", cp, err)
	}
	// What a crash between writing page 2's part and its checkpoint leaves.
	copyFile(t, filepath.Join(dir, partRel("incident", 1)), filepath.Join(dir, partRel("incident", 2)))
	copyFile(t, filepath.Join(dir, pageRel("incident", 1)), filepath.Join(dir, pageRel("incident", 2)))
	os.WriteFile(filepath.Join(dir, "tables/incident/.part-00002.parquet.123.tmp"), []byte("junk"), 0o600)

	f.failFrom = 0
	before := len(f.dataReqs)
	m, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	resumed := f.dataReqs[before:]
	if len(resumed) != 1 || "http://"+f.srv.Listener.Addr().String()+resumed[0] != cp.NextLink {
		t.Errorf("resumed requests = %q, want only the checkpoint's next link", resumed)
	}
	tm := m.Tables["incident"]
	if tm.Status != StatusComplete || tm.Rows != 3 || tm.Pages != 3 || !m.Complete {
		t.Errorf("manifest = %+v", tm)
	}
	var n, distinct int
	glob := filepath.Join(dir, "tables/incident/*.parquet")
	err = openDuck(t).QueryRow(`select count(*), count(distinct incidentid) from '`+glob+`'`).Scan(&n, &distinct)
	if err != nil || n != 3 || distinct != 3 {
		t.Errorf("rows = %d distinct = %d err = %v", n, distinct, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tables/incident/.part-00002.parquet.123.tmp")); err == nil {
		t.Error("stale temporary file left behind")
	}
	verifyManifest(t, dir, m)

	// A third run finds the table complete and fetches nothing.
	before = len(f.dataReqs)
	if _, err := Run(context.Background(), cfg); err != nil || len(f.dataReqs) != before {
		t.Errorf("rerun of a complete table: err=%v requests=%d", err, len(f.dataReqs)-before)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestManifestListsEveryFileWithItsHash(t *testing.T) {
	f := newFakeDV(t)
	addIncident(f, 2)
	dir := t.TempDir()
	var logs bytes.Buffer
	cfg := f.config(dir, "incident")
	cfg.Logger = captureLog(&logs)
	var progress []string
	cfg.Progress = func(table string, rows, pages int) {
		progress = append(progress, fmt.Sprintf("%s:%d/%d", table, rows, pages))
	}
	m, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	verifyManifest(t, dir, m)
	if strings.Join(progress, " ") != "incident:2/1 incident:3/2" {
		t.Errorf("progress = %v", progress)
	}

	onDisk, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil || !bytes.Contains(onDisk, []byte(`"tables/incident/part-00001.parquet"`)) ||
		!bytes.Contains(onDisk, []byte(`"source_count": 3`)) {
		t.Errorf("manifest.json = %s, %v", onDisk, err)
	}
	if !strings.Contains(logs.String(), `"page_rows":2`) {
		t.Errorf("no per-page progress in logs: %s", logs.String())
	}
}

// verifyManifest re-hashes every listed file, checks that every data file on
// disk is listed, and that files are 0600 and directories 0700.
func verifyManifest(t *testing.T, dir string, m *Manifest) {
	t.Helper()
	listed := map[string]bool{}
	for table, tm := range m.Tables {
		var partRows int64
		for _, fe := range tm.Files {
			listed[fe.Path] = true
			b, err := os.ReadFile(filepath.Join(dir, fe.Path))
			if err != nil {
				t.Errorf("%s: %v", fe.Path, err)
				continue
			}
			sum := sha256.Sum256(b)
			if hex.EncodeToString(sum[:]) != fe.SHA256 || int64(len(b)) != fe.Bytes {
				t.Errorf("%s: sha256/bytes do not match the manifest", fe.Path)
			}
			if strings.HasPrefix(fe.Path, "tables/") {
				partRows += fe.Rows
			}
		}
		if partRows != tm.Rows {
			t.Errorf("%s: parts hold %d rows, manifest says %d", table, partRows, tm.Rows)
		}
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, _ := d.Info()
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && info.Mode().Perm() != 0o700 {
				t.Errorf("dir %s mode %v", rel, info.Mode().Perm())
			}
			return nil
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("file %s mode %v", rel, info.Mode().Perm())
		}
		data := strings.HasPrefix(rel, "tables/") || strings.HasPrefix(rel, "pages/") || strings.HasPrefix(rel, "metadata/")
		if data && !listed[rel] {
			t.Errorf("%s written but not in the manifest", rel)
		}
		return nil
	})
}

// Parts written under one schema are never continued under another.
func TestResumeRefusesChangedColumns(t *testing.T) {
	f := newFakeDV(t)
	addIncident(f, 1)
	f.failFrom = 2
	dir := t.TempDir()
	cfg := f.config(dir, "incident")
	cfg.Retry.MaxAttempts = 1
	if _, err := Run(context.Background(), cfg); err == nil {
		t.Fatal("first run should fail")
	}
	f.failFrom = 0
	f.entities["incident"] = strings.Replace(incidentDef, `"LogicalName": "new_score", "AttributeType": "Double"`,
		`"LogicalName": "new_score", "AttributeType": "Integer"`, 1)
	m, err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "columns changed since checkpoint") {
		t.Fatalf("err = %v", err)
	}
	verifyManifest(t, dir, m)
}
