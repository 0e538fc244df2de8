package main

import (
	"bytes"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/d2i/d2i/replay"
	"github.com/d2i/d2i/replay/intercomtest"
)

// replayVerbSetup writes verifyStage and starts a validating emulator whose
// admins are given.
func replayVerbSetup(t *testing.T, admins []intercomtest.Admin) (db, logDir string, srv *intercomtest.Server) {
	t.Helper()
	dir := t.TempDir()
	db = filepath.Join(dir, "staging.duckdb")
	conn, err := sql.Open("duckdb", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(verifyStage); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	srv = newIntercom(t, intercomtest.Options{Token: "tok-replay", Admins: admins, SearchLag: time.Millisecond})
	t.Setenv("D2I_INTERCOM_TOKEN", "tok-replay")
	return db, filepath.Join(dir, "log"), srv
}

var agent = []intercomtest.Admin{{ID: "7", Name: "Agent", Email: "agent@example.com"}}

func TestReplayPlanOnlyPrintsAndWritesNothing(t *testing.T) {
	db, logDir, srv := replayVerbSetup(t, agent)
	var stdout, stderr bytes.Buffer
	code := run([]string{"replay", "--db", db, "--log-dir", logDir, "--intercom-url", srv.URL, "--plan-only"},
		&stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		`pre-flight: every staged object, tagged "Migrated from Dynamics"`,
		"conversation_tag", "total ", "Fin AI Agent", "switch off in Intercom",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("pre-flight lacks %q:\n%s", want, out)
		}
	}
	if c := srv.Counts(); c["contact"]+c["conversation"]+c["company"]+c["data_attribute"] != 0 || len(srv.Tags()) != 0 {
		t.Errorf("--plan-only wrote %v, tags %v", c, srv.Tags())
	}
}

func TestReplayTagsAndPrintsPlanBeforeSending(t *testing.T) {
	db, logDir, srv := replayVerbSetup(t, agent)
	var stdout, stderr bytes.Buffer
	code := run([]string{"replay", "--db", db, "--log-dir", logDir, "--intercom-url", srv.URL, "--tag", "From D365"},
		&stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	if plan, run := strings.Index(out, "pre-flight:"), strings.Index(out, "replay run "); plan < 0 || run < plan {
		t.Errorf("the plan is not printed before the run:\n%s", out)
	}
	tagged := srv.TaggedWith("From D365")
	if len(tagged.Conversations) != 1 || len(tagged.Contacts) != 1 || len(tagged.Companies) != 1 {
		t.Errorf("tagged %+v", tagged)
	}
	if srv.Notifications() != 0 {
		t.Errorf("notifications = %d", srv.Notifications())
	}
}

func TestReplayUnmatchedOwnerStopsUnlessUnassignedOK(t *testing.T) {
	db, logDir, srv := replayVerbSetup(t, []intercomtest.Admin{{ID: "9", Name: "Other", Email: "other@example.com"}})
	args := []string{"replay", "--db", db, "--log-dir", logDir, "--intercom-url", srv.URL}
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != exitUsage {
		t.Fatalf("exit %d, want %d: %s %s", code, exitUsage, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "owner a1 <agent@example.com>") ||
		!strings.Contains(stderr.String(), "--unassigned-ok") {
		t.Errorf("the stop does not list the owner or the way out:\n%s\n%s", stdout.String(), stderr.String())
	}
	if c := srv.Counts(); c["contact"] != 0 || c["data_attribute"] != 0 {
		t.Errorf("stopped run wrote %v", c)
	}

	stdout.Reset()
	stderr.Reset()
	if code := run(append(args, "--unassigned-ok"), &stdout, &stderr); code != exitOK {
		t.Fatalf("--unassigned-ok exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "unassigned: 1 conversations without their owner or queue: inc1") {
		t.Errorf("summary does not list the unassigned conversation:\n%s", stdout.String())
	}
	if cv := srv.Conversations(); len(cv) != 1 || cv[0].AdminAssigneeID != "" {
		t.Errorf("conversations = %+v", cv)
	}
	if srv.Notifications() != 0 {
		t.Errorf("notifications = %d", srv.Notifications())
	}
}

func TestReplaySampleFlagsAndResume(t *testing.T) {
	db, logDir, srv := replayVerbSetup(t, agent)
	base := []string{"replay", "--db", db, "--log-dir", logDir, "--intercom-url", srv.URL}
	var stdout, stderr bytes.Buffer
	if code := run(append(base, "--sample", "1", "--seed", "5"), &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), `sample of 1 conversations (seed 5): 1 conversations, 1 contacts, 1 companies, tagged "d2i-sample-5"`) {
		t.Errorf("pre-flight:\n%s", stdout.String())
	}
	if got := srv.TaggedWith(replay.SampleTag(5)); len(got.Conversations) != 1 {
		t.Errorf("sample tag on %+v", got)
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(append(base, "--sample", "1", "--seed", "6"), &stdout, &stderr); code != exitUsage ||
		!strings.Contains(stderr.String(), "--sample 1 --seed 5") {
		t.Errorf("resume with another seed: exit %d, stderr %s", code, stderr.String())
	}
}

func TestReplayFlagMistakesExitTwo(t *testing.T) {
	db, logDir, _ := replayVerbSetup(t, agent)
	base := []string{"replay", "--db", db, "--log-dir", logDir}
	cases := [][]string{
		{"--sample", "-1"},
		{"--sample", "x"},
		{"--seed", "3"},
		{"--sample", "2", "--tag", "Mine"},
		{"--plan-only", "--dry-run"},
		{"--unassigned-ok=maybe"},
	}
	for _, extra := range cases {
		var stdout, stderr bytes.Buffer
		if code := run(append(base, extra...), &stdout, &stderr); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", extra, code, exitUsage, stderr.String())
		}
	}
}

func TestReplayHelpShowsSampleAndPlanOnly(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"replay", "--help"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"--sample 50 --seed 7", "--plan-only", "--unassigned-ok", "--tag", "unattended"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
