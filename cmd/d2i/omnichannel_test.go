package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/d2i/d2i/report"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// `d2i serve dataverse --omnichannel` serves the msdyn_ tables; without the
// flag they are missing (404), as in an org without Omnichannel.
func TestServeOmnichannelFlag(t *testing.T) {
	for _, tc := range []struct {
		name   string
		flags  []string
		status int
	}{
		{"off", nil, http.StatusNotFound},
		{"on", []string{"--omnichannel"}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			args := append([]string{"dataverse", "--listen", addr, "--cases", "20", "--log-level", "error"}, tc.flags...)
			go func() { done <- runServe(ctx, args, io.Discard) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("serve: %v", err)
				}
			}()

			tok := waitForToken(t, addr, done)
			req, _ := http.NewRequest("GET", "http://"+addr+"/api/data/v9.2/EntityDefinitions(LogicalName='msdyn_ocrecording')", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var def struct{ EntitySetName string }
			_ = json.NewDecoder(resp.Body).Decode(&def)
			if resp.StatusCode != tc.status || (tc.status == http.StatusOK && def.EntitySetName != "msdyn_ocrecordings") {
				t.Fatalf("EntityDefinitions msdyn_ocrecording: HTTP %d %+v, want %d", resp.StatusCode, def, tc.status)
			}
		})
	}
}

// splitOmnichannel parts the reconciliation rows of the Omnichannel tables
// from the others, dropping annotation's, which counts transcript notes.
func splitOmnichannel(rows []report.Row) (rest, oc []report.Row) {
	for _, r := range rows {
		switch {
		case strings.HasPrefix(r.SourceTable, "msdyn_"):
			oc = append(oc, r)
		case r.SourceTable != "annotation":
			rest = append(rest, r)
		}
	}
	return rest, oc
}

// freeAddr returns a loopback address no one listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitForToken asks the emulator for a token until it listens; the
// emulator accepts any client credentials.
func waitForToken(t *testing.T, addr string, done <-chan error) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: "any", ClientSecret: "any",
		TokenURL: "http://" + addr + "/tenant/oauth2/v2.0/token", Scopes: []string{"http://" + addr + "/.default"}}
	for attempt := 0; ; attempt++ {
		tok, err := cc.Token(context.Background())
		if err == nil {
			return tok.AccessToken
		}
		select {
		case serr := <-done:
			t.Fatalf("serve stopped: %v", serr)
		default:
		}
		if attempt == 400 {
			t.Fatalf("the emulator never answered: %v", err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// The demo with --omnichannel snapshots the four tables complete and
// migrates them (transform/sql/56_omnichannel.sql): they balance, and every
// other table's reconciliation is the one of the same org without them
// (annotation aside: transcripts are notes).
func TestDemoWithOmnichannel(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end demo")
	}
	run := func(omnichannel bool) (*demoResult, error) {
		dir := filepath.Join(t.TempDir(), "demo")
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		return demo(context.Background(), demoOptions{out: dir, seed: 7, cases: 60, workers: 2, omnichannel: omnichannel},
			logger, io.Discard)
	}
	on, errOn := run(true)
	off, errOff := run(false)
	if on == nil || off == nil || (errOn == nil) != (errOff == nil) || len(on.reconciliation) == 0 {
		t.Fatalf("demo with Omnichannel: %v; without: %v", errOn, errOff)
	}
	onRest, onOC := splitOmnichannel(on.reconciliation)
	offRest, offOC := splitOmnichannel(off.reconciliation)
	if !reflect.DeepEqual(onRest, offRest) {
		t.Errorf("reconciliation changed with Omnichannel:\n%+v\nwithout:\n%+v", onRest, offRest)
	}
	if len(offOC) != 0 || len(onOC) != 4 {
		t.Errorf("Omnichannel rows: %d with, %d without; want 4 and 0", len(onOC), len(offOC))
	}
	for _, r := range onOC {
		if !r.Conserved || r.SnapshotRows == 0 {
			t.Errorf("%s: %+v, want rows, all accounted for", r.SourceTable, r)
		}
	}

	org, err := sampleorg.New(sampleorg.Options{Seed: 7, Cases: 60, Omnichannel: true})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(on.snapshot, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Tables map[string]struct {
			Status string
			Rows   int
		}
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"annotation", "msdyn_ocliveworkitem", "msdyn_ocsession", "msdyn_transcript", "msdyn_ocrecording"} {
		if tm := m.Tables[table]; tm.Status != "complete" || tm.Rows != org.Count(table) || tm.Rows == 0 {
			t.Errorf("%s: %+v, want complete with %d rows", table, tm, org.Count(table))
		}
	}
}
