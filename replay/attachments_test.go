package replay

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2i/d2i/replay/intercomtest"
)

// attachmentDDL is stage.attachments and reports.attachment_rule of
// contracts.md §2.
const attachmentDDL = `
create schema reports;
create table reports.attachment_rule (max_bytes bigint, over_limit varchar, snapshot_dir varchar);
create table stage.attachments (source_table varchar, source_id varchar, part_source_table varchar,
  part_source_id varchar, conversation_source_id varchar, position integer, file_name varchar,
  original_file_name varchar, content_type varchar, original_content_type varchar, size_bytes bigint,
  file_size_bytes bigint, sha256 varchar, blob_path varchar, blob_offset bigint, chunk_no integer,
  chunk_count integer, ord bigint);
`

// blobFile writes data into snap's blob store as the snapshot lays it out
// and returns its sha256 and path relative to snap.
func blobFile(t *testing.T, snap string, data []byte) (string, string) {
	t.Helper()
	s := sha256.Sum256(data)
	sum := hex.EncodeToString(s[:])
	rel := "blobs/sha256/" + sum[:2] + "/" + sum[2:]
	if err := os.MkdirAll(filepath.Join(snap, filepath.Dir(rel)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(snap, rel), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return sum, rel
}

// attachmentStage: p1 (an admin comment) carries a whole PDF and the two
// halves of a split file, p2 (a contact reply) one text file.
func attachmentStage(t *testing.T) (db string, pdf, big []byte) {
	t.Helper()
	snap := t.TempDir()
	pdf = []byte(strings.Repeat("%PDF-1.7 ", 50))
	big = bytes.Repeat([]byte{0, 1, 2, 3, 4, 5, 6}, 30)
	txt := []byte("log line\n")
	pdfSum, pdfRel := blobFile(t, snap, pdf)
	bigSum, bigRel := blobFile(t, snap, big)
	txtSum, txtRel := blobFile(t, snap, txt)
	half := int64(len(big) / 2)
	rows := fmt.Sprintf(`
insert into reports.attachment_rule values (%[1]d, 'split', '%[2]s');
insert into stage.attachments values
  ('activitymimeattachment','m1','email','p1','inc1',1,'report.pdf','report.pdf','application/pdf','application/pdf',
   %[3]d,%[3]d,'%[4]s','%[5]s',0,1,1,1),
  ('activitymimeattachment','m2','email','p1','inc1',2,'big.bin.part1of2','big.bin','application/octet-stream',
   'application/x-big',%[1]d,%[6]d,'%[7]s','%[8]s',0,1,2,2),
  ('activitymimeattachment','m2','email','p1','inc1',3,'big.bin.part2of2','big.bin','application/octet-stream',
   'application/x-big',%[9]d,%[6]d,'%[7]s','%[8]s',%[1]d,2,2,3),
  ('activitymimeattachment','m3','email','p2','inc1',1,'log.txt','log.txt','text/plain','text/plain',
   %[10]d,%[10]d,'%[11]s','%[12]s',0,1,1,4);
`, half, filepath.ToSlash(snap), len(pdf), pdfSum, pdfRel, len(big), bigSum, bigRel, int64(len(big))-half,
		len(txt), txtSum, txtRel)
	return writeStage(t, stageRows+attachmentDDL+rows), pdf, big
}

func digestOf(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestReplaySendsAttachments(t *testing.T) {
	db, pdf, big := attachmentStage(t)
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	sum, err := Run(t.Context(), testConfig(t, srv.URL, db, logDir))
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("replay: %v %+v", err, sum.Failures)
	}
	got := map[string][]intercomtest.File{}
	for _, cv := range srv.Conversations() {
		for _, p := range cv.Parts {
			if len(p.Files) > 0 {
				got[p.Body] = p.Files
			}
		}
	}
	p1 := got["<p>We are on it.</p>"]
	half := len(big) / 2
	want := []intercomtest.File{
		{Name: "report.pdf", ContentType: "application/pdf", Size: int64(len(pdf)), SHA256: digestOf(pdf)},
		{Name: "big.bin.part1of2", ContentType: "application/octet-stream", Size: int64(half), SHA256: digestOf(big[:half])},
		{Name: "big.bin.part2of2", ContentType: "application/octet-stream", Size: int64(len(big) - half),
			SHA256: digestOf(big[half:])},
	}
	if fmt.Sprint(p1) != fmt.Sprint(want) {
		t.Errorf("p1 files\n got %+v\nwant %+v", p1, want)
	}
	if p2 := got["<p>Thanks!</p>"]; len(p2) != 1 || p2[0].Name != "log.txt" {
		t.Errorf("p2 files = %+v", p2)
	}
	if len(got) != 2 {
		t.Errorf("%d parts carry files, want 2", len(got))
	}
	checkLogHasNoFiles(t, logDir, pdf)

	// verify agrees, then notices a file staging expects that never arrived.
	vcfg := verifyConfig(t, srv.URL, db, logDir)
	vs, _ := verifyLines(t, vcfg)
	if f := field(vs, KindConversationPart, "attachment_count"); f.Differ != 0 || f.Compared != 2 {
		t.Errorf("attachment_count after replay = %+v", f)
	}
	execStage(t, db, `insert into stage.attachments select * replace ('extra.pdf' as file_name, 4 as position,
		99 as ord) from stage.attachments where source_id = 'm1'`)
	vs, lines := verifyLines(t, verifyConfig(t, srv.URL, db, logDir))
	if f := field(vs, KindConversationPart, "attachment_count"); f.Differ != 1 {
		t.Errorf("attachment_count with an extra staged file = %+v\n%s", f, strings.Join(lines, "\n"))
	}
}

// checkLogHasNoFiles: the write log holds digests only, never file bytes.
func checkLogHasNoFiles(t *testing.T, logDir string, data []byte) {
	t.Helper()
	entries, err := os.ReadDir(logDir)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.StdEncoding.EncodeToString(data)[:40]
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(logDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(enc)) || bytes.Contains(b, data[:40]) || bytes.Contains(b, []byte("report.pdf")) {
			t.Errorf("write log %s holds file data or names", e.Name())
		}
	}
}

// TestReplayMissingBlobFailsPart: a blob gone from the store fails the part
// that carries it, naming the attachment; the other conversations go on.
func TestReplayMissingBlobFailsPart(t *testing.T) {
	db, _, _ := attachmentStage(t)
	execStage(t, db, `update stage.attachments set blob_path = 'blobs/sha256/00/gone' where source_id = 'm3'`)
	srv := newEmulator(t, nil)
	sum, err := Run(t.Context(), testConfig(t, srv.URL, db, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range sum.Failures {
		failed = append(failed, f.Op+" "+f.Reason)
	}
	all := strings.Join(failed, "\n")
	if !strings.Contains(all, "conversation_part:p2:create") || !strings.Contains(all, "attachment activitymimeattachment m3") {
		t.Errorf("failures = %s", all)
	}
	if len(srv.Conversations()) != 3 {
		t.Errorf("conversations = %d, want 3", len(srv.Conversations()))
	}
}

func execStage(t *testing.T, path, q string) {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestDryRunChecksBlobs: a dry run reads no file but still fails the part
// whose blob is gone, and sends nothing.
func TestDryRunChecksBlobs(t *testing.T) {
	db, _, _ := attachmentStage(t)
	execStage(t, db, `update stage.attachments set blob_path = 'blobs/sha256/00/gone' where source_id = 'm3'`)
	srv := newEmulator(t, nil)
	cfg := testConfig(t, srv.URL, db, t.TempDir())
	cfg.DryRun = true
	sum, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// p3 follows p2 in its conversation, so it is skipped.
	if len(sum.Failures) != 2 || sum.Failures[0].Op != "conversation_part:p2:create" ||
		!strings.Contains(sum.Failures[0].Reason, "m3") || sum.Failures[1].Op != "conversation_part:p3:create" {
		t.Errorf("failures = %+v", sum.Failures)
	}
	if n := len(srv.Conversations()); n != 0 {
		t.Errorf("a dry run wrote %d conversations", n)
	}
}

// A delta's staging reads a file unchanged since the base from the base's
// blob store, the next of reports.blob_dirs.
func TestReplayFindsBlobsInBaseSnapshot(t *testing.T) {
	db, pdf, _ := attachmentStage(t)
	conn, err := sql.Open("duckdb", db)
	if err != nil {
		t.Fatal(err)
	}
	var delta string
	if err := conn.QueryRow("select snapshot_dir from reports.attachment_rule").Scan(&delta); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	if err := os.Rename(filepath.Join(delta, "blobs"), filepath.Join(base, "blobs")); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(`create table reports.blob_dirs (dir varchar, ord integer);
		insert into reports.blob_dirs values (?, 1), (?, 2)`, delta, filepath.ToSlash(base))
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}

	srv := newEmulator(t, nil)
	sum, err := Run(t.Context(), testConfig(t, srv.URL, db, t.TempDir()))
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("replay: %v %+v", err, sum.Failures)
	}
	var sent bool
	for _, cv := range srv.Conversations() {
		for _, p := range cv.Parts {
			for _, f := range p.Files {
				sent = sent || (f.Name == "report.pdf" && f.SHA256 == digestOf(pdf))
			}
		}
	}
	if !sent {
		t.Error("report.pdf, held only by the base's blob store, was not sent")
	}
}
