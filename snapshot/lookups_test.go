package snapshot_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// noLookupNames asks for formatted values only, as a client that does not
// request every annotation would, and records list queries.
type noLookupNames struct {
	mu    sync.Mutex
	lists []string
}

func (n *noLookupNames) RoundTrip(r *http.Request) (*http.Response, error) {
	if p := r.Header.Get("Prefer"); strings.Contains(p, "include-annotations") {
		r = r.Clone(r.Context())
		r.Header.Set("Prefer", strings.Replace(p, `odata.include-annotations="*"`,
			`odata.include-annotations="OData.Community.Display.V1.FormattedValue"`, 1))
		n.mu.Lock()
		n.lists = append(n.lists, r.URL.RawQuery)
		n.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// Against the emulator at 2000 cases: every attachment and note file is
// stored under its sha256 (the large PDF through blocks), list queries
// never select a body, and lookups sent without lookuplogicalname get
// their table from metadata Targets, the rest counted.
func TestBlobsAndLookupsAgainstEmulator(t *testing.T) {
	org, err := sampleorg.New(sampleorg.Options{Seed: 3, Cases: sampleorg.LargeFileThreshold})
	if err != nil {
		t.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{})
	defer srv.Close()
	tr := &noLookupNames{}
	tables := []string{"activitymimeattachment", "annotation", "email", "contact", "account", "systemuser", "team"}
	dir := filepath.Join(t.TempDir(), "snap")
	m, err := snapshot.Run(context.Background(), snapshot.Config{
		OrgURL: srv.URL, AuthorityURL: srv.URL, Tables: tables, OutDir: dir,
		Credentials: snapshot.Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"},
		HTTPClient:  &http.Client{Transport: tr},
		Retry:       snapshot.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range tr.lists {
		if strings.Contains(q, "documentbody") || strings.Contains(q, ",body") || strings.Contains(q, "=body") {
			t.Errorf("list query selects a body: %s", q)
		}
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkAttachments(t, db, dir, org)

	att := m.Tables["activitymimeattachment"]
	t.Logf("attachments %d, blobs %+v, resolved %v unresolved %v", att.Rows, att.Blobs, att.ResolvedLookups, att.UnresolvedLookups)
	if att.Blobs == nil || att.Blobs.Failed != 0 || att.Blobs.Files != att.Rows {
		t.Errorf("attachment blobs = %+v for %d rows", att.Blobs, att.Rows)
	}
	if att.ResolvedLookups["_objectid_value"] == 0 || att.UnresolvedLookups["_objectid_value"] != 0 {
		t.Errorf("objectid resolved %v unresolved %v", att.ResolvedLookups, att.UnresolvedLookups)
	}
	var wrong int
	q := `select count(*) from '` + dir + `/tables/activitymimeattachment/*.parquet' a
	  where _objectid_value__lookuplogicalname is distinct from 'email'`
	if err := db.QueryRow(q).Scan(&wrong); err != nil || wrong != 0 {
		t.Errorf("%d attachments not resolved to email (%v)", wrong, err)
	}
	note := m.Tables["annotation"]
	if note.Blobs == nil || note.Blobs.Failed != 0 || note.Blobs.Files == 0 {
		t.Errorf("note blobs = %+v", note.Blobs)
	}
	// Owners are systemuser or team, both snapshotted: all resolve. Lookups
	// to tables left out (e.g. the incident a note is about) stay counted.
	if note.UnresolvedLookups["_ownerid_value"] != 0 || note.ResolvedLookups["_ownerid_value"] == 0 {
		t.Errorf("note owner resolved %v unresolved %v", note.ResolvedLookups, note.UnresolvedLookups)
	}
	var unres int64
	q = `select count(*) from '` + dir + `/tables/annotation/*.parquet' where _objectid_value is not null and _objectid_value__lookuplogicalname is null`
	if err := db.QueryRow(q).Scan(&unres); err != nil || unres != note.UnresolvedLookups["_objectid_value"] {
		t.Errorf("note objectid: parquet has %d unresolved, manifest %v (%v)", unres, note.UnresolvedLookups, err)
	}
}

// checkAttachments compares every stored blob with the emulator's file and
// finds the 12-attachment e-mail and the large PDF.
func checkAttachments(t *testing.T, db *sql.DB, dir string, org *sampleorg.Org) {
	t.Helper()
	want := map[string]string{}
	var large string
	for i := range org.Count("activitymimeattachment") {
		row, err := org.Row("activitymimeattachment", i)
		if err != nil {
			t.Fatal(err)
		}
		b := row["body"].(sampleorg.Blob)
		h := sha256.New()
		io.Copy(h, io.NewSectionReader(b, 0, b.Size))
		id := org.ID("activitymimeattachment", i)
		want[id] = hex.EncodeToString(h.Sum(nil))
		if b.Size > 5<<20 {
			large = id
		}
	}
	rows, err := db.Query(`select activitymimeattachmentid, body__sha256, body__size, count(*) over (partition by _objectid_value)
	  from '` + dir + `/tables/activitymimeattachment/*.parquet'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	twelve, seen := 0, 0
	for rows.Next() {
		var id, sum string
		var size, siblings int64
		if err := rows.Scan(&id, &sum, &size, &siblings); err != nil {
			t.Fatal(err)
		}
		seen++
		if sum != want[id] {
			t.Errorf("attachment %s: sha %s, emulator %s", id, sum, want[id])
		}
		if siblings == 12 {
			twelve++
		}
		if id == large && size < 5<<20 {
			t.Errorf("large attachment size %d", size)
		}
	}
	if seen != len(want) || twelve < 12 || large == "" {
		t.Errorf("attachments %d of %d, in 12-attachment e-mails %d, large %q", seen, len(want), twelve, large)
	}
}
