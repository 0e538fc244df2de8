package sampleorg

import (
	"embed"
	"encoding/xml"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// The six real EntityMetadata exports (see metadata/SOURCES.md). They are the
// schemas the generated org serves, so the emulator describes exactly what a
// live 2025 org describes.
//
//go:embed metadata/*.xml
var metadataFS embed.FS

var metadataFiles = []string{
	"metadata/entitymetadata_incident.xml",
	"metadata/entitymetadata_contact_ws-and-haschanged-stripped.xml",
	"metadata/entitymetadata_account_whitespace-stripped.xml",
	"metadata/entitymetadata_email.xml",
	"metadata/entitymetadata_activityparty.xml",
	"metadata/entitymetadata_annotation.xml",
}

// Entity is one table's definition, reduced to what a reader and the
// emulator need from EntityMetadata.
type Entity struct {
	LogicalName           string
	SchemaName            string
	EntitySetName         string
	PrimaryIdAttribute    string
	PrimaryNameAttribute  string
	ObjectTypeCode        int
	MetadataID            string
	DisplayName           string
	IsActivity            bool
	IsCustomEntity        bool
	IsIntersect           bool // an N:N intersect table (read-only)
	ChangeTrackingEnabled bool
	Attributes            []*Attribute

	byName map[string]*Attribute
}

// Attribute is one column definition. Numeric bounds are kept as the text of
// the export (they range from 1e-12 to int64 limits); use the helpers to read
// them.
type Attribute struct {
	LogicalName       string
	SchemaName        string
	MetadataID        string
	MetadataType      string // e.g. "PicklistAttributeMetadata"; "" for the base AttributeMetadata
	AttributeType     string // AttributeTypeCode: String, Lookup, Picklist...
	AttributeTypeName string // e.g. "StringType", "MultiSelectPicklistType"
	AttributeOf       string
	DisplayName       string
	IsValidForRead    bool
	IsCustomAttribute bool
	IsPrimaryID       bool
	IsPrimaryName     bool
	Targets           []string
	// NavProps maps a lookup target to the single-valued navigation property
	// name (ReferencingEntityNavigationPropertyName), e.g. account ->
	// customerid_account.
	NavProps         map[string]string
	MaxLength        int    // 0 when the type has none
	Precision        *int   // Decimal, Money, Double
	MinValue         string // raw text, "" when absent
	MaxValue         string
	DateTimeBehavior string // UserLocal, DateOnly, TimeZoneIndependent
	Format           string
	OptionSet        *OptionSet
}

// OptionSet is a choice list: local or global, or a Boolean's two options.
type OptionSet struct {
	Name          string
	MetadataID    string
	IsGlobal      bool
	IsCustom      bool
	OptionSetType string // Picklist, State, Status, Boolean, MultiSelectPicklist
	Options       []Option
	TrueOption    *Option
	FalseOption   *Option
}

// Option is one choice with its en-US label. State is set for status
// options, DefaultStatus and InvariantName for state options.
type Option struct {
	Value         int
	Label         string
	Color         string
	State         *int
	DefaultStatus *int
	InvariantName string
}

// Attribute returns the column with that logical name, or nil.
func (e *Entity) Attribute(name string) *Attribute { return e.byName[name] }

// Columns returns the attributes that hold data: readable, not a helper of
// another attribute (AttributeOf empty) and of a type the Web API returns as
// a value. These are the properties every generated row carries.
func (e *Entity) Columns() []*Attribute {
	var out []*Attribute
	for _, a := range e.Attributes {
		if a.IsColumn() {
			out = append(out, a)
		}
	}
	return out
}

// IsColumn reports whether the attribute is a data column (see Columns).
func (a *Attribute) IsColumn() bool {
	if !a.IsValidForRead || a.AttributeOf != "" {
		return false
	}
	switch a.AttributeType {
	case "Virtual", "PartyList", "ManagedProperty", "CalendarRules":
		return a.AttributeTypeName == "MultiSelectPicklistType"
	}
	return true
}

// IsLookup reports whether the attribute is read as _<name>_value.
func (a *Attribute) IsLookup() bool {
	switch a.AttributeType {
	case "Lookup", "Customer", "Owner":
		return true
	}
	return false
}

// ODataName is the property name in Web API payloads.
func (a *Attribute) ODataName() string {
	if a.IsLookup() {
		return "_" + a.LogicalName + "_value"
	}
	return a.LogicalName
}

// Label returns the en-US label of an option value, and whether it exists.
func (o *OptionSet) Label(v int) (string, bool) {
	if o == nil {
		return "", false
	}
	if o.TrueOption != nil && o.TrueOption.Value == v {
		return o.TrueOption.Label, true
	}
	if o.FalseOption != nil && o.FalseOption.Value == v {
		return o.FalseOption.Label, true
	}
	for _, op := range o.Options {
		if op.Value == v {
			return op.Label, true
		}
	}
	return "", false
}

// MinFloat and MaxFloat parse the bounds; ok is false when absent.
func (a *Attribute) MinFloat() (float64, bool) { return parseBound(a.MinValue) }
func (a *Attribute) MaxFloat() (float64, bool) { return parseBound(a.MaxValue) }

func parseBound(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// ---- XML decoding (SDK DataContract EntityMetadata) ----

type xLabel struct {
	Localized []xLoc `xml:"LocalizedLabels>LocalizedLabel"`
	User      xLoc   `xml:"UserLocalizedLabel"`
}

type xLoc struct {
	Label        string `xml:"Label"`
	LanguageCode string `xml:"LanguageCode"`
}

func (l xLabel) en() string {
	for _, x := range l.Localized {
		if x.LanguageCode == "1033" {
			return x.Label
		}
	}
	return l.User.Label
}

type xOption struct {
	Value         string `xml:"Value"`
	Label         xLabel `xml:"Label"`
	Color         string `xml:"Color"`
	State         string `xml:"State"`
	DefaultStatus string `xml:"DefaultStatus"`
	InvariantName string `xml:"InvariantName"`
}

type xOptionSet struct {
	MetadataID    string    `xml:"MetadataId"`
	Name          string    `xml:"Name"`
	IsGlobal      string    `xml:"IsGlobal"`
	IsCustom      string    `xml:"IsCustomOptionSet"`
	OptionSetType string    `xml:"OptionSetType"`
	Options       []xOption `xml:"Options>OptionMetadata"`
	TrueOption    *xOption  `xml:"TrueOption"`
	FalseOption   *xOption  `xml:"FalseOption"`
}

type xAttr struct {
	Type              string      `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
	MetadataID        string      `xml:"MetadataId"`
	LogicalName       string      `xml:"LogicalName"`
	SchemaName        string      `xml:"SchemaName"`
	AttributeType     string      `xml:"AttributeType"`
	AttributeTypeName string      `xml:"AttributeTypeName>Value"`
	AttributeOf       string      `xml:"AttributeOf"`
	DisplayName       xLabel      `xml:"DisplayName"`
	IsValidForRead    string      `xml:"IsValidForRead"`
	IsCustomAttribute string      `xml:"IsCustomAttribute"`
	IsPrimaryID       string      `xml:"IsPrimaryId"`
	IsPrimaryName     string      `xml:"IsPrimaryName"`
	Targets           []string    `xml:"Targets>string"`
	MaxLength         string      `xml:"MaxLength"`
	Precision         string      `xml:"Precision"`
	MinValue          string      `xml:"MinValue"`
	MaxValue          string      `xml:"MaxValue"`
	DateTimeBehavior  string      `xml:"DateTimeBehavior>Value"`
	Format            string      `xml:"Format"`
	OptionSet         *xOptionSet `xml:"OptionSet"`
}

type xRel struct {
	ReferencingAttribute string `xml:"ReferencingAttribute"`
	ReferencedEntity     string `xml:"ReferencedEntity"`
	NavProp              string `xml:"ReferencingEntityNavigationPropertyName"`
}

type xEntity struct {
	MetadataID            string  `xml:"MetadataId"`
	LogicalName           string  `xml:"LogicalName"`
	SchemaName            string  `xml:"SchemaName"`
	EntitySetName         string  `xml:"EntitySetName"`
	PrimaryIDAttribute    string  `xml:"PrimaryIdAttribute"`
	PrimaryNameAttribute  string  `xml:"PrimaryNameAttribute"`
	ObjectTypeCode        string  `xml:"ObjectTypeCode"`
	DisplayName           xLabel  `xml:"DisplayName"`
	IsActivity            string  `xml:"IsActivity"`
	IsCustomEntity        string  `xml:"IsCustomEntity"`
	ChangeTrackingEnabled string  `xml:"ChangeTrackingEnabled"`
	Attributes            []xAttr `xml:"Attributes>AttributeMetadata"`
	ManyToOne             []xRel  `xml:"ManyToOneRelationships>OneToManyRelationshipMetadata"`
}

// ParseEntityMetadata decodes one SDK DataContract EntityMetadata document.
func ParseEntityMetadata(data []byte) (*Entity, error) {
	var x xEntity
	if err := xml.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("decode EntityMetadata: %w", err)
	}
	if x.LogicalName == "" || x.PrimaryIDAttribute == "" {
		return nil, fmt.Errorf("decode EntityMetadata: no LogicalName or PrimaryIdAttribute")
	}
	otc, err := strconv.Atoi(strings.TrimSpace(x.ObjectTypeCode))
	if err != nil {
		return nil, fmt.Errorf("decode EntityMetadata %s: ObjectTypeCode %q: %w", x.LogicalName, x.ObjectTypeCode, err)
	}
	e := &Entity{
		LogicalName: x.LogicalName, SchemaName: x.SchemaName, EntitySetName: x.EntitySetName,
		PrimaryIdAttribute: x.PrimaryIDAttribute, PrimaryNameAttribute: x.PrimaryNameAttribute,
		ObjectTypeCode: otc, MetadataID: x.MetadataID, DisplayName: x.DisplayName.en(),
		IsActivity: x.IsActivity == "true", IsCustomEntity: x.IsCustomEntity == "true",
		ChangeTrackingEnabled: x.ChangeTrackingEnabled == "true",
	}
	nav := map[string]map[string]string{}
	for _, r := range x.ManyToOne {
		if nav[r.ReferencingAttribute] == nil {
			nav[r.ReferencingAttribute] = map[string]string{}
		}
		nav[r.ReferencingAttribute][r.ReferencedEntity] = r.NavProp
	}
	for _, xa := range x.Attributes {
		a, err := convertAttr(xa)
		if err != nil {
			return nil, fmt.Errorf("entity %s attribute %s: %w", e.LogicalName, xa.LogicalName, err)
		}
		a.NavProps = nav[a.LogicalName]
		e.Attributes = append(e.Attributes, a)
	}
	e.index()
	return e, nil
}

func (e *Entity) index() {
	sort.SliceStable(e.Attributes, func(i, j int) bool {
		return e.Attributes[i].LogicalName < e.Attributes[j].LogicalName
	})
	e.byName = make(map[string]*Attribute, len(e.Attributes))
	for _, a := range e.Attributes {
		e.byName[a.LogicalName] = a
	}
}

func convertAttr(x xAttr) (*Attribute, error) {
	a := &Attribute{
		LogicalName: x.LogicalName, SchemaName: x.SchemaName, MetadataID: x.MetadataID,
		MetadataType: stripPrefix(x.Type), AttributeType: x.AttributeType,
		AttributeTypeName: x.AttributeTypeName, AttributeOf: x.AttributeOf,
		DisplayName: x.DisplayName.en(), IsValidForRead: x.IsValidForRead == "true",
		IsCustomAttribute: x.IsCustomAttribute == "true", IsPrimaryID: x.IsPrimaryID == "true",
		IsPrimaryName: x.IsPrimaryName == "true", Targets: x.Targets,
		MinValue: x.MinValue, MaxValue: x.MaxValue, DateTimeBehavior: x.DateTimeBehavior,
		Format: x.Format,
	}
	if x.MaxLength != "" {
		n, err := strconv.Atoi(x.MaxLength)
		if err != nil {
			return nil, fmt.Errorf("MaxLength %q: %w", x.MaxLength, err)
		}
		a.MaxLength = n
	}
	if x.Precision != "" {
		n, err := strconv.Atoi(x.Precision)
		if err != nil {
			return nil, fmt.Errorf("Precision %q: %w", x.Precision, err)
		}
		a.Precision = &n
	}
	if x.OptionSet != nil && (x.OptionSet.Name != "" || len(x.OptionSet.Options) > 0) {
		os, err := convertOptionSet(*x.OptionSet)
		if err != nil {
			return nil, err
		}
		a.OptionSet = os
	}
	return a, nil
}

func stripPrefix(t string) string {
	if i := strings.IndexByte(t, ':'); i >= 0 {
		return t[i+1:]
	}
	if t == "AttributeMetadata" {
		return ""
	}
	return t
}

func convertOptionSet(x xOptionSet) (*OptionSet, error) {
	os := &OptionSet{
		Name: x.Name, MetadataID: x.MetadataID, IsGlobal: x.IsGlobal == "true",
		IsCustom: x.IsCustom == "true", OptionSetType: x.OptionSetType,
	}
	for _, xo := range x.Options {
		o, err := convertOption(xo)
		if err != nil {
			return nil, fmt.Errorf("option set %s: %w", x.Name, err)
		}
		os.Options = append(os.Options, o)
	}
	for _, p := range []struct {
		src *xOption
		dst **Option
	}{{x.TrueOption, &os.TrueOption}, {x.FalseOption, &os.FalseOption}} {
		if p.src == nil {
			continue
		}
		o, err := convertOption(*p.src)
		if err != nil {
			return nil, fmt.Errorf("option set %s: %w", x.Name, err)
		}
		*p.dst = &o
	}
	return os, nil
}

func convertOption(x xOption) (Option, error) {
	v, err := strconv.Atoi(strings.TrimSpace(x.Value))
	if err != nil {
		return Option{}, fmt.Errorf("option value %q: %w", x.Value, err)
	}
	o := Option{Value: v, Label: x.Label.en(), Color: x.Color, InvariantName: x.InvariantName}
	if o.State, err = optInt(x.State); err != nil {
		return Option{}, fmt.Errorf("option %d State: %w", v, err)
	}
	if o.DefaultStatus, err = optInt(x.DefaultStatus); err != nil {
		return Option{}, fmt.Errorf("option %d DefaultStatus: %w", v, err)
	}
	return o, nil
}

func optInt(s string) (*int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

var (
	schemasOnce sync.Once
	schemas     map[string]*Entity
	schemasErr  error
)

// Schemas returns the parsed definitions of every table the generator knows:
// the six real exports (plus two custom columns, docentities.go) and the
// tables written from the documentation (usersqueues.go, docentities.go). Parsed once; callers must not modify.
func Schemas() (map[string]*Entity, error) {
	schemasOnce.Do(func() {
		schemas = map[string]*Entity{}
		for _, f := range metadataFiles {
			data, err := metadataFS.ReadFile(f)
			if err != nil {
				schemasErr = fmt.Errorf("read %s: %w", f, err)
				return
			}
			e, err := ParseEntityMetadata(data)
			if err != nil {
				schemasErr = fmt.Errorf("parse %s: %w", f, err)
				return
			}
			schemas[e.LogicalName] = e
		}
		for _, e := range append(documentedEntities(), moreEntities()...) {
			e.index()
			schemas[e.LogicalName] = e
		}
		for t, extra := range customColumns() {
			schemas[t].Attributes = append(schemas[t].Attributes, extra...)
			schemas[t].index()
		}
	})
	return schemas, schemasErr
}
