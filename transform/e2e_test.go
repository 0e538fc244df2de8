package transform_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/d2i/d2i/report"
	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
	"github.com/d2i/d2i/transform"
)

// End to end over the emulator: a generated org is snapshotted and
// transformed, and every source table must conserve its rows.
func TestEndToEndSampleOrgConserves(t *testing.T) {
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
	_, err = snapshot.Run(ctx, snapshot.Config{
		OrgURL:       srv.URL,
		AuthorityURL: srv.URL,
		Credentials:  snapshot.Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"},
		Tables: []string{"systemuser", "queue", "account", "contact", "incident", "email",
			"activityparty", "queueitem", "sla", "slaitem", "slakpiinstance", "entitlement", "entitlementchannel"},
		OutDir:      snapDir,
		MaxPageSize: 50,
	})
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}

	dbPath := filepath.Join(t.TempDir(), "s.duckdb")
	res, err := transform.Run(ctx, transform.Config{SnapshotDir: snapDir, DBPath: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Reconciliation {
		t.Logf("%+v", r)
		if !r.Conserved {
			t.Errorf("%s does not conserve", r.SourceTable)
		}
	}
	if res.Staged["conversations"] == 0 || res.Staged["contacts"] == 0 || res.Staged["conversation_parts"] == 0 {
		t.Errorf("nothing staged: %v", res.Staged)
	}
	t.Logf("notes: %v", res.Notes)
	checkSLAAttributes(t, dbPath)

	rep, err := report.Build(ctx, report.Config{DBPath: dbPath, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.AllOK {
		t.Errorf("reconciliation report has ✗ rows: %s", rep.Markdown)
	}
}

// checkSLAAttributes: every case whose SLA timers were consumed carries SLA
// attributes, and the sample org's timers make some.
func checkSLAAttributes(t *testing.T, dbPath string) {
	t.Helper()
	db, err := sql.Open("duckdb", dbPath+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var withSLA, consumedCases, definitions, slaRows int
	err = db.QueryRow(`select
		(select count(*) from stage.conversations where custom_attributes->>'dynamics_first_response_by' is not null
			or custom_attributes->>'dynamics_resolve_by' is not null),
		(select count(distinct k._regarding_value) from reports.out_of_scope o
			join src.slakpiinstance k on k.slakpiinstanceid = o.source_id
			where o.source_table = 'slakpiinstance' and o.reason like 'consumed%'),
		(select count(distinct sla_id) from reports.sla_definitions),
		(select count(*) from src.sla)`).Scan(&withSLA, &consumedCases, &definitions, &slaRows)
	if err != nil {
		t.Fatal(err)
	}
	if withSLA == 0 || withSLA != consumedCases {
		t.Errorf("%d conversations carry SLA attributes, %d cases had timers consumed", withSLA, consumedCases)
	}
	if definitions == 0 || definitions != slaRows {
		t.Errorf("reports.sla_definitions covers %d SLAs, the snapshot has %d", definitions, slaRows)
	}
}
