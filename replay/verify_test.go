package replay

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// replayed runs a clean replay of stageRows into a fresh emulator.
func replayed(t *testing.T) (srvURL, db, logDir string) {
	t.Helper()
	db = writeStage(t, stageRows)
	srv := newEmulator(t, nil)
	logDir = t.TempDir()
	sum, err := Run(t.Context(), testConfig(t, srv.URL, db, logDir))
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("replay: %v %+v", err, sum.Failures)
	}
	return srv.URL, db, logDir
}

func verifyConfig(t *testing.T, url, db, logDir string) VerifyConfig {
	return VerifyConfig{DBPath: db, BaseURL: url, Token: secretToken, LogDir: logDir, OutDir: t.TempDir(),
		Workers: 3, Retry: fastRetry, Logger: testLogger(t)}
}

// verifyLines runs Verify and returns verify.txt's lines.
func verifyLines(t *testing.T, cfg VerifyConfig) (*VerifySummary, []string) {
	t.Helper()
	sum, err := Verify(t.Context(), cfg)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(cfg.OutDir, VerifyTextFile))
	if err != nil {
		t.Fatal(err)
	}
	return sum, strings.Split(strings.TrimSpace(string(b)), "\n")
}

// apiCall sends one request to the emulator, as a workspace admin would.
func apiCall(t *testing.T, url, method, path string, body any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secretToken)
	req.Header.Set("Intercom-Version", Version)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
}

func TestVerifyCleanReplay(t *testing.T) {
	url, db, logDir := replayed(t)
	sum, lines := verifyLines(t, verifyConfig(t, url, db, logDir))
	ids, err := readIDMaps(logDir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"= company acc1 " + ids.companies["acc1"],
		"= company acc2 " + ids.companies["acc2"],
		"= contact c1 " + ids.contacts["c1"],
		"= contact c2 " + ids.contacts["c2"],
		"= contact c3 " + ids.contacts["c3"],
		"= conversation inc1 " + ids.conversations["inc1"],
		"= conversation_part p1 " + ids.parts["p1"],
		"= conversation_part p2 " + ids.parts["p2"],
		"= conversation_part p3 " + ids.parts["p3"],
		"= conversation inc2 " + ids.conversations["inc2"],
		"= conversation_part p4 " + ids.parts["p4"],
		"= conversation_part p5 " + ids.parts["p5"],
		"= conversation inc3 " + ids.conversations["inc3"],
		"= conversation_part p6 " + ids.parts["p6"],
	}
	if got := strings.Join(lines, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("verify.txt:\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	if !sum.Clean() || sum.Kinds[KindConversationPart].Equal != 6 || sum.Kinds[KindContact].Equal != 3 {
		t.Errorf("summary %+v", sum.Kinds)
	}
	for _, fc := range sum.Fields {
		if fc.Differ != 0 || fc.Compared == 0 {
			t.Errorf("field %+v", fc)
		}
	}
	csv, _ := os.ReadFile(sum.CSVPath)
	for _, row := range []string{"kind,field,compared,differ", "contact,email,3,0",
		"conversation,admin_assignee,2,0", "conversation,custom_attributes.dynamics_priority,1,0",
		"conversation_part,body,6,0"} {
		if !strings.Contains(string(csv), row+"\n") {
			t.Errorf("verify.csv lacks %q:\n%s", row, csv)
		}
	}
}

func TestVerifyFindsChanges(t *testing.T) {
	url, db, logDir := replayed(t)
	ids, err := readIDMaps(logDir)
	if err != nil {
		t.Fatal(err)
	}
	apiCall(t, url, "PUT", "/contacts/"+ids.contacts["c1"], map[string]any{"name": "Someone Else"})
	apiCall(t, url, "PUT", "/contacts/"+ids.contacts["c2"], map[string]any{"email": "BO@example.com "})
	apiCall(t, url, "POST", "/companies", map[string]any{"company_id": "acc2", "industry": "Mining"})
	apiCall(t, url, "DELETE", "/conversations/"+ids.conversations["inc2"], nil)
	apiCall(t, url, "POST", "/conversations/"+ids.conversations["inc3"]+"/reply", map[string]any{
		"type": "admin", "admin_id": "991267696", "message_type": "note", "body": "<p>afterthought</p>"})
	apiCall(t, url, "PUT", "/conversations/"+ids.conversations["inc1"], map[string]any{
		"title": "Printer fine", "custom_attributes": map[string]any{"dynamics_priority": "Low"}})

	sum, lines := verifyLines(t, verifyConfig(t, url, db, logDir))
	want := map[string]string{
		"company acc2":         "* company acc2 " + ids.companies["acc2"] + " industry",
		"contact c1":           "* contact c1 " + ids.contacts["c1"] + " name",
		"contact c2":           "= contact c2 " + ids.contacts["c2"], // e-mail case is not a difference
		"conversation inc1":    "* conversation inc1 " + ids.conversations["inc1"] + " title,custom_attributes.dynamics_priority",
		"conversation inc2":    "- conversation inc2 " + ids.conversations["inc2"],
		"conversation_part p4": "- conversation_part p4 " + ids.parts["p4"],
		"conversation inc3":    "* conversation inc3 " + ids.conversations["inc3"] + " part_count",
		"conversation_part p6": "= conversation_part p6 " + ids.parts["p6"],
	}
	for key, w := range want {
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l[2:], key+" ") })
		if i < 0 || lines[i] != w {
			t.Errorf("line for %s = %q, want %q", key, at(lines, i), w)
		}
	}
	if sum.Clean() {
		t.Error("summary clean after changes")
	}
	k := sum.Kinds
	if k[KindConversation].Missing != 1 || k[KindConversation].Differ != 2 || k[KindConversationPart].Missing != 2 ||
		k[KindContact].Differ != 1 || k[KindCompany].Differ != 1 {
		t.Errorf("counts %+v %+v %+v", *k[KindConversation], *k[KindConversationPart], *k[KindContact])
	}
	text, _ := os.ReadFile(sum.TextPath)
	for _, secret := range []string{"example.com", "Someone", "afterthought", "printer", secretToken} {
		if strings.Contains(strings.ToLower(string(text)), strings.ToLower(secret)) {
			t.Errorf("verify.txt shows %q", secret)
		}
	}
	if fc := field(sum, KindContact, "name"); fc.Compared != 3 || fc.Differ != 1 {
		t.Errorf("contact name counts %+v", fc)
	}
}

func TestVerifyPartBodyAndMissingMapping(t *testing.T) {
	url, _, logDir := replayed(t)
	// A staging change after replay: p5's body and c3's phone now differ,
	// and inc4 was never replayed.
	db2 := writeStage(t, strings.NewReplacer("Yes, we do.", "No, we do not.",
		"'Visitor',null", "'Visitor','+1 555 0199'").Replace(stageRows)+`
insert into stage.conversations values ('incident','inc4','c1',null,null,null,'New','<p>x</p>',
  1600300000,1600300000,'open',null,null,'{}',4);`)
	_, lines := verifyLines(t, verifyConfig(t, url, db2, logDir))
	joined := strings.Join(lines, "\n")
	for _, w := range []string{"* conversation_part p5 ", " body body=", "* contact c3 ",
		"- conversation inc4 -"} {
		if !strings.Contains(joined, w) {
			t.Errorf("verify.txt lacks %q:\n%s", w, joined)
		}
	}
	if strings.Contains(joined, "we do") {
		t.Error("verify.txt shows a body")
	}
}

func TestVerifySample(t *testing.T) {
	url, db, logDir := replayed(t)
	run := func(seed int64) []string {
		cfg := verifyConfig(t, url, db, logDir)
		cfg.Sample, cfg.Seed = 1, seed
		sum, lines := verifyLines(t, cfg)
		if sum.Sample != 1 || sum.Kinds[KindConversation].Equal != 1 {
			t.Fatalf("sample summary %+v", sum.Kinds[KindConversation])
		}
		return lines
	}
	first := run(42)
	if again := run(42); strings.Join(again, "\n") != strings.Join(first, "\n") {
		t.Errorf("same seed, different sample:\n%v\n%v", first, again)
	}
	var conv []string
	for _, l := range first {
		if strings.HasPrefix(l, "= conversation ") {
			conv = append(conv, l)
		}
	}
	if len(conv) != 1 {
		t.Fatalf("sampled conversations %v", conv)
	}
	// The sampled conversation's contact and company come with it.
	deps := map[string][]string{"inc1": {"contact c1", "company acc1"}, "inc2": {"contact c3"},
		"inc3": {"contact c2", "company acc2"}}
	for inc, want := range deps {
		if !strings.Contains(conv[0], " "+inc+" ") {
			continue
		}
		for _, w := range want {
			if !strings.Contains(strings.Join(first, "\n"), "= "+w+" ") {
				t.Errorf("sample of %s lacks %s: %v", inc, w, first)
			}
		}
		if len(first) > 1+len(want)+3 {
			t.Errorf("sample of %s checks too much: %v", inc, first)
		}
	}
	seen := map[string]bool{}
	for seed := range int64(20) {
		for _, l := range run(seed) {
			if strings.HasPrefix(l, "= conversation ") {
				seen[l] = true
			}
		}
	}
	if len(seen) < 2 {
		t.Errorf("20 seeds picked only %v", seen)
	}
}

func TestSampleRankStable(t *testing.T) {
	// The pick must not change between releases: a fixed seed and id give
	// a fixed rank.
	if a, b := sampleRank(1, "inc1"), sampleRank(1, "inc1"); a != b || a == sampleRank(2, "inc1") {
		t.Errorf("ranks %d %d", a, b)
	}
}

func TestVerifyUnreachable(t *testing.T) {
	_, db, logDir := replayed(t)
	cfg := verifyConfig(t, "http://127.0.0.1:1", db, logDir)
	_, err := Verify(t.Context(), cfg)
	if err == nil {
		t.Fatal("verify against a closed port succeeded")
	}
}

func TestNormBody(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"<p>My printer is on fire &amp; smoking</p>", "My printer is on fire & smoking", true},
		{"<p>Hi</p><p>there</p>", "<p class=\"no-margin\">Hi</p>\n<p>there</p>", true},
		{"<p>Hi there</p>", "<p>Hi  there!</p>", false},
		{"a<br>b", "a b", true},
	} {
		if got := normBody(tc.a) == normBody(tc.b); got != tc.same {
			t.Errorf("normBody(%q) vs (%q): same=%v", tc.a, tc.b, got)
		}
	}
}

func field(s *VerifySummary, kind, name string) FieldCount {
	for _, fc := range s.Fields {
		if fc.Kind == kind && fc.Field == name {
			return fc
		}
	}
	return FieldCount{}
}

func at(lines []string, i int) string {
	if i < 0 {
		return "<none>"
	}
	return lines[i]
}

func TestVerifyAfterRollback(t *testing.T) {
	url, db, logDir := replayed(t)
	if _, err := Rollback(t.Context(), RollbackConfig{BaseURL: url, Token: secretToken, LogDir: logDir,
		Retry: fastRetry}); err != nil {
		t.Fatal(err)
	}
	sum, lines := verifyLines(t, verifyConfig(t, url, db, logDir))
	for _, l := range lines {
		if !strings.HasPrefix(l, "- ") || !strings.HasSuffix(l, " -") {
			t.Errorf("after rollback: %q, want missing and unmapped", l)
		}
	}
	if sum.Kinds[KindConversationPart].Missing != 6 || len(sum.Fields) != 0 {
		t.Errorf("summary %+v fields %+v", sum.Kinds, sum.Fields)
	}
}
