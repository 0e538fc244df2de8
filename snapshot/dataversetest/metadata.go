package dataversetest

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// EntityDefinitions[(key)][/Attributes[(key)][/Microsoft.Dynamics.CRM.<Cast>]]
var defRe = regexp.MustCompile(`^EntityDefinitions(?:\(([^)]*)\))?(/Attributes(?:\(([^)]*)\))?(?:/Microsoft\.Dynamics\.CRM\.(\w+))?)?$`)

var casts = map[string]bool{
	"PicklistAttributeMetadata": true, "StatusAttributeMetadata": true, "StateAttributeMetadata": true,
	"BooleanAttributeMetadata": true, "MultiSelectPicklistAttributeMetadata": true, "LookupAttributeMetadata": true,
	"DateTimeAttributeMetadata": true, "StringAttributeMetadata": true, "MemoAttributeMetadata": true,
	"MoneyAttributeMetadata": true, "DecimalAttributeMetadata": true, "DoubleAttributeMetadata": true,
	"IntegerAttributeMetadata": true, "BigIntAttributeMetadata": true, "EntityNameAttributeMetadata": true,
	"ImageAttributeMetadata": true, "FileAttributeMetadata": true,
}

// entityDefinitions serves the RESTful metadata queries of spec §9.2-9.3.
// Metadata is never paged.
func (s *Server) entityDefinitions(w http.ResponseWriter, r *http.Request, p string) {
	m := defRe.FindStringSubmatch(p)
	if m == nil {
		writeError(w, http.StatusNotFound, errQuery, fmt.Sprintf("Resource not found for the segment '%s'.", p))
		return
	}
	v := r.URL.Query()
	sel := splitList(v.Get("$select"))
	if m[1] == "" && m[2] == "" {
		s.entityList(w, v, sel)
		return
	}
	e := s.entityByKey(m[1])
	if e == nil {
		writeError(w, http.StatusNotFound, "0x80040217", fmt.Sprintf("Could not find entity with key %s.", m[1]))
		return
	}
	if m[2] == "" {
		ctx := s.base() + "$metadata#EntityDefinitions(" + strings.Join(sel, ",") + ")/$entity"
		body := obj{{"@odata.context", ctx}}
		writeJSON(w, append(body, entityJSON(e, sel, v.Get("$expand"))...))
		return
	}
	cast := m[4]
	if cast != "" && !casts[cast] {
		writeError(w, http.StatusBadRequest, errQuery, fmt.Sprintf("Type 'Microsoft.Dynamics.CRM.%s' is not a derived type of AttributeMetadata.", cast))
		return
	}
	attrs, err := filterAttrs(e, cast, v.Get("$filter"))
	if err != nil {
		writeError(w, http.StatusBadRequest, errQuery, err.Error())
		return
	}
	expand := splitList(v.Get("$expand"))
	ctx := s.base() + "$metadata#EntityDefinitions('" + e.LogicalName + "')/Attributes"
	if cast != "" {
		ctx += "/Microsoft.Dynamics.CRM." + cast
	}
	if m[3] != "" {
		a := attrByKey(attrs, m[3])
		if a == nil {
			writeError(w, http.StatusNotFound, "0x80040217", fmt.Sprintf("Could not find attribute with key %s.", m[3]))
			return
		}
		body := obj{{"@odata.context", ctx + "/$entity"}}
		writeJSON(w, append(body, attrJSON(e, a, cast, sel, expand)...))
		return
	}
	list := make([]obj, 0, len(attrs))
	for _, a := range attrs {
		list = append(list, attrJSON(e, a, cast, sel, expand))
	}
	writeJSON(w, obj{{"@odata.context", ctx}, {"value", list}})
}

func (s *Server) entityList(w http.ResponseWriter, v url.Values, sel []string) {
	var list []obj
	for _, t := range s.org.Tables() {
		e := s.org.Entity(t)
		ok, err := matchTerms(v.Get("$filter"), func(field string) (string, bool) {
			switch field {
			case "LogicalName":
				return e.LogicalName, true
			case "EntitySetName":
				return e.EntitySetName, true
			case "ChangeTrackingEnabled":
				return fmt.Sprint(e.ChangeTrackingEnabled), true
			case "IsCustomEntity":
				return fmt.Sprint(e.IsCustomEntity), true
			case "IsActivity":
				return fmt.Sprint(e.IsActivity), true
			case "IsIntersect":
				return fmt.Sprint(e.IsIntersect), true
			case "ObjectTypeCode":
				return fmt.Sprint(e.ObjectTypeCode), true
			}
			return "", false
		})
		if err != nil {
			writeError(w, http.StatusBadRequest, errQuery, err.Error())
			return
		}
		if ok {
			list = append(list, entityJSON(e, sel, v.Get("$expand")))
		}
	}
	writeJSON(w, obj{{"@odata.context", s.base() + "$metadata#EntityDefinitions(" + strings.Join(sel, ",") + ")"}, {"value", list}})
}

func splitList(s string) []string {
	var out []string
	depth, last := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[last:i]))
				last = i + 1
			}
		}
	}
	if t := strings.TrimSpace(s[last:]); t != "" {
		out = append(out, t)
	}
	return out
}

func keyValue(k string) (field, val string) {
	if f, v, ok := strings.Cut(k, "="); ok {
		return strings.TrimSpace(f), strings.Trim(strings.TrimSpace(v), "'")
	}
	return "MetadataId", strings.Trim(k, "'")
}

func (s *Server) entityByKey(k string) *sampleorg.Entity {
	f, val := keyValue(k)
	for _, t := range s.org.Tables() {
		e := s.org.Entity(t)
		if (f == "LogicalName" && e.LogicalName == val) || (f == "MetadataId" && strings.EqualFold(e.MetadataID, val)) {
			return e
		}
	}
	return nil
}

func attrByKey(attrs []*sampleorg.Attribute, k string) *sampleorg.Attribute {
	f, val := keyValue(k)
	for _, a := range attrs {
		if (f == "LogicalName" && a.LogicalName == val) || (f == "MetadataId" && strings.EqualFold(a.MetadataID, val)) {
			return a
		}
	}
	return nil
}

func filterAttrs(e *sampleorg.Entity, cast, filter string) ([]*sampleorg.Attribute, error) {
	var out []*sampleorg.Attribute
	for _, a := range e.Attributes {
		if cast != "" && a.MetadataType != cast {
			continue
		}
		ok, err := matchTerms(filter, func(field string) (string, bool) {
			switch field {
			case "LogicalName":
				return a.LogicalName, true
			case "AttributeType":
				return a.AttributeType, true
			case "AttributeTypeName/Value":
				return a.AttributeTypeName, true
			case "IsValidForRead":
				return fmt.Sprint(a.IsValidForRead), true
			case "IsCustomAttribute":
				return fmt.Sprint(a.IsCustomAttribute), true
			case "AttributeOf":
				if a.AttributeOf == "" {
					return "null", true
				}
				return a.AttributeOf, true
			}
			return "", false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

var enumLit = regexp.MustCompile(`^Microsoft\.Dynamics\.CRM\.\w+'([^']*)'$`)

// matchTerms evaluates a metadata $filter of "field eq value" terms joined
// by "and" (the form metadata queries use).
// TODO: or/not/parentheses in metadata filters.
func matchTerms(filter string, get func(string) (string, bool)) (bool, error) {
	if strings.TrimSpace(filter) == "" {
		return true, nil
	}
	for _, term := range strings.Split(filter, " and ") {
		parts := strings.SplitN(strings.TrimSpace(term), " ", 3)
		if len(parts) != 3 || (parts[1] != "eq" && parts[1] != "ne") {
			return false, fmt.Errorf("The emulator supports metadata filters of the form 'Field eq value', got '%s'.", term)
		}
		have, ok := get(parts[0])
		if !ok {
			return false, fmt.Errorf("Could not find a property named '%s' on the metadata type.", parts[0])
		}
		want := parts[2]
		if m := enumLit.FindStringSubmatch(want); m != nil {
			want = m[1]
		}
		want = strings.ReplaceAll(strings.Trim(want, "'"), "''", "'")
		if (have == want) != (parts[1] == "eq") {
			return false, nil
		}
	}
	return true, nil
}

func label(s string) obj {
	if s == "" {
		return obj{{"LocalizedLabels", []obj{}}, {"UserLocalizedLabel", nil}}
	}
	l := obj{{"Label", s}, {"LanguageCode", 1033}, {"IsManaged", true}, {"MetadataId", nil}, {"HasChanged", nil}}
	return obj{{"LocalizedLabels", []obj{l}}, {"UserLocalizedLabel", l}}
}

// pickFields keeps the selected properties (and always MetadataId and
// @odata.type, as the real service does).
func pickFields(o obj, sel []string) obj {
	if len(sel) == 0 {
		return o
	}
	keep := map[string]bool{"MetadataId": true, "@odata.type": true}
	for _, s := range sel {
		keep[s] = true
	}
	var out obj
	for _, p := range o {
		if keep[p.k] {
			out = append(out, p)
		}
	}
	return out
}

func entityJSON(e *sampleorg.Entity, sel []string, expand string) obj {
	o := obj{
		{"MetadataId", e.MetadataID}, {"LogicalName", e.LogicalName}, {"SchemaName", e.SchemaName},
		{"EntitySetName", e.EntitySetName}, {"PrimaryIdAttribute", e.PrimaryIdAttribute},
		{"PrimaryNameAttribute", e.PrimaryNameAttribute}, {"ObjectTypeCode", e.ObjectTypeCode},
		{"IsActivity", e.IsActivity}, {"IsCustomEntity", e.IsCustomEntity}, {"IsIntersect", e.IsIntersect},
		{"ChangeTrackingEnabled", e.ChangeTrackingEnabled}, {"DisplayName", label(e.DisplayName)},
	}
	o = pickFields(o, sel)
	for _, x := range splitList(expand) {
		name, inner, _ := strings.Cut(x, "(")
		if name != "Attributes" {
			continue
		}
		var asel, aexp []string
		for _, opt := range strings.Split(strings.TrimSuffix(inner, ")"), ";") {
			k, val, _ := strings.Cut(opt, "=")
			switch k {
			case "$select":
				asel = splitList(val)
			case "$expand":
				aexp = splitList(val)
			}
		}
		attrs := make([]obj, 0, len(e.Attributes))
		for _, a := range e.Attributes {
			attrs = append(attrs, attrJSON(e, a, "", asel, aexp))
		}
		o = append(o, kv{"Attributes", attrs})
	}
	return o
}

func attrJSON(e *sampleorg.Entity, a *sampleorg.Attribute, declared string, sel, expand []string) obj {
	var o obj
	if a.MetadataType != "" && a.MetadataType != declared {
		o = append(o, kv{"@odata.type", "#Microsoft.Dynamics.CRM." + a.MetadataType})
	}
	var attrOf any
	if a.AttributeOf != "" {
		attrOf = a.AttributeOf
	}
	o = append(o, obj{
		{"MetadataId", a.MetadataID}, {"LogicalName", a.LogicalName}, {"SchemaName", a.SchemaName},
		{"EntityLogicalName", e.LogicalName}, {"AttributeType", a.AttributeType},
		{"AttributeTypeName", obj{{"Value", a.AttributeTypeName}}}, {"AttributeOf", attrOf},
		{"IsCustomAttribute", a.IsCustomAttribute}, {"IsValidForRead", a.IsValidForRead},
		{"IsPrimaryId", a.IsPrimaryID}, {"IsPrimaryName", a.IsPrimaryName},
		{"DisplayName", label(a.DisplayName)},
	}...)
	o = append(o, subtypeFields(a)...)
	o = pickFields(o, sel)
	for _, x := range expand {
		switch x {
		case "OptionSet":
			o = append(o, kv{"OptionSet", optionSetJSON(a.OptionSet)})
		case "GlobalOptionSet":
			var g any
			if a.OptionSet != nil && a.OptionSet.IsGlobal {
				g = optionSetJSON(a.OptionSet)
			}
			o = append(o, kv{"GlobalOptionSet", g})
		}
	}
	return o
}

func subtypeFields(a *sampleorg.Attribute) obj {
	var o obj
	num := func(s string) any {
		if s == "" {
			return nil
		}
		return jsonNumber(s)
	}
	switch a.MetadataType {
	case "LookupAttributeMetadata":
		o = append(o, kv{"Targets", append([]string{}, a.Targets...)})
	case "StringAttributeMetadata", "MemoAttributeMetadata":
		o = append(o, kv{"MaxLength", a.MaxLength}, kv{"Format", nilIfEmpty(a.Format)})
	case "IntegerAttributeMetadata", "BigIntAttributeMetadata":
		o = append(o, kv{"MinValue", num(a.MinValue)}, kv{"MaxValue", num(a.MaxValue)})
	case "DecimalAttributeMetadata", "DoubleAttributeMetadata", "MoneyAttributeMetadata":
		o = append(o, kv{"Precision", a.Precision}, kv{"MinValue", num(a.MinValue)}, kv{"MaxValue", num(a.MaxValue)})
	case "DateTimeAttributeMetadata":
		o = append(o, kv{"Format", nilIfEmpty(a.Format)}, kv{"DateTimeBehavior", obj{{"Value", a.DateTimeBehavior}}})
	}
	return o
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func optionSetJSON(os *sampleorg.OptionSet) any {
	if os == nil {
		return nil
	}
	o := obj{
		{"MetadataId", os.MetadataID}, {"HasChanged", nil}, {"IsCustomOptionSet", os.IsCustom},
		{"IsGlobal", os.IsGlobal}, {"IsManaged", true}, {"Name", os.Name}, {"OptionSetType", os.OptionSetType},
	}
	if os.OptionSetType == "Boolean" {
		return append(o, kv{"TrueOption", optionJSON(os.TrueOption)}, kv{"FalseOption", optionJSON(os.FalseOption)})
	}
	opts := make([]any, 0, len(os.Options))
	for i := range os.Options {
		opts = append(opts, optionJSON(&os.Options[i]))
	}
	return append(o, kv{"Options", opts})
}

func optionJSON(op *sampleorg.Option) any {
	if op == nil {
		return nil
	}
	o := obj{{"Value", op.Value}, {"Color", nilIfEmpty(op.Color)}, {"IsManaged", true},
		{"Label", label(op.Label)}, {"Description", label("")}}
	if op.State != nil {
		o = append(o, kv{"State", *op.State})
	}
	if op.DefaultStatus != nil {
		o = append(o, kv{"DefaultStatus", *op.DefaultStatus}, kv{"InvariantName", op.InvariantName})
	}
	return o
}

// globalOptionSet serves GlobalOptionSetDefinitions(Name='x').
func (s *Server) globalOptionSet(w http.ResponseWriter, r *http.Request, p string) {
	m := regexp.MustCompile(`^GlobalOptionSetDefinitions\(Name='([^']+)'\)$`).FindStringSubmatch(p)
	if m == nil {
		writeError(w, http.StatusBadRequest, errQuery, "The emulator serves GlobalOptionSetDefinitions(Name='x') only.")
		return
	}
	for _, t := range s.org.Tables() {
		for _, a := range s.org.Entity(t).Attributes {
			if a.OptionSet != nil && a.OptionSet.IsGlobal && a.OptionSet.Name == m[1] {
				body := obj{{"@odata.context", s.base() + "$metadata#GlobalOptionSetDefinitions/$entity"}}
				writeJSON(w, append(body, optionSetJSON(a.OptionSet).(obj)...))
				return
			}
		}
	}
	writeError(w, http.StatusNotFound, "0x80040217", fmt.Sprintf("Could not find optionset with name %s.", m[1]))
}
