package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Annotation suffixes read from rows (spec §3).
const (
	annFormatted  = "@OData.Community.Display.V1.FormattedValue"
	annLookupName = "@Microsoft.Dynamics.CRM.lookuplogicalname"
)

// page is one decoded OData collection answer.
type page struct {
	rows        []map[string]any // nil when onRow took them
	n           int              // rows read
	onRow       func(i int, row map[string]any)
	nextLink    string
	deltaLink   string // @odata.deltaLink, on the last page of a change-tracking read
	count       int64  // -1 when absent
	countCapped bool   // totalrecordcountlimitexceeded was true
}

// decodePage walks the body with UseNumber so that no number passes through
// float64 before its column decides how to read it.
func decodePage(body []byte) (*page, error) {
	return decodePageInto(body, nil)
}

// decodePageInto is decodePage handing each row to onRow as it is read,
// instead of keeping all of them: a page's decoded maps were the largest
// thing in the snapshot's memory. A nil onRow keeps the rows in p.rows.
func decodePageInto(body []byte, onRow func(i int, row map[string]any)) (*page, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	p := &page{count: -1, onRow: onRow}
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		if err := p.field(dec, key); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	return p, expectDelim(dec, '}')
}

func (p *page) field(dec *json.Decoder, key string) error {
	switch key {
	case "value":
		return p.decodeRows(dec)
	case "@odata.nextLink":
		return dec.Decode(&p.nextLink)
	case "@odata.deltaLink":
		return dec.Decode(&p.deltaLink)
	case "@odata.count":
		var n json.Number
		if err := dec.Decode(&n); err != nil {
			return err
		}
		c, err := n.Int64()
		p.count = c
		return err
	case "@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded":
		return dec.Decode(&p.countCapped)
	default:
		var skip json.RawMessage
		return dec.Decode(&skip)
	}
}

func (p *page) decodeRows(dec *json.Decoder) error {
	if err := expectDelim(dec, '['); err != nil {
		return err
	}
	for dec.More() {
		row := map[string]any{}
		if err := dec.Decode(&row); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = errors.New("truncated JSON")
			}
			return fmt.Errorf("row %d: %w", p.n, err)
		}
		if p.onRow != nil {
			p.onRow(p.n, row)
		} else {
			p.rows = append(p.rows, row)
		}
		p.n++
	}
	return expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err == io.EOF {
		return fmt.Errorf("truncated JSON, want %q", want)
	}
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("unexpected JSON token %v, want %q", tok, want)
	}
	return nil
}

// ValueError is a value that does not fit its column; the table's read
// stops at its page. Callers wrap it with the table and page.
type ValueError struct {
	Row    int    // 0-based index in the page
	Key    string // primary key attribute
	ID     string // the row's primary key, "" when it has none readable
	Column string // property the value came from
	Err    error
}

func (e *ValueError) Error() string {
	id := ""
	if e.ID != "" {
		id = fmt.Sprintf(" (%s=%s)", e.Key, e.ID)
	}
	return fmt.Sprintf("row %d%s column %s: %v", e.Row, id, e.Column, e.Err)
}

func (e *ValueError) Unwrap() error { return e.Err }

// buildRecord converts decoded rows into one Arrow record of the table's
// schema. Errors name the row's primary key and the column.
func buildRecord(s *tableSchema, rows []map[string]any) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, s.arrow)
	defer b.Release()
	for i, row := range rows {
		if err := appendRow(b, s, i, row); err != nil {
			return nil, err
		}
	}
	return b.NewRecordBatch(), nil
}

// appendRow appends row i to the builders; the error names the row's key
// and the column.
func appendRow(b *array.RecordBuilder, s *tableSchema, i int, row map[string]any) error {
	for j, c := range s.columns {
		if err := appendColumn(b, s.offsets[j], c, row); err != nil {
			id, _ := row[s.primaryID].(string)
			if !isGUID(id) {
				id = "" // a broken key is reported as the column at fault, not echoed
			}
			return &ValueError{Row: i, Key: s.primaryID, ID: id, Column: c.key, Err: err}
		}
	}
	return nil
}

// isGUID accepts the 8-4-4-4-12 hex form Dataverse writes keys in.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
				return false
			}
		}
	}
	return true
}

// appendGUID stores a key or lookup value, refusing anything but a GUID: a
// broken key would join to nothing downstream.
func appendGUID(b *array.StringBuilder, v any) error {
	switch x := v.(type) {
	case nil:
		b.AppendNull()
	case string:
		if !isGUID(x) {
			return fmt.Errorf("not a GUID: %q", truncate(x, 40))
		}
		b.Append(x)
	default:
		return fmt.Errorf("want GUID string, got %s", jsonKind(v))
	}
	return nil
}

// jsonKind names a decoded JSON value's type without its content.
func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

func appendColumn(b *array.RecordBuilder, i int, c column, row map[string]any) error {
	v := row[c.key]
	switch c.kind {
	case kString:
		if c.guid {
			return appendGUID(b.Field(i).(*array.StringBuilder), v)
		}
		return appendString(b.Field(i).(*array.StringBuilder), v)
	case kInt32:
		return appendInt32(b.Field(i).(*array.Int32Builder), v)
	case kInt64:
		return appendInt64(b.Field(i).(*array.Int64Builder), v)
	case kFloat64:
		return appendFloat64(b.Field(i).(*array.Float64Builder), v)
	case kDecimal:
		return appendDecimal(b.Field(i).(*array.Decimal128Builder), v, c.precision, c.scale)
	case kBool:
		return appendBool(b.Field(i).(*array.BooleanBuilder), v)
	case kTimestamp:
		return appendTimestamp(b.Field(i).(*array.TimestampBuilder), v)
	case kDate:
		return appendDate(b.Field(i).(*array.Date32Builder), v)
	case kOption:
		return appendOption(b, i, c, row)
	case kMultiOption:
		return appendMultiOption(b, i, c, row)
	case kLookup:
		return appendLookup(b, i, c, row)
	}
	return fmt.Errorf("unknown column kind %d", c.kind)
}

func appendString(b *array.StringBuilder, v any) error {
	switch x := v.(type) {
	case nil:
		b.AppendNull()
	case string:
		b.Append(x)
	case json.Number:
		b.Append(x.String())
	case bool:
		b.Append(strconv.FormatBool(x))
	default:
		return fmt.Errorf("want string, got %s", jsonKind(v))
	}
	return nil
}

// annotation reads a string annotation; a JSON null or absent one is null.
func annotation(row map[string]any, key string) (string, bool) {
	s, ok := row[key].(string)
	return s, ok
}

func appendOptString(b *array.StringBuilder, s string, ok bool) {
	if ok {
		b.Append(s)
	} else {
		b.AppendNull()
	}
}

func appendLookup(b *array.RecordBuilder, i int, c column, row map[string]any) error {
	if err := appendGUID(b.Field(i).(*array.StringBuilder), row[c.key]); err != nil {
		return err
	}
	name, ok := annotation(row, c.key+annLookupName)
	appendOptString(b.Field(i+1).(*array.StringBuilder), name, ok)
	formatted, ok := annotation(row, c.key+annFormatted)
	appendOptString(b.Field(i+2).(*array.StringBuilder), formatted, ok)
	return nil
}

func appendOption(b *array.RecordBuilder, i int, c column, row map[string]any) error {
	v := row[c.key]
	vb := b.Field(i).(*array.Int32Builder)
	lb := b.Field(i + 1).(*array.StringBuilder)
	if v == nil {
		vb.AppendNull()
		lb.AppendNull()
		return nil
	}
	n, err := toInt(v, 32)
	if err != nil {
		return err
	}
	vb.Append(int32(n))
	if l, ok := c.labels[int32(n)]; ok {
		lb.Append(l)
		return nil
	}
	formatted, ok := annotation(row, c.key+annFormatted)
	appendOptString(lb, formatted, ok)
	return nil
}

// appendMultiOption reads "1,2,3" into a list; each label comes from the
// metadata, else from the "; "-joined formatted value when it lines up.
func appendMultiOption(b *array.RecordBuilder, i int, c column, row map[string]any) error {
	vb := b.Field(i).(*array.ListBuilder)
	lb := b.Field(i + 1).(*array.ListBuilder)
	s, isStr := row[c.key].(string)
	if row[c.key] == nil || (isStr && strings.TrimSpace(s) == "") {
		vb.AppendNull()
		lb.AppendNull()
		return nil
	}
	if !isStr {
		return fmt.Errorf("want comma-separated string, got %s", jsonKind(row[c.key]))
	}
	parts := strings.Split(s, ",")
	formatted, _ := annotation(row, c.key+annFormatted)
	fparts := strings.Split(formatted, "; ")
	vb.Append(true)
	lb.Append(true)
	values := vb.ValueBuilder().(*array.Int32Builder)
	labels := lb.ValueBuilder().(*array.StringBuilder)
	for k, p := range parts {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
		if err != nil {
			return fmt.Errorf("option value %q: %w", p, err)
		}
		values.Append(int32(n))
		if l, ok := c.labels[int32(n)]; ok {
			labels.Append(l)
		} else if formatted != "" && len(fparts) == len(parts) {
			labels.Append(fparts[k])
		} else {
			labels.AppendNull()
		}
	}
	return nil
}

// toInt reads an integer of the given width. Only 64-bit values may come
// quoted (IEEE754Compatible answers quote Edm.Int64); a quoted 32-bit value
// is a wrong type.
func toInt(v any, bits int) (int64, error) {
	s := ""
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		if bits < 64 {
			return 0, errors.New("want integer, got string")
		}
		s = x
	default:
		return 0, fmt.Errorf("want integer, got %s", jsonKind(v))
	}
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("not a %d-bit integer: %q", bits, truncate(s, 40))
	}
	return n, nil
}

func appendInt32(b *array.Int32Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	n, err := toInt(v, 32)
	if err != nil {
		return err
	}
	b.Append(int32(n))
	return nil
}

func appendInt64(b *array.Int64Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	n, err := toInt(v, 64)
	if err != nil {
		return err
	}
	b.Append(n)
	return nil
}

func appendFloat64(b *array.Float64Builder, v any) error {
	var s string
	switch x := v.(type) {
	case nil:
		b.AppendNull()
		return nil
	case json.Number:
		s = x.String()
	case string: // IEEE754Compatible answers quote numbers
		s = x
	default:
		return fmt.Errorf("want number, got %s", jsonKind(v))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("not a number: %q", truncate(s, 40))
	}
	b.Append(f)
	return nil
}

func appendBool(b *array.BooleanBuilder, v any) error {
	switch x := v.(type) {
	case nil:
		b.AppendNull()
	case bool:
		b.Append(x)
	default:
		return fmt.Errorf("want boolean, got %s", jsonKind(v))
	}
	return nil
}

func appendDecimal(b *array.Decimal128Builder, v any, precision, scale int32) error {
	var s string
	switch x := v.(type) {
	case nil:
		b.AppendNull()
		return nil
	case json.Number:
		s = x.String()
	case string:
		s = x
	default:
		return fmt.Errorf("want number, got %s", jsonKind(v))
	}
	n, err := parseDecimal(s, precision, scale)
	if err != nil {
		return err
	}
	b.Append(n)
	return nil
}

// parseDecimal reads a JSON number exactly into a decimal128 of the given
// scale: digits are shifted, never rounded through a binary float. Extra
// decimals are accepted only when they are zeros.
func parseDecimal(s string, precision, scale int32) (decimal128.Num, error) {
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil {
			return decimal128.Num{}, fmt.Errorf("decimal %q: bad exponent", s)
		}
		mant, exp = s[:i], e
	}
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return decimal128.Num{}, fmt.Errorf("decimal %q: not a number", s)
	}
	shift := int(scale) + exp - len(frac)
	if shift < 0 {
		if -shift > len(digits) {
			digits = strings.Repeat("0", -shift-len(digits)+1) + digits
		}
		cut := len(digits) + shift
		if strings.Trim(digits[cut:], "0") != "" {
			return decimal128.Num{}, fmt.Errorf("decimal %q has more than %d decimals", s, scale)
		}
		digits, shift = digits[:cut], 0
	}
	if shift > 60 {
		return decimal128.Num{}, fmt.Errorf("decimal %q out of range", s)
	}
	u, _ := new(big.Int).SetString(digits+strings.Repeat("0", shift), 10)
	if neg {
		u.Neg(u)
	}
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(precision)), nil)
	if new(big.Int).Abs(u).Cmp(limit) >= 0 {
		return decimal128.Num{}, fmt.Errorf("decimal %q does not fit decimal(%d,%d)", s, precision, scale)
	}
	return decimal128.FromBigInt(u), nil
}

// appendTimestamp reads UTC values ("…Z"); a value without a zone (a
// TimeZoneIndependent column) is stored as written, read as UTC.
func appendTimestamp(b *array.TimestampBuilder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("want date-time string, got %s", jsonKind(v))
	}
	t, err := parseDateTime(s)
	if err != nil {
		return err
	}
	b.Append(arrow.Timestamp(t.UnixMicro()))
	return nil
}

func parseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("date-time %q: unrecognised format", truncate(s, 40))
}

// appendDate keeps the calendar date as written: a DateOnly value names a
// day, not an instant, so no zone ever moves it.
func appendDate(b *array.Date32Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("want yyyy-mm-dd string, got %s", jsonKind(v))
	}
	if len(s) < 10 {
		return fmt.Errorf("date %q: want yyyy-mm-dd", truncate(s, 40))
	}
	t, err := time.Parse("2006-01-02", s[:10])
	if err != nil {
		return fmt.Errorf("date %q: %w", s, err)
	}
	b.Append(arrow.Date32(t.Unix() / 86400))
	return nil
}
