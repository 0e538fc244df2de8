package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/d2i/d2i/report/internal/cell"
)

// PlanKind is what a replay would send for one kind of op.
type PlanKind struct {
	Kind     string        // write-log kind, e.g. "contact"
	Records  int64         // objects that get at least one request
	Writes   int64         // mutating requests
	Reads    int64         // reads made for those writes (e.g. before-images)
	Duration time.Duration // Writes+Reads at the rate
}

// Requests is every request of the kind.
func (k PlanKind) Requests() int64 { return k.Writes + k.Reads }

// PlanInput is a replay plan as plain numbers; cmd/d2i fills it from
// replay.Plan, since report does not import replay.
type PlanInput struct {
	Staging       string     // staging file name, for the reader
	RatePerMinute int        // pace the estimate assumes
	Kinds         []PlanKind // in replay's dependency order
	OtherReads    int64      // reads tied to no kind: attribute, admin and team lists
	Duration      time.Duration
	Checklist     []string // workspace settings to switch off before replay
	// Remaining, when write logs were given, is what a rerun of replay would
	// still send after what they record as done; the table above stays the
	// whole migration, so the plan reads the same before and after replay.
	Remaining *PlanRemaining
}

// PlanRemaining is what replay would still send, given earlier write logs.
type PlanRemaining struct {
	LogDir   string // write-log directory name, for the reader
	Requests int64
	Duration time.Duration
}

// Requests is every request of the plan.
func (p PlanInput) Requests() int64 {
	n := p.OtherReads
	for _, k := range p.Kinds {
		n += k.Requests()
	}
	return n
}

// PlanDoc renders the plan: per kind what replay sends and how long it takes
// at the rate, then what the Intercom admin switches off first.
func PlanDoc(p PlanInput) Doc {
	return Doc{Name: "plan", Title: "Replay plan",
		Summary: "What a replay of the staging database would send per kind, how long it takes at the " +
			"configured rate, and the workspace settings to switch off first.",
		Markdown: planMarkdown(p), CSV: planCSV(p)}
}

func planMarkdown(p PlanInput) string {
	var b strings.Builder
	b.WriteString("# Replay plan\n\n")
	if p.Staging != "" {
		fmt.Fprintf(&b, "Staging database: %s. ", cell.Code(p.Staging))
	}
	fmt.Fprintf(&b, "At %d requests per minute, replay sends %d requests in about %s.",
		p.RatePerMinute, p.Requests(), planDuration(p.Duration))
	if r := p.Remaining; r != nil {
		fmt.Fprintf(&b, " Given the write logs in %s, a rerun would still send %d requests (about %s); "+
			"what they record as done is not sent again.", cell.Code(r.LogDir), r.Requests,
			planDuration(r.Duration))
	}
	b.WriteString("\n\n")
	b.WriteString("Counted by running replay's own steps as a dry run against a workspace that has none of " +
		"the staged attributes or companies yet and every staged admin and team. Retries, 429s and lookups " +
		"after lost answers come on top; objects already in Intercom need fewer writes. The rate is only " +
		"the starting pace: replay follows the workspace's rate-limit headers.\n\n")
	b.WriteString("| kind | records | writes | reads | requests | time |\n|---|--:|--:|--:|--:|--:|\n")
	for _, k := range p.Kinds {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s |\n", k.Kind, k.Records, k.Writes, k.Reads, k.Requests(),
			planDuration(k.Duration))
	}
	fmt.Fprintf(&b, "| workspace lists | | | %d | %d | |\n", p.OtherReads, p.OtherReads)
	fmt.Fprintf(&b, "| **all** | | | | **%d** | **%s** |\n", p.Requests(), planDuration(p.Duration))
	writePlanChecklist(&b, p.Checklist)
	return b.String()
}

func writePlanChecklist(b *strings.Builder, items []string) {
	b.WriteString("\n## Before replay: switch off in the Intercom workspace\n\n")
	if len(items) == 0 {
		b.WriteString("No checklist was given.\n")
		return
	}
	for _, item := range items {
		fmt.Fprintf(b, "- [ ] %s\n", item)
	}
	b.WriteString("\nSwitch them back on once verify has passed.\n")
}

// planCSV is one row per kind, then the workspace lists and the total.
func planCSV(p PlanInput) [][]string {
	out := [][]string{{"kind", "records", "writes", "reads", "requests", "seconds"}}
	for _, k := range p.Kinds {
		out = append(out, []string{k.Kind, planInt(k.Records), planInt(k.Writes), planInt(k.Reads),
			planInt(k.Requests()), planSeconds(k.Duration)})
	}
	out = append(out, []string{"workspace_lists", "", "", planInt(p.OtherReads), planInt(p.OtherReads), ""})
	out = append(out, []string{"all", "", "", "", planInt(p.Requests()), planSeconds(p.Duration)})
	if r := p.Remaining; r != nil {
		out = append(out, []string{"remaining_after_write_logs", "", "", "", planInt(r.Requests),
			planSeconds(r.Duration)})
	}
	return out
}

func planInt(n int64) string { return strconv.FormatInt(n, 10) }

func planSeconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) }

// planDuration keeps tenths of a second under a minute and whole seconds
// above, which is all an estimate can claim.
func planDuration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
