package replay

import (
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/d2i/d2i/replay/intercomtest"
)

var testAdmins = []intercomtest.Admin{{ID: "991267696", Name: "Agent One", Email: "Agent@Example.com"},
	{ID: "991267697", Name: "Bot", Email: "bot@example.com"}}
var testTeams = []intercomtest.Team{{ID: "5", Name: "Support", AdminIDs: []string{"991267696"}}}

func newEmulator(t *testing.T, mod func(*intercomtest.Options)) *intercomtest.Server {
	t.Helper()
	o := intercomtest.Options{Token: secretToken, Admins: testAdmins, Teams: testTeams, Validate: true,
		SearchLag: 20 * time.Millisecond}
	if mod != nil {
		mod(&o)
	}
	s := intercomtest.NewServer(o)
	t.Cleanup(s.Close)
	expectNoNotifications(t, s)
	return s
}

// expectNoNotifications fails t if, by the end of the test, the emulator
// counted a single customer notification: replay, verify and rollback must
// never message a customer, whatever the test exercises.
func expectNoNotifications(t *testing.T, em *intercomtest.Server) {
	t.Cleanup(func() {
		if n := em.Notifications(); n != 0 {
			t.Errorf("emulator counted %d customer notifications, want 0: %+v", n, em.NotificationLog())
		}
	})
}

func testConfig(t *testing.T, url, db, logDir string) Config {
	return Config{DBPath: db, BaseURL: url, Token: secretToken, LogDir: logDir, Workers: 3,
		RatePerMinute: 600000, Retry: fastRetry, SearchLag: 50 * time.Millisecond, Logger: testLogger(t)}
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("D2I_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// fingerprint describes what the emulator holds without its generated ids or
// "now" stamps, so two runs can be compared.
func fingerprint(srv *intercomtest.Server) string {
	var lines []string
	companies := map[string]string{}
	for _, c := range srv.Companies() {
		companies[c.ID] = c.CompanyID
		lines = append(lines, fmt.Sprintf("company %s %s %v", c.CompanyID, c.Name, c.CustomAttributes))
	}
	contacts := map[string]string{}
	for _, c := range srv.Contacts() {
		src := fmt.Sprint(c.CustomAttributes[sourceAttr])
		contacts[c.ID] = src
		var cos []string
		for _, id := range c.CompanyIDs {
			cos = append(cos, companies[id])
		}
		sort.Strings(cos)
		lines = append(lines, fmt.Sprintf("contact %s %s %s %s companies=%v", src, c.Role, c.ExternalID, c.Email, cos))
	}
	for _, cv := range srv.Conversations() {
		s := fmt.Sprintf("conversation %v from=%s created=%d title=%q state=%s admin=%s team=%s company=%s attrs=%v",
			cv.CustomAttributes["dynamics_case_id"], contacts[cv.ContactID], cv.CreatedAt, cv.Title, cv.State,
			cv.AdminAssigneeID, cv.TeamAssigneeID, companies[cv.CompanyID], cv.CustomAttributes)
		for _, p := range cv.Parts {
			at := p.CreatedAt
			if p.PartType != "comment" && p.PartType != "note" {
				at = 0 // close/assign/snooze are stamped "now"
			}
			s += fmt.Sprintf("\n  part %s %s %d %q", p.PartType, p.AuthorType, at, p.Body)
		}
		lines = append(lines, s)
	}
	for _, a := range srv.DataAttributes() {
		lines = append(lines, fmt.Sprintf("attribute %s.%s archived=%v", a.Model, a.Name, a.Archived))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestEndToEnd(t *testing.T) {
	db := writeStage(t, stageRows)
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	cfg := testConfig(t, srv.URL, db, logDir)

	sum, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("run: %v (failures %+v)", err, sum.Failures)
	}
	if len(sum.Failures) > 0 {
		t.Fatalf("failures: %+v", sum.Failures)
	}
	counts := srv.Counts()
	want := map[string]int{"contact": 3, "company": 2, "conversation": 3, "contact_company": 2, "data_attribute": 4}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("emulator holds %d %s, want %d", counts[k], k, v)
		}
	}
	if n := srv.Notifications(); n != 0 {
		t.Errorf("notifications = %d, want 0: %+v", n, srv.NotificationLog())
	}
	first := fingerprint(srv)
	t.Log(first)
	checkConversation(t, srv)

	// A rerun finds everything done and creates nothing.
	sum2, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	for kind, kc := range sum2.Kinds {
		if kc.Created != 0 || kc.Failed != 0 {
			t.Errorf("rerun %s: %+v", kind, *kc)
		}
	}
	if got := fingerprint(srv); got != first {
		t.Errorf("rerun changed the workspace:\n%s\nwant\n%s", got, first)
	}

	lc, err := ReadLogs(logDir)
	if err != nil {
		t.Fatal(err)
	}
	// The rerun wrote nothing, so it left no log file: one run.
	if lc.Written[KindContact] != 3 || lc.Written[KindConversationPart] != 6 || len(lc.Runs) != 1 {
		t.Errorf("ReadLogs = %+v", lc)
	}

	// Rollback removes every created object and is itself resumable.
	rs, err := Rollback(t.Context(), RollbackConfig{BaseURL: srv.URL, Token: secretToken, LogDir: logDir,
		Retry: fastRetry})
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	counts = srv.Counts()
	for _, k := range []string{"contact", "company", "conversation", "contact_company", "data_attribute"} {
		if counts[k] != 0 {
			t.Errorf("after rollback the emulator still holds %d %s", counts[k], k)
		}
	}
	if rs.Undone[KindConversation] != 3 || len(rs.Failures) != 0 {
		t.Errorf("rollback summary %+v", rs)
	}
	rs2, err := Rollback(t.Context(), RollbackConfig{BaseURL: srv.URL, Token: secretToken, LogDir: logDir,
		Retry: fastRetry})
	if err != nil || rs2.Skipped[KindConversation] != 3 || rs2.Undone[KindConversation] != 0 {
		t.Errorf("second rollback: %+v, %v", rs2, err)
	}
}

// checkConversation looks at inc1 in detail: order, author kinds, no notify.
func checkConversation(t *testing.T, srv *intercomtest.Server) {
	t.Helper()
	for _, cv := range srv.Conversations() {
		if cv.CustomAttributes["dynamics_case_id"] != "inc1" {
			continue
		}
		if cv.CreatedAt != 1600000000 || cv.State != "closed" || cv.AdminAssigneeID != "991267696" ||
			cv.TeamAssigneeID != "5" || cv.Title != "Printer on fire" {
			t.Errorf("inc1 = %+v", cv)
		}
		var kinds []string
		for _, p := range cv.Parts {
			if p.PartType == "comment" || p.PartType == "note" {
				kinds = append(kinds, p.PartType+"/"+p.AuthorType)
			}
		}
		if got := strings.Join(kinds, ","); got != "comment/admin,comment/user,note/admin" {
			t.Errorf("inc1 parts = %s", got)
		}
		return
	}
	t.Error("inc1 not found")
}
