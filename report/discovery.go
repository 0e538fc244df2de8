package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/d2i/d2i/report/flows"
	"github.com/d2i/d2i/report/internal/cell"
)

// DiscoveryInput is what discovery found about the source, in plain values:
// cmd/d2i fills it from the snapshot package's survey, so that this package
// needs no Dataverse client.
type DiscoveryInput struct {
	Source       string // org URL or snapshot directory
	FromSnapshot bool   // counts are a snapshot's rows, not the org's own figures
	Tables       map[string]DiscoveryTable

	Queues        DiscoveryQueues
	SLAs          []DiscoverySLA
	Entitlements  DiscoveryEntitlements
	CategoryDepth int // levels of the longest parentcategoryid chain
	Flows         []DiscoveryFlows
	Routing       []DiscoveryCheck

	// RatePerMinute is the Intercom request rate the API time assumes.
	RatePerMinute int
}

// DiscoveryTable is one Dataverse table as discovery saw it.
type DiscoveryTable struct {
	Checked, Present, Custom bool
	Count                    int64 // best known rows; -1 unknown
	SourceCount              int64 // the org's own figure; -1 unknown
	CustomColumns            []string
}

// DiscoveryQueues counts queues by view type and routing kind.
type DiscoveryQueues struct {
	Total, Public, Private, Active        int64
	Omnichannel, RecordRouting, Messaging int64
}

// DiscoverySLA is one SLA definition.
type DiscoverySLA struct {
	Name   string
	Active bool
}

// DiscoveryEntitlements counts entitlements and those in force.
type DiscoveryEntitlements struct{ Total, Active int64 }

// DiscoveryFlows counts the process definitions of one workflow category.
type DiscoveryFlows struct {
	Category         int
	Total, Activated int64
}

// DiscoveryCheck is one look for a feature and what it found.
type DiscoveryCheck struct {
	What   string
	Found  bool
	Detail string
}

// Verdicts of the object map.
const (
	verdictGo      = "go"
	verdictPartial = "partial"
	verdictNoGo    = "no-go"
)

// intercomAttributeLimit is how many data attributes a workspace holds per
// model (spec/intercom-api.md §9).
const intercomAttributeLimit = 250

// discoveryObject is one line of the migration's object map: where it comes
// from, what it becomes, and how many Intercom requests each source object
// costs.
type discoveryObject struct {
	source, target string
	tables         []string // Dataverse tables whose rows are the object's count
	columns        bool     // counted in custom columns of tables, not rows
	customTables   bool     // counted in rows of the org's custom tables
	oneToOne       bool     // each source object becomes exactly one Intercom object
	verdict        string
	reason         string
	perObject      float64 // Intercom requests per source object
}

// discoveryObjects is the migration's object map with its request assumptions; the
// figures are what replay sends on a clean run (retries, 429s and lookups
// after lost answers come on top).
var discoveryObjects = []discoveryObject{
	// create, then one PUT for title and attributes, one assignment to the
	// owner and one close or snooze; a case in a queue adds a team assignment.
	{source: "case", target: "conversation", tables: []string{"incident"}, oneToOne: true,
		verdict: verdictGo, reason: "1:1", perObject: 4},
	// create, plus the link to the contact's company (contacts without a
	// company need one request fewer: this is the upper bound).
	{source: "contact", target: "user / lead", tables: []string{"contact"}, oneToOne: true,
		verdict: verdictGo, reason: "1:1 (user with an e-mail, lead without; duplicate e-mails merged)", perObject: 2},
	// one upsert keyed on company_id.
	{source: "account", target: "company", tables: []string{"account"}, oneToOne: true,
		verdict: verdictGo, reason: "1:1", perObject: 1},
	// one reply or note on the case's conversation.
	{source: "email", target: "conversation part", tables: []string{"email"}, oneToOne: true,
		verdict: verdictGo, reason: "1:1 (a reply or note on its case's conversation)", perObject: 1},
	// one note each on the case's conversation.
	{source: "phone call", target: "note", tables: []string{"phonecall"}, oneToOne: true,
		verdict: verdictGo, reason: "1:1", perObject: 1},
	{source: "task", target: "note", tables: []string{"task"}, oneToOne: true,
		verdict: verdictGo, reason: "1:1", perObject: 1},
	{source: "appointment", target: "note", tables: []string{"appointment"}, oneToOne: true,
		verdict: verdictGo, reason: "1:1", perObject: 1},
	// one create per row at most: translations travel inside the article's
	// create, and older versions are not sent.
	{source: "knowledge article", target: "article", tables: []string{"knowledgearticle"},
		verdict: verdictPartial, reason: "the latest version per language becomes one article with its translations; older versions are not migrated",
		perObject: 1},
	// one create; the parent is set in the same request.
	{source: "category", target: "collection", tables: []string{"category"}, oneToOne: true,
		verdict: verdictGo, reason: "1:1", perObject: 1},
	// teams are matched, never written (one list call for all of them).
	{source: "queue", target: "team", tables: []string{"queue"},
		verdict: verdictPartial, reason: "teams must exist in Intercom (cannot be created by API); public queues are matched by name, private ones are not migrated",
		perObject: 0},
	// terms ride in the conversation's attribute PUT counted for cases.
	{source: "entitlement", target: "conversation attributes", tables: []string{"entitlement"},
		verdict: verdictPartial, reason: "terms copied to each case's conversation as attributes; Intercom enforces none of them",
		perObject: 0},
	// targets ride in the conversation's attribute PUT counted for cases.
	{source: "SLA", target: "conversation attributes", tables: []string{"sla"},
		verdict: verdictPartial, reason: "targets copied to each case's conversation as attributes; SLA policies are set up by hand in Intercom",
		perObject: 0},
	// one data attribute create per column, before any object.
	{source: "custom column", target: "custom attribute", tables: []string{"incident", "contact", "account"},
		columns: true, oneToOne: true, verdict: verdictGo, reason: "1:1 as data attributes", perObject: 1},
	// files ride on the reply or note that carries them.
	{source: "attachment", target: "attachment", tables: []string{"activitymimeattachment"},
		verdict: verdictPartial, reason: "at most 10 files per reply; files over the size cap are split or listed in the channel-asset report",
		perObject: 0},
	// nothing is written: flows are rebuilt by hand from the inventory.
	{source: "flow", target: "inventory only", tables: []string{"workflow"},
		verdict: verdictNoGo, reason: "not migrated, inventoried for rebuilding as Intercom workflows", perObject: 0},
	// create, one note holding the transcript, and the close.
	{source: "Omnichannel conversation", target: "conversation with transcript", tables: []string{"msdyn_ocliveworkitem"},
		verdict: verdictPartial, reason: "transcript text becomes conversation parts; recordings and channel files are listed, not moved",
		perObject: 3},
	// nothing is written: the object map has no Intercom home for them.
	{source: "custom table row", target: "none", customTables: true,
		verdict: verdictNoGo, reason: "not migrated, inventoried under Tables for a decision by hand", perObject: 0},
}

// workspaceReads are the list calls replay makes once per run: admins,
// teams and data attributes.
const workspaceReads = 3

// discoveryLine is one object of the map with its figures for this org.
type discoveryLine struct {
	discoveryObject
	count    int64 // -1 unknown
	absent   bool  // none of its tables exists in the org
	requests int64 // perObject × count, rounded up
}

// DiscoveryDoc renders the scope of a migration from metadata and counts:
// signs of the licence tier, counts per table, the object map with go /
// no-go per object, and the Intercom API time at in.RatePerMinute.
func DiscoveryDoc(in DiscoveryInput) Doc {
	lines := discoveryLines(in)
	signs := tierSigns(in)
	return Doc{
		Name:     "discovery",
		Title:    "Discovery",
		Summary:  "scope before migrating: licence signs, counts, go / no-go per object, API time",
		Markdown: discoveryMarkdown(in, signs, lines),
		CSV:      discoveryCSV(in, signs, lines),
	}
}

func discoveryLines(in DiscoveryInput) []discoveryLine {
	out := make([]discoveryLine, 0, len(discoveryObjects))
	for _, o := range discoveryObjects {
		l := discoveryLine{discoveryObject: o}
		l.count, l.absent = discoveryObjectCount(in, o)
		if l.count > 0 {
			l.requests = int64(math.Ceil(o.perObject * float64(l.count)))
		}
		l.verdict, l.reason = adjustVerdict(in, o)
		out = append(out, l)
	}
	return out
}

// discoveryObjectCount sums the object's tables; unknown if any present table has
// no count, absent if none of them exists.
func discoveryObjectCount(in DiscoveryInput, o discoveryObject) (int64, bool) {
	tables := o.tables
	if o.customTables {
		tables = discoveryCustomTables(in)
	}
	var sum int64
	present := false
	for _, name := range tables {
		t, ok := in.Tables[name]
		if !ok || !t.Checked {
			return -1, false
		}
		if !t.Present {
			continue
		}
		present = true
		if o.columns {
			sum += int64(len(t.CustomColumns))
			continue
		}
		if t.Count < 0 {
			return -1, false
		}
		sum += t.Count
	}
	return sum, !present
}

// adjustVerdict applies what this org's figures change in the standard map.
func adjustVerdict(in DiscoveryInput, o discoveryObject) (string, string) {
	switch o.source {
	case "category":
		if in.CategoryDepth > 1 {
			return verdictPartial, fmt.Sprintf("collections nest by parent, but Intercom documents no depth limit: "+
				"try the %d levels here in a test workspace", in.CategoryDepth)
		}
	case "custom column":
		if n := max(customColumnCount(in, "contact"), customColumnCount(in, "account")); n > intercomAttributeLimit {
			return verdictPartial, fmt.Sprintf("a workspace holds %d attributes per model; contacts or companies need %d",
				intercomAttributeLimit, n)
		}
	}
	return o.verdict, o.reason
}

func discoveryCustomTables(in DiscoveryInput) []string {
	var names []string
	for _, name := range discoveryTableNames(in) {
		if in.Tables[name].Custom {
			names = append(names, name)
		}
	}
	return names
}

func customColumnCount(in DiscoveryInput, table string) int {
	return len(in.Tables[table].CustomColumns)
}

// --- licence tier -------------------------------------------------------------

// tierSign is one observation that hints at the licence tier.
type tierSign struct {
	name   string
	status string // found | not found | unknown
	detail string
}

const (
	signFound    = "found"
	signNotFound = "not found"
	signUnknown  = "unknown"
)

var discoveryOmnichannelTables = []string{"msdyn_ocliveworkitem", "msdyn_ocsession", "msdyn_transcript"}

func tierSigns(in DiscoveryInput) []tierSign {
	return []tierSign{
		omnichannelSign(in),
		routingSign(in),
		countSign(in, "SLAs", "sla", fmt.Sprintf("%s SLAs (%d active), %s SLA items",
			discoveryCount(in.Tables["sla"].Count), discoveryActiveSLAs(in), discoveryCount(in.Tables["slaitem"].Count))),
		countSign(in, "Entitlements", "entitlement", fmt.Sprintf("%s entitlements, %d active",
			discoveryCount(in.Tables["entitlement"].Count), in.Entitlements.Active)),
		countSign(in, "Knowledge", "knowledgearticle", fmt.Sprintf("%s articles, %s categories, category depth %d",
			discoveryCount(in.Tables["knowledgearticle"].Count), discoveryCount(in.Tables["category"].Count), in.CategoryDepth)),
	}
}

func omnichannelSign(in DiscoveryInput) tierSign {
	s := tierSign{name: "Omnichannel", status: signUnknown, detail: "none of " + strings.Join(discoveryOmnichannelTables, ", ") + " was checked"}
	var present, absent []string
	for _, name := range discoveryOmnichannelTables {
		switch t := in.Tables[name]; {
		case t.Present:
			present = append(present, name)
		case t.Checked:
			absent = append(absent, name)
		}
	}
	switch {
	case len(present) > 0:
		s.status = signFound
		s.detail = "tables present: " + strings.Join(present, ", ") +
			"; " + discoveryCount(in.Tables["msdyn_ocliveworkitem"].Count) + " conversations"
	case len(absent) > 0:
		s.status = signNotFound
		s.detail = "no entity definitions for " + strings.Join(absent, ", ")
	}
	return s
}

func routingSign(in DiscoveryInput) tierSign {
	s := tierSign{name: "Unified routing", status: signUnknown}
	var parts []string
	checked := false
	for _, c := range in.Routing {
		parts = append(parts, c.What+": "+c.Detail)
		if c.Found {
			s.status = signFound
		}
		if c.Detail != "not checked" {
			checked = true
		}
	}
	if s.status != signFound && checked {
		s.status = signNotFound
	}
	s.detail = strings.Join(parts, "; ")
	return s
}

func countSign(in DiscoveryInput, name, table, detail string) tierSign {
	t := in.Tables[table]
	switch {
	case !t.Checked || (t.Present && t.Count < 0):
		return tierSign{name, signUnknown, detail}
	case t.Present && t.Count > 0:
		return tierSign{name, signFound, detail}
	}
	return tierSign{name, signNotFound, detail}
}

func discoveryActiveSLAs(in DiscoveryInput) int {
	n := 0
	for _, s := range in.SLAs {
		if s.Active {
			n++
		}
	}
	return n
}

// tierReading turns the signs into one sentence; the Web API exposes no
// licence, so it says what is in use rather than what was bought.
func tierReading(signs []tierSign) string {
	found := map[string]bool{}
	for _, s := range signs {
		found[s.name] = s.status == signFound
	}
	switch {
	case found["Omnichannel"] || found["Unified routing"]:
		return "Omnichannel or unified routing is in use: an Enterprise plan, likely with channel add-ons."
	case found["SLAs"] || found["Entitlements"]:
		return "SLAs or entitlements are in use: features Enterprise plans carry in full."
	}
	return "Only case management and knowledge are in use: nothing here needs more than Professional."
}

// --- rendering ----------------------------------------------------------------

func discoveryCount(n int64) string {
	if n < 0 {
		return "unknown"
	}
	return strconv.FormatInt(n, 10)
}

func (l discoveryLine) discoveryCount() string {
	if l.absent {
		return "absent"
	}
	return discoveryCount(l.count)
}

// discoveryAPITime is how long n requests take at perMinute, to the second.
func discoveryAPITime(n int64, perMinute int) string {
	if perMinute <= 0 {
		return "an unknown time (no rate given)"
	}
	return time.Duration(float64(n) / float64(perMinute) * float64(time.Minute)).Round(time.Second).String()
}

func discoveryRequests(lines []discoveryLine) int64 {
	total := int64(workspaceReads)
	for _, l := range lines {
		total += l.requests
	}
	return total
}

// discoveryOneToOne totals the source rows that become exactly one Intercom
// object each (custom columns are definitions, not rows, and stay out).
func discoveryOneToOne(lines []discoveryLine) int64 {
	var total int64
	for _, l := range lines {
		if l.oneToOne && !l.columns && l.verdict == verdictGo && l.count > 0 {
			total += l.count
		}
	}
	return total
}

func discoveryMarkdown(in DiscoveryInput, signs []tierSign, lines []discoveryLine) string {
	var b strings.Builder
	b.WriteString("# Discovery\n\n")
	if in.FromSnapshot {
		fmt.Fprintf(&b, "Source: snapshot `%s`. Counts are the rows the snapshot read.\n\n", in.Source)
	} else {
		fmt.Fprintf(&b, "Source: %s. Counts are Dataverse's RetrieveTotalRecordCount, "+
			"which the org refreshes periodically (up to a day old).\n\n", in.Source)
	}
	writeTierSigns(&b, signs)
	writeDiscoveryObjects(&b, in, lines)
	writeDiscoveryConfig(&b, in)
	writeDiscoveryTables(&b, in)
	return b.String()
}

func writeTierSigns(b *strings.Builder, signs []tierSign) {
	b.WriteString("## Licence tier\n\nThe Web API shows no licence; these are signs of what is in use.\n\n")
	b.WriteString("| sign | status | evidence |\n|---|---|---|\n")
	for _, s := range signs {
		fmt.Fprintf(b, "| %s | %s | %s |\n", s.name, s.status, discoveryCell(s.detail))
	}
	fmt.Fprintf(b, "\n%s\n\n", tierReading(signs))
}

func writeDiscoveryObjects(b *strings.Builder, in DiscoveryInput, lines []discoveryLine) {
	b.WriteString("## Objects\n\n| Dynamics | Intercom | source count | decision | requests |\n|---|---|--:|---|--:|\n")
	for _, l := range lines {
		fmt.Fprintf(b, "| %s | %s | %s | %s: %s | %d |\n", l.source, l.target, l.discoveryCount(),
			l.verdict, discoveryCell(l.reason), l.requests)
	}
	total := discoveryRequests(lines)
	fmt.Fprintf(b, "\n%d source rows map one-to-one.\n\n", discoveryOneToOne(lines))
	fmt.Fprintf(b, "API time: %d requests (%d of them workspace lists) at %d per minute take %s, "+
		"before retries and rate-limit waits.\n\n", total, workspaceReads, in.RatePerMinute, discoveryAPITime(total, in.RatePerMinute))
}

func writeDiscoveryConfig(b *strings.Builder, in DiscoveryInput) {
	q := in.Queues
	b.WriteString("## Configuration\n\n")
	fmt.Fprintf(b, "- Queues: %d (%d public, %d private; %d active).\n", q.Total, q.Public, q.Private, q.Active)
	fmt.Fprintf(b, "- SLA definitions: %d%s.\n", len(in.SLAs), discoverySLANames(in.SLAs))
	fmt.Fprintf(b, "- Entitlements: %d, %d active.\n", in.Entitlements.Total, in.Entitlements.Active)
	fmt.Fprintf(b, "- Knowledge: %s articles; %s categories, %d levels deep.\n",
		discoveryCount(in.Tables["knowledgearticle"].Count), discoveryCount(in.Tables["category"].Count), in.CategoryDepth)
	b.WriteString("\nFlows (process definitions), inventoried, never migrated:\n\n")
	b.WriteString("| category | definitions | on |\n|---|--:|--:|\n")
	for _, f := range in.Flows {
		fmt.Fprintf(b, "| %s | %d | %d |\n", flows.CategoryName(f.Category), f.Total, f.Activated)
	}
	b.WriteString("\n")
}

func discoverySLANames(slas []DiscoverySLA) string {
	if len(slas) == 0 {
		return ""
	}
	names := make([]string, len(slas))
	for i, s := range slas {
		names[i] = s.Name
		if !s.Active {
			names[i] += " (not active)"
		}
	}
	return ": " + strings.Join(names, "; ")
}

func writeDiscoveryTables(b *strings.Builder, in DiscoveryInput) {
	b.WriteString("## Tables\n\n| table | status | custom table | rows | source count | custom columns |\n" +
		"|---|---|---|--:|--:|---|\n")
	for _, name := range discoveryTableNames(in) {
		t := in.Tables[name]
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", name, discoveryTableStatus(t), discoveryYes(t.Custom),
			discoveryCount(t.Count), discoveryCount(t.SourceCount), discoveryCell(strings.Join(t.CustomColumns, ", ")))
	}
	b.WriteString("\n")
}

func discoveryTableNames(in DiscoveryInput) []string {
	names := make([]string, 0, len(in.Tables))
	for name := range in.Tables {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func discoveryTableStatus(t DiscoveryTable) string {
	switch {
	case !t.Checked:
		return "not checked"
	case t.Present:
		return "present"
	}
	return "absent"
}

func discoveryYes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// discoveryCell keeps a value from breaking its Markdown table row.
func discoveryCell(s string) string { return cell.Markdown(s) }

// discoveryCSV is one flat table a spreadsheet filters by section.
func discoveryCSV(in DiscoveryInput, signs []tierSign, lines []discoveryLine) [][]string {
	rows := [][]string{{"section", "name", "count", "status", "detail"}}
	for _, s := range signs {
		rows = append(rows, []string{"sign", s.name, "", s.status, s.detail})
	}
	for _, l := range lines {
		rows = append(rows, []string{"object", l.source + " → " + l.target, l.discoveryCount(), l.verdict, l.reason})
	}
	for _, l := range lines {
		rows = append(rows, []string{"requests", l.source, strconv.FormatInt(l.requests, 10), "",
			strconv.FormatFloat(l.perObject, 'f', -1, 64) + " per object"})
	}
	total := discoveryRequests(lines)
	rows = append(rows,
		[]string{"requests", "workspace lists", strconv.Itoa(workspaceReads), "", "admins, teams, data attributes"},
		[]string{"total", "one-to-one rows", strconv.FormatInt(discoveryOneToOne(lines), 10), "", ""},
		[]string{"total", "requests", strconv.FormatInt(total, 10), "",
			fmt.Sprintf("%s at %d per minute", discoveryAPITime(total, in.RatePerMinute), in.RatePerMinute)})
	for _, name := range discoveryTableNames(in) {
		t := in.Tables[name]
		rows = append(rows, []string{"table", name, discoveryCount(t.Count), discoveryTableStatus(t), discoveryTableDetail(t)})
	}
	return rows
}

func discoveryTableDetail(t DiscoveryTable) string {
	var parts []string
	if t.Custom {
		parts = append(parts, "custom table")
	}
	if t.SourceCount >= 0 && t.SourceCount != t.Count {
		parts = append(parts, "source count "+discoveryCount(t.SourceCount))
	}
	if len(t.CustomColumns) > 0 {
		parts = append(parts, "custom columns: "+strings.Join(t.CustomColumns, " "))
	}
	return strings.Join(parts, "; ")
}
