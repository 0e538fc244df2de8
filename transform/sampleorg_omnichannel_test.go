package transform_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
	"github.com/d2i/d2i/transform"
)

// omnichannelOrg snapshots the demo org with Omnichannel (d2i demo
// --omnichannel) and transforms it.
func omnichannelOrg(t *testing.T) (string, *transform.Result) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end")
	}
	org, err := sampleorg.New(sampleorg.Options{Seed: 7, Cases: 60, Omnichannel: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{})
	defer srv.Close()
	snapDir := t.TempDir()
	ctx := context.Background()
	_, err = snapshot.Run(ctx, snapshot.Config{
		OrgURL: srv.URL, AuthorityURL: srv.URL,
		Credentials: snapshot.Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"},
		Tables: []string{"systemuser", "queue", "account", "contact", "incident", "email", "activityparty",
			"annotation", "entitlement", "entitlementchannel", "msdyn_ocliveworkitem", "msdyn_ocsession",
			"msdyn_transcript", "msdyn_ocrecording"},
		OutDir: snapDir, MaxPageSize: 50,
	})
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	dbPath := filepath.Join(t.TempDir(), "s.duckdb")
	res, err := transform.Run(ctx, transform.Config{SnapshotDir: snapDir, DBPath: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	return dbPath, res
}

func queryInts(t *testing.T, dbPath, q string) []int64 {
	t.Helper()
	db, err := sql.Open("duckdb", dbPath+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	row := db.QueryRow(q)
	vals := make([]int64, 4)
	if err := row.Scan(&vals[0], &vals[1], &vals[2], &vals[3]); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return vals
}

// One snapshot of the demo org serves both checks: it is the slow part.
func TestSampleOrgOmnichannelAndCaseLinks(t *testing.T) {
	dbPath, res := omnichannelOrg(t)
	t.Run("omnichannel", func(t *testing.T) { checkOmnichannel(t, dbPath, res) })
	t.Run("case links", func(t *testing.T) { checkCaseLinks(t, dbPath) })
}

// The demo org's Omnichannel conversations arrive: every row conserves, and
// chats become parts on their cases and conversations of their own.
func checkOmnichannel(t *testing.T, dbPath string, res *transform.Result) {
	seen := map[string]bool{}
	for _, r := range res.Reconciliation {
		seen[r.SourceTable] = true
		if strings.HasPrefix(r.SourceTable, "msdyn_") {
			t.Logf("%+v", r)
		}
		if !r.Conserved {
			t.Errorf("%s does not conserve: %+v", r.SourceTable, r)
		}
	}
	for _, tb := range []string{"msdyn_ocliveworkitem", "msdyn_ocsession", "msdyn_transcript", "msdyn_ocrecording"} {
		if !seen[tb] {
			t.Errorf("%s not reconciled", tb)
		}
	}
	got := queryInts(t, dbPath, `select
		(select count(*) from stage.conversations where source_table = 'msdyn_ocliveworkitem'),
		(select count(distinct conversation_source_id) from stage.conversation_parts
			where source_table = 'msdyn_transcript_message' and conversation_source_id in
				(select source_id from stage.conversations where source_table = 'incident')),
		(select count(*) from stage.conversation_parts
			where source_table = 'msdyn_transcript_message' and author_type = 'contact'),
		(select count(*) from stage.conversation_parts
			where source_table = 'msdyn_transcript_message' and author_type = 'admin' and message_type = 'comment')`)
	t.Logf("standalone %d, cases with chats %d, customer lines %d, agent replies %d", got[0], got[1], got[2], got[3])
	for i, what := range []string{"standalone conversations", "cases with chat parts", "customer lines",
		"agent replies"} {
		if got[i] == 0 {
			t.Errorf("no %s: %v", what, got)
		}
	}
}

// The demo org sets entitlementid and parentcaseid on some cases: their
// conversations carry the entitlement block and the parent case number.
func checkCaseLinks(t *testing.T, dbPath string) {
	got := queryInts(t, dbPath, `select
		(select count(*) from stage.conversations where custom_attributes->>'dynamics_entitlement' is not null),
		(select count(*) from stage.conversations
			where custom_attributes->>'dynamics_parent_case_number' like 'CAS-%'),
		(select count(*) from src.incident where _entitlementid_value is not null),
		(select count(*) from src.incident where _parentcaseid_value is not null)`)
	t.Logf("entitlement %d, parent case number %d (cases with them: %d, %d)", got[0], got[1], got[2], got[3])
	if got[0] == 0 || got[1] == 0 {
		t.Errorf("conversations with an entitlement %d, with a parent case number %d (cases with them: %d, %d)",
			got[0], got[1], got[2], got[3])
	}
}
