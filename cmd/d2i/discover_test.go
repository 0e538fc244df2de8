package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

func setDataverseEnv(t *testing.T, tenant, client, secret string) {
	t.Setenv(snapshot.EnvTenantID, tenant)
	t.Setenv(snapshot.EnvClientID, client)
	t.Setenv(snapshot.EnvClientSecret, secret)
	t.Setenv(snapshot.EnvClientSecretFile, "")
	os.Unsetenv(snapshot.EnvClientSecretFile)
}

// discoveryCSV reads DIR/discovery.csv keyed by section and name.
func discoveryCSV(t *testing.T, dir string) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "discovery.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range rows[1:] {
		out[r[0]+"/"+r[1]] = r
	}
	return out
}

// checkDiscovery holds the written report to the org's own figures.
func checkDiscovery(t *testing.T, dir string, org *sampleorg.Org) {
	t.Helper()
	rows := discoveryCSV(t, dir)
	for object, table := range map[string]string{"case → conversation": "incident", "contact → user / lead": "contact",
		"account → company": "account", "email → conversation part": "email", "flow → inventory only": "workflow"} {
		if got, want := rows["object/"+object], strconv.Itoa(org.Count(table)); got == nil || got[2] != want {
			t.Errorf("%s: %v, want count %s", object, got, want)
		}
	}
	if got := rows["object/Omnichannel conversation → conversation with transcript"]; got == nil || got[2] != "absent" {
		t.Errorf("Omnichannel conversations: %v, want absent", got)
	}
	if got := rows["sign/Omnichannel"]; got == nil || got[3] != "not found" {
		t.Errorf("Omnichannel sign: %v", got)
	}
	if got := rows["table/new_warrantyclaim"]; got == nil || !strings.HasPrefix(got[4], "custom table") {
		t.Errorf("custom table: %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "discovery.md")); err != nil {
		t.Error(err)
	}
}

func TestDiscoverAgainstTheOrg(t *testing.T) {
	org, err := sampleorg.New(sampleorg.Options{Seed: 9, Cases: 80})
	if err != nil {
		t.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{TenantID: "tenant-d", ClientID: "client-d", ClientSecret: "secret-d"})
	defer srv.Close()
	setDataverseEnv(t, "tenant-d", "client-d", "secret-d")
	out := filepath.Join(t.TempDir(), "scope")

	var stdout, stderr bytes.Buffer
	code := run([]string{"discover", "--url", srv.URL, "--authority-url", srv.URL, "--out", out, "--rate", "600"}, &stdout, &stderr)

	if code != exitOK {
		t.Fatalf("exit %d, stderr: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "discovery.csv") || strings.Contains(stderr.String(), "secret-d") {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	checkDiscovery(t, out, org)
	if got := discoveryCSV(t, out)["total/requests"]; got == nil || !strings.HasSuffix(got[4], "at 600 per minute") {
		t.Errorf("API time row %v", got)
	}
}

func TestDiscoverFromASnapshot(t *testing.T) {
	org, err := sampleorg.New(sampleorg.Options{Seed: 9, Cases: 80})
	if err != nil {
		t.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{})
	snap := filepath.Join(t.TempDir(), "snap")
	_, err = snapshot.Run(context.Background(), snapshot.Config{
		OrgURL: srv.URL, AuthorityURL: srv.URL, OutDir: snap,
		Credentials: snapshot.Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"},
	})
	srv.Close()
	if err != nil {
		t.Fatal(err)
	}
	setDataverseEnv(t, "", "", "") // a snapshot needs no credentials
	out := filepath.Join(t.TempDir(), "scope")

	var stdout, stderr bytes.Buffer
	code := run([]string{"discover", "--snapshot", snap, "--out", out}, &stdout, &stderr)

	if code != exitOK {
		t.Fatalf("exit %d, stderr: %s", code, stderr.String())
	}
	checkDiscovery(t, out, org)
	md, err := os.ReadFile(filepath.Join(out, "discovery.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "Source: snapshot `"+snap+"`") {
		t.Errorf("markdown does not name the snapshot:\n%s", md)
	}
}

func TestDiscoverUsageMistakesExitTwo(t *testing.T) {
	dir := t.TempDir()
	setDataverseEnv(t, "", "", "")
	cases := [][]string{
		{"discover", "--out", dir},
		{"discover", "--org-url", "https://x.crm.dynamics.com", "--snapshot", dir, "--out", dir},
		{"discover", "--url", "https://x.crm.dynamics.com", "--snapshot", dir, "--out", dir},
		{"discover", "--snapshot", dir},
		{"discover", "--snapshot", filepath.Join(dir, "missing"), "--out", dir},
		{"discover", "--org-url", "contoso", "--out", dir},
		{"discover", "--org-url", "https://x.crm.dynamics.com", "--out", dir, "--rate", "0"},
		{"discover", "--org-url", "https://x.crm.dynamics.com", "--out", dir}, // no credentials
	}
	for _, args := range cases {
		t.Run(strings.Join(args[1:], " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(args, &stdout, &stderr); code != exitUsage {
				t.Errorf("exit %d, want %d; stderr: %s", code, exitUsage, stderr.String())
			}
		})
	}
}
