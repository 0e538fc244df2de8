package replay

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteLogRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w, err := openLog(dir, "20261203T100000Z-ab12")
	if err != nil {
		t.Fatal(err)
	}
	body := ContactRequest{Role: "user", Email: "ana@example.com", Name: "Ana"}
	recs := []Record{
		{Type: "intent", Op: "contact:c1:create", Kind: KindContact, SourceTable: "contact", SourceID: "c1",
			Step: "create", Method: "POST", Path: "/contacts", BodySHA256: digest(body)},
		{Type: "outcome", Op: "contact:c1:create", Status: 200, IntercomID: "6762f0dd1bb69f9f2193bb83"},
		{Type: "intent", Op: "contact:c2:create", Kind: KindContact, SourceID: "c2", Step: "create"},
		{Type: "outcome", Op: "contact:c2:create", Status: 400, Error: "bad"},
		{Type: "intent", Op: "company:a1:upsert", Kind: KindCompany, SourceID: "a1", Step: "upsert"},
		{Type: "outcome", Op: "company:a1:upsert", Status: 200, IntercomID: "x", Before: json.RawMessage(`{"name":"Old"}`)},
		{Type: "intent", Op: "contact:c3:create", Kind: KindContact, SourceID: "c3", Step: "create"},
		{Type: "intent", Op: "contact:c4:create", Kind: KindContact, SourceID: "c4", DryRun: true},
		{Type: "outcome", Op: "contact:c4:create", DryRun: true, IntercomID: "dry-run:contact:c4:create"},
	}
	for i, r := range recs {
		if err := w.write(r); err != nil {
			t.Fatal(err)
		}
		if w.unsynced >= syncEvery {
			t.Fatalf("record %d: %d records unsynced", i, w.unsynced)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(w.path)
	text := string(raw)
	for _, banned := range []string{"ana@example.com", "Ana"} {
		if strings.Contains(text, banned) {
			t.Errorf("log holds request content %q", banned)
		}
	}
	first := strings.SplitN(text, "\n", 3)
	if !strings.HasPrefix(first[0], `{"seq":1,"time":"`) || !strings.Contains(first[1], `"before":null`) ||
		!strings.Contains(first[1], `"error":""`) {
		t.Errorf("unexpected shape:\n%s\n%s", first[0], first[1])
	}
	if info, _ := os.Stat(w.path); info.Mode().Perm() != 0o600 {
		t.Errorf("log mode %v", info.Mode().Perm())
	}

	// A torn last line (killed mid-write) is ignored.
	f, _ := os.OpenFile(w.path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":10,"type":"inte`)
	f.Close()

	ps, err := loadPrior(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		op         string
		done       bool
		intentOnly bool
	}{
		{"contact:c1:create", true, false},
		{"contact:c2:create", false, false},
		{"company:a1:upsert", true, false},
		{"contact:c3:create", false, true},
	}
	for _, tt := range tests {
		st := ps[tt.op]
		if st == nil {
			t.Fatalf("%s missing", tt.op)
		}
		if st.done != tt.done || (st.intent != nil && !st.done) != (tt.intentOnly || tt.op == "contact:c2:create") {
			t.Errorf("%s: %+v", tt.op, st)
		}
	}
	if ps["contact:c4:create"] != nil {
		t.Error("dry-run records count as work done")
	}
	if string(ps["company:a1:upsert"].before) != `{"name":"Old"}` {
		t.Errorf("before-image lost: %s", ps["company:a1:upsert"].before)
	}

	lc, err := ReadLogs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if lc.Written[KindContact] != 1 || lc.Failed[KindContact] != 1 || lc.Written[KindCompany] != 1 ||
		len(lc.Runs) != 1 {
		t.Errorf("ReadLogs = %+v", lc)
	}
}

func TestWriteLogCorruptMiddleLine(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "r1.jsonl"), []byte("{\"seq\":1}\nnot json\n{\"seq\":3}\n"), 0o600)
	if _, err := loadPrior(dir); err == nil {
		t.Error("a corrupt line in the middle of a log was accepted")
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<p>My printer is on fire &amp; smoking</p>", "My printer is on fire & smoking"},
		{"<p>one</p><p>two</p>", "one\ntwo"},
		{"line<br/>break", "line\nbreak"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := htmlToText(tt.in); got != tt.want {
			t.Errorf("htmlToText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
