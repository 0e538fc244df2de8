package replay

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/d2i/d2i/replay/intercomtest"
)

// unmatchedOwner is a workspace without stageRows' agent and queue.
func unmatchedOwner(o *intercomtest.Options) {
	o.Admins = []intercomtest.Admin{{ID: "1", Name: "Someone", Email: "someone@example.com"}}
	o.Teams = nil
}

func TestUnassignedOKReplaysConversationsUnassigned(t *testing.T) {
	db := writeStage(t, stageRows)
	srv := newEmulator(t, unmatchedOwner)
	cfg := testConfig(t, srv.URL, db, t.TempDir())
	cfg.UnassignedOK = true

	sum, err := Run(t.Context(), cfg)
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("run: %v %+v", err, sum.Failures)
	}
	u := sum.Unassigned
	if u == nil {
		t.Fatal("summary lists nothing unassigned")
	}
	if strings.Join(u.Admins, ",") != "a1 <agent@example.com>" || strings.Join(u.Teams, ",") != "q1 <Support>" ||
		!slices.Equal(u.Conversations, []string{"inc1", "inc3"}) || u.Parts != 4 || u.ActorID != "1" {
		t.Errorf("unassigned = %+v", u)
	}
	if n := srv.Counts()["conversation"]; n != 3 {
		t.Errorf("conversations = %d, want 3", n)
	}
	for _, cv := range srv.Conversations() {
		if cv.AdminAssigneeID != "" || cv.TeamAssigneeID != "" {
			t.Errorf("conversation %s assigned to %q/%q", cv.ID, cv.AdminAssigneeID, cv.TeamAssigneeID)
		}
		for _, p := range cv.Parts {
			if p.AuthorType == "admin" && p.AuthorID != "1" {
				t.Errorf("part %s by admin %s, want the acting admin 1", p.ID, p.AuthorID)
			}
		}
	}
	if srv.Notifications() != 0 {
		t.Errorf("notifications = %d: %+v", srv.Notifications(), srv.NotificationLog())
	}
}

func TestPreflightListsUnmatchedAndPlans(t *testing.T) {
	db := writeStage(t, stageRows)
	srv := newEmulator(t, unmatchedOwner)
	cfg := testConfig(t, srv.URL, db, t.TempDir())
	cfg.Tag = DefaultTag
	before := srv.Requests()

	rep, err := Preflight(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unmatched == nil || strings.Join(rep.Unmatched.Admins, ",") != "a1 <agent@example.com>" ||
		strings.Join(rep.Unmatched.Teams, ",") != "q1 <Support>" {
		t.Errorf("unmatched = %+v", rep.Unmatched)
	}
	if rep.Unassigned != nil {
		t.Errorf("unassigned listed without UnassignedOK: %+v", rep.Unassigned)
	}
	if rep.Plan == nil || rep.Plan.Requests == 0 || len(rep.Plan.Checklist) == 0 {
		t.Fatalf("plan = %+v", rep.Plan)
	}
	if got := srv.Requests() - before; got != 2 {
		t.Errorf("pre-flight sent %d requests, want 2 (admins, teams)", got)
	}
	if c := srv.Counts(); c["contact"]+c["company"]+c["conversation"]+c["data_attribute"] != 0 {
		t.Errorf("pre-flight wrote %v", c)
	}

	cfg.UnassignedOK = true
	rep, err = Preflight(t.Context(), cfg)
	if err != nil || rep.Unassigned == nil || !slices.Equal(rep.Unassigned.Conversations, []string{"inc1", "inc3"}) {
		t.Errorf("pre-flight with UnassignedOK: %+v, %v", rep.Unassigned, err)
	}
}

func TestPreflightRefusesOtherSettings(t *testing.T) {
	db := writeStage(t, stageRows)
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	cfg := testConfig(t, srv.URL, db, logDir)
	cfg.Tag = "First tag"
	if _, err := Run(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Tag = "Second tag"
	_, err := Preflight(t.Context(), cfg)
	var se *SettingsError
	if !errors.As(err, &se) || se.Earlier.Tag != "First tag" || se.Now.Tag != "Second tag" {
		t.Errorf("pre-flight with another tag: %v, want a SettingsError", err)
	}
}
