// Package flows inventories Dynamics 365 automation (cloud flows, classic
// workflows, business rules, actions, business process flows and dialogs)
// so the customer's admin can rebuild it by hand in Intercom: d2i migrates
// no automation, it only lists each item with its trigger, table, connectors,
// steps and a recommended Intercom equivalent taken from the Rules table.
//
// Input is a row of the Dataverse workflow table (Workflow), read either from
// a snapshot or from an unpacked solution export (FromDataXML,
// ReadSolutionDir). Inventory turns one row into an Entry; Markdown and CSV
// render entries for people, with e-mail addresses masked and no message
// bodies.
package flows

import (
	"strconv"
	"strings"
)

// Values of the workflow table's category column (spec §13.26).
const (
	CategoryWorkflow     = 0 // classic background or real-time workflow
	CategoryDialog       = 1
	CategoryBusinessRule = 2
	CategoryAction       = 3 // custom process action
	CategoryBPF          = 4 // business process flow
	CategoryModernFlow   = 5 // Power Automate cloud flow
	CategoryDesktopFlow  = 6
	CategoryAIFlow       = 7
)

// Workflow holds the columns of one workflow row that the inventory uses.
// Field names follow the Dataverse logical names.
type Workflow struct {
	ID            string // workflowid, lower case without braces
	Name          string
	UniqueName    string
	Category      int
	Type          int // 1 definition, 2 activation, 3 template
	StateCode     int // 0 draft, 1 activated, 2 suspended
	StatusCode    int
	PrimaryEntity string // logical name; "none" for most cloud flows
	Mode          int    // 0 background, 1 real-time (classic only)
	Scope         int    // 1 user, 2 business unit, 3 parent-child BUs, 4 organization
	OnDemand      bool
	Subprocess    bool
	OwnerID       string
	OwnerName     string
	Solution      string // unique name of the solution it was exported in, if known

	TriggerOnCreate              bool
	TriggerOnDelete              bool
	TriggerOnUpdateAttributeList string // comma-separated logical names

	ClientData string // cloud flows: JSON with properties.definition
	XAML       string // classic processes

	// DefinitionFile is the path, inside a solution export, of the sibling
	// .json or .xaml file named by the .data.xml; empty for snapshot rows.
	DefinitionFile string
}

// CategoryName is the label of a category value, for people.
func CategoryName(c int) string {
	switch c {
	case CategoryWorkflow:
		return "Classic workflow"
	case CategoryDialog:
		return "Dialog"
	case CategoryBusinessRule:
		return "Business rule"
	case CategoryAction:
		return "Action"
	case CategoryBPF:
		return "Business process flow"
	case CategoryModernFlow:
		return "Cloud flow"
	case CategoryDesktopFlow:
		return "Desktop flow"
	case CategoryAIFlow:
		return "AI flow"
	}
	return "Category " + itoa(c)
}

// StateName is the label of a statecode value.
func StateName(s int) string {
	switch s {
	case 0:
		return "Off (draft)"
	case 1:
		return "On"
	case 2:
		return "Suspended"
	}
	return "State " + itoa(s)
}

func modeName(w Workflow) string {
	switch {
	case w.Category == CategoryModernFlow || w.Category == CategoryDesktopFlow:
		return "" // mode is a classic-process column
	case w.Mode == 1:
		return "Real-time"
	}
	return "Background"
}

// ScopeName labels both the workflow scope column and the Dataverse
// trigger's subscriptionRequest/scope, which use the same four values.
func ScopeName(s int) string {
	switch s {
	case 1:
		return "User"
	case 2:
		return "Business unit"
	case 3:
		return "Parent: child business units"
	case 4:
		return "Organization"
	}
	if s == 0 {
		return ""
	}
	return "Scope " + itoa(s)
}

// normalizeID strips braces and lower-cases a GUID so ids from data.xml,
// XAML class names and the Web API compare equal.
func normalizeID(id string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(id), "{}"))
}

func itoa(n int) string { return strconv.Itoa(n) }
