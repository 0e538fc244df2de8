package dataversetest

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// rowRenderer writes the rows of one request. Everything that is the same
// on every row (which columns, their quoted keys, which annotations are
// wanted) is worked out once per request, and rows are appended to a byte
// slice: a page of 5,000 annotated incidents renders half a million
// properties, and the per-value strings and json.Marshal calls of a naive
// encoder made the emulator, not the client, the ceiling of the snapshot
// benchmark (BENCHMARKS.md).
type rowRenderer struct {
	cols  []renderedColumn
	extra []renderedColumn // written after the selected ones: currency, key

	anyAnn, wantFormatted, wantNav, wantLogical bool
}

// renderedColumn is one attribute and its keys, each quoted with its comma
// and colon: `,"name":`.
type renderedColumn struct {
	a                            *sampleorg.Attribute
	key, formatted, nav, logical string
	dateOnly, formattedDateOnly  bool
}

func newRenderedColumn(a *sampleorg.Attribute) renderedColumn {
	name := a.ODataName()
	key := func(s string) string { return "," + jstr(s) + ":" }
	return renderedColumn{a: a, key: key(name), formatted: key(name + "@" + annFormatted),
		nav: key(name + "@" + annNav), logical: key(name + "@" + annLogical),
		dateOnly:          a.DateTimeBehavior == "DateOnly",
		formattedDateOnly: a.DateTimeBehavior == "DateOnly" || a.Format == "DateOnly"}
}

// renderer returns the query's row renderer, made on first use.
func (q *query) renderer() *rowRenderer {
	if q.render != nil {
		return q.render
	}
	cols := q.sel
	if cols == nil {
		cols = listColumns(q.e)
	}
	r := &rowRenderer{anyAnn: len(q.ann) > 0, wantFormatted: q.ann.match(annFormatted),
		wantNav: q.ann.match(annNav), wantLogical: q.ann.match(annLogical)}
	pkDone, money := false, false
	for _, a := range cols {
		r.cols = append(r.cols, newRenderedColumn(a))
		pkDone = pkDone || a.LogicalName == q.e.PrimaryIdAttribute
		money = money || a.AttributeType == "Money"
	}
	if q.sel != nil && money {
		if c := q.e.Attribute("transactioncurrencyid"); c != nil && !selected(q.sel, c) {
			r.extra = append(r.extra, newRenderedColumn(c))
		}
	}
	if !pkDone {
		r.extra = append(r.extra, newRenderedColumn(q.e.Attribute(q.e.PrimaryIdAttribute)))
	}
	q.render = r
	return r
}

// appendRow appends one entity: etag, then each column with its
// annotations before the value (as Dataverse does), then the primary key
// if unselected.
func (r *rowRenderer) appendRow(dst []byte, row sampleorg.Row) []byte {
	dst = append(dst, `{"@odata.etag":`...)
	dst = appendETag(dst, row["versionnumber"])
	for i := range r.cols {
		dst = r.appendProp(dst, &r.cols[i], row[r.cols[i].a.LogicalName])
	}
	for i := range r.extra {
		dst = r.appendProp(dst, &r.extra[i], row[r.extra[i].a.LogicalName])
	}
	return append(dst, '}')
}

// appendETag writes W/"<version>" as a JSON string.
func appendETag(dst []byte, version any) []byte {
	switch v := version.(type) {
	case int64:
		dst = append(dst, `"W/\"`...)
		return append(strconv.AppendInt(dst, v, 10), `\""`...)
	case int:
		dst = append(dst, `"W/\"`...)
		return append(strconv.AppendInt(dst, int64(v), 10), `\""`...)
	}
	return appendJSONString(dst, fmt.Sprintf(`W/"%v"`, version))
}

func (r *rowRenderer) appendProp(dst []byte, c *renderedColumn, v any) []byte {
	if v != nil && r.anyAnn {
		dst = r.appendAnnotations(dst, c, v)
	}
	dst = append(dst, c.key...)
	return appendJSONValue(dst, c, v)
}

// appendAnnotations writes the annotations a non-null value carries, in the
// order the real service writes them.
func (r *rowRenderer) appendAnnotations(dst []byte, c *renderedColumn, v any) []byte {
	if r.wantFormatted {
		n := len(dst)
		var ok bool
		if dst, ok = appendFormatted(append(dst, c.formatted...), c, v); !ok {
			dst = dst[:n]
		}
	}
	ref, ok := v.(sampleorg.Ref)
	if !ok {
		return dst
	}
	if r.wantNav {
		nav := c.a.NavProps[ref.LogicalName]
		if nav == "" {
			nav = c.a.LogicalName
		}
		dst = appendJSONString(append(dst, c.nav...), nav)
	}
	if r.wantLogical {
		dst = appendJSONString(append(dst, c.logical...), ref.LogicalName)
	}
	return dst
}

// appendFormatted writes the FormattedValue as an en-US user in UTC sees
// it; false when the value has none.
func appendFormatted(dst []byte, c *renderedColumn, v any) ([]byte, bool) {
	a := c.a
	switch x := v.(type) {
	case sampleorg.Ref:
		if x.Name == "" {
			return append(dst, "null"...), true
		}
		return appendJSONString(dst, x.Name), true
	case bool:
		n := 0
		if x {
			n = 1
		}
		if l, ok := a.OptionSet.Label(n); ok {
			return appendJSONString(dst, l), true
		}
		return dst, false
	case time.Time:
		// Digits, slashes, colons, spaces and AM/PM: nothing to escape.
		layout := "1/2/2006 3:04 PM"
		if c.formattedDateOnly {
			layout = "1/2/2006"
		}
		return append(x.AppendFormat(append(dst, '"'), layout), '"'), true
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return dst, false
		}
		prec := 2
		if a.Precision != nil {
			prec = *a.Precision
		}
		s := grouped(f, prec)
		if a.AttributeType == "Money" {
			s = "$" + grouped(f, 2)
		}
		return appendJSONString(dst, s), true
	case int:
		switch a.AttributeType {
		case "Picklist", "State", "Status":
			if l, ok := a.OptionSet.Label(x); ok {
				return appendJSONString(dst, l), true
			}
			return dst, false
		}
		return appendJSONString(dst, groupDigits(int64(x))), true
	case float64:
		return appendJSONString(dst, grouped(x, 2)), true
	}
	return dst, false
}

// appendJSONValue writes a column value exactly as json.Marshal of the
// value the org generated would, without its reflection.
func appendJSONValue(dst []byte, c *renderedColumn, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case sampleorg.Ref:
		return appendJSONString(dst, x.ID)
	case time.Time:
		layout := "2006-01-02T15:04:05Z"
		if c.dateOnly {
			layout = "2006-01-02"
		}
		return append(x.UTC().AppendFormat(append(dst, '"'), layout), '"')
	case json.Number:
		return append(dst, x...)
	case string:
		return appendJSONString(dst, x)
	case bool:
		return strconv.AppendBool(dst, x)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case float64:
		return appendJSONFloat(dst, x)
	case sampleorg.Blob:
		return appendJSONString(dst, x.Base64())
	case []int:
		dst = append(dst, '"')
		for i, n := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendInt(dst, int64(n), 10)
		}
		return append(dst, '"')
	}
	b, err := json.Marshal(v)
	if err != nil {
		return append(dst, "null"...)
	}
	return append(dst, b...)
}

// appendJSONFloat is encoding/json's float64 encoding; NaN and infinities,
// which json.Marshal refuses, are written null as the emulator always did.
func appendJSONFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
