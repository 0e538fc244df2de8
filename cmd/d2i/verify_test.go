package main

import (
	"bytes"
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/d2i/d2i/replay/intercomtest"
	"github.com/d2i/d2i/replay/replaytest"
)

// verifyStage is a one-conversation staging database (contracts §2).
var verifyStage = replaytest.StageDDL + `
insert into stage.admins values ('systemuser','a1','agent@example.com','Agent',1);
insert into stage.data_attributes values
  ('contact','dynamics_contact_id','string','contactid','contact','contactid',1);
insert into stage.companies values ('account','acc1','acc1','Contoso',null,null,null,null,1);
insert into stage.contacts values
  ('contact','c1','user','c1','ana@example.com','Ana',null,null,'acc1',[],'{"dynamics_contact_id":"c1"}',1);
insert into stage.conversations values ('incident','inc1','c1','acc1','a1',null,'Help','<p>Help me</p>',
  1600000000,1600000000,'open',null,null,null,1);
insert into stage.conversation_parts values
  ('email','p1','inc1',1,'admin',null,'a1','comment','<p>On it.</p>',1600001000,1);
`

func TestVerifyVerb(t *testing.T) {
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
	srv := newIntercom(t, intercomtest.Options{Token: "tok-verify",
		Admins:    []intercomtest.Admin{{ID: "7", Name: "Agent", Email: "agent@example.com"}},
		SearchLag: time.Millisecond})
	t.Setenv("D2I_INTERCOM_TOKEN", "tok-verify")
	logDir, out := filepath.Join(dir, "log"), filepath.Join(dir, "verify")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"replay", "--db", db, "--log-dir", logDir, "--intercom-url", srv.URL},
		&stdout, &stderr); code != exitOK {
		t.Fatalf("replay exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	verify := []string{"verify", "--db", db, "--log-dir", logDir, "--out", out, "--intercom-url", srv.URL}
	stdout.Reset()
	if code := run(verify, &stdout, &stderr); code != exitOK {
		t.Fatalf("verify exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "conversation_part") {
		t.Errorf("summary:\n%s", stdout.String())
	}

	// An agent renames the contact in Intercom: verify now fails and names the field.
	var contactID string
	for _, c := range srv.Contacts() {
		contactID = c.ID
	}
	req, _ := http.NewRequest("PUT", srv.URL+"/contacts/"+contactID, strings.NewReader(`{"name":"Other"}`))
	req.Header.Set("Authorization", "Bearer tok-verify")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("rename: %v %v", resp, err)
	}
	resp.Body.Close()
	stdout.Reset()
	stderr.Reset()
	if code := run(verify, &stdout, &stderr); code != exitFailure {
		t.Fatalf("verify after a change: exit %d, want %d", code, exitFailure)
	}
	txt, err := os.ReadFile(filepath.Join(out, "verify.txt"))
	if err != nil || !strings.Contains(string(txt), "* contact c1 "+contactID+" name\n") {
		t.Errorf("verify.txt:\n%s (%v)", txt, err)
	}
	if !strings.Contains(stdout.String(), "differs: contact.name in 1 of 1") {
		t.Errorf("summary:\n%s", stdout.String())
	}
}

func TestVerifyVerbUsage(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "staging.duckdb")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("D2I_INTERCOM_TOKEN", "test-token")
	for _, args := range [][]string{
		{"verify"},
		{"verify", "--db", db, "--log-dir", dir},
		{"verify", "--db", db, "--log-dir", filepath.Join(dir, "missing"), "--out", dir},
		{"verify", "--db", db, "--log-dir", dir, "--out", dir, "--sample", "-1"},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errOut.String())
		}
	}
}
