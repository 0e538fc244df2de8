package replay

import (
	"strings"
	"testing"

	"github.com/d2i/d2i/replay/intercomtest"
	"github.com/d2i/d2i/replay/replaytest"
)

// deltaRows is replaytest.DeltaRows: stageRows after a delta.
func deltaRows(contactAction, conversationAction string) string {
	return replaytest.DeltaRows(contactAction, conversationAction)
}

func contactNamed(srv *intercomtest.Server, externalID string) (intercomtest.Contact, bool) {
	for _, c := range srv.Contacts() {
		if c.ExternalID == externalID {
			return c, true
		}
	}
	return intercomtest.Contact{}, false
}

// A delta replay into the first run's log directory sends only what
// changed: revisions of changed objects with their before-images, the new
// contact and part, and the deletions the policy asks for; verify then
// finds every staged object equal, and a rollback of the delta run alone
// puts the first run's state back.
func TestDeltaReplay(t *testing.T) {
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	first, err := Run(t.Context(), testConfig(t, srv.URL, writeStage(t, stageRows), logDir))
	if err != nil || len(first.Failures) > 0 {
		t.Fatalf("first replay: %v %+v", err, first.Failures)
	}
	c2, _ := contactNamed(srv, "c2")

	deltaDB := writeStage(t, deltaRows("archive", "delete"))
	sum, err := Run(t.Context(), testConfig(t, srv.URL, deltaDB, logDir))
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("delta replay: %v %+v", err, sum.Failures)
	}
	wantCounts := map[string]KindCounts{
		KindContact:                {Created: 1, Skipped: 2},
		KindContactUpdate:          {Existing: 1},
		KindCompanyUpdate:          {Existing: 1},
		KindConversation:           {Skipped: 2},
		KindConversationPart:       {Created: 1, Skipped: 5},
		KindConversationAttributes: {Created: 1, Skipped: 2},
		KindDeletion:               {Created: 2, Skipped: 1},
	}
	for kind, want := range wantCounts {
		if got := sum.Kinds[kind]; got == nil || *got != want {
			t.Errorf("delta replay %s = %+v, want %+v", kind, got, want)
		}
	}
	checkDeltaApplied(t, srv, c2.ID)

	// The same delta again sends nothing.
	again, err := Run(t.Context(), testConfig(t, srv.URL, deltaDB, logDir))
	if err != nil {
		t.Fatal(err)
	}
	for kind, kc := range again.Kinds {
		if kc.Created+kc.Existing+kc.Failed != 0 {
			t.Errorf("rerun of the delta wrote %s: %+v", kind, *kc)
		}
	}

	vs, err := Verify(t.Context(), VerifyConfig{DBPath: deltaDB, LogDir: logDir, BaseURL: srv.URL, Token: secretToken,
		OutDir: t.TempDir(), Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	if !vs.Clean() || vs.Kinds[KindContact] == nil || vs.Kinds[KindContact].Equal != 3 {
		for kind, c := range vs.Kinds {
			t.Errorf("verify after the delta: %s %+v", kind, *c)
		}
	}

	rs, err := Rollback(t.Context(), RollbackConfig{BaseURL: srv.URL, Token: secretToken, LogDir: logDir,
		RunID: sum.RunID, Retry: fastRetry})
	if err != nil || len(rs.Failures) > 0 {
		t.Fatalf("rollback of the delta run: %v %+v", err, rs)
	}
	checkDeltaUndone(t, srv, c2.ID, rs)
}

func checkDeltaApplied(t *testing.T, srv *intercomtest.Server, c2ID string) {
	t.Helper()
	if ana, ok := contactNamed(srv, "c1"); !ok || ana.Name != "Ana Lima" {
		t.Errorf("c1 after the delta: %+v", ana)
	}
	if _, ok := contactNamed(srv, "c4"); !ok {
		t.Error("new contact c4 not created")
	}
	if c2, ok := contactNamed(srv, "c2"); !ok || !c2.Archived || c2.ID != c2ID {
		t.Errorf("c2 should be archived: %+v", c2)
	}
	for _, co := range srv.Companies() {
		if co.CompanyID == "acc1" && co.Website != "contoso.example.org" {
			t.Errorf("acc1 website = %q", co.Website)
		}
	}
	convs := srv.Conversations()
	if len(convs) != 2 {
		t.Errorf("conversations after deleting inc3: %d, want 2", len(convs))
	}
	for _, cv := range convs {
		if strings.HasPrefix(cv.Title, "Printer") && cv.Title != "Printer on fire (resolved)" {
			t.Errorf("inc1 title = %q", cv.Title)
		}
	}
}

func checkDeltaUndone(t *testing.T, srv *intercomtest.Server, c2ID string, rs *RollbackSummary) {
	t.Helper()
	if ana, _ := contactNamed(srv, "c1"); ana.Name != "Ana" {
		t.Errorf("c1 after rolling back the delta: name %q, want Ana", ana.Name)
	}
	if c2, ok := contactNamed(srv, "c2"); !ok || c2.Archived || c2.ID != c2ID {
		t.Errorf("c2 after rolling back the delta: %+v (want unarchived)", c2)
	}
	if _, ok := contactNamed(srv, "c4"); ok {
		t.Error("c4, created by the delta, survived its rollback")
	}
	for _, co := range srv.Companies() {
		if co.CompanyID == "acc1" && co.Website != "contoso.example" {
			t.Errorf("acc1 website after rollback = %q", co.Website)
		}
	}
	var deletedResidue bool
	for _, r := range rs.Residue {
		deletedResidue = deletedResidue || (r.Kind == KindDeletion && strings.Contains(r.Reason, "cannot bring it back"))
	}
	if !deletedResidue {
		t.Errorf("the deleted conversation is not listed as residue: %+v", rs.Residue)
	}
	if len(srv.Conversations()) != 2 {
		t.Errorf("conversations after rollback: %d (inc3 stays deleted)", len(srv.Conversations()))
	}
}

// With the default policy a deletion in the source leaves Intercom alone.
func TestDeltaReplayKeepsDeleted(t *testing.T) {
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	if _, err := Run(t.Context(), testConfig(t, srv.URL, writeStage(t, stageRows), logDir)); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(t.Context(), testConfig(t, srv.URL, writeStage(t, deltaRows("keep", "keep")), logDir))
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("delta replay: %v %+v", err, sum.Failures)
	}
	if got := sum.Kinds[KindDeletion]; got == nil || *got != (KindCounts{Existing: 2, Skipped: 1}) {
		t.Errorf("deletions = %+v, want 2 kept and 1 never written", got)
	}
	if c2, ok := contactNamed(srv, "c2"); !ok || c2.Archived {
		t.Errorf("c2 kept: %+v", c2)
	}
	if n := len(srv.Conversations()); n != 3 {
		t.Errorf("conversations = %d, want 3 kept", n)
	}
}

// Each revision of a contact is undone by its own before-image (newest
// first, so the oldest one's is written last), and nothing is restored of an
// object the rollback deletes anyway.
func TestRollbackRevisionsPlan(t *testing.T) {
	mk := func(kind, sid, step, id string, existing bool, before string) written {
		w := written{intent: Record{Kind: kind, SourceID: sid, Step: step, Op: kind + ":" + sid + ":" + step},
			outcome: Record{Op: kind + ":" + sid + ":" + step, IntercomID: id, Existing: existing}}
		if before != "" {
			w.outcome.Before = []byte(before)
		}
		return w
	}
	ops := []written{
		mk(KindContact, "c1", "create", "ct1", true, ""),  // matched: never deleted
		mk(KindContact, "c2", "create", "ct2", false, ""), // created: deleted by the rollback
		mk(KindContactUpdate, "c1", "rev-1", "ct1", true, `{"name":"A"}`),
		mk(KindContactUpdate, "c2", "rev-1", "ct2", true, `{"name":"B"}`),
		mk(KindContactUpdate, "c1", "rev-2", "ct1", true, `{"name":"A2"}`),
	}
	steps := planUndo(nil, ops)
	got := map[string]UndoAction{}
	for _, s := range steps {
		got[s.w.outcome.Op] = s.action
	}
	want := map[string]UndoAction{
		"contact:c2:create":       UndoDelete,
		"contact_update:c1:rev-1": UndoRestore,
		"contact_update:c2:rev-1": UndoRemoved,
		"contact_update:c1:rev-2": UndoRestore,
	}
	for op, a := range want {
		if got[op] != a {
			t.Errorf("%s: %q, want %q", op, got[op], a)
		}
	}
	if _, ok := got["contact:c1:create"]; ok {
		t.Error("a matched contact without before-image got an undo step")
	}
}
