package main

import (
	"bytes"
	"database/sql"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/d2i/d2i/replay"
	"github.com/d2i/d2i/replay/intercomtest"
)

func TestRollbackFlagMistakesExitTwo(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("D2I_INTERCOM_TOKEN", "test-token")
	tests := []struct {
		args []string
		want string // part of the message on stderr
	}{
		{[]string{"--kind", "contact"}, "use --kind contact,contact_company,conversation"},
		{[]string{"--kind", "company,contact_company"}, "without conversation"},
		{[]string{"--kind", "tickets"}, `unknown kind "tickets"`},
		{[]string{"--kind", "conversation_part"}, "goes with its conversation"},
		{[]string{"--sample", "-1"}, "--sample -1"},
		{[]string{"--sample", "2", "--kind", "conversation"}, "cannot be combined with --kind"},
		{[]string{"--preview", "--dry-run"}, "exclude each other"},
		{[]string{"--hold-back-tolerance", "-1s"}, "--hold-back-tolerance -1s"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"rollback", "--log-dir", dir}, tt.args...)
			if code := run(args, &out, &errOut); code != exitUsage {
				t.Errorf("exit %d, want %d; stderr: %s", code, exitUsage, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tt.want)
			}
		})
	}
}

func TestRollbackHelpShowsPartialRollbacks(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"rollback", "--help"}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"d2i rollback --log-dir writelog --preview",
		"d2i rollback --log-dir writelog --kind conversation", "d2i rollback --log-dir writelog --sample 50 --seed 7",
		"--hold-back-tolerance"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}

// planRow returns the fields of the plan's row for kind.
func planRow(out, kind string) string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 1+len(replay.UndoActions) && f[0] == kind {
			return strings.Join(f[1:], " ")
		}
	}
	return ""
}

// Replay one conversation, preview the rollback (nothing changes), then
// roll back the conversations only.
func TestRollbackVerbPreviewAndKind(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "staging.duckdb")
	conn, err := sql.Open("duckdb", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(verifyStage); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	srv := newIntercom(t, intercomtest.Options{Token: "tok-rollback",
		Admins:    []intercomtest.Admin{{ID: "7", Name: "Agent", Email: "agent@example.com"}},
		SearchLag: time.Millisecond})
	t.Setenv("D2I_INTERCOM_TOKEN", "tok-rollback")
	logDir := filepath.Join(dir, "log")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"replay", "--db", db, "--log-dir", logDir, "--intercom-url", srv.URL},
		&stdout, &stderr); code != exitOK {
		t.Fatalf("replay exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	counts := srv.Counts()

	stdout.Reset()
	preview := []string{"rollback", "--log-dir", logDir, "--intercom-url", srv.URL, "--preview"}
	if code := run(preview, &stdout, &stderr); code != exitOK {
		t.Fatalf("preview exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	// delete restore archive detach removed residue hold_back earlier
	for kind, want := range map[string]string{
		"conversation":      "1 0 0 0 0 0 0 0",
		"conversation_part": "0 0 0 0 1 0 0 0",
		"contact":           "1 0 0 0 0 0 0 0",
		"company":           "1 0 0 0 0 1 0 0",
		"data_attribute":    "0 0 1 0 0 0 0 0",
	} {
		if got := planRow(stdout.String(), kind); got != want {
			t.Errorf("preview row %s = %q, want %q\n%s", kind, got, want, stdout.String())
		}
	}
	if !strings.Contains(stdout.String(), "rollback preview") || !maps.Equal(srv.Counts(), counts) {
		t.Errorf("preview changed the workspace (%v, was %v):\n%s", srv.Counts(), counts, stdout.String())
	}

	stdout.Reset()
	kind := []string{"rollback", "--log-dir", logDir, "--intercom-url", srv.URL, "--kind", "conversation"}
	if code := run(kind, &stdout, &stderr); code != exitOK {
		t.Fatalf("rollback --kind exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	if got := srv.Counts(); got["conversation"] != 0 || got["contact"] != 1 || got["company"] != 1 {
		t.Errorf("after rollback --kind conversation the emulator holds %v", got)
	}
	if planRow(stdout.String(), "contact") != "" {
		t.Errorf("rollback --kind conversation planned contacts:\n%s", stdout.String())
	}
}
