package mapping

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// sourceModels pairs each Dataverse table whose custom columns are proposed
// with the Intercom model they land on, in the order names are claimed.
var sourceModels = []struct{ table, model string }{
	{"contact", "contact"},
	{"account", "company"},
	{"incident", "conversation"},
}

// Propose drafts a mapping from the snapshot at snapDir: every readable
// custom column of contact, account and incident gets a data attribute, and
// the fixed rules get their defaults. The output depends only on the
// snapshot, so proposing twice gives the same file.
func Propose(snapDir string) (*Mapping, error) {
	man, err := readManifest(snapDir)
	if err != nil {
		return nil, err
	}
	m := defaults()
	m.Source = Source{OrgURL: man.OrgURL, StartedAt: man.StartedAt}

	names := newNamer(m.Stamps)
	for _, sm := range sourceModels {
		ent, opts, err := readTableMeta(snapDir, sm.table)
		if err != nil {
			return nil, err
		}
		if ent == nil {
			continue // not snapshotted: nothing of it reaches Intercom
		}
		m.DataAttributes = append(m.DataAttributes, proposeTable(sm.table, sm.model, ent, opts, names)...)
	}
	if m.CustomTables, err = proposeCustomTables(snapDir, man, names); err != nil {
		return nil, err
	}
	capEnabled(m)
	return m, nil
}

// proposeCustomTables drafts a rule for every snapshotted custom table, in
// name order.
func proposeCustomTables(snapDir string, man *manifest, names *namer) ([]CustomTable, error) {
	tables := make([]string, 0, len(man.Tables))
	for t := range man.Tables {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	var out []CustomTable
	for _, t := range tables {
		ent, _, err := readTableMeta(snapDir, t)
		if err != nil {
			return nil, err
		}
		if ent == nil || !isCustomEntity(ent) {
			continue
		}
		out = append(out, proposeCustomTable(ent, names))
	}
	return out, nil
}

// ProposeEntity drafts the data attributes of one table from its metadata
// alone (no snapshot), e.g. to check an org's definitions before snapshotting.
func ProposeEntity(table, model string, ent *Entity, opts Options) []DataAttribute {
	return proposeTable(table, model, ent, opts, newNamer(defaults().Stamps))
}

type manifest struct {
	OrgURL    string              `json:"org_url"`
	StartedAt string              `json:"started_at"`
	Tables    map[string]struct{} `json:"tables"`
}

func readManifest(snapDir string) (*manifest, error) {
	b, err := os.ReadFile(filepath.Join(snapDir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("read snapshot manifest: %w", err)
	}
	var man manifest
	if err := json.Unmarshal(b, &man); err != nil {
		return nil, fmt.Errorf("decode snapshot manifest %s: %w", snapDir, err)
	}
	return &man, nil
}

func proposeTable(table, model string, ent *Entity, opts Options, names *namer) []DataAttribute {
	attrs := append([]Attribute(nil), ent.Attributes...)
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].LogicalName < attrs[j].LogicalName })
	var out []DataAttribute
	for _, a := range attrs {
		if !a.IsCustomAttribute || a.AttributeOf != nil || (a.IsValidForRead != nil && !*a.IsValidForRead) {
			continue
		}
		da, ok := proposeAttribute(table, model, a, opts[a.LogicalName])
		if !ok {
			continue
		}
		da.Name = names.claim(a.LogicalName, model)
		out = append(out, da)
	}
	return out
}

// proposeAttribute maps one column; ok is false for attribute types the
// snapshot does not store as columns (Virtual, File, Image...).
func proposeAttribute(table, model string, a Attribute, labels map[int32]string) (DataAttribute, bool) {
	da := DataAttribute{
		SourceTable: table, SourceColumn: a.LogicalName, SourceType: a.AttributeType,
		Column: a.LogicalName, Model: model, Enabled: true,
		Description: describe(table, a),
	}
	switch a.AttributeType {
	case "String", "Memo", "EntityName", "Uniqueidentifier":
		da.DataType = TypeString
	case "Integer", "BigInt":
		da.DataType = TypeInteger
	case "Double", "Decimal", "Money":
		da.DataType = TypeFloat
	case "Boolean":
		da.DataType = TypeBoolean
	case "DateTime":
		da.DataType = TypeDate
	case "Picklist", "State", "Status":
		da.DataType, da.Values = TypeString, valueMap(labels)
	case "MultiSelectPicklist":
		da.DataType, da.Values = TypeString, valueMap(labels)
		da.Note = "several choices are joined with \", \""
	case "Lookup", "Customer", "Owner":
		da.DataType, da.Column = TypeString, "_"+a.LogicalName+"_value"
		da.Note = "the id of the referenced record"
	default:
		return DataAttribute{}, false
	}
	if why := disabledReason(a.LogicalName); why != "" {
		da.Enabled, da.Note = false, why
	}
	return da, true
}

func describe(table string, a Attribute) string {
	d := "Dynamics 365 " + table + "." + a.LogicalName
	if label := strings.TrimSpace(a.DisplayName.Text()); label != "" {
		d += " (" + label + ")"
	}
	return d
}

// valueMap proposes each option's label as its Intercom value, by code.
func valueMap(labels map[int32]string) []ValueMap {
	out := make([]ValueMap, 0, len(labels))
	for code, label := range labels {
		if label == "" {
			label = strconv.Itoa(int(code))
		}
		out = append(out, ValueMap{Source: code, Intercom: label})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// firstPartyPrefixes are publisher prefixes of Microsoft's own solutions
// (portals, Customer Insights, marketing...): custom by Dataverse's flag, but
// rarely what a help desk wants in Intercom. Twin of firstPartyPrefixes in
// snapshot/discover.go (transform may not import snapshot): keep both lists
// the same.
var firstPartyPrefixes = []string{
	"msdyn_", "msdynce_", "msdynmkt_", "msdyncrm_", "msfp_", "mspp_", "adx_", "mspcat_",
	"msft_", "msevtmgt_", "msa_", "mserp_", "msgp_", "msbi_", "msnfp_", "msiot_", "cdm_",
}

// customerMade says whether a column carries a publisher prefix that is not
// Microsoft's. IsCustomAttribute alone is not enough (spec §9.4): Microsoft
// solutions flag their own columns custom, some with a first-party prefix
// (msdyn_casesentiment), some with none at all (caseage, nextsla), while a
// customer's column always starts with its publisher's prefix (new_,
// cr123_). Twin of customerMade in snapshot/scope.go.
func customerMade(name string) bool {
	prefix, _, ok := strings.Cut(name, "_")
	if !ok || prefix == "" {
		return false
	}
	for _, p := range firstPartyPrefixes {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	return true
}

// secretWords mark columns that look like credentials, which never belong in Intercom.
var secretWords = []string{"password", "passwordhash", "securitystamp", "secret", "token"}

func disabledReason(name string) string {
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return "off: looks like a credential"
		}
	}
	if !customerMade(name) {
		return "off: column of a Microsoft solution, not the org's own; enable if wanted"
	}
	return ""
}

// capEnabled switches off attributes beyond Intercom's workspace cap (stamps
// count too), last in file order first, saying why; custom tables come last
// and fall back to skip.
func capEnabled(m *Mapping) {
	room := MaxDataAttributes
	for _, s := range m.Stamps {
		if strings.HasPrefix(s.Field, "custom_attributes.") {
			room--
		}
	}
	for i := range m.DataAttributes {
		a := &m.DataAttributes[i]
		if !a.Enabled {
			continue
		}
		if room == 0 {
			a.Enabled, a.Note = false, fmt.Sprintf("off: over Intercom's %d data attributes", MaxDataAttributes)
			continue
		}
		room--
	}
	for i := range m.CustomTables {
		ct := &m.CustomTables[i]
		if ct.Mode != ModeJSONAttribute {
			continue
		}
		if room == 0 {
			*ct = CustomTable{Table: ct.Table, Key: ct.Key, Mode: ModeSkip,
				Note: fmt.Sprintf("skip: over Intercom's %d data attributes", MaxDataAttributes)}
			continue
		}
		room--
	}
}

// defaults are the rules every proposal starts from; they describe what
// transform does today.
func defaults() *Mapping {
	return &Mapping{
		Version: Version,
		Stamps: []Stamp{
			{Model: "company", Field: "company_id", Source: "account.accountid"},
			{Model: "contact", Field: "external_id", Source: "contact.contactid"},
			{Model: "contact", Field: "custom_attributes.dynamics_contact_id", Source: "contact.contactid"},
			{Model: "conversation", Field: "custom_attributes.dynamics_case_id", Source: "incident.incidentid"},
			{Model: "conversation", Field: "custom_attributes.dynamics_case_number", Source: "incident.ticketnumber"},
			{Model: "conversation", Field: "custom_attributes.dynamics_priority", Source: "incident.prioritycode"},
			{Model: "conversation", Field: "custom_attributes.dynamics_status", Source: "incident.statuscode"},
			{Model: "conversation", Field: "custom_attributes.dynamics_state", Source: "incident.statecode"},
		},
		Contacts: ContactRules{
			DedupeKey:    "lower(trim(email))",
			EmailColumns: []string{"emailaddress1", "emailaddress2", "emailaddress3"},
			Survivor:     []string{"active", "oldest_createdon", "smallest_contactid"},
			LeadWhen:     "no_valid_email",
		},
		Teams:       MatchRule{Source: "queue", MatchBy: "name", Overrides: []Override{}},
		Admins:      MatchRule{Source: "systemuser", MatchBy: "email", Overrides: []Override{}},
		Attachments: AttachmentRule{MaxBytes: 10 << 20, OverLimit: "split"},
		Taxonomy:    TaxonomyRule{MaxDepth: 3, Deeper: "flatten"},
		Deletes: &DeletePolicy{Contacts: DeleteKeep, Companies: DeleteKeep, Conversations: DeleteKeep,
			Articles: DeleteKeep},
	}
}
