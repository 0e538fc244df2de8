package transform_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
	"github.com/d2i/d2i/transform"
)

// TestSampleOrgAttachments runs snapshot and transform over the sample org
// with its notes and e-mail attachments: both tables conserve, the e-mail
// with twelve photos spreads them over two parts, and the photo with an
// unsafe name arrives under a safe one.
func TestSampleOrgAttachments(t *testing.T) {
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
	_, err = snapshot.Run(ctx, snapshot.Config{OrgURL: srv.URL, AuthorityURL: srv.URL,
		Credentials: snapshot.Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"},
		Tables: []string{"systemuser", "queue", "account", "contact", "incident", "email", "activityparty",
			"annotation", "activitymimeattachment"},
		OutDir: snapDir, MaxPageSize: 50})
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	dbPath := filepath.Join(t.TempDir(), "s.duckdb")
	res, err := transform.Run(ctx, transform.Config{SnapshotDir: snapDir, DBPath: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Reconciliation {
		if (r.SourceTable == "annotation" || r.SourceTable == "activitymimeattachment") && (!r.Conserved || r.Staged == 0) {
			t.Errorf("%+v", r)
		}
	}
	db, err := sql.Open("duckdb", dbPath+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	one := func(q string) (n int64) {
		t.Helper()
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n := one(`select count(*) from stage.attachments where file_name = 'RE_ photos 2_2 _from phone__.jpg'`); n != 1 {
		t.Errorf("safe-named photo staged %d times, want 1", n)
	}
	if n := one(`select count(*) from stage.conversation_parts where source_table = 'attachment_overflow'`); n == 0 {
		t.Error("no e-mail spread its files over an extra part")
	}
	if n := one(`select count(*) from (select part_source_id from stage.attachments group by all having count(*) > 10)`); n != 0 {
		t.Errorf("%d parts carry more than 10 files", n)
	}
	if n := one(`select count(*) from stage.attachments a join stage.conversation_parts p
		on p.source_table = a.part_source_table and p.source_id = a.part_source_id
		where p.conversation_source_id is distinct from a.conversation_source_id`); n != 0 {
		t.Errorf("%d attachments name another conversation than their part's", n)
	}
	if n := one(`select count(*) from stage.conversation_parts where source_table = 'annotation'`); n == 0 {
		t.Error("no case note staged")
	}
}
