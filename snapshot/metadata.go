package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// entityDef is the part of an EntityDefinitions answer the reader uses.
type entityDef struct {
	LogicalName        string `json:"LogicalName"`
	EntitySetName      string `json:"EntitySetName"`
	PrimaryIdAttribute string `json:"PrimaryIdAttribute"`
	// ChangeTrackingEnabled: a full read asks for a delta link (spec §8.1).
	ChangeTrackingEnabled bool           `json:"ChangeTrackingEnabled"`
	Attributes            []attributeDef `json:"Attributes"`
}

// attributeDef holds base AttributeMetadata plus the subtype properties that
// shape a column (DateTimeBehavior, Precision) when the answer carries them.
type attributeDef struct {
	ODataType         string      `json:"@odata.type"`
	LogicalName       string      `json:"LogicalName"`
	AttributeType     string      `json:"AttributeType"`
	AttributeTypeName managedName `json:"AttributeTypeName"`
	AttributeOf       *string     `json:"AttributeOf"`
	IsValidForRead    *bool       `json:"IsValidForRead"`
	IsValidOData      *bool       `json:"IsValidODataAttribute"`
	DateTimeBehavior  managedName `json:"DateTimeBehavior"`
	Precision         *int        `json:"Precision"`
	MinValue          json.Number `json:"MinValue"`
	MaxValue          json.Number `json:"MaxValue"`
}

// managedName decodes both {"Value":"DateOnly"} (the Web API shape) and a
// bare string.
type managedName string

func (m *managedName) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*m = managedName(s)
		return nil
	}
	var v struct {
		Value string `json:"Value"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*m = managedName(v.Value)
	return nil
}

// optionAttr is one attribute of a cast query with its option set expanded.
type optionAttr struct {
	LogicalName     string     `json:"LogicalName"`
	OptionSet       *optionSet `json:"OptionSet"`
	GlobalOptionSet *optionSet `json:"GlobalOptionSet"`
}

type optionSet struct {
	Options []struct {
		Value int32 `json:"Value"`
		Label label `json:"Label"`
	} `json:"Options"`
}

type label struct {
	UserLocalizedLabel *struct {
		Label string `json:"Label"`
	} `json:"UserLocalizedLabel"`
	LocalizedLabels []struct {
		Label        string `json:"Label"`
		LanguageCode int    `json:"LanguageCode"`
	} `json:"LocalizedLabels"`
}

// text prefers the label in the app user's language, then English, then any.
func (l label) text() string {
	if l.UserLocalizedLabel != nil && l.UserLocalizedLabel.Label != "" {
		return l.UserLocalizedLabel.Label
	}
	for _, ll := range l.LocalizedLabels {
		if ll.LanguageCode == 1033 {
			return ll.Label
		}
	}
	if len(l.LocalizedLabels) > 0 {
		return l.LocalizedLabels[0].Label
	}
	return ""
}

// tableMeta is everything fetched about one table before its rows.
type tableMeta struct {
	def    entityDef
	labels map[string]map[int32]string // attribute → value → label
	files  []FileEntry
}

// errAbsent marks a table the org does not have.
var errAbsent = errors.New("table not found in this org")

// optionCasts are the metadata subtypes whose option sets become labels.
var optionCasts = []string{
	"PicklistAttributeMetadata",
	"StateAttributeMetadata",
	"StatusAttributeMetadata",
	"MultiSelectPicklistAttributeMetadata",
}

// fetchMeta reads the table's definition, attributes and option labels and
// saves each answer under metadata/.
func fetchMeta(ctx context.Context, c *client, root, table string) (*tableMeta, error) {
	m := &tableMeta{labels: map[string]map[int32]string{}}
	body, err := c.getEntityDef(ctx, table)
	if err != nil {
		return nil, err
	}
	if err := m.applyEntityDef(table, body); err != nil {
		return nil, err
	}
	if err := m.save(root, entityDefRel(table), body); err != nil {
		return nil, err
	}
	if err := fetchDateTimeBehavior(ctx, c, root, table, m); err != nil {
		return nil, err
	}
	for _, cast := range optionCasts {
		if err := fetchOptionLabels(ctx, c, root, table, cast, m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Where each metadata answer is saved, relative to the snapshot root.
func entityDefRel(table string) string  { return "metadata/" + table + ".json" }
func castRel(table, cast string) string { return "metadata/" + table + "/" + cast + ".json" }

const dateTimeCast = "DateTimeAttributeMetadata"

func (m *tableMeta) applyEntityDef(table string, body []byte) error {
	if err := json.Unmarshal(body, &m.def); err != nil {
		return fmt.Errorf("decode EntityDefinitions %s: %w", table, err)
	}
	if m.def.EntitySetName == "" || m.def.PrimaryIdAttribute == "" {
		return fmt.Errorf("EntityDefinitions %s: no EntitySetName or PrimaryIdAttribute", table)
	}
	if m.def.LogicalName != "" && m.def.LogicalName != table {
		return fmt.Errorf("EntityDefinitions %s: answer is for %q", table, m.def.LogicalName)
	}
	return nil
}

func (m *tableMeta) save(root, rel string, body []byte) error {
	fe, err := writeBytesAtomic(root, rel, body)
	if err != nil {
		return err
	}
	m.files = append(m.files, fe)
	return nil
}

// getEntityDef asks for the definition with every attribute in full, which
// carries DateTimeBehavior and Precision; a server that refuses an
// unrestricted $expand gets the narrower documented form instead.
func (c *client) getEntityDef(ctx context.Context, table string) ([]byte, error) {
	const sel = "$select=LogicalName,SchemaName,EntitySetName,PrimaryIdAttribute," +
		"PrimaryNameAttribute,ObjectTypeCode,ChangeTrackingEnabled"
	base := c.base + "EntityDefinitions(LogicalName='" + table + "')?" + sel
	tag := reqTag{table, "metadata"}
	body, err := c.get(ctx, base+"&$expand=Attributes", false, tag)
	if isStatus(err, http.StatusBadRequest) && !isAbsent(err) {
		body, err = c.get(ctx, base+"&$expand=Attributes($select=LogicalName,SchemaName,AttributeType,"+
			"AttributeTypeName,IsCustomAttribute,IsValidForRead,AttributeOf)", false, tag)
	}
	if isAbsent(err) {
		return nil, errAbsent
	}
	return body, err
}

// isAbsent: 404 on EntityDefinitions, or the 0x80060888 "not found" family
// that is not about an unknown property of ours.
func isAbsent(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	if apiErr.Status == http.StatusNotFound {
		return true
	}
	return apiErr.Status == http.StatusBadRequest && apiErr.Code == "0x80060888" &&
		!strings.Contains(strings.ToLower(apiErr.Message), "property")
}

func isStatus(err error, status int) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Status == status
}

// isRefused: the server understood and declined the query (a cast or an
// option it does not support). Those answers only cost labels or precision.
func isRefused(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500 &&
		apiErr.Status != http.StatusUnauthorized && apiErr.Status != http.StatusTooManyRequests
}

// fetchDateTimeBehavior fills in DateTimeBehavior when the definition did not
// carry it: only the behavior, never the Format, decides DateOnly (spec §15.3).
func fetchDateTimeBehavior(ctx context.Context, c *client, root, table string, m *tableMeta) error {
	need := false
	for _, a := range m.def.Attributes {
		if a.AttributeType == "DateTime" && a.DateTimeBehavior == "" {
			need = true
		}
	}
	if !need {
		return nil
	}
	u := c.base + "EntityDefinitions(LogicalName='" + table + "')/Attributes/" +
		"Microsoft.Dynamics.CRM.DateTimeAttributeMetadata?$select=LogicalName,DateTimeBehavior"
	body, err := c.get(ctx, u, false, reqTag{table, "metadata DateTimeAttributeMetadata"})
	if isRefused(err) {
		// TODO: fall back to $metadata (Edm.Date vs Edm.DateTimeOffset) when the cast is refused.
		c.log.Warn("dataverse datetime behavior unavailable; DateTime columns stored as timestamps", "table", table)
		return nil
	}
	if err != nil {
		return err
	}
	if err := m.applyDateTimeBehavior(table, body); err != nil {
		return err
	}
	return m.save(root, castRel(table, dateTimeCast), body)
}

func (m *tableMeta) applyDateTimeBehavior(table string, body []byte) error {
	var resp struct {
		Value []attributeDef `json:"value"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return fmt.Errorf("decode DateTimeAttributeMetadata %s: %w", table, err)
	}
	byName := map[string]managedName{}
	for _, a := range resp.Value {
		byName[a.LogicalName] = a.DateTimeBehavior
	}
	for i, a := range m.def.Attributes {
		if b, ok := byName[a.LogicalName]; ok && a.DateTimeBehavior == "" {
			m.def.Attributes[i].DateTimeBehavior = b
		}
	}
	return nil
}

// fetchOptionLabels loads the option labels of one attribute subtype.
func fetchOptionLabels(ctx context.Context, c *client, root, table, cast string, m *tableMeta) error {
	u := c.base + "EntityDefinitions(LogicalName='" + table + "')/Attributes/Microsoft.Dynamics.CRM." +
		cast + "?$select=LogicalName&$expand=OptionSet,GlobalOptionSet"
	body, err := c.get(ctx, u, false, reqTag{table, "metadata " + cast})
	if isRefused(err) {
		c.log.Warn("dataverse option labels unavailable; using formatted values", "table", table, "cast", cast)
		return nil
	}
	if err != nil {
		return err
	}
	if err := m.applyOptionLabels(table, cast, body); err != nil {
		return err
	}
	return m.save(root, castRel(table, cast), body)
}

func (m *tableMeta) applyOptionLabels(table, cast string, body []byte) error {
	var resp struct {
		Value []optionAttr `json:"value"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return fmt.Errorf("decode %s %s: %w", cast, table, err)
	}
	for _, a := range resp.Value {
		set := a.OptionSet
		if set == nil || len(set.Options) == 0 {
			set = a.GlobalOptionSet
		}
		if set == nil {
			continue
		}
		labels := map[int32]string{}
		for _, o := range set.Options {
			labels[o.Value] = o.Label.text()
		}
		m.labels[a.LogicalName] = labels
	}
	return nil
}
