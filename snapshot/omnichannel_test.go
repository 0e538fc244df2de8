package snapshot_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

var omnichannelTables = []string{"msdyn_ocliveworkitem", "msdyn_ocsession", "msdyn_transcript", "msdyn_ocrecording"}

// omniSnapshot snapshots the Omnichannel tables and the notes of a small
// org from the emulator.
func omniSnapshot(t *testing.T, omnichannel, withRecordings bool) (*sampleorg.Org, *snapshot.Manifest, string) {
	t.Helper()
	org, err := sampleorg.New(sampleorg.Options{Seed: 21, Cases: 120, Omnichannel: omnichannel})
	if err != nil {
		t.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{TenantID: "t-oc", ClientID: "c-oc", ClientSecret: "s-oc"})
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "snap")
	m, err := snapshot.Run(context.Background(), snapshot.Config{
		OrgURL: srv.URL, AuthorityURL: srv.URL,
		Credentials: snapshot.Credentials{TenantID: "t-oc", ClientID: "c-oc", ClientSecret: "s-oc"},
		Tables:      append([]string{"annotation"}, omnichannelTables...),
		OutDir:      dir,
		MaxPageSize: 25,
		Retry:       snapshot.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond, MaxAttempts: 5},
		// Small chunks, so that a recording takes several range requests.
		Blobs:          snapshot.BlobOptions{BlockSize: 64 << 10},
		WithRecordings: withRecordings,
	})
	if err != nil {
		t.Fatal(err)
	}
	return org, m, dir
}

func openDuck(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func parquetOf(dir, table string) string {
	return "'" + filepath.Join(dir, "tables", table, "*.parquet") + "'"
}

func TestSnapshotOmnichannelTables(t *testing.T) {
	org, m, dir := omniSnapshot(t, true, false)
	db := openDuck(t)
	if !m.Complete {
		t.Fatal("snapshot incomplete")
	}
	for _, table := range append([]string{"annotation"}, omnichannelTables...) {
		tm, want := m.Tables[table], int64(org.Count(table))
		var n int64
		if err := db.QueryRow(`select count(*) from ` + parquetOf(dir, table)).Scan(&n); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if tm.Status != snapshot.StatusComplete || tm.Rows != want || tm.SourceCount != want || n != want {
			t.Errorf("%s: status %s rows %d source_count %d parquet %d, org has %d",
				table, tm.Status, tm.Rows, tm.SourceCount, n, want)
		}
	}
	if org.Count("msdyn_ocrecording") == 0 || org.Count("msdyn_transcript") == 0 {
		t.Fatalf("the org has %d recordings and %d transcripts", org.Count("msdyn_ocrecording"), org.Count("msdyn_transcript"))
	}

	checkChannels(t, db, dir, org)
	checkTranscriptBodies(t, db, dir, org)

	// Recordings are sized, not downloaded.
	rec := m.Tables["msdyn_ocrecording"].Blobs
	if rec == nil || rec.SizeOnly != 2*int64(org.Count("msdyn_ocrecording")) || rec.Files != 0 || rec.Failed != 0 {
		t.Fatalf("recording blob stats %+v, want %d sized only", rec, 2*org.Count("msdyn_ocrecording"))
	}
	for i, got := range recordingColumns(t, db, dir, org) {
		f, _ := org.File("msdyn_ocrecording", "msdyn_recording", i)
		if got.size != f.Size || got.sha != "" {
			t.Errorf("recording %d: size %d sha %q, want size %d and no blob", i, got.size, got.sha, f.Size)
		}
	}
}

func TestSnapshotWithRecordingsDownloadsThem(t *testing.T) {
	org, m, dir := omniSnapshot(t, true, true)
	db := openDuck(t)
	rec := m.Tables["msdyn_ocrecording"].Blobs
	n := int64(org.Count("msdyn_ocrecording"))
	if rec == nil || rec.Files != 2*n || rec.SizeOnly != 0 || rec.Failed != 0 {
		t.Fatalf("recording blob stats %+v, want %d files", rec, 2*n)
	}
	for i, got := range recordingColumns(t, db, dir, org) {
		f, _ := org.File("msdyn_ocrecording", "msdyn_recording", i)
		want := sha256.New()
		if _, err := io.Copy(want, io.NewSectionReader(f, 0, f.Size)); err != nil {
			t.Fatal(err)
		}
		if got.size != f.Size || got.sha != hex.EncodeToString(want.Sum(nil)) {
			t.Errorf("recording %d: size %d sha %s, want %d bytes", i, got.size, got.sha, f.Size)
			continue
		}
		if st, err := os.Stat(filepath.Join(dir, "blobs", "sha256", got.sha[:2], got.sha[2:])); err != nil || st.Size() != f.Size {
			t.Errorf("recording %d blob: %v", i, err)
		}
	}
}

func TestSnapshotWithoutOmnichannelRecordsAbsent(t *testing.T) {
	_, m, _ := omniSnapshot(t, false, false)
	if !m.Complete || m.Tables["annotation"].Status != snapshot.StatusComplete {
		t.Fatalf("complete %v, annotation %+v", m.Complete, m.Tables["annotation"])
	}
	for _, table := range omnichannelTables {
		if tm := m.Tables[table]; tm == nil || tm.Status != snapshot.StatusAbsent || tm.Rows != 0 || tm.Error != "" {
			t.Errorf("%s: %+v, want absent", table, tm)
		}
	}
}

// checkChannels: the multi-select msdyn_channel is a list with labels.
func checkChannels(t *testing.T, db *sql.DB, dir string, org *sampleorg.Org) {
	t.Helper()
	row, _ := org.Row("msdyn_ocliveworkitem", 0)
	var channel, label string
	q := `select msdyn_channel[1]::varchar, msdyn_channel__label[1] from ` + parquetOf(dir, "msdyn_ocliveworkitem") +
		` where activityid = ?`
	if err := db.QueryRow(q, row["activityid"]).Scan(&channel, &label); err != nil {
		t.Fatal(err)
	}
	want := map[int]string{192360000: "Live chat", 192370000: "Voice", 192340000: "SMS", 192300000: "WhatsApp",
		192330000: "Facebook", 19241000: "Microsoft Teams"}[row["msdyn_channel"].([]int)[0]]
	if label != want || channel == "" {
		t.Errorf("conversation 0 channel %s %q, want label %q", channel, label, want)
	}
}

// checkTranscriptBodies: every transcript note's JSON is in the blob store.
func checkTranscriptBodies(t *testing.T, db *sql.DB, dir string, org *sampleorg.Org) {
	t.Helper()
	rows, err := db.Query(`select annotationid, documentbody__sha256, documentbody__size from ` +
		parquetOf(dir, "annotation") + ` where objecttypecode = 'msdyn_transcript'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		var sum sql.NullString
		var size sql.NullInt64
		if err := rows.Scan(&id, &sum, &size); err != nil {
			t.Fatal(err)
		}
		n++
		a, _ := org.IndexOf("annotation", id)
		note, _ := org.Row("annotation", a)
		body := note["documentbody"].(sampleorg.Blob)
		raw := make([]byte, body.Size)
		_, _ = body.ReadAt(raw, 0)
		got, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", sum.String[:min(2, len(sum.String))], sum.String[min(2, len(sum.String)):]))
		if err != nil || string(got) != string(raw) || size.Int64 != body.Size {
			t.Errorf("transcript note %s: blob %q size %d: %v", id, sum.String, size.Int64, err)
		}
	}
	if n != org.Count("msdyn_transcript") {
		t.Errorf("%d transcript notes in the snapshot, want %d", n, org.Count("msdyn_transcript"))
	}
}

type fileCols struct {
	size int64
	sha  string
}

// recordingColumns reads msdyn_recording__size and __sha256 per recording index.
func recordingColumns(t *testing.T, db *sql.DB, dir string, org *sampleorg.Org) map[int]fileCols {
	t.Helper()
	rows, err := db.Query(`select msdyn_ocrecordingid, msdyn_recording__size, coalesce(msdyn_recording__sha256, '') from ` +
		parquetOf(dir, "msdyn_ocrecording"))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int]fileCols{}
	for rows.Next() {
		var id string
		var c fileCols
		var size sql.NullInt64
		if err := rows.Scan(&id, &size, &c.sha); err != nil {
			t.Fatal(err)
		}
		c.size = size.Int64
		i, ok := org.IndexOf("msdyn_ocrecording", id)
		if !ok {
			t.Fatalf("recording %s is not in the org", id)
		}
		out[i] = c
	}
	if len(out) != org.Count("msdyn_ocrecording") {
		t.Fatalf("%d recordings read, org has %d", len(out), org.Count("msdyn_ocrecording"))
	}
	return out
}
