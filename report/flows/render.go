package flows

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	mdcell "github.com/d2i/d2i/report/internal/cell"
)

// emailAddress finds addresses that flow authors type into filters, step
// names and descriptions; the inventory never prints them.
var emailAddress = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)

// Mask replaces e-mail addresses in s with [email].
func Mask(s string) string {
	return emailAddress.ReplaceAllString(s, "[email]")
}

// Markdown renders entries as the flow inventory an admin reads: a summary
// table, one section per process with its steps, then the Rules table.
// Output depends only on the entries, never on their order.
func Markdown(entries []Entry) string {
	es := append([]Entry(nil), entries...)
	SortEntries(es)
	var b strings.Builder

	cases := 0
	for _, e := range es {
		if e.TouchesCases {
			cases++
		}
	}
	b.WriteString("# Flow inventory\n\n")
	fmt.Fprintf(&b, "%d processes, %d of them touch cases. d2i migrates no automation: "+
		"rebuild what each line recommends by hand in Intercom.\n\n", len(es), cases)

	writeSummary(&b, es)
	b.WriteString("\n## Processes\n")
	for _, e := range es {
		writeEntry(&b, e)
	}
	writeRules(&b)
	return b.String()
}

func writeSummary(b *strings.Builder, es []Entry) {
	b.WriteString("| Name | Kind | State | Trigger | Table | Cases | Recommendation |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, e := range es {
		row(b, e.Name, e.Kind, e.State, e.Trigger.Summary(), e.Table, yesNo(e.TouchesCases), e.Recommendation)
	}
}

func writeEntry(b *strings.Builder, e Entry) {
	fmt.Fprintf(b, "\n### %s\n\n", cell(e.Name))
	item(b, "Id", "`"+e.ID+"`")
	item(b, "Kind", e.Kind)
	item(b, "State", e.State)
	item(b, "Owner", e.Owner)
	item(b, "Solution", e.Solution)
	item(b, "Mode", e.Mode)
	item(b, "Scope", e.Scope)
	trig := e.Trigger.Summary()
	if e.Trigger.Name != "" {
		trig += " (" + e.Trigger.Name + ")"
	}
	item(b, "Trigger", trig)
	item(b, "Trigger scope", e.Trigger.Scope)
	item(b, "Table", e.Table)
	item(b, "Connectors", strings.Join(e.Connectors, ", "))
	cases := "no"
	if e.TouchesCases {
		cases = "yes: " + strings.Join(e.CaseReasons, "; ")
	}
	item(b, "Touches cases", cases)
	item(b, "Recommendation", e.Recommendation+" (rule `"+e.RuleID+"`)")
	item(b, "Why", e.Why)

	if len(e.Actions) == 0 {
		return
	}
	b.WriteString("\n| # | Step | Type | Connector | Operation | Table | Writes |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for i, a := range e.Actions[:min(len(e.Actions), MaxListedSteps)] {
		row(b, strconv.Itoa(i+1), a.Path, a.Type, a.Connector, a.OperationID, actionTable(a), writes(a))
	}
	if more := len(e.Actions) - MaxListedSteps; more > 0 {
		fmt.Fprintf(b, "\n%d more steps are not listed; the flow's own definition has them all.\n", more)
	}
}

// MaxListedSteps bounds one process's step table: a generated flow can
// hold hundreds of thousands of actions, and a report of megabytes per
// flow helps nobody. Connectors and the cases flag still count every step.
const MaxListedSteps = 500

// maxCSVField keeps a CSV field within what a spreadsheet cell holds
// (32,767 characters in Excel), with room for the "more" note.
const maxCSVField = 32000

func writeRules(b *strings.Builder) {
	b.WriteString("\n## Recommendation rules\n\n")
	b.WriteString("The first rule that matches a process gives its recommendation.\n\n")
	b.WriteString("| Rule | When | Recommendation | Why |\n|---|---|---|---|\n")
	for _, r := range Rules {
		row(b, "`"+r.ID+"`", r.When, r.Recommend, r.Why)
	}
}

func item(b *strings.Builder, label, value string) {
	if value == "" {
		return
	}
	fmt.Fprintf(b, "- %s: %s\n", label, cell(value))
}

func row(b *strings.Builder, cells ...string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + cell(c) + " |")
	}
	b.WriteString("\n")
}

// cell makes a value safe for one Markdown table cell or list line, with
// e-mail addresses masked.
func cell(s string) string { return mdcell.Markdown(Mask(s)) }

func actionTable(a Action) string {
	if a.Regarding != "" {
		return a.Table + " regarding " + a.Regarding
	}
	return a.Table
}

func writes(a Action) string {
	switch {
	case a.Assigns:
		return "assigns"
	case a.Writes:
		return "yes"
	}
	return ""
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// csvHeader names the CSV columns.
var csvHeader = []string{
	"id", "name", "kind", "category", "state", "owner", "solution", "trigger_kind", "trigger",
	"table", "message", "filtering_attributes", "filter_expression", "trigger_scope",
	"connectors", "steps", "touches_cases", "case_reasons", "rule", "recommendation", "why",
}

// CSV renders entries one per line, sorted as Markdown sorts them. Steps
// are listed as path[connector:operation] separated by "; ".
func CSV(entries []Entry) string {
	es := append([]Entry(nil), entries...)
	SortEntries(es)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(csvHeader) // a bytes.Buffer does not fail
	for _, e := range es {
		rec := []string{
			e.ID, e.Name, e.Kind, strconv.Itoa(e.Category), e.State, e.Owner, e.Solution,
			e.Trigger.Kind, e.Trigger.Summary(), e.Table, e.Trigger.Message,
			strings.Join(e.Trigger.FilteringAttributes, ","), e.Trigger.FilterExpression,
			e.Trigger.Scope, strings.Join(e.Connectors, ","), stepList(e.Actions),
			strconv.FormatBool(e.TouchesCases), strings.Join(e.CaseReasons, "; "),
			e.RuleID, e.Recommendation, e.Why,
		}
		for i := range rec {
			rec[i] = Mask(rec[i])
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return buf.String()
}

// stepList stops before maxCSVField characters and says how many steps
// it left out.
func stepList(as []Action) string {
	var b strings.Builder
	for i, a := range as {
		step := a.Path
		if a.Connector != "" || a.OperationID != "" {
			step += "[" + a.Connector + ":" + a.OperationID + "]"
		}
		if b.Len()+len(step) > maxCSVField {
			fmt.Fprintf(&b, "; … %d more steps", len(as)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(step)
	}
	return b.String()
}
