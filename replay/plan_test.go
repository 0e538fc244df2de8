package replay

import (
	"testing"
	"time"
)

// intentsByKind counts a log's intents (requests) per kind and the reads
// its outcomes record per kind.
func intentsByKind(recs []Record) (writes, reads, attempts map[string]int) {
	writes, reads, attempts = map[string]int{}, map[string]int{}, map[string]int{}
	kindOf := map[string]string{}
	for _, r := range recs {
		switch r.Type {
		case "intent":
			writes[r.Kind]++
			kindOf[r.Op] = r.Kind
		case "outcome":
			reads[kindOf[r.Op]] += int(r.Lookups)
			attempts[kindOf[r.Op]] += int(r.Attempts)
		}
	}
	return writes, reads, attempts
}

// stageRowsPlan is what stageRows needs: every staged object once, state
// steps for the closed (assign admin, assign team, close) and the snoozed
// conversation (assign admin, snooze), none for the open lead conversation.
var stageRowsPlan = []KindPlan{
	{Kind: KindDataAttribute, Objects: 4, Writes: 4},
	{Kind: KindCompany, Objects: 2, Writes: 2, Reads: 2},
	{Kind: KindCompanyUpdate},
	{Kind: KindContact, Objects: 3, Writes: 3},
	{Kind: KindContactUpdate},
	{Kind: KindContactCompany, Objects: 2, Writes: 2},
	{Kind: KindContactNote},
	{Kind: KindCollection},
	{Kind: KindArticle},
	{Kind: KindConversation, Objects: 3, Writes: 3},
	{Kind: KindConversationPart, Objects: 6, Writes: 6},
	{Kind: KindConversationAttributes, Objects: 3, Writes: 3},
	{Kind: KindConversationState, Objects: 2, Writes: 5},
	{Kind: KindTag},
	{Kind: KindConversationTag},
	{Kind: KindContactTag},
	{Kind: KindCompanyTag},
	{Kind: KindDeletion},
}

func TestPlanCountsStage(t *testing.T) {
	p, err := Plan(t.Context(), PlanConfig{DBPath: writeStage(t, stageRows), RatePerMinute: 600})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Kinds) != len(stageRowsPlan) {
		t.Fatalf("kinds = %+v", p.Kinds)
	}
	for i, want := range stageRowsPlan {
		got := p.Kinds[i]
		want.Duration = time.Duration(want.Requests()) * 100 * time.Millisecond // 600/min = 10/s
		if got != want {
			t.Errorf("kind %d = %+v, want %+v", i, got, want)
		}
	}
	// 28 writes, 2 company before-images, 3 attribute lists, admins, teams.
	if p.WorkspaceReads != 5 || p.Requests != 35 || p.Duration != 3500*time.Millisecond {
		t.Errorf("workspace reads %d, requests %d, duration %v; want 5, 35, 3.5s",
			p.WorkspaceReads, p.Requests, p.Duration)
	}
	if len(p.Checklist) == 0 {
		t.Error("no workspace checklist")
	}
}

// TestPlanMatchesRuns: the plan's writes per kind are the intents of a dry
// run and of a real run of the same staging, and a real run without faults
// sends each of them once.
func TestPlanMatchesRuns(t *testing.T) {
	db := writeStage(t, stageRows)
	p, err := Plan(t.Context(), PlanConfig{DBPath: db})
	if err != nil {
		t.Fatal(err)
	}
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	cfg := testConfig(t, srv.URL, db, logDir)
	cfg.DryRun = true
	dry, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DryRun = false
	real, err := Run(t.Context(), cfg)
	if err != nil || len(real.Failures) > 0 {
		t.Fatalf("real run: %v %+v", err, real.Failures)
	}
	dryWrites, dryReads, dryAttempts := intentsByKind(readRecords(t, dry.LogPath))
	realWrites, realReads, realAttempts := intentsByKind(readRecords(t, real.LogPath))
	for _, k := range p.Kinds {
		if dryWrites[k.Kind] != k.Writes || dryReads[k.Kind] != k.Reads || dryAttempts[k.Kind] != 0 {
			t.Errorf("%s: dry run intents %d reads %d attempts %d, plan writes %d reads %d",
				k.Kind, dryWrites[k.Kind], dryReads[k.Kind], dryAttempts[k.Kind], k.Writes, k.Reads)
		}
		if realWrites[k.Kind] != k.Writes || realAttempts[k.Kind] != k.Writes || realReads[k.Kind] != k.Reads {
			t.Errorf("%s: real run intents %d attempts %d reads %d, plan writes %d reads %d",
				k.Kind, realWrites[k.Kind], realAttempts[k.Kind], realReads[k.Kind], k.Writes, k.Reads)
		}
	}

	// After the real run, a plan over its logs has nothing left to write.
	rest, err := Plan(t.Context(), PlanConfig{DBPath: db, LogDir: logDir})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range rest.Kinds {
		if k.Writes != 0 || k.Reads != 0 {
			t.Errorf("after the run, plan still has %+v", k)
		}
	}
}

// TestPlanWithoutStagedAdmins: an unowned closed conversation is still
// closed, as the token's admin, so its close is planned.
func TestPlanWithoutStagedAdmins(t *testing.T) {
	rows := `
insert into stage.contacts values
  ('contact','c1','user','c1','ana@example.com','Ana',null,null,null,[],'{"dynamics_contact_id":"c1"}',1);
insert into stage.conversations values
  ('incident','inc1','c1',null,null,null,null,'<p>Hello</p>',1600000000,1600000000,'closed',null,1600000100,
   null,1);`
	p, err := Plan(t.Context(), PlanConfig{DBPath: writeStage(t, rows)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, k := range p.Kinds {
		got[k.Kind] = k.Writes
	}
	want := map[string]int{KindContact: 1, KindConversation: 1, KindConversationState: 1}
	for _, kind := range planKinds {
		if got[kind] != want[kind] {
			t.Errorf("%s: %d writes, want %d", kind, got[kind], want[kind])
		}
	}
}
