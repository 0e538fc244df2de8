package replay

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// Rolling back delta 1 while delta 2 still stands on the same contact
// holds c1 back (its before-image would undo delta 2 too); once delta 2 is
// rolled back, rolling back delta 1 again puts back what the base run wrote.
func TestDeltaRollbackOutOfOrderHoldsBack(t *testing.T) {
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	deltaRun(t, srv.URL, writeStage(t, stageRows), logDir)
	d1 := deltaRun(t, srv.URL, writeStage(t, deltaRows("keep", "keep")), logDir)
	d2rows := strings.Replace(deltaRows("keep", "keep"), "'Ana Lima'", "'Ana Maria'", 1)
	d2 := deltaRun(t, srv.URL, writeStage(t, d2rows), logDir)

	rs := deltaRollback(t, srv.URL, logDir, d1.RunID)
	if mid, _ := contactNamed(srv, "c1"); mid.Name != "Ana Maria" {
		t.Errorf("rolling back delta 1 under delta 2 changed c1 to %q", mid.Name)
	}
	held := false
	for _, h := range rs.HeldBack {
		held = held || (h.Kind == KindContactUpdate && strings.Contains(h.Reason, "revised again by a later run"))
	}
	if !held {
		t.Errorf("c1's revision by delta 1 is not held back: %+v", rs.HeldBack)
	}

	deltaRollback(t, srv.URL, logDir, d2.RunID)
	if ana, _ := contactNamed(srv, "c1"); ana.Name != "Ana Lima" {
		t.Errorf("after rolling back delta 2: c1 = %q, want Ana Lima", ana.Name)
	}
	deltaRollback(t, srv.URL, logDir, d1.RunID)
	if ana, _ := contactNamed(srv, "c1"); ana.Name != "Ana" {
		t.Errorf("after rolling back delta 1 again: c1 = %q, want Ana", ana.Name)
	}
}

// A delta closes the conversation the base run snoozed (inc3).
func TestDeltaClosesSnoozed(t *testing.T) {
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	deltaRun(t, srv.URL, writeStage(t, stageRows), logDir)
	rows := strings.Replace(stageRows, "'snoozed',4102444800,null", "'closed',null,1600300000", 1)
	if rows == stageRows {
		t.Fatal("replace failed")
	}
	deltaRun(t, srv.URL, writeStage(t, rows), logDir)
	for _, cv := range srv.Conversations() {
		if cv.Title == "Later" && cv.State != "closed" {
			t.Errorf("inc3 state %q, want closed", cv.State)
		}
	}
}

// Delta 1 reopens inc1, delta 2 closes it again.
func TestDeltaReopenThenClose(t *testing.T) {
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	deltaRun(t, srv.URL, writeStage(t, stageRows), logDir)
	open := strings.Replace(stageRows, "1600000000,1600009000,'closed',null,1600009000", "1600000000,1600009000,'open',null,null", 1)
	if open == stageRows {
		t.Fatal("replace failed")
	}
	deltaRun(t, srv.URL, writeStage(t, open), logDir)
	for _, cv := range srv.Conversations() {
		if cv.Title == "Printer on fire" && cv.State != "open" {
			t.Errorf("after delta 1 inc1 state %q, want open", cv.State)
		}
	}
	deltaRun(t, srv.URL, writeStage(t, stageRows), logDir)
	for _, cv := range srv.Conversations() {
		if cv.Title == "Printer on fire" && cv.State != "closed" {
			t.Errorf("after delta 2 inc1 state %q, want closed", cv.State)
		}
	}
}

// After a delta deleted c2 and inc3 (policy delete), a replay of a staging
// that holds them again (the full staging) should create them again, as the
// rollback residue reason promises.
func TestDeltaDeletedThenStagedAgain(t *testing.T) {
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	base := writeStage(t, stageRows)
	deltaRun(t, srv.URL, base, logDir)
	deltaRun(t, srv.URL, writeStage(t, deltaRows("delete", "delete")), logDir)
	if _, ok := contactNamed(srv, "c2"); ok {
		t.Fatal("c2 not deleted by the delta")
	}
	sum := deltaRun(t, srv.URL, base, logDir)
	if _, ok := contactNamed(srv, "c2"); !ok {
		t.Errorf("c2 not created again by replaying a staging that holds it; contact %+v", sum.Kinds[KindContact])
	}
	found := false
	for _, cv := range srv.Conversations() {
		found = found || cv.Title == "Later"
	}
	if !found {
		t.Errorf("inc3 not created again; conversation %+v", sum.Kinds[KindConversation])
	}
}

// The full staging replayed after a delta sends the old values back.
func TestDeltaFullStagingAfterDelta(t *testing.T) {
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	base := writeStage(t, stageRows)
	deltaRun(t, srv.URL, base, logDir)
	deltaRun(t, srv.URL, writeStage(t, deltaRows("keep", "keep")), logDir)
	deltaRun(t, srv.URL, base, logDir)
	if ana, _ := contactNamed(srv, "c1"); ana.Name != "Ana" {
		t.Errorf("c1 = %q, want Ana", ana.Name)
	}
	for _, co := range srv.Companies() {
		if co.CompanyID == "acc1" && co.Website != "contoso.example" {
			t.Errorf("acc1 website %q", co.Website)
		}
	}
	for _, cv := range srv.Conversations() {
		if strings.HasPrefix(cv.Title, "Printer") && cv.Title != "Printer on fire" {
			t.Errorf("inc1 title %q", cv.Title)
		}
	}
}

// cancelAfter cancels the rollback's context on the request after the
// n-th PUT /contacts/, as a kill between two undos would stop it.
type cancelAfter struct {
	n      int32
	puts   atomic.Int32
	cancel context.CancelFunc
}

func (c *cancelAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.puts.Load() >= c.n {
		c.cancel()
		return nil, context.Canceled
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if r.Method == "PUT" && strings.HasPrefix(r.URL.Path, "/contacts/") {
		c.puts.Add(1)
	}
	return resp, err
}

// A pre-existing contact revised by two deltas; the rollback of everything
// is stopped after the first restore and then run again.
func TestDeltaRollbackResumedMidRevisions(t *testing.T) {
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	c, err := NewClient(ClientOptions{BaseURL: srv.URL, Token: secretToken, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDataAttribute(t.Context(), DataAttributeRequest{Name: "dynamics_contact_id", Model: "contact",
		DataType: "string"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateContact(t.Context(), ContactRequest{Role: "user", ExternalID: "c1", Email: "ana@example.com",
		Name: "Old Ana", CustomAttributes: []byte(`{"dynamics_contact_id":"c1"}`)}); err != nil {
		t.Fatal(err)
	}
	deltaRun(t, srv.URL, writeStage(t, stageRows), logDir)
	deltaRun(t, srv.URL, writeStage(t, deltaRows("keep", "keep")), logDir)
	d2rows := strings.Replace(deltaRows("keep", "keep"), "'Ana Lima'", "'Ana Maria'", 1)
	deltaRun(t, srv.URL, writeStage(t, d2rows), logDir)
	if ana, _ := contactNamed(srv, "c1"); ana.Name != "Ana Maria" {
		t.Fatalf("c1 = %q", ana.Name)
	}
	ctx, cancel := context.WithCancel(t.Context())
	tr := &cancelAfter{n: 1, cancel: cancel}
	_, err = Rollback(ctx, RollbackConfig{BaseURL: srv.URL, Token: secretToken, LogDir: logDir, Retry: fastRetry,
		HTTPClient: &http.Client{Transport: tr}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("interrupted rollback returned %v, want context.Canceled", err)
	}
	mid, _ := contactNamed(srv, "c1")
	t.Logf("c1 after the interrupted rollback: %q", mid.Name)
	rs, err := Rollback(t.Context(), RollbackConfig{BaseURL: srv.URL, Token: secretToken, LogDir: logDir, Retry: fastRetry})
	if err != nil || len(rs.Failures) > 0 {
		t.Fatalf("resumed rollback: %v %+v", err, rs.Failures)
	}
	if ana, _ := contactNamed(srv, "c1"); ana.Name != "Old Ana" {
		t.Errorf("c1 after the resumed rollback = %q, want Old Ana; plan %+v", ana.Name, rs.Plan.Counts[KindContactUpdate])
	}
}

// A delta hands inc1 to another agent; its team (q1) is unchanged, so only
// the admin assignment should be sent again.
func TestDeltaOwnerChangeOnlyReassignsAdmin(t *testing.T) {
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	deltaRun(t, srv.URL, writeStage(t, stageRows), logDir)
	rows := strings.Replace(stageRows, "insert into stage.admins values ('systemuser','a1','agent@example.com','Agent One',1);",
		"insert into stage.admins values ('systemuser','a1','agent@example.com','Agent One',1),('systemuser','a2','bot@example.com','Bot',2);", 1)
	rows = strings.Replace(rows, "('incident','inc1','c1','acc1','a1','q1'", "('incident','inc1','c1','acc1','a2','q1'", 1)
	if !strings.Contains(rows, "'a2','q1'") || !strings.Contains(rows, "bot@") {
		t.Fatal("replace failed")
	}
	sum := deltaRun(t, srv.URL, writeStage(t, rows), logDir)
	k := sum.Kinds[KindConversationState]
	if k == nil || k.Created+k.Existing != 1 {
		t.Errorf("conversation_state writes %+v, want 1 (assign_admin revision only)", k)
	}
	for _, cv := range srv.Conversations() {
		if cv.Title == "Printer on fire" {
			for _, p := range cv.Parts {
				if p.PartType == "assignment" {
					t.Logf("assignment part to %s %s", p.AssignedToType, p.AssignedToID)
				}
			}
		}
	}
}

// The workspace already has dynamics_priority as a list conversation
// attribute whose options are the staged labels; the mapping stages option
// sets as strings of their labels, which a list attribute takes.
func TestListConversationAttributeTakesString(t *testing.T) {
	srv := newEmulator(t, nil)
	c, err := NewClient(ClientOptions{BaseURL: srv.URL, Token: secretToken, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := c.do(t.Context(), call{method: "POST", path: "/conversations/attributes", version: Version216,
		body: map[string]any{"name": "dynamics_priority", "data_type": "list",
			"options": []map[string]string{{"label": "High"}, {"label": "Low"}}}}, &out); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(t.Context(), testConfig(t, srv.URL, writeStage(t, stageRows), t.TempDir()))
	if err != nil {
		t.Fatalf("replay stopped: %v", err)
	}
	t.Logf("failures %+v", sum.Failures)
}

// inc2 is owned by an agent the workspace lacks (unmatched in the run).
// The plan of the same staging against that run's log must plan nothing.
func TestPlanRerunUnmatchedAdmin(t *testing.T) {
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	rows := strings.Replace(stageRows, "insert into stage.admins values ('systemuser','a1','agent@example.com','Agent One',1);",
		"insert into stage.admins values ('systemuser','a1','agent@example.com','Agent One',1),('systemuser','a3','nobody@example.com','Nobody',2);", 1)
	rows = strings.Replace(rows, "('incident','inc2','c3',null,null,null,", "('incident','inc2','c3',null,'a3',null,", 1)
	if !strings.Contains(rows, "'a3',null,") {
		t.Fatal("replace failed")
	}
	db := writeStage(t, rows)
	run := func() *Summary {
		cfg := testConfig(t, srv.URL, db, logDir)
		cfg.UnassignedOK = true
		sum, err := Run(t.Context(), cfg)
		if err != nil || len(sum.Failures) > 0 {
			t.Fatalf("replay: %v %+v", err, sum.Failures)
		}
		return sum
	}
	run()
	p, err := Plan(t.Context(), PlanConfig{DBPath: db, LogDir: logDir, UnassignedOK: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range p.Kinds {
		if k.Writes != 0 {
			t.Errorf("plan of a finished run: %s %+v", k.Kind, k)
		}
	}
	sum := run()
	for kind, kc := range sum.Kinds {
		if kc.Created+kc.Existing != 0 {
			t.Errorf("rerun wrote %s %+v", kind, *kc)
		}
	}
}

// Roll back only the base run after a delta revised c1 and acc1, then the
// delta run: nothing fails and nothing comes back.
func TestDeltaRollbackBaseOnlyThenDelta(t *testing.T) {
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	base := deltaRun(t, srv.URL, writeStage(t, stageRows), logDir)
	d1 := deltaRun(t, srv.URL, writeStage(t, deltaRows("keep", "keep")), logDir)
	rs := deltaRollback(t, srv.URL, logDir, base.RunID)
	t.Logf("base rollback plan %+v held %+v", rs.Plan.Counts, rs.HeldBack)
	if _, ok := contactNamed(srv, "c1"); ok {
		t.Errorf("c1 still there after rolling back the run that created it")
	}
	rs2 := deltaRollback(t, srv.URL, logDir, d1.RunID)
	t.Logf("delta rollback plan %+v", rs2.Plan.Counts)
	if _, ok := contactNamed(srv, "c1"); ok {
		t.Errorf("c1 back after rolling back the delta")
	}
	lc, err := ReadLogs(logDir)
	if err != nil {
		t.Fatal(err)
	}
	for kind, n := range lc.Written {
		if kind != KindDeletion && n != lc.Undone[kind] && kind != KindConversationPart && kind != KindConversationState && kind != KindConversationAttributes {
			t.Errorf("%s written %d undone %d", kind, n, lc.Undone[kind])
		}
	}
}
