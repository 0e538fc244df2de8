package replay

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/d2i/d2i/replay/intercomtest"
)

// readAllRecords returns every record of every log in dir.
func readAllRecords(t *testing.T, dir string) []Record {
	t.Helper()
	var out []Record
	if err := readAll(dir, func(r Record) { out = append(out, r) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// readRecords returns every record of one log file.
func readRecords(t *testing.T, path string) []Record {
	t.Helper()
	var out []Record
	if err := readLogFile(path, func(r Record) { out = append(out, r) }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDryRunSendsNoMutation(t *testing.T) {
	db := writeStage(t, stageRows)
	em := intercomtest.New(emulatorOptions())
	expectNoNotifications(t, em)
	var mu sync.Mutex
	var mutations []string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && !strings.HasSuffix(r.URL.Path, "/search") {
			mu.Lock()
			mutations = append(mutations, r.Method+" "+r.URL.Path)
			mu.Unlock()
		}
		em.Handler().ServeHTTP(w, r)
	}))
	defer hs.Close()
	logDir := t.TempDir()
	cfg := testConfig(t, hs.URL, db, logDir)
	cfg.DryRun = true

	sum, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(mutations) > 0 {
		t.Fatalf("dry run sent %v", mutations)
	}
	recs := readRecords(t, sum.LogPath)
	if len(recs) != 57 {
		t.Errorf("dry run wrote %d records, want the 56 of a real run and its matches record", len(recs))
	}
	for _, r := range recs {
		if !r.DryRun {
			t.Fatalf("record without dry_run: %+v", r)
		}
	}
	// A dry run is no evidence of work done: the real run still writes everything.
	cfg.DryRun = false
	sum, err = Run(t.Context(), cfg)
	if err != nil || sum.Kinds[KindConversationPart].Created != 6 {
		t.Fatalf("real run after dry run: %+v %v", sum.Kinds[KindConversationPart], err)
	}
}

// TestPlannerOrder checks the dependency order in the write log and that the
// parts of each conversation are sent in part_order.
func TestPlannerOrder(t *testing.T) {
	db := writeStage(t, stageRows)
	srv := newEmulator(t, nil)
	sum, err := Run(t.Context(), testConfig(t, srv.URL, db, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	rank := map[string]int{KindDataAttribute: 0, KindCompany: 1, KindContact: 2, KindContactCompany: 3,
		KindConversation: 4, KindConversationPart: 4, KindConversationAttributes: 4, KindConversationState: 4}
	stepRank := map[string]int{KindConversation: 0, KindConversationPart: 1, KindConversationAttributes: 2,
		KindConversationState: 3}
	last := 0
	convStep := map[string]int{} // conversation intercom id -> last step rank
	partOrder := map[string]string{}
	for _, r := range readRecords(t, sum.LogPath) {
		if r.Type != "intent" {
			continue
		}
		if rank[r.Kind] < last {
			t.Fatalf("%s after a later kind", r.Op)
		}
		last = rank[r.Kind]
		if r.Kind == KindConversation {
			continue
		}
		if id := convIDOf(r.Path); id != "" {
			if stepRank[r.Kind] < convStep[id] {
				t.Errorf("%s out of order in conversation %s", r.Op, id)
			}
			convStep[id] = stepRank[r.Kind]
			if r.Kind == KindConversationPart {
				if prev := partOrder[id]; prev > r.SourceID {
					t.Errorf("part %s sent after %s", r.SourceID, prev)
				}
				partOrder[id] = r.SourceID
			}
		}
	}
}

func TestUnmatchedAdminStopsBeforeConversations(t *testing.T) {
	db := writeStage(t, stageRows)
	srv := newEmulator(t, func(o *intercomtest.Options) {
		o.Admins = []intercomtest.Admin{{ID: "1", Name: "Someone", Email: "someone@example.com"}}
		o.Teams = nil
	})
	sum, err := Run(t.Context(), testConfig(t, srv.URL, db, t.TempDir()))
	var ue *UnmatchedError
	if !errors.As(err, &ue) {
		t.Fatalf("want UnmatchedError, got %v", err)
	}
	if strings.Join(ue.Admins, ",") != "a1 <agent@example.com>" || strings.Join(ue.Teams, ",") != "q1 <Support>" {
		t.Errorf("unmatched = %+v", ue)
	}
	if c := srv.Counts(); c["conversation"] != 0 || c["contact"] != 3 {
		t.Errorf("emulator holds %v", c)
	}
	if sum == nil || sum.Kinds[KindContact].Created != 3 {
		t.Errorf("summary %+v", sum)
	}
	// the write log says what was matched, for the routing report
	var matches []*RunMatches
	for _, r := range readRecords(t, sum.LogPath) {
		if r.Type == "matches" {
			matches = append(matches, r.Matches)
		}
	}
	want := &RunMatches{Admins: map[string]string{}, Teams: map[string]string{},
		UnmatchedAdmins: []string{"a1"}, UnmatchedTeams: []string{"q1"}, Actor: "1"} // the workspace's only admin
	if len(matches) != 1 || !reflect.DeepEqual(matches[0], want) {
		t.Errorf("matches records = %+v, want one %+v", matches, want)
	}
}

// precreate adds objects to the emulator through the client, as if someone
// had written them before the migration.
func precreate(t *testing.T, url string, fn func(ctx context.Context, c *Client) error) {
	t.Helper()
	c, err := NewClient(ClientOptions{BaseURL: url, Token: secretToken, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(t.Context(), c); err != nil {
		t.Fatal(err)
	}
}

func TestExistingObjects(t *testing.T) {
	db := writeStage(t, stageRows)
	srv := newEmulator(t, func(o *intercomtest.Options) {
		o.DataAttributes = []intercomtest.DataAttribute{{Model: "contact", Name: "dynamics_contact_id", DataType: "string"}}
	})
	var c2ID string
	precreate(t, srv.URL, func(ctx context.Context, c *Client) error {
		// c1's external id taken by someone else: a genuine duplicate.
		if _, err := c.CreateContact(ctx, ContactRequest{Role: "user", ExternalID: "c1", Email: "other@example.com",
			CustomAttributes: json.RawMessage(`{"dynamics_contact_id":"zz"}`)}); err != nil {
			return err
		}
		// c2 already migrated by hand: the 409 names our own contact.
		ct, err := c.CreateContact(ctx, ContactRequest{Role: "user", ExternalID: "c2", Email: "bo@example.com",
			CustomAttributes: json.RawMessage(`{"dynamics_contact_id":"c2"}`)})
		if err != nil {
			return err
		}
		c2ID = string(ct.ID)
		_, err = c.UpsertCompany(ctx, CompanyRequest{CompanyID: "acc1", Name: "Old name"})
		return err
	})
	logDir := t.TempDir()
	sum, err := Run(t.Context(), testConfig(t, srv.URL, db, logDir))
	if err != nil {
		t.Fatal(err)
	}
	if kc := sum.Kinds[KindContact]; kc.Created != 1 || kc.Existing != 1 || kc.Failed != 1 {
		t.Errorf("contacts %+v", *kc)
	}
	if kc := sum.Kinds[KindCompany]; kc.Created != 1 || kc.Existing != 1 {
		t.Errorf("companies %+v", *kc)
	}
	var reasons []string
	for _, f := range sum.Failures {
		reasons = append(reasons, f.Op+": "+f.Reason)
	}
	joined := strings.Join(reasons, "\n")
	if !strings.Contains(joined, "contact:c1:create: contact c1: duplicate of Intercom contact") ||
		!strings.Contains(joined, "conversation:inc1:create: contact c1 was not replayed") {
		t.Errorf("failures:\n%s", joined)
	}

	if _, err := Rollback(t.Context(), RollbackConfig{BaseURL: srv.URL, Token: secretToken, LogDir: logDir,
		Retry: fastRetry}); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, co := range srv.Companies() {
		names[co.CompanyID] = co.Name
	}
	if len(names) != 1 || names["acc1"] != "Old name" {
		t.Errorf("after rollback companies = %v, want acc1 restored to its old name", names)
	}
	var left []string
	for _, ct := range srv.Contacts() {
		left = append(left, string(ct.ExternalID))
		if ct.ExternalID == "c2" && ct.ID != c2ID {
			t.Errorf("c2 replaced")
		}
	}
	if strings.Join(left, ",") != "c1,c2" && strings.Join(left, ",") != "c2,c1" {
		t.Errorf("after rollback contacts = %v, want the two that were there before", left)
	}
}

// TestFaultyWorkspace replays against lost answers and 5xx bursts: the end
// state equals a clean run's.
func TestFaultyWorkspace(t *testing.T) {
	db := writeStage(t, stageRows)
	clean := newEmulator(t, nil)
	if _, err := Run(t.Context(), testConfig(t, clean.URL, db, t.TempDir())); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []intercomtest.LoseMode{intercomtest.LoseDrop, intercomtest.LoseBadGateway} {
		srv := newEmulator(t, func(o *intercomtest.Options) {
			o.LoseResponseAfterCommit, o.Seed, o.LoseMode = 0.25, 7, mode
			o.FailEveryN = 9
		})
		cfg := testConfig(t, srv.URL, db, t.TempDir())
		cfg.Retry = &RetryPolicy{MaxAttempts: 6, BaseDelay: fastRetry.BaseDelay, MaxDelay: fastRetry.MaxDelay}
		sum, err := Run(t.Context(), cfg)
		if err != nil || len(sum.Failures) > 0 {
			t.Fatalf("mode %d: %v %+v", mode, err, sum.Failures)
		}
		if srv.Requests() <= clean.Requests() {
			t.Errorf("mode %d: no fault was injected (%d requests)", mode, srv.Requests())
		}
		if got, want := fingerprint(srv), fingerprint(clean); got != want {
			t.Errorf("mode %d:\n%s\nwant\n%s", mode, got, want)
		}
		if n := srv.Notifications(); n != 0 {
			t.Errorf("notifications = %d", n)
		}
	}
}

func TestAdminRepliesAsNotes(t *testing.T) {
	db := writeStage(t, stageRows)
	srv := newEmulator(t, nil)
	cfg := testConfig(t, srv.URL, db, t.TempDir())
	cfg.RepliesAsNotes = true
	if _, err := Run(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	for _, cv := range srv.Conversations() {
		for _, p := range cv.Parts {
			if p.AuthorType == "admin" && p.PartType == "comment" {
				t.Errorf("admin comment in %s although RepliesAsNotes", cv.ID)
			}
		}
	}
	if srv.Notifications() != 0 {
		t.Errorf("notifications = %d", srv.Notifications())
	}
}

// TestSkipNotificationsRefused: a workspace that refuses 2.16 replies gets
// the historical admin comments as notes, never as notifying comments.
func TestSkipNotificationsRefused(t *testing.T) {
	db := writeStage(t, stageRows)
	em := intercomtest.New(emulatorOptions())
	expectNoNotifications(t, em)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/reply") && r.Header.Get("Intercom-Version") == Version216 {
			w.WriteHeader(400)
			w.Write([]byte(`{"type":"error.list","errors":[{"code":"intercom_version_invalid",
				"message":"Requested Intercom-Version 2.16 is not available"}]}`))
			return
		}
		em.Handler().ServeHTTP(w, r)
	}))
	defer hs.Close()
	sum, err := Run(t.Context(), testConfig(t, hs.URL, db, t.TempDir()))
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("%v %+v", err, sum.Failures)
	}
	notes := 0
	for _, cv := range em.Conversations() {
		for _, p := range cv.Parts {
			if p.AuthorType == "admin" && p.PartType == "comment" {
				t.Errorf("admin comment sent in %s", cv.ID)
			}
			if p.PartType == "note" {
				notes++
			}
		}
	}
	if notes != 4 || em.Notifications() != 0 {
		t.Errorf("notes = %d, notifications = %d", notes, em.Notifications())
	}
}

// TestRollbackResidueAndDryRun: parts added by a later run to conversations
// of an earlier run cannot be removed alone; they are residue. A dry-run
// rollback deletes nothing.
func TestRollbackResidueAndDryRun(t *testing.T) {
	withoutParts := stageRows[:strings.Index(stageRows, "insert into stage.conversation_parts")]
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	if _, err := Run(t.Context(), testConfig(t, srv.URL, writeStage(t, withoutParts), logDir)); err != nil {
		t.Fatal(err)
	}
	second, err := Run(t.Context(), testConfig(t, srv.URL, writeStage(t, stageRows), logDir))
	if err != nil || second.Kinds[KindConversationPart].Created != 6 {
		t.Fatalf("second run: %v %+v", err, second.Kinds[KindConversationPart])
	}
	before := fingerprint(srv)

	dry, err := Rollback(t.Context(), RollbackConfig{BaseURL: srv.URL, Token: secretToken, LogDir: logDir,
		RunID: second.RunID, DryRun: true, Retry: fastRetry})
	if err != nil || fingerprint(srv) != before {
		t.Fatalf("dry-run rollback changed the workspace (%v)", err)
	}
	if dry.LogPath != "" { // parts, attributes and state are residue: nothing to log
		t.Errorf("dry-run rollback of residue only wrote %s", dry.LogPath)
	}
	for _, r := range readAllRecords(t, logDir) {
		if r.Run == dry.RunID && !r.DryRun {
			t.Fatalf("dry-run rollback record %+v", r)
		}
	}

	rs, err := Rollback(t.Context(), RollbackConfig{BaseURL: srv.URL, Token: secretToken, LogDir: logDir,
		RunID: second.RunID, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	parts := 0
	for _, r := range rs.Residue {
		if r.Kind == KindConversationPart {
			parts++
		}
	}
	if parts != 6 || srv.Counts()["conversation"] != 3 {
		t.Errorf("residue parts = %d, conversations left = %d; residue %+v", parts, srv.Counts()["conversation"], rs.Residue)
	}
}
