package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	rows        []map[string]any // decodePage only; the page scanner hands rows on
	n           int              // rows read
	nextLink    string
	deltaLink   string // @odata.deltaLink, on the last page of a change-tracking read
	count       int64  // -1 when absent
	countCapped bool   // totalrecordcountlimitexceeded was true
}

// decodePage decodes a whole page into maps, for the reads that need the
// rows as values (tables with files, delta reads). It walks the body with
// UseNumber so that no number passes through float64 before its column
// decides how to read it.
func decodePage(body []byte) (*page, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	p := &page{count: -1}
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
		p.rows = append(p.rows, row)
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

// scanPage reads a page body without building a Go value per row: each
// row's properties are laid out by l and handed to onRow. The first error
// onRow returns stops the handing out, but the body is still read to the
// end, so that a page that does not decode is reported as such before any
// bad value; that error is rowErr.
func scanPage(body []byte, l *rowLayout, onRow func(i int, vals []jval) error) (p *page, rowErr, err error) {
	return scanPageFrom(newScanner(body), l, onRow)
}

// scanPageFrom is scanPage on a scanner, which may be reading a stream.
func scanPageFrom(s *scanner, l *rowLayout, onRow func(i int, vals []jval) error) (p *page, rowErr, err error) {
	p = &page{count: -1}
	if err := s.step(func() error { return s.consume('{', "looking for beginning of value") }); err != nil {
		return nil, nil, fmt.Errorf("%w, want '{'", err)
	}
	var done bool
	if err := s.step(func() (err error) { done, err = s.empty('}'); return err }); done || err != nil {
		return p, nil, err
	}
	vals := make([]jval, l.width)
	for {
		var key string
		if err := s.step(func() (err error) { key, err = s.key(); return err }); err != nil {
			return nil, nil, err
		}
		if key == "value" {
			rowErr, err = p.scanRows(s, l, vals, onRow)
		} else {
			err = s.step(func() error { return p.scanField(s, key) })
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", key, err)
		}
		var more bool
		if err := s.step(func() (err error) { more, err = s.more('}', "after object key:value pair"); return err }); err != nil {
			return nil, nil, err
		}
		if !more {
			return p, rowErr, nil
		}
	}
}

// key reads an object key and its colon.
func (s *scanner) key() (string, error) {
	if err := s.consume('"', "looking for beginning of object key string"); err != nil {
		return "", err
	}
	s.pos--
	key, err := s.str()
	if err == nil {
		err = s.consume(':', "after object key")
	}
	return string(key), err
}

// scanField reads one of the page's own properties.
func (p *page) scanField(s *scanner, key string) error {
	v, err := s.value()
	if err != nil {
		return err
	}
	switch key {
	case "@odata.nextLink":
		return stringField(v, &p.nextLink)
	case "@odata.deltaLink":
		return stringField(v, &p.deltaLink)
	case "@odata.count":
		if v.kind != jNumber {
			return fmt.Errorf("want number, got %s", v.kindName())
		}
		p.count, err = strconv.ParseInt(string(v.b), 10, 64)
		return err
	case "@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded":
		if v.kind != jTrue && v.kind != jFalse && v.kind != jNull {
			return fmt.Errorf("want boolean, got %s", v.kindName())
		}
		p.countCapped = v.kind == jTrue
	}
	return nil
}

// stringField sets dst from a string; null leaves it empty.
func stringField(v jval, dst *string) error {
	switch v.kind {
	case jNull:
	case jString:
		*dst = string(v.b)
	default:
		return fmt.Errorf("want string, got %s", v.kindName())
	}
	return nil
}

func (p *page) scanRows(s *scanner, l *rowLayout, vals []jval, onRow func(int, []jval) error) (rowErr, err error) {
	if err := s.step(func() error { return s.consume('[', "looking for beginning of value") }); err != nil {
		return nil, err
	}
	var done bool
	if err := s.step(func() (err error) { done, err = s.empty(']'); return err }); done || err != nil {
		return nil, err
	}
	for {
		if err := s.step(func() error { return s.row(l, vals) }); err != nil {
			return nil, fmt.Errorf("row %d: %w", p.n, err)
		}
		if rowErr == nil {
			rowErr = onRow(p.n, vals)
		}
		p.n++
		var more bool
		if err := s.step(func() (err error) { more, err = s.more(']', "after array element"); return err }); !more {
			return rowErr, err
		}
	}
}

// row reads one row object into vals; properties no column reads are
// checked and skipped.
func (s *scanner) row(l *rowLayout, vals []jval) error {
	clear(vals)
	s.arena = s.arena[:0]
	c, err := s.next()
	if err != nil {
		return err
	}
	if c != '{' {
		v, err := s.value()
		if err != nil {
			return err
		}
		return fmt.Errorf("want object, got %s", v.kindName())
	}
	s.pos++
	if done, err := s.empty('}'); done || err != nil {
		return err
	}
	prev := int32(-1)
	for {
		if err := s.consume('"', "looking for beginning of object key string"); err != nil {
			return err
		}
		s.pos--
		slot, known, err := s.rowKey(l, &prev)
		if err == nil {
			err = s.consume(':', "after object key")
		}
		if err != nil {
			return err
		}
		v, err := s.value()
		if err != nil {
			return err
		}
		if known {
			vals[slot] = v
		}
		more, err := s.more('}', "after object key:value pair")
		if !more {
			return err
		}
	}
}

// rowKey reads a row's property name at s.pos (its opening quote) and
// finds its slot, as l.slot does. A property the layout expects next is
// matched in place, quotes included, without scanning it as a string:
// names are a third of a page's strings.
func (s *scanner) rowKey(l *rowLayout, prev *int32) (int, bool, error) {
	if i := l.expected(s.buf[s.pos+1:], *prev); i >= 0 {
		s.pos += len(l.known[i].key) + 2
		*prev = i
		return l.known[i].slot, l.known[i].slot >= 0, nil
	}
	key, err := s.str()
	if err != nil {
		return 0, false, err
	}
	slot, known := l.slot(key, prev)
	return slot, known, nil
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

// rowLayout places every property a table's columns read in a slot of a
// per-row []jval: each column's value, its formatted value and its lookup
// logical name. It is what lets the page scanner fill a row without a map.
type rowLayout struct {
	slots  map[string]int // JSON property → slot
	width  int
	pkSlot int

	// Every property seen in a row (up to maxKnownKeys), each with the
	// properties that came after it last: see slot.
	known []knownKey
	index map[string]int32 // property → its entry in known
	first succ             // the properties rows started with
}

// knownKey is a property seen in a row; slot -1 for one no column reads.
type knownKey struct {
	key   string
	slot  int
	next  succ // the properties that followed it
	plain bool // written without escapes: see expected
}

// succ holds the two properties last seen after another (indexes into
// known, -1 for none): Dataverse leaves out a null value's annotations, so
// a property is followed by one of two properties in most tables.
type succ [2]int32

// maxKnownKeys bounds what a page of ever-new property names can make the
// layout learn; properties beyond it are still read, by hash.
const maxKnownKeys = 4096

// Slots of column j within a row's values.
func valSlot(j int) int        { return 3 * j }
func formattedSlot(j int) int  { return 3*j + 1 }
func lookupNameSlot(j int) int { return 3*j + 2 }

func newRowLayout(s *tableSchema) *rowLayout {
	l := &rowLayout{slots: make(map[string]int, 3*len(s.columns)), width: 3 * len(s.columns), pkSlot: -1,
		index: map[string]int32{}, first: succ{-1, -1}}
	for j, c := range s.columns {
		l.slots[c.key] = valSlot(j)
		switch c.kind {
		case kOption, kMultiOption:
			l.slots[c.key+annFormatted] = formattedSlot(j)
		case kLookup:
			l.slots[c.key+annFormatted] = formattedSlot(j)
			l.slots[c.key+annLookupName] = lookupNameSlot(j)
		}
		if c.key == s.primaryID {
			l.pkSlot = valSlot(j)
		}
	}
	return l
}

// slot finds where a row's property named key goes; prev is the row's
// cursor, the known entry of the property before it (-1 at the row's
// start), and is moved to key's. The service writes every row's
// properties in the same order, less the annotations of null values, so
// key is first compared with the two properties seen after prev before:
// a byte comparison instead of a hash, for each of the hundreds of
// properties of every row.
func (l *rowLayout) slot(key []byte, prev *int32) (int, bool) {
	next := &l.first
	if *prev >= 0 {
		next = &l.known[*prev].next
	}
	for _, i := range next {
		if i >= 0 && l.known[i].key == string(key) {
			*prev = i
			return l.known[i].slot, l.known[i].slot >= 0
		}
	}
	i, ok := l.index[string(key)]
	if !ok {
		if len(l.known) >= maxKnownKeys {
			slot, known := l.slots[string(key)]
			return slot, known
		}
		i = l.learn(string(key))
	}
	next[0], next[1] = i, next[0]
	*prev = i
	return l.known[i].slot, l.known[i].slot >= 0
}

// expected returns the known entry of the property after prev whose
// quoted name starts rest, or -1. Only names written without escapes and
// in valid UTF-8 qualify: for those, equal bytes mean an equal name.
func (l *rowLayout) expected(rest []byte, prev int32) int32 {
	next := l.first
	if prev >= 0 {
		next = l.known[prev].next
	}
	for _, i := range next {
		if i < 0 || !l.known[i].plain {
			continue
		}
		k := l.known[i].key
		if len(rest) > len(k) && rest[len(k)] == '"' && string(rest[:len(k)]) == k {
			return i
		}
	}
	return -1
}

// plainName reports whether a property name is written as is in JSON.
func plainName(key string) bool {
	for i := 0; i < len(key); i++ {
		if c := key[i]; c == '"' || c == '\\' || c < 0x20 {
			return false
		}
	}
	return utf8.ValidString(key)
}

// learn adds a property to known.
func (l *rowLayout) learn(key string) int32 {
	slot, ok := l.slots[key]
	if !ok {
		slot = -1
	}
	i := int32(len(l.known))
	l.known = append(l.known, knownKey{key: key, slot: slot, next: succ{-1, -1}, plain: plainName(key)})
	l.index[key] = i
	return i
}

// fromMap lays out a row decoded into a map (the blob and delta reads).
func (l *rowLayout) fromMap(row map[string]any, vals []jval) {
	clear(vals)
	for k, v := range row {
		if slot, ok := l.slots[k]; ok {
			vals[slot] = jvalOf(v)
		}
	}
}

// jvalOf is the raw form of a value encoding/json decoded with UseNumber
// (or a reader filled in: strings and json.Number).
func jvalOf(v any) jval {
	switch x := v.(type) {
	case nil:
		return jval{kind: jNull}
	case string:
		return jval{jString, []byte(x)}
	case json.Number:
		return jval{jNumber, []byte(x)}
	case bool:
		if x {
			return jval{kind: jTrue}
		}
		return jval{kind: jFalse}
	case map[string]any:
		return jval{kind: jObject}
	case []any:
		return jval{kind: jArray}
	}
	return jval{jString, []byte(fmt.Sprint(v))}
}

// buildRecord converts decoded rows into one Arrow record of the table's
// schema. Errors name the row's primary key and the column.
func buildRecord(s *tableSchema, rows []map[string]any) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, s.arrow)
	defer b.Release()
	l := newRowLayout(s)
	vals := make([]jval, l.width)
	for i, row := range rows {
		l.fromMap(row, vals)
		if err := appendRow(b, s, l, i, vals); err != nil {
			return nil, err
		}
	}
	return b.NewRecordBatch(), nil
}

// appendRow appends row i to the builders; the error names the row's key
// and the column.
func appendRow(b *array.RecordBuilder, s *tableSchema, l *rowLayout, i int, vals []jval) error {
	for j, c := range s.columns {
		if err := appendColumn(b, s.offsets[j], c, vals[3*j:3*j+3]); err != nil {
			return rowError(s, l, i, j, vals, err)
		}
	}
	return nil
}

// rowError is err, column j's of row i, with the row's key when it has a
// valid one.
func rowError(s *tableSchema, l *rowLayout, i, j int, vals []jval, err error) error {
	id := ""
	if pk := vals[l.pkSlot]; pk.kind == jString && isGUID(pk.b) {
		id = string(pk.b) // a broken key is reported as the column at fault, not echoed
	}
	return &ValueError{Row: i, Key: s.primaryID, ID: id, Column: s.columns[j].key, Err: err}
}

// rowAppender is appendRow with each column's builder and append function
// picked once per page: the per-value kind switch and builder type
// assertions were a sizeable part of appending.
type rowAppender struct {
	s    *tableSchema
	l    *rowLayout
	cols []func(v []jval) error
}

func newRowAppender(b *array.RecordBuilder, s *tableSchema, l *rowLayout) *rowAppender {
	ra := &rowAppender{s: s, l: l, cols: make([]func([]jval) error, len(s.columns))}
	for j, c := range s.columns {
		ra.cols[j] = columnAppender(b, s.offsets[j], c)
	}
	return ra
}

// append is appendRow(b, s, l, i, vals) for the builders ra was made for.
func (ra *rowAppender) append(i int, vals []jval) error {
	for j, f := range ra.cols {
		if err := f(vals[3*j : 3*j+3]); err != nil {
			return rowError(ra.s, ra.l, i, j, vals, err)
		}
	}
	return nil
}

// columnAppender is appendColumn bound to column c's builders, which stay
// the same through every record b builds.
func columnAppender(b *array.RecordBuilder, i int, c column) func(v []jval) error {
	switch c.kind {
	case kString:
		sb := b.Field(i).(*array.StringBuilder)
		if c.guid {
			return func(v []jval) error { return appendGUID(sb, v[0]) }
		}
		return func(v []jval) error { return appendString(sb, v[0]) }
	case kInt32:
		ib := b.Field(i).(*array.Int32Builder)
		return func(v []jval) error { return appendInt32(ib, v[0]) }
	case kInt64:
		ib := b.Field(i).(*array.Int64Builder)
		return func(v []jval) error { return appendInt64(ib, v[0]) }
	case kFloat64:
		fb := b.Field(i).(*array.Float64Builder)
		return func(v []jval) error { return appendFloat64(fb, v[0]) }
	case kDecimal:
		db := b.Field(i).(*array.Decimal128Builder)
		return func(v []jval) error { return appendDecimal(db, v[0], c.precision, c.scale) }
	case kBool:
		bb := b.Field(i).(*array.BooleanBuilder)
		return func(v []jval) error { return appendBool(bb, v[0]) }
	case kTimestamp:
		tb := b.Field(i).(*array.TimestampBuilder)
		return func(v []jval) error { return appendTimestamp(tb, v[0]) }
	case kDate:
		db := b.Field(i).(*array.Date32Builder)
		return func(v []jval) error { return appendDate(db, v[0]) }
	case kOption:
		vb, lb := b.Field(i).(*array.Int32Builder), b.Field(i+1).(*array.StringBuilder)
		return func(v []jval) error { return appendOptionTo(vb, lb, c.labels, v[0], v[1]) }
	case kLookup:
		gb := b.Field(i).(*array.StringBuilder)
		nb, fb := b.Field(i+1).(*array.StringBuilder), b.Field(i+2).(*array.StringBuilder)
		return func(v []jval) error { return appendLookupTo(gb, nb, fb, v) }
	}
	return func(v []jval) error { return appendColumn(b, i, c, v) }
}

// isGUID accepts the 8-4-4-4-12 hex form Dataverse writes keys in.
func isGUID[T string | []byte](s T) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		switch c := s[i]; i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// appendGUID stores a key or lookup value, refusing anything but a GUID: a
// broken key would join to nothing downstream.
func appendGUID(b *array.StringBuilder, v jval) error {
	switch v.kind {
	case jAbsent, jNull:
		b.AppendNull()
	case jString:
		if !isGUID(v.b) {
			return fmt.Errorf("not a GUID: %q", truncate(string(v.b), 40))
		}
		b.BinaryBuilder.Append(v.b)
	default:
		return fmt.Errorf("want GUID string, got %s", v.kindName())
	}
	return nil
}

// appendColumn appends one column of a row; v holds the column's value,
// formatted value and lookup logical name.
func appendColumn(b *array.RecordBuilder, i int, c column, v []jval) error {
	switch c.kind {
	case kString:
		if c.guid {
			return appendGUID(b.Field(i).(*array.StringBuilder), v[0])
		}
		return appendString(b.Field(i).(*array.StringBuilder), v[0])
	case kInt32:
		return appendInt32(b.Field(i).(*array.Int32Builder), v[0])
	case kInt64:
		return appendInt64(b.Field(i).(*array.Int64Builder), v[0])
	case kFloat64:
		return appendFloat64(b.Field(i).(*array.Float64Builder), v[0])
	case kDecimal:
		return appendDecimal(b.Field(i).(*array.Decimal128Builder), v[0], c.precision, c.scale)
	case kBool:
		return appendBool(b.Field(i).(*array.BooleanBuilder), v[0])
	case kTimestamp:
		return appendTimestamp(b.Field(i).(*array.TimestampBuilder), v[0])
	case kDate:
		return appendDate(b.Field(i).(*array.Date32Builder), v[0])
	case kOption:
		return appendOption(b, i, c, v[0], v[1])
	case kMultiOption:
		return appendMultiOption(b, i, c, v[0], v[1])
	case kLookup:
		return appendLookup(b, i, v)
	}
	return fmt.Errorf("unknown column kind %d", c.kind)
}

func appendString(b *array.StringBuilder, v jval) error {
	switch v.kind {
	case jAbsent, jNull:
		b.AppendNull()
	case jString, jNumber:
		b.BinaryBuilder.Append(v.b)
	case jTrue:
		b.Append("true")
	case jFalse:
		b.Append("false")
	default:
		return fmt.Errorf("want string, got %s", v.kindName())
	}
	return nil
}

// appendAnnotation stores a string annotation; a JSON null, absent or
// non-string one is null.
func appendAnnotation(b *array.StringBuilder, v jval) {
	if v.kind == jString {
		b.BinaryBuilder.Append(v.b)
	} else {
		b.AppendNull()
	}
}

func appendLookup(b *array.RecordBuilder, i int, v []jval) error {
	return appendLookupTo(b.Field(i).(*array.StringBuilder), b.Field(i+1).(*array.StringBuilder),
		b.Field(i+2).(*array.StringBuilder), v)
}

// appendLookupTo stores a lookup's value, logical name and formatted value.
func appendLookupTo(value, name, formatted *array.StringBuilder, v []jval) error {
	if err := appendGUID(value, v[0]); err != nil {
		return err
	}
	appendAnnotation(name, v[2])
	appendAnnotation(formatted, v[1])
	return nil
}

func appendOption(b *array.RecordBuilder, i int, c column, v, formatted jval) error {
	return appendOptionTo(b.Field(i).(*array.Int32Builder), b.Field(i+1).(*array.StringBuilder), c.labels, v, formatted)
}

// appendOptionTo stores an option's value and its label: the metadata's,
// else the formatted value.
func appendOptionTo(vb *array.Int32Builder, lb *array.StringBuilder, labels map[int32]string, v, formatted jval) error {
	if v.isNull() {
		vb.AppendNull()
		lb.AppendNull()
		return nil
	}
	n, err := intValue(v, 32)
	if err != nil {
		return err
	}
	vb.Append(int32(n))
	if l, ok := labels[int32(n)]; ok {
		lb.Append(l)
		return nil
	}
	appendAnnotation(lb, formatted)
	return nil
}

// appendMultiOption reads "1,2,3" into a list; each label comes from the
// metadata, else from the "; "-joined formatted value when it lines up.
func appendMultiOption(b *array.RecordBuilder, i int, c column, v, formatted jval) error {
	vb := b.Field(i).(*array.ListBuilder)
	lb := b.Field(i + 1).(*array.ListBuilder)
	s := string(v.b)
	if v.isNull() || (v.kind == jString && strings.TrimSpace(s) == "") {
		vb.AppendNull()
		lb.AppendNull()
		return nil
	}
	if v.kind != jString {
		return fmt.Errorf("want comma-separated string, got %s", v.kindName())
	}
	parts := strings.Split(s, ",")
	var fparts []string
	if formatted.kind == jString && len(formatted.b) > 0 {
		fparts = strings.Split(string(formatted.b), "; ")
	}
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
		} else if len(fparts) == len(parts) {
			labels.Append(fparts[k])
		} else {
			labels.AppendNull()
		}
	}
	return nil
}

// intValue reads an integer of the given width. Only 64-bit values may come
// quoted (IEEE754Compatible answers quote Edm.Int64); a quoted 32-bit value
// is a wrong type.
func intValue(v jval, bits int) (int64, error) {
	switch v.kind {
	case jNumber:
	case jString:
		if bits < 64 {
			return 0, errors.New("want integer, got string")
		}
	default:
		return 0, fmt.Errorf("want integer, got %s", v.kindName())
	}
	if n, ok := parseSmallInt(v.b); ok && bits == 64 || ok && n >= math.MinInt32 && n <= math.MaxInt32 {
		return n, nil
	}
	n, err := strconv.ParseInt(string(v.b), 10, bits)
	if err != nil {
		return 0, fmt.Errorf("not a %d-bit integer: %q", bits, truncate(string(v.b), 40))
	}
	return n, nil
}

// parseSmallInt is the common case of strconv.ParseInt without its string:
// an optional minus and at most 18 digits.
func parseSmallInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func appendInt32(b *array.Int32Builder, v jval) error {
	if v.isNull() {
		b.AppendNull()
		return nil
	}
	n, err := intValue(v, 32)
	if err != nil {
		return err
	}
	b.Append(int32(n))
	return nil
}

func appendInt64(b *array.Int64Builder, v jval) error {
	if v.isNull() {
		b.AppendNull()
		return nil
	}
	n, err := intValue(v, 64)
	if err != nil {
		return err
	}
	b.Append(n)
	return nil
}

// numberText is a number as written, quoted or not (IEEE754Compatible
// answers quote them).
func numberText(v jval) (string, error) {
	if v.kind != jNumber && v.kind != jString {
		return "", fmt.Errorf("want number, got %s", v.kindName())
	}
	return string(v.b), nil
}

func appendFloat64(b *array.Float64Builder, v jval) error {
	if v.isNull() {
		b.AppendNull()
		return nil
	}
	s, err := numberText(v)
	if err != nil {
		return err
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("not a number: %q", truncate(s, 40))
	}
	b.Append(f)
	return nil
}

func appendBool(b *array.BooleanBuilder, v jval) error {
	switch v.kind {
	case jAbsent, jNull:
		b.AppendNull()
	case jTrue, jFalse:
		b.Append(v.kind == jTrue)
	default:
		return fmt.Errorf("want boolean, got %s", v.kindName())
	}
	return nil
}

func appendDecimal(b *array.Decimal128Builder, v jval, precision, scale int32) error {
	if v.isNull() {
		b.AppendNull()
		return nil
	}
	if v.kind != jNumber && v.kind != jString {
		return fmt.Errorf("want number, got %s", v.kindName())
	}
	if n, ok := smallDecimal(v.b, precision, scale); ok {
		b.Append(n)
		return nil
	}
	n, err := parseDecimal(string(v.b), precision, scale)
	if err != nil {
		return err
	}
	b.Append(n)
	return nil
}

// smallDecimal is parseDecimal's common case without big.Int: a plain
// decimal (no exponent) of at most scale decimals whose scaled value has
// fewer digits than precision and fits an int64. Anything else is left to
// parseDecimal, which also words the errors.
func smallDecimal(b []byte, precision, scale int32) (decimal128.Num, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	var n int64
	digits, frac, dot := 0, 0, false
	for _, c := range b {
		switch {
		case c == '.' && !dot:
			dot = true
		case c >= '0' && c <= '9':
			if n == 0 && c == '0' {
				digits-- // leading zeros do not count against the precision
			}
			n = n*10 + int64(c-'0')
			digits++
			if dot {
				frac++
			}
		default:
			return decimal128.Num{}, false
		}
		if digits > 17 {
			return decimal128.Num{}, false
		}
	}
	if len(b) == 0 || b[0] == '.' || b[len(b)-1] == '.' || int32(frac) > scale {
		return decimal128.Num{}, false
	}
	for k := int32(frac); k < scale; k++ {
		n *= 10
		digits++
	}
	if digits > 18 || int32(digits) >= precision {
		return decimal128.Num{}, false
	}
	if neg {
		n = -n
	}
	return decimal128.FromI64(n), true
}

// appendTimestamp reads UTC values ("…Z"); a value without a zone (a
// TimeZoneIndependent column) is stored as written, read as UTC.
func appendTimestamp(b *array.TimestampBuilder, v jval) error {
	if v.isNull() {
		b.AppendNull()
		return nil
	}
	if v.kind != jString {
		return fmt.Errorf("want date-time string, got %s", v.kindName())
	}
	if t, ok := utcSeconds(v.b); ok {
		b.Append(arrow.Timestamp(t.UnixMicro()))
		return nil
	}
	t, err := parseDateTime(string(v.b))
	if err != nil {
		return err
	}
	b.Append(arrow.Timestamp(t.UnixMicro()))
	return nil
}

// utcSeconds reads the form the Web API writes, yyyy-mm-ddThh:mm:ssZ,
// without time.Parse; any other form, or an impossible date, is left to
// parseDateTime.
func utcSeconds(b []byte) (time.Time, bool) {
	if len(b) != 20 || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[19] != 'Z' {
		return time.Time{}, false
	}
	y, m, d, ok := civilDate(b[:10])
	hh, ok1 := twoDigits(b[11:13])
	mm, ok2 := twoDigits(b[14:16])
	ss, ok3 := twoDigits(b[17:19])
	if !ok || !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(m), d, hh, mm, ss, 0, time.UTC), true
}

// civilDate reads yyyy-mm-dd and checks the day exists.
func civilDate(b []byte) (y, m, d int, ok bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, 0, 0, false
	}
	hi, ok1 := twoDigits(b[0:2])
	lo, ok2 := twoDigits(b[2:4])
	m, ok3 := twoDigits(b[5:7])
	d, ok4 := twoDigits(b[8:10])
	y = hi*100 + lo
	if !ok1 || !ok2 || !ok3 || !ok4 || m < 1 || m > 12 || d < 1 {
		return 0, 0, 0, false
	}
	if last := time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day(); d > last {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

func twoDigits(b []byte) (int, bool) {
	if b[0] < '0' || b[0] > '9' || b[1] < '0' || b[1] > '9' {
		return 0, false
	}
	return int(b[0]-'0')*10 + int(b[1]-'0'), true
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
func appendDate(b *array.Date32Builder, v jval) error {
	if v.isNull() {
		b.AppendNull()
		return nil
	}
	if v.kind != jString {
		return fmt.Errorf("want yyyy-mm-dd string, got %s", v.kindName())
	}
	if len(v.b) < 10 {
		return fmt.Errorf("date %q: want yyyy-mm-dd", truncate(string(v.b), 40))
	}
	if y, m, d, ok := civilDate(v.b[:10]); ok {
		b.Append(arrow.Date32(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() / 86400))
		return nil
	}
	t, err := time.Parse("2006-01-02", string(v.b[:10]))
	if err != nil {
		return fmt.Errorf("date %q: %w", string(v.b), err)
	}
	b.Append(arrow.Date32(t.Unix() / 86400))
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
