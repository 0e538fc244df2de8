package replay

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// writeLogFile writes records as one run's log, stamping times in order.
func writeLogFile(t *testing.T, dir, run string, at time.Time, recs []Record) {
	t.Helper()
	var b strings.Builder
	for i, r := range recs {
		r.Seq, r.Run = int64(i+1), run
		r.Time = at.Add(time.Duration(i) * time.Millisecond).UTC().Format("2006-01-02T15:04:05.000Z")
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	if err := os.WriteFile(filepath.Join(dir, run+".jsonl"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestReadLogsAfterRollback(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	ok := func(op, id string) Record { return Record{Type: "outcome", Op: op, Status: 200, IntercomID: id} }
	tableOf := map[string]string{KindContact: "contact", KindConversation: "incident",
		KindConversationPart: "email", KindCompany: "account"}
	in := func(op, kind, src, path string) Record {
		r := Record{Type: "intent", Op: op, Kind: kind, SourceTable: tableOf[kind], SourceID: src, Path: path}
		if src == "p2" {
			r.SourceTable = "phonecall"
		}
		return r
	}
	// Run names sort against time on purpose: order comes from the records.
	writeLogFile(t, dir, "20261203T100000Z-ffff", t0, []Record{
		in("contact:c1:create", KindContact, "c1", "/contacts"), ok("contact:c1:create", "k1"),
		in("contact:c2:create", KindContact, "c2", "/contacts"), ok("contact:c2:create", "k2"),
		in("conversation:v1:create", KindConversation, "v1", "/conversations"), ok("conversation:v1:create", "1"),
		in("conversation_part:p1:create", KindConversationPart, "p1", "/conversations/1/reply"),
		ok("conversation_part:p1:create", "11"),
		in("conversation_part:p2:create", KindConversationPart, "p2", "/conversations/1/reply"),
		ok("conversation_part:p2:create", "12"),
		in("company:a1:upsert", KindCompany, "a1", "/companies"),
		{Type: "outcome", Op: "company:a1:upsert", Status: 200, IntercomID: "co", Existing: true},
	})
	writeLogFile(t, dir, "20261203T100000Z-0000", t0.Add(time.Second), []Record{ // rollback
		in("conversation:v1:undo", KindConversation, "v1", "/conversations/1"), ok("conversation:v1:undo", "1"),
		in("contact:c1:undo", KindContact, "c1", "/contacts/k1"), ok("contact:c1:undo", "k1"),
		in("contact:c2:undo", KindContact, "c2", "/contacts/k2"), ok("contact:c2:undo", "k2"),
	})
	writeLogFile(t, dir, "20261203T100001Z-0000", t0.Add(2*time.Second), []Record{ // replay again
		in("contact:c1:create", KindContact, "c1", "/contacts"), ok("contact:c1:create", "k3"),
		in("contact:c2:create", KindContact, "c2", "/contacts"),
		{Type: "outcome", Op: "contact:c2:create", Status: 400, Error: "bad"},
	})
	lc, err := ReadLogs(dir)
	if err != nil {
		t.Fatal(err)
	}
	email, call := KindSource{KindConversationPart, "email"}, KindSource{KindConversationPart, "phonecall"}
	want := &LogCounts{Runs: lc.Runs,
		Written:  map[string]int{KindContact: 2, KindConversation: 1, KindConversationPart: 2},
		Existing: map[string]int{KindCompany: 1},
		Failed:   map[string]int{KindContact: 1},
		Undone:   map[string]int{KindContact: 1, KindConversation: 1, KindConversationPart: 2},
		WrittenBySource: map[KindSource]int{{KindContact, "contact"}: 2, {KindConversation, "incident"}: 1,
			email: 1, call: 1},
		ExistingBySource: map[KindSource]int{{KindCompany, "account"}: 1},
		UndoneBySource: map[KindSource]int{{KindContact, "contact"}: 1, {KindConversation, "incident"}: 1,
			email: 1, call: 1}}
	if fmt.Sprint(lc) != fmt.Sprint(want) {
		t.Errorf("ReadLogs = %+v\nwant %+v", lc, want)
	}
	ps, err := loadPrior(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st := ps["contact:c1:create"]; !st.done || st.intercomID != "k3" {
		t.Errorf("recreated c1: %+v", st)
	}
	if st := ps["contact:c1:undo"]; st != nil {
		t.Errorf("the undo of c1 must be re-armed by the recreation: %+v", st)
	}
	if st := ps["conversation_part:p1:create"]; st.done || !st.undone || st.intent != nil {
		t.Errorf("part of a deleted conversation: %+v", st)
	}

	// A rollback killed between intent and outcome leaves c1 uncertain:
	// not skipped, looked up before anything is sent.
	writeLogFile(t, dir, "20261203T100002Z-0000", t0.Add(3*time.Second), []Record{
		in("contact:c1:undo", KindContact, "c1", "/contacts/k3")})
	ps, err = loadPrior(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st := ps["contact:c1:create"]; !st.undoPending || st.intent == nil {
		t.Errorf("c1 with an undo in flight: %+v", st)
	}
}
