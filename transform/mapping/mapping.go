// Package mapping is the human-editable mapping file between a Dataverse
// snapshot and Intercom: which custom columns become which data attributes,
// option-set value maps, the contact dedupe and lead rules, queue → team and
// systemuser → admin matching, which source ids are stamped where, and the
// attachment and taxonomy rules. Propose drafts one from a snapshot's
// metadata, a person edits it, Confirm seals it with a hash of its content,
// and transform and replay refuse a mapping whose seal does not match.
package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

// Version is the mapping file format this package reads and writes.
const Version = 1

// MaxDataAttributes is Intercom's cap on custom data attributes per workspace.
const MaxDataAttributes = 250

// Intercom data types a data attribute may have.
const (
	TypeString  = "string"
	TypeInteger = "integer"
	TypeFloat   = "float"
	TypeBoolean = "boolean"
	TypeDate    = "date"
)

// Mapping is one mapping file. Every field but the seal (Confirmed,
// ConfirmedAt) is covered by Hash.
type Mapping struct {
	Version        int             `yaml:"version"`
	Source         Source          `yaml:"source"`
	DataAttributes []DataAttribute `yaml:"data_attributes"`
	Stamps         []Stamp         `yaml:"stamps"`
	Contacts       ContactRules    `yaml:"contacts"`
	Teams          MatchRule       `yaml:"teams"`
	Admins         MatchRule       `yaml:"admins"`
	Attachments    AttachmentRule  `yaml:"attachments"`
	Taxonomy       TaxonomyRule    `yaml:"taxonomy"`
	// CustomTables is omitted from the hash when empty, so that mappings
	// sealed before custom tables had rules keep their seal.
	CustomTables []CustomTable `yaml:"custom_tables" json:",omitempty"`
	// Deletes is what a delta replay does with objects deleted in the
	// source; nil (keep everything) is omitted from the hash like CustomTables.
	Deletes *DeletePolicy `yaml:"deletes,omitempty" json:",omitempty"`

	// Confirmed is "sha256:<hex>" of the content, written by Confirm.
	Confirmed   string `yaml:"confirmed,omitempty" json:"-"`
	ConfirmedAt string `yaml:"confirmed_at,omitempty" json:"-"` // RFC 3339, UTC
}

// Source names the snapshot the proposal was drafted from.
type Source struct {
	OrgURL    string `yaml:"org_url"`
	StartedAt string `yaml:"snapshot_started_at"`
}

// DataAttribute maps one Dataverse custom column to one Intercom data attribute.
type DataAttribute struct {
	SourceTable  string `yaml:"source_table"`  // contact | account | incident
	SourceColumn string `yaml:"source_column"` // Dataverse logical name
	SourceType   string `yaml:"source_type"`   // Dataverse AttributeType
	Column       string `yaml:"column"`        // snapshot Parquet column the value is read from
	Model        string `yaml:"model"`         // contact | company | conversation
	Name         string `yaml:"name"`
	DataType     string `yaml:"data_type"`
	Description  string `yaml:"description,omitempty"`
	Enabled      bool   `yaml:"enabled"`
	Note         string `yaml:"note,omitempty"` // why the proposal chose what it did
	// Values maps option-set codes to the string Intercom stores.
	Values []ValueMap `yaml:"values,omitempty"`
}

// ValueMap is one option-set code and the Intercom value it becomes.
type ValueMap struct {
	Source   int32  `yaml:"source"`
	Intercom string `yaml:"intercom"`
}

// Stamp says which source id is written into which Intercom field, so that
// every migrated object can be traced back and found again on a rerun.
type Stamp struct {
	Model  string `yaml:"model"`
	Field  string `yaml:"field"`  // company_id, external_id or custom_attributes.<name>
	Source string `yaml:"source"` // <table>.<column>
}

// ContactRules: how contacts are deduplicated and which become leads.
type ContactRules struct {
	DedupeKey    string   `yaml:"dedupe_key"`
	EmailColumns []string `yaml:"email_columns"`
	Survivor     []string `yaml:"survivor"`
	LeadWhen     string   `yaml:"lead_when"`
}

// MatchRule: how a Dataverse record finds its existing Intercom counterpart,
// plus explicit pairs that override the rule.
type MatchRule struct {
	Source    string     `yaml:"source"` // queue | systemuser
	MatchBy   string     `yaml:"match_by"`
	Overrides []Override `yaml:"overrides"`
}

// Override pairs one source record with one Intercom object by hand.
type Override struct {
	SourceID string `yaml:"source_id"`
	Intercom string `yaml:"intercom"` // team name or admin email
}

// AttachmentRule: what happens to attachments over Intercom's size cap.
type AttachmentRule struct {
	MaxBytes  int64  `yaml:"max_bytes"`
	OverLimit string `yaml:"over_limit"` // split | list
}

// TaxonomyRule: what happens to category trees deeper than Intercom nests.
type TaxonomyRule struct {
	MaxDepth int    `yaml:"max_depth"`
	Deeper   string `yaml:"deeper"` // flatten | tag
}

// validName is the character set Intercom accepts for data attribute names
// (the working set the spec notes settle on).
var validName = regexp.MustCompile(`^[A-Za-z0-9 _-]+$`)

var (
	models    = set("contact", "company", "conversation")
	dataTypes = set(TypeString, TypeInteger, TypeFloat, TypeBoolean, TypeDate)
)

func set(vs ...string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// Unmarshal parses a mapping file strictly: an unknown or repeated key is an
// error, because a misspelt key would otherwise be ignored yet look edited.
func Unmarshal(b []byte) (*Mapping, error) {
	var m Mapping
	if err := yaml.UnmarshalWithOptions(b, &m, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("parse mapping: %w", err)
	}
	return &m, nil
}

// Load reads and parses the mapping file at path and checks its rules.
func Load(path string) (*Mapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read mapping: %w", err)
	}
	m, err := Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Validate checks what Intercom and the pipeline would otherwise refuse
// later: names and types, unique names, the workspace cap and the rules.
func (m *Mapping) Validate() error {
	var errs []error
	if m.Version != Version {
		errs = append(errs, fmt.Errorf("version %d: this d2i reads version %d", m.Version, Version))
	}
	errs = append(errs, m.validateAttributes()...)
	errs = append(errs, m.validateRules()...)
	if m.Deletes != nil {
		errs = append(errs, m.Deletes.validate()...)
	}
	return errors.Join(errs...)
}

func (m *Mapping) validateAttributes() []error {
	var errs []error
	seen := map[string]string{}
	claim := func(name, who string) {
		key := strings.ToLower(name)
		if prev, ok := seen[key]; ok {
			errs = append(errs, fmt.Errorf("%s: name %q already used by %s (Intercom names are unique across models)",
				who, name, prev))
		}
		seen[key] = who
	}
	custom := 0
	for _, s := range m.Stamps {
		if name, ok := strings.CutPrefix(s.Field, "custom_attributes."); ok {
			claim(name, "stamp "+s.Source)
			custom++
		}
	}
	for _, a := range m.DataAttributes {
		who := "data attribute " + a.SourceTable + "." + a.SourceColumn
		if !models[a.Model] {
			errs = append(errs, fmt.Errorf("%s: model %q is not contact, company or conversation", who, a.Model))
		} else if want, ok := tableModels[a.SourceTable]; ok && want != a.Model {
			errs = append(errs, fmt.Errorf("%s: model %q: %s rows become Intercom %s objects", who,
				a.Model, a.SourceTable, want))
		}
		if !a.Enabled {
			continue
		}
		custom++
		errs = append(errs, nameErrors(a.Name, who)...)
		errs = append(errs, typeErrors(a, who)...)
		claim(a.Name, who)
	}
	tableErrs, added := m.validateCustomTables(claim)
	errs = append(errs, tableErrs...)
	custom += added
	if custom > MaxDataAttributes {
		errs = append(errs, fmt.Errorf("%d data attributes enabled (with stamps); Intercom allows %d per workspace",
			custom, MaxDataAttributes))
	}
	return errs
}

// tableModels pairs each source table with the model its rows become.
var tableModels = map[string]string{"contact": "contact", "account": "company", "incident": "conversation"}

// nameErrors: Intercom refuses other characters, and a custom attribute
// named like one of its own would shadow it.
func nameErrors(name, who string) []error {
	var errs []error
	if !validName.MatchString(name) {
		errs = append(errs, fmt.Errorf("%s: name %q may hold only letters, digits, space, _ and -", who, name))
	}
	if reservedNames[strings.ToLower(name)] {
		errs = append(errs, fmt.Errorf("%s: name %q is one of Intercom's built-in attributes", who, name))
	}
	return errs
}

// convertible lists, per Dataverse type, the data types its values convert
// to without loss; another choice is a type change the transform refuses.
var convertible = map[string][]string{
	"String": {TypeString}, "Memo": {TypeString}, "EntityName": {TypeString},
	"Uniqueidentifier": {TypeString},
	"Integer":          {TypeInteger, TypeFloat, TypeString}, "BigInt": {TypeInteger, TypeFloat, TypeString},
	"Double": {TypeFloat, TypeString}, "Decimal": {TypeFloat, TypeString}, "Money": {TypeFloat, TypeString},
	"Boolean":  {TypeBoolean, TypeString},
	"DateTime": {TypeDate, TypeString},
	"Picklist": {TypeString}, "State": {TypeString}, "Status": {TypeString},
	"MultiSelectPicklist": {TypeString},
	"Lookup":              {TypeString}, "Customer": {TypeString}, "Owner": {TypeString},
}

func typeErrors(a DataAttribute, who string) []error {
	var errs []error
	if !dataTypes[a.DataType] {
		errs = append(errs, fmt.Errorf("%s: data_type %q is not string, integer, float, boolean or date",
			who, a.DataType))
	}
	if len(a.Values) > 0 && a.DataType != TypeString {
		errs = append(errs, fmt.Errorf("%s: values need data_type string, not %q", who, a.DataType))
	}
	ok, known := convertible[a.SourceType]
	if known && dataTypes[a.DataType] && !slices.Contains(ok, a.DataType) {
		errs = append(errs, fmt.Errorf("%s: data_type %q cannot hold a %s column (use %s)", who, a.DataType,
			a.SourceType, strings.Join(ok, " or ")))
	}
	return errs
}

func (m *Mapping) validateRules() []error {
	var errs []error
	if m.Attachments.MaxBytes <= 0 {
		errs = append(errs, fmt.Errorf("attachments.max_bytes must be positive, not %d", m.Attachments.MaxBytes))
	}
	if o := m.Attachments.OverLimit; o != "split" && o != "list" {
		errs = append(errs, fmt.Errorf("attachments.over_limit %q: use split or list", o))
	}
	if m.Taxonomy.MaxDepth < 1 {
		errs = append(errs, fmt.Errorf("taxonomy.max_depth must be at least 1, not %d", m.Taxonomy.MaxDepth))
	}
	if d := m.Taxonomy.Deeper; d != "flatten" && d != "tag" {
		errs = append(errs, fmt.Errorf("taxonomy.deeper %q: use flatten or tag", d))
	}
	if m.Teams.MatchBy != "name" {
		errs = append(errs, fmt.Errorf("teams.match_by %q: only name is supported", m.Teams.MatchBy))
	}
	if m.Admins.MatchBy != "email" {
		errs = append(errs, fmt.Errorf("admins.match_by %q: only email is supported", m.Admins.MatchBy))
	}
	if len(m.Contacts.EmailColumns) == 0 {
		errs = append(errs, errors.New("contacts.email_columns is empty"))
	}
	return errs
}

// Marshal writes the mapping as commented YAML, one section at a time in a
// fixed order, so the same mapping always gives the same bytes.
func Marshal(m *Mapping) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(fileHeader)
	for _, s := range m.sections() {
		buf.WriteString("\n")
		for _, line := range strings.Split(strings.TrimSpace(s.comment), "\n") {
			buf.WriteString("# " + strings.TrimSpace(line) + "\n")
		}
		b, err := yaml.MarshalWithOptions(s.value, yaml.IndentSequence(true))
		if err != nil {
			return nil, fmt.Errorf("encode mapping section %s: %w", s.name, err)
		}
		buf.Write(b)
	}
	if m.Confirmed != "" {
		buf.WriteString(sealBlock(m.Confirmed, m.ConfirmedAt))
	}
	return buf.Bytes(), nil
}
