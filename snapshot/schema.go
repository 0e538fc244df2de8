package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// colKind is how one attribute is stored (docs/contracts.md §1 table).
type colKind int

const (
	kString colKind = iota
	kInt32
	kInt64
	kFloat64
	kDecimal
	kBool
	kTimestamp
	kDate
	kOption
	kMultiOption
	kLookup
)

// column is one stored attribute: the JSON property it is read from and the
// Arrow field(s) it fills.
type column struct {
	attr      string // logical name
	key       string // property in the OData row: attr, or _attr_value for lookups
	kind      colKind
	precision int32
	scale     int32
	labels    map[int32]string // option value → label, from metadata
	guid      bool             // a Uniqueidentifier: values must be GUIDs
	derived   bool             // filled by the reader (blob columns), never $selected
}

// tableSchema is the stored shape of one table.
type tableSchema struct {
	table     string
	entitySet string
	primaryID string
	tracked   bool // ChangeTrackingEnabled: reads ask for a delta link
	columns   []column
	offsets   []int // index of each column's first Arrow field
	arrow     *arrow.Schema
}

// Columns that hold file contents as Base64 strings: never in a list query
// (spec §12); their bytes are fetched one row at a time.
var binaryColumns = map[string]map[string]bool{
	"annotation":             {"documentbody": true},
	"activitymimeattachment": {"body": true},
}

// Integer digits of the widest value Dataverse allows in a Money column
// (922,337,203,685,477) and in a Decimal column (100,000,000,000), used when
// the metadata gives no MinValue/MaxValue.
const (
	moneyIntDigits   = 15
	decimalIntDigits = 12
	// Money is kept at 4 decimals whatever the column's display precision:
	// with currency-based precision a value can carry up to 4.
	moneyScale = 4
	// defaultDecimalScale is used when metadata is silent; maxDecimalScale
	// bounds what metadata may ask for (exchangerate uses 12).
	defaultDecimalScale = 10
	maxDecimalScale     = 18
)

// buildSchema derives the stored columns from an entity definition and the
// option labels of its choice columns.
func buildSchema(def entityDef, labels map[string]map[int32]string) (*tableSchema, error) {
	s := &tableSchema{table: def.LogicalName, entitySet: def.EntitySetName, primaryID: def.PrimaryIdAttribute,
		tracked: def.ChangeTrackingEnabled}
	seen := map[string]bool{}
	for _, a := range def.Attributes {
		col, ok := columnFor(def.LogicalName, a)
		if !ok || seen[col.key] {
			continue
		}
		seen[col.key] = true
		col.labels = labels[a.LogicalName]
		s.columns = append(s.columns, col)
	}
	s.columns = append(s.columns, blobColumns(def.LogicalName)...)
	if !seen[s.primaryID] {
		s.columns = append(s.columns, column{attr: s.primaryID, key: s.primaryID, kind: kString, guid: true})
	}
	sort.Slice(s.columns, func(i, j int) bool { return s.columns[i].key < s.columns[j].key })

	var fields []arrow.Field
	for _, c := range s.columns {
		s.offsets = append(s.offsets, len(fields))
		fields = append(fields, c.fields()...)
	}
	s.arrow = arrow.NewSchema(fields, nil)
	return s, nil
}

// columnFor maps one attribute to its column; false means it is not stored.
func columnFor(table string, a attributeDef) (column, bool) {
	if a.LogicalName == "" || (a.AttributeOf != nil && *a.AttributeOf != "") {
		return column{}, false
	}
	// Not readable, or not a Web API property: $select would be refused.
	if (a.IsValidForRead != nil && !*a.IsValidForRead) || (a.IsValidOData != nil && !*a.IsValidOData) {
		return column{}, false
	}
	if binaryColumns[table][a.LogicalName] {
		return column{}, false
	}
	c := column{attr: a.LogicalName, key: a.LogicalName}
	switch a.AttributeType {
	case "String", "Memo", "EntityName":
		c.kind = kString
	case "Uniqueidentifier":
		c.kind, c.guid = kString, true
	case "Integer":
		c.kind = kInt32
	case "BigInt":
		c.kind = kInt64
	case "Double":
		c.kind = kFloat64
	case "Money":
		c.kind, c.scale = kDecimal, moneyScale
		if a.Precision != nil && *a.Precision > moneyScale && *a.Precision <= maxDecimalScale {
			c.scale = int32(*a.Precision)
		}
		c.precision = intDigits(a, moneyIntDigits) + c.scale
	case "Decimal":
		c.kind, c.scale = kDecimal, defaultDecimalScale
		if a.Precision != nil && *a.Precision >= 0 && *a.Precision <= maxDecimalScale {
			c.scale = int32(*a.Precision)
		}
		c.precision = intDigits(a, decimalIntDigits) + c.scale
	case "Boolean":
		c.kind = kBool
	case "DateTime":
		c.kind = kTimestamp
		if a.DateTimeBehavior == "DateOnly" {
			c.kind = kDate
		}
	case "Picklist", "State", "Status":
		c.kind = kOption
	case "Lookup", "Customer", "Owner":
		c.kind, c.key = kLookup, "_"+a.LogicalName+"_value"
	default:
		if !isMultiSelect(a) {
			return column{}, false
		}
		c.kind = kMultiOption
	}
	return c, true
}

// intDigits is how many integer digits the column's MinValue/MaxValue need,
// or def when the metadata has neither.
func intDigits(a attributeDef, def int32) int32 {
	n := int32(0)
	for _, v := range []json.Number{a.MinValue, a.MaxValue} {
		whole, _, _ := strings.Cut(strings.TrimPrefix(v.String(), "-"), ".")
		whole = strings.TrimLeft(whole, "0")
		if strings.ContainsAny(whole, "eE") || len(whole) > 38 {
			return def
		}
		n = max(n, int32(len(whole)))
	}
	if n == 0 {
		return def
	}
	return min(n, 38-maxDecimalScale)
}

// isMultiSelect: multi-select choices are AttributeType Virtual; only the
// type name or the OData type tells them apart.
func isMultiSelect(a attributeDef) bool {
	return a.AttributeType == "MultiSelectPicklist" ||
		a.AttributeTypeName == "MultiSelectPicklistType" ||
		strings.HasSuffix(a.ODataType, ".MultiSelectPicklistAttributeMetadata")
}

// Suffixes of the sibling columns (docs/contracts.md §1).
const (
	suffixLabel      = "__label"
	suffixLookupName = "__lookuplogicalname"
	suffixFormatted  = "__formatted"
)

func (c column) fields() []arrow.Field {
	f := func(name string, t arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: t, Nullable: true}
	}
	switch c.kind {
	case kInt32:
		return []arrow.Field{f(c.key, arrow.PrimitiveTypes.Int32)}
	case kInt64:
		return []arrow.Field{f(c.key, arrow.PrimitiveTypes.Int64)}
	case kFloat64:
		return []arrow.Field{f(c.key, arrow.PrimitiveTypes.Float64)}
	case kDecimal:
		return []arrow.Field{f(c.key, &arrow.Decimal128Type{Precision: c.precision, Scale: c.scale})}
	case kBool:
		return []arrow.Field{f(c.key, arrow.FixedWidthTypes.Boolean)}
	case kTimestamp:
		return []arrow.Field{f(c.key, arrow.FixedWidthTypes.Timestamp_us)}
	case kDate:
		return []arrow.Field{f(c.key, arrow.FixedWidthTypes.Date32)}
	case kOption:
		return []arrow.Field{f(c.key, arrow.PrimitiveTypes.Int32), f(c.key+suffixLabel, arrow.BinaryTypes.String)}
	case kMultiOption:
		return []arrow.Field{
			f(c.key, arrow.ListOf(arrow.PrimitiveTypes.Int32)),
			f(c.key+suffixLabel, arrow.ListOf(arrow.BinaryTypes.String)),
		}
	case kLookup:
		return []arrow.Field{
			f(c.key, arrow.BinaryTypes.String),
			f(c.key+suffixLookupName, arrow.BinaryTypes.String),
			f(c.key+suffixFormatted, arrow.BinaryTypes.String),
		}
	default:
		return []arrow.Field{f(c.key, arrow.BinaryTypes.String)}
	}
}

// selectList is the $select value: every stored property, lookups as _x_value.
func (s *tableSchema) selectList() string {
	keys := make([]string, 0, len(s.columns))
	for _, c := range s.columns {
		if !c.derived {
			keys = append(keys, c.key)
		}
	}
	return strings.Join(keys, ",")
}

// hash identifies the Arrow schema, so a resume refuses to mix two shapes.
func (s *tableSchema) hash() string {
	sum := sha256.Sum256([]byte(s.arrow.String()))
	return hex.EncodeToString(sum[:])
}

func (s *tableSchema) String() string {
	return fmt.Sprintf("%s(%d columns)", s.table, len(s.columns))
}
