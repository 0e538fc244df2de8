// Package sampleorg generates a deterministic, realistic and messy Dynamics
// 365 Customer Service org of any size, for the Dataverse emulator and tests.
//
// Row i of table t is a pure function of (seed, t, i) plus a few small
// per-table offset arrays, so an org of 200,000 cases and millions of
// activities is served in constant memory. Schemas are the real 2025
// EntityMetadata exports embedded under metadata/.
//
// A Row maps attribute logical names (not _x_value) to Go values:
//
//	String, Memo, EntityName, Uniqueidentifier  string (GUIDs lower-case)
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
}

// Tables lists the generated tables in dependency order.
var tableOrder = []string{"systemuser", "queue", "account", "contact", "incident", "email", "activityparty", "annotation"}

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
	o := &Org{seed: opt.Seed, cases: opt.Cases, schemas: s}
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
	return o, nil
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
func (o *Org) Tables() []string { return append([]string(nil), tableOrder...) }

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
		r = o.annotationRow(i)
	default:
		return nil, fmt.Errorf("sampleorg: unknown table %q", table)
	}
	o.fill(table, i, r)
	return r, nil
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
	return ""
}
