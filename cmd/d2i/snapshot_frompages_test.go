package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// --from-pages rebuilds from saved pages with no org URL and no credentials
// in the environment; the org is gone by the time it runs.
func TestSnapshotFromPagesNeedsNoOrgNorCredentials(t *testing.T) {
	org, err := sampleorg.New(sampleorg.Options{Seed: 3, Cases: 40})
	if err != nil {
		t.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{})
	src := filepath.Join(t.TempDir(), "snap")
	orig, err := snapshot.Run(context.Background(), snapshot.Config{
		OrgURL: srv.URL, AuthorityURL: srv.URL, OutDir: src, Tables: []string{"incident", "contact"},
		Credentials: snapshot.Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"},
	})
	srv.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{snapshot.EnvTenantID, snapshot.EnvClientID, snapshot.EnvClientSecret, snapshot.EnvClientSecretFile} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}

	for _, from := range []string{src, filepath.Join(src, "pages")} {
		out := filepath.Join(t.TempDir(), "rebuilt")
		var stdout, stderr bytes.Buffer
		code := run([]string{"snapshot", "--from-pages", from, "--out", out}, &stdout, &stderr)
		if code != exitOK {
			t.Fatalf("--from-pages %s: exit %d, stderr: %s", from, code, stderr.String())
		}
		for _, table := range []string{"incident", "contact"} {
			want := table + " " + strconv.FormatInt(orig.Tables[table].Rows, 10) + " rows"
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("stdout %q lacks %q", stdout.String(), want)
			}
		}
		if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
			t.Error(err)
		}
	}

	var stdout, stderr bytes.Buffer
	if code := run([]string{"snapshot", "--from-pages", src, "--org-url", "https://x.crm.dynamics.com", "--out", t.TempDir() + "/o"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("--from-pages with --org-url: exit %d, want %d", code, exitUsage)
	}
}
