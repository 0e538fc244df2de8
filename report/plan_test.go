package report

import (
	"strings"
	"testing"
	"time"
)

func TestPlanDoc(t *testing.T) {
	p := PlanInput{Staging: "staging.duckdb", RatePerMinute: 600, OtherReads: 5, Duration: 3500 * time.Millisecond,
		Kinds: []PlanKind{
			{Kind: "company", Records: 2, Writes: 2, Reads: 2, Duration: 400 * time.Millisecond},
			{Kind: "conversation_state", Records: 2, Writes: 5, Duration: 500 * time.Millisecond},
		},
		Checklist: []string{"Pause workflows on new conversations.", "Turn off Fin."}}
	doc := PlanDoc(p)
	if doc.Name != "plan" {
		t.Errorf("name = %q", doc.Name)
	}
	for _, want := range []string{
		"At 600 requests per minute, replay sends 14 requests in about 3.5s.",
		"| company | 2 | 2 | 2 | 4 | 400ms |",
		"| conversation_state | 2 | 5 | 0 | 5 | 500ms |",
		"| workspace lists | | | 5 | 5 | |",
		"| **all** | | | | **14** | **3.5s** |",
		"- [ ] Pause workflows on new conversations.\n- [ ] Turn off Fin.\n",
	} {
		if !strings.Contains(doc.Markdown, want) {
			t.Errorf("markdown lacks %q:\n%s", want, doc.Markdown)
		}
	}
	wantCSV := [][]string{
		{"kind", "records", "writes", "reads", "requests", "seconds"},
		{"company", "2", "2", "2", "4", "0.4"},
		{"conversation_state", "2", "5", "0", "5", "0.5"},
		{"workspace_lists", "", "", "5", "5", ""},
		{"all", "", "", "", "14", "3.5"},
	}
	if got, want := joinCSV(doc.CSV), joinCSV(wantCSV); got != want {
		t.Errorf("csv:\n%s\nwant\n%s", got, want)
	}
}

func TestPlanDocWithoutChecklist(t *testing.T) {
	doc := PlanDoc(PlanInput{RatePerMinute: 10000, Duration: 90*time.Minute + 400*time.Millisecond})
	if !strings.Contains(doc.Markdown, "No checklist was given.") ||
		!strings.Contains(doc.Markdown, "in about 1h30m0s.") {
		t.Errorf("markdown:\n%s", doc.Markdown)
	}
}

// After replay the plan still shows the whole migration, and says what a
// rerun would still send given the write logs.
func TestPlanDocRemaining(t *testing.T) {
	p := PlanInput{Staging: "staging.duckdb", RatePerMinute: 600, OtherReads: 5, Duration: time.Second,
		Kinds:     []PlanKind{{Kind: "company", Records: 2, Writes: 2}},
		Remaining: &PlanRemaining{LogDir: "writelog", Requests: 5, Duration: 500 * time.Millisecond}}
	doc := PlanDoc(p)
	want := "replay sends 7 requests in about 1s. Given the write logs in `writelog`, a rerun would still " +
		"send 5 requests (about 500ms)"
	if !strings.Contains(doc.Markdown, want) {
		t.Errorf("markdown lacks %q:\n%s", want, doc.Markdown)
	}
	last := doc.CSV[len(doc.CSV)-1]
	if got := strings.Join(last, ","); got != "remaining_after_write_logs,,,,5,0.5" {
		t.Errorf("last CSV row = %q", got)
	}
}
