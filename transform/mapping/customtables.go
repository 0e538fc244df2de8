package mapping

import (
	"fmt"
	"sort"
	"strings"
)

// Custom table modes: what becomes of the rows of an org's own table.
const (
	// ModeJSONAttribute gathers a parent's rows into one JSON string data
	// attribute on the company or contact the rows belong to.
	ModeJSONAttribute = "json_attribute"
	// ModeNote would write each row as a note on the company or contact.
	ModeNote = "note"
	// ModeSkip leaves the table out of Intercom; its rows are out of scope.
	ModeSkip = "skip"
)

// DefaultMaxChars is the string cap a JSON attribute is held to. Intercom
// documents none for REST; 255 is the cap reported for string attributes.
const DefaultMaxChars = 255

// CustomTable says what happens to the rows of one custom Dataverse table
// (IsCustomEntity). Every row ends staged, rejected or out of scope.
type CustomTable struct {
	Table string `yaml:"table"` // Dataverse logical name
	Key   string `yaml:"key"`   // its primary key column
	Mode  string `yaml:"mode"`  // json_attribute | note | skip
	// Model is the Intercom object the rows land on: company or contact.
	Model string `yaml:"model,omitempty"`
	// Link is the lookup column (logical name) naming each row's parent: an
	// account, a contact, or a case whose company or contact is taken.
	Link string `yaml:"link,omitempty"`
	// Name is the data attribute that holds the rows (json_attribute).
	Name string `yaml:"name,omitempty"`
	// Columns are the snapshot columns copied into each row's JSON object.
	Columns []string `yaml:"columns,omitempty"`
	// MaxChars caps the attribute's JSON text; a parent whose rows do not
	// fit has all of them rejected, never truncated.
	MaxChars int    `yaml:"max_chars,omitempty"`
	Note     string `yaml:"note,omitempty"` // why the proposal chose what it did
}

// parentTables are the tables a custom table's link may point at.
var parentTables = set("account", "contact", "incident")

// proposeCustomTable drafts the rule for one custom table: a JSON attribute
// on the company (or contact) its first account, case or contact lookup
// names, else skip.
func proposeCustomTable(ent *Entity, names *namer) CustomTable {
	ct := CustomTable{Table: ent.LogicalName, Key: ent.PrimaryIdAttribute}
	link, target := parentLink(ent)
	if link == "" {
		ct.Mode, ct.Note = ModeSkip, "no lookup to an account, contact or case: nothing to attach the rows to"
		return ct
	}
	ct.Mode, ct.Link, ct.MaxChars = ModeJSONAttribute, link, DefaultMaxChars
	ct.Model = "company"
	if target == "contact" {
		ct.Model = "contact"
	}
	ct.Name = names.claim(ent.LogicalName, ct.Model)
	ct.Columns = rowColumns(ent, link)
	ct.Note = fmt.Sprintf("rows of one %s, ordered by %s, as a JSON array; mode note is not replayed yet",
		ct.Model, ct.Key)
	return ct
}

// parentLink picks the first custom lookup (by logical name) whose targets
// include account, contact or incident.
func parentLink(ent *Entity) (link, target string) {
	attrs := sortedAttributes(ent)
	for _, a := range attrs {
		if a.AttributeType != "Lookup" && a.AttributeType != "Customer" {
			continue
		}
		for _, t := range a.Targets {
			if parentTables[t] {
				return a.LogicalName, t
			}
		}
	}
	return "", ""
}

// rowColumns are the columns a row's JSON carries: the primary name, then
// the other custom columns, with labels for choices and names for lookups.
func rowColumns(ent *Entity, link string) []string {
	var out []string
	if ent.PrimaryNameAttribute != "" {
		out = append(out, ent.PrimaryNameAttribute)
	}
	for _, a := range sortedAttributes(ent) {
		if !a.IsCustomAttribute || a.AttributeOf != nil || a.LogicalName == link ||
			a.LogicalName == ent.PrimaryIdAttribute || a.LogicalName == ent.PrimaryNameAttribute {
			continue
		}
		if col := rowColumn(a); col != "" {
			out = append(out, col)
		}
	}
	return out
}

func rowColumn(a Attribute) string {
	switch a.AttributeType {
	case "Picklist", "State", "Status", "MultiSelectPicklist":
		return a.LogicalName + "__label"
	case "Lookup", "Customer", "Owner":
		return "_" + a.LogicalName + "_value__formatted"
	case "String", "Memo", "Integer", "BigInt", "Double", "Decimal", "Money", "Boolean", "DateTime":
		return a.LogicalName
	}
	return ""
}

func sortedAttributes(ent *Entity) []Attribute {
	attrs := append([]Attribute(nil), ent.Attributes...)
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].LogicalName < attrs[j].LogicalName })
	return attrs
}

// isCustomEntity says whether a table is the org's own. The snapshot saves
// no IsCustomEntity flag, so a table without one is custom when its primary
// key or name column is.
func isCustomEntity(ent *Entity) bool {
	if ent.IsCustomEntity != nil {
		return *ent.IsCustomEntity
	}
	for _, a := range ent.Attributes {
		primary := a.LogicalName == ent.PrimaryIdAttribute || a.LogicalName == ent.PrimaryNameAttribute
		if a.IsCustomAttribute && primary {
			return true
		}
	}
	return false
}

// validateCustomTables checks the rules; claim registers attribute names so
// they stay unique with the data attributes. It returns how many attributes
// the rules add.
func (m *Mapping) validateCustomTables(claim func(name, who string)) ([]error, int) {
	var errs []error
	added := 0
	seen := map[string]bool{}
	for _, ct := range m.CustomTables {
		who := "custom table " + ct.Table
		if seen[ct.Table] {
			errs = append(errs, fmt.Errorf("%s: listed twice", who))
		}
		seen[ct.Table] = true
		if ct.Key == "" {
			errs = append(errs, fmt.Errorf("%s: key (its primary key column) is empty", who))
		}
		switch ct.Mode {
		case ModeSkip, ModeNote:
		case ModeJSONAttribute:
			errs = append(errs, validateJSONRule(ct, who)...)
			claim(ct.Name, who)
			added++
		default:
			errs = append(errs, fmt.Errorf("%s: mode %q: use json_attribute, note or skip", who, ct.Mode))
		}
	}
	return errs, added
}

func validateJSONRule(ct CustomTable, who string) []error {
	var errs []error
	if ct.Model != "company" && ct.Model != "contact" {
		errs = append(errs, fmt.Errorf("%s: model %q: a JSON attribute goes on a company or a contact",
			who, ct.Model))
	}
	if ct.Link == "" {
		errs = append(errs, fmt.Errorf("%s: link (the lookup naming each row's parent) is empty", who))
	}
	errs = append(errs, nameErrors(ct.Name, who)...)
	if len(ct.Columns) == 0 {
		errs = append(errs, fmt.Errorf("%s: columns is empty", who))
	}
	if ct.MaxChars <= 0 {
		errs = append(errs, fmt.Errorf("%s: max_chars must be positive, not %d", who, ct.MaxChars))
	}
	for _, c := range ct.Columns {
		if strings.TrimSpace(c) == "" {
			errs = append(errs, fmt.Errorf("%s: a blank column name", who))
		}
	}
	return errs
}
