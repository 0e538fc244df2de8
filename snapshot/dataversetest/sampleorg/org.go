// Package sampleorg generates a deterministic, realistic and messy Dynamics
// 365 Customer Service org of any size, for the Dataverse emulator and tests.
//
// Row i of table t is a pure function of (seed, t, i) plus a few small
// per-table offset arrays, so an org of 200,000 cases and millions of
// activities is served in constant memory. Schemas are the real 2025
// EntityMetadata exports embedded under metadata/, and for the other tables
// definitions written from the documentation (docentities.go).
//
// A Row maps attribute logical names (not _x_value) to Go values:
//
//	String, Memo, EntityName, Uniqueidentifier  string (GUIDs lower-case)
//	annotation.documentbody,
//	activitymimeattachment.body                 Blob (Base64 text generated on demand)
//	Integer, Picklist, State, Status            int
//	BigInt                                      int64
//	Double                                      float64
//	Decimal, Money                              json.Number with Precision decimals
//	Boolean                                     bool
//	DateTime                                    time.Time in UTC (midnight for DateOnly behavior)
//	Lookup, Customer, Owner                     Ref
//	MultiSelectPicklist                         []int
//	no value                                    nil
//
// Every data column of the schema (Entity.Columns) is a key of every row.
package sampleorg

import (
	"fmt"
	"sort"
	"time"
)

// Options configures the generated org.
type Options struct {
	Seed  int64
	Cases int // number of incidents; 0 means 2000
	// Omnichannel adds conversations, sessions, transcripts and voice
	// recordings (omnichannel.go); off, the org has no msdyn_ tables.
	Omnichannel bool
}

// Ref is a lookup value: the target table, its primary key and its primary
// name (the lookup's formatted value; empty when the target has none).
type Ref struct {
	LogicalName string
	ID          string
	Name        string
}

// Row is one generated record; see the package documentation for value types.
type Row map[string]any

// SystemUser is what the demo needs to seed Intercom admins.
type SystemUser struct {
	ID, FullName, Email string
	Application         bool // an application (non-interactive) user, not an agent
	Disabled            bool
}

// Org is a generated org. It is safe for concurrent use.
type Org struct {
	seed    int64
	cases   int
	schemas map[string]*Entity
	counts  map[string]int

	// emailStart[b] is the index of the first email of case block b; the
	// last entry is the number of case emails.
	emailStart []int
	// partyStart[b] is the index of the first activityparty of email block b.
	partyStart []int
	// lay holds the layouts of the child tables added after the first eight.
	lay map[string]*layout
	// omnichannel: the org has the msdyn_ tables (Options.Omnichannel).
	omnichannel bool
}

// Tables lists the generated tables in dependency order.
var tableOrder = []string{"systemuser", "queue", "account", "contact", "incident", "email", "activityparty", "annotation",
	"team", "teammembership", "queuemembership", "queueitem", "calendar", "sla", "slaitem", "entitlementtemplate",
	"entitlement", "entitlementchannel", "slakpiinstance", "incidentresolution", "phonecall", "task", "appointment",
	"activitymimeattachment", "languagelocale", "category", "knowledgearticle", "knowledgearticlescategories",
	"workflow", "new_warrantyclaim"}

const blockSize = 64

// anchor is the org's "now": every generated time lies before it, so rows do
// not depend on the wall clock.
var anchor = time.Date(2025, 11, 30, 0, 0, 0, 0, time.UTC)

// New builds the org's schemas and offset tables. It does not generate rows.
func New(opt Options) (*Org, error) {
	if opt.Cases == 0 {
		opt.Cases = 2000
	}
	if opt.Cases < 1 {
		return nil, fmt.Errorf("sampleorg: Cases must be positive, got %d", opt.Cases)
	}
	s, err := Schemas()
	if err != nil {
		return nil, fmt.Errorf("sampleorg: %w", err)
	}
	o := &Org{seed: opt.Seed, cases: opt.Cases, omnichannel: opt.Omnichannel, schemas: s}
	n := opt.Cases
	o.counts = map[string]int{
		"systemuser": 8 + n/400,
		"queue":      4 + n/20000,
		"account":    3 + n/10,
		"contact":    10 + n/2,
		"incident":   n,
		"annotation": 2 + n/20,
	}
	o.emailStart = prefixBlocks(n, o.emailsOfCase)
	o.counts["email"] = o.emailStart[len(o.emailStart)-1] + o.looseEmails()
	o.partyStart = prefixBlocks(o.counts["email"], o.partiesOfEmail)
	o.counts["activityparty"] = o.partyStart[len(o.partyStart)-1]
	o.counts["annotation"] += o.contactNotes()
	o.addServiceTables()
	if o.omnichannel {
		o.addOmnichannel()
	}
	return o, nil
}

// addServiceTables sizes the tables added after the first eight; see
// layout.go for the per-parent counts.
func (o *Org) addServiceTables() {
	n := o.cases
	for t, c := range map[string]int{"team": o.Count("queue") + 1, "calendar": 3, "sla": 3, "slaitem": 6,
		"entitlementtemplate": 3, "entitlement": 2 + n/50, "languagelocale": len(locales),
		"category": categoryCount, "workflow": len(workflowDefs())} {
		o.counts[t] = c
	}
	topics := 4 + n/100
	o.lay = map[string]*layout{
		"teammembership":              newLayout(o.Count("team"), o.membersOfTeam),
		"queuemembership":             newLayout(o.Count("queue"), o.membersOfQueue),
		"queueitem":                   newLayout(n, o.queueItemsOfCase),
		"entitlementchannel":          newLayout(o.Count("entitlement"), o.channelsOfEntitlement),
		"slakpiinstance":              newLayout(n, o.kpisOfCase),
		"incidentresolution":          newLayout(n, o.resolutionsOfCase),
		"phonecall":                   newLayout(n, o.callsOfCase),
		"task":                        newLayout(n, o.tasksOfCase),
		"appointment":                 newLayout(n, o.appointmentsOfCase),
		"activitymimeattachment":      newLayout(o.Count("email"), o.attachmentsOfEmail),
		"knowledgearticle":            newLayout(topics, o.articlesOfTopic),
		"knowledgearticlescategories": newLayout(topics, o.catLinksOfTopic),
		"new_warrantyclaim":           newLayout(n, o.claimsOfCase),
	}
	for t, l := range o.lay {
		o.counts[t] = l.total()
	}
}

// prefixBlocks returns the running total of per(i) at every block boundary.
func prefixBlocks(n int, per func(int) int) []int {
	out := make([]int, 0, n/blockSize+2)
	total := 0
	for i := 0; i < n; i++ {
		if i%blockSize == 0 {
			out = append(out, total)
		}
		total += per(i)
	}
	return append(out, total)
}

// locate finds which parent holds child index j, given per-parent counts
// and their block prefix sums; it returns the parent and the child's rank.
func locate(j int, starts []int, nParents int, per func(int) int) (int, int) {
	b := sort.Search(len(starts)-1, func(b int) bool { return starts[b+1] > j }) // block holding j
	pos := starts[b]
	for p := b * blockSize; p < nParents; p++ {
		c := per(p)
		if j < pos+c {
			return p, j - pos
		}
		pos += c
	}
	return -1, -1
}

// Tables returns the generated tables' logical names in dependency order.
func (o *Org) Tables() []string {
	t := append([]string(nil), tableOrder...)
	if o.omnichannel {
		t = append(t, omnichannelTables...)
	}
	return t
}

// Entity returns a table's schema, or nil for a table the org does not have.
func (o *Org) Entity(table string) *Entity {
	if _, ok := o.counts[table]; !ok {
		return nil
	}
	return o.schemas[table]
}

// Count returns the number of rows of a table (0 for unknown tables).
func (o *Org) Count(table string) int { return o.counts[table] }

// Seed and Cases return the options the org was built with.
func (o *Org) Seed() int64 { return o.seed }
func (o *Org) Cases() int  { return o.cases }

// Row generates row i of a table.
func (o *Org) Row(table string, i int) (Row, error) {
	if i < 0 || i >= o.Count(table) {
		return nil, fmt.Errorf("sampleorg: %s row %d out of range [0,%d)", table, i, o.Count(table))
	}
	var r Row
	switch table {
	case "systemuser":
		r = o.systemuserRow(i)
	case "queue":
		r = o.queueRow(i)
	case "account":
		r = o.accountRow(i)
	case "contact":
		r = o.contactRow(i)
	case "incident":
		r = o.incidentRow(i)
	case "email":
		r = o.emailRow(i)
	case "activityparty":
		r = o.activitypartyRow(i)
	case "annotation":
		r = o.noteRow(i)
	default:
		gen := moreRows[table]
		if gen == nil {
			return nil, fmt.Errorf("sampleorg: unknown table %q", table)
		}
		r = gen(o, i)
		r[o.schemas[table].PrimaryIdAttribute] = o.ID(table, i)
		if _, ok := r["versionnumber"]; !ok {
			r["versionnumber"] = o.version(table, i)
		}
	}
	o.customValues(table, i, r)
	o.fill(table, i, r)
	return r, nil
}

// moreRows generates the tables added after the first eight (set in init:
// the generators reach primaryName, which reads this map).
var moreRows map[string]func(*Org, int) Row

func init() {
	moreRows = moreRowGenerators()
	for t, gen := range omnichannelRowGenerators() {
		moreRows[t] = gen
	}
}

func moreRowGenerators() map[string]func(*Org, int) Row {
	return map[string]func(*Org, int) Row{
		"team": (*Org).teamRow, "teammembership": (*Org).teammembershipRow, "queuemembership": (*Org).queuemembershipRow,
		"queueitem": (*Org).queueitemRow, "calendar": (*Org).calendarRow, "sla": (*Org).slaRow, "slaitem": (*Org).slaitemRow,
		"entitlementtemplate": (*Org).entitlementtemplateRow, "entitlement": (*Org).entitlementRow,
		"entitlementchannel": (*Org).entitlementchannelRow, "slakpiinstance": (*Org).slakpiinstanceRow,
		"incidentresolution": (*Org).incidentresolutionRow, "phonecall": (*Org).phonecallRow, "task": (*Org).taskRow,
		"appointment": (*Org).appointmentRow, "activitymimeattachment": (*Org).attachmentRow,
		"languagelocale": (*Org).languagelocaleRow, "category": (*Org).categoryRow,
		"knowledgearticle": (*Org).knowledgearticleRow, "knowledgearticlescategories": (*Org).articleCategoryRow,
		"workflow": (*Org).workflowRow, "new_warrantyclaim": (*Org).warrantyclaimRow,
	}
}

// customValues sets the org-specific columns of the real tables from their
// own random streams, so the other columns keep their values.
func (o *Org) customValues(table string, i int, r Row) {
	switch table {
	case "incident":
		r["new_productserial"] = nil
		if o.h("serial", i)%3 != 0 {
			r["new_productserial"] = fmt.Sprintf("SN-%04X-%06d", o.h("serialhi", i)%0xffff, i)
		}
	case "contact":
		r["new_loyaltytier"] = nil
		if v := o.h("tier", i) % 6; v < 4 {
			r["new_loyaltytier"] = 100000000 + int(v)
		}
	}
}

// SystemUsers lists every generated systemuser.
func (o *Org) SystemUsers() []SystemUser {
	out := make([]SystemUser, o.Count("systemuser"))
	for i := range out {
		u := o.user(i)
		out[i] = SystemUser{ID: o.ID("systemuser", i), FullName: u.full, Email: u.email,
			Application: u.app, Disabled: u.disabled}
	}
	return out
}

func (o *Org) ref(table string, i int) Ref {
	return Ref{LogicalName: table, ID: o.ID(table, i), Name: o.primaryName(table, i)}
}

func (o *Org) primaryName(table string, i int) string {
	switch table {
	case "systemuser":
		return o.user(i).full
	case "queue":
		return o.queueName(i)
	case "account":
		return o.accountName(i)
	case "contact":
		return o.person(i).full
	case "incident":
		return o.caseFacts(i).title
	case "email":
		return o.emailFacts(i).subject
	}
	if gen := moreRows[table]; gen != nil {
		if name := o.schemas[table].PrimaryNameAttribute; name != "" {
			s, _ := gen(o, i)[name].(string)
			return s
		}
	}
	return ""
}
