package dataversetest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// The row rendering as it was before the precompiled renderer
// (render.go), kept as the reference the emulator's pages must stay
// byte-identical to.

// writeRowTo writes one entity: etag, then each column with its annotations
// before the value (as Dataverse does), then the primary key if unselected.
func refWriteRowTo(w *strings.Builder, q *query, row sampleorg.Row) {
	cols := q.sel
	if cols == nil {
		cols = listColumns(q.e)
	}
	w.WriteString(`{"@odata.etag":`)
	w.WriteString(jstr(fmt.Sprintf(`W/"%v"`, row["versionnumber"])))
	pkDone, money := false, false
	for _, a := range cols {
		refWriteProp(w, q, a, row[a.LogicalName])
		pkDone = pkDone || a.LogicalName == q.e.PrimaryIdAttribute
		money = money || a.AttributeType == "Money"
	}
	if q.sel != nil && money {
		if c := q.e.Attribute("transactioncurrencyid"); c != nil && !selected(q.sel, c) {
			refWriteProp(w, q, c, row[c.LogicalName])
		}
	}
	if !pkDone {
		refWriteProp(w, q, q.e.Attribute(q.e.PrimaryIdAttribute), row[q.e.PrimaryIdAttribute])
	}
	w.WriteString("}")
}

func refWriteProp(w *strings.Builder, q *query, a *sampleorg.Attribute, v any) {
	name := a.ODataName()
	if v != nil {
		for _, an := range refAnnotate(q.ann, a, v) {
			w.WriteString(`,` + jstr(name+"@"+an.k) + `:`)
			w.WriteString(an.v)
		}
	}
	w.WriteString(`,`)
	w.WriteString(jstr(name))
	w.WriteString(`:`)
	w.WriteString(refJsonValue(a, v))
}

func refJsonValue(a *sampleorg.Attribute, v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case sampleorg.Ref:
		return jstr(x.ID)
	case time.Time:
		if a.DateTimeBehavior == "DateOnly" {
			return jstr(x.UTC().Format("2006-01-02"))
		}
		return jstr(x.UTC().Format("2006-01-02T15:04:05Z"))
	case json.Number:
		return string(x)
	case string:
		return jstr(x)
	case sampleorg.Blob:
		return jstr(x.Base64())
	case []int:
		parts := make([]string, len(x))
		for i, n := range x {
			parts[i] = strconv.Itoa(n)
		}
		return jstr(strings.Join(parts, ","))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

type refAnn struct{ k, v string }

// annotate returns the annotations a non-null value carries, in the order
// the real service writes them.
func refAnnotate(want annotations, a *sampleorg.Attribute, v any) []refAnn {
	if len(want) == 0 {
		return nil
	}
	var out []refAnn
	if want.match(annFormatted) {
		if f, ok := refFormatted(a, v); ok {
			out = append(out, refAnn{annFormatted, f})
		}
	}
	if ref, ok := v.(sampleorg.Ref); ok {
		if want.match(annNav) {
			nav := a.NavProps[ref.LogicalName]
			if nav == "" {
				nav = a.LogicalName
			}
			out = append(out, refAnn{annNav, jstr(nav)})
		}
		if want.match(annLogical) {
			out = append(out, refAnn{annLogical, jstr(ref.LogicalName)})
		}
	}
	return out
}

// formatted renders the FormattedValue as an en-US user in UTC sees it.
func refFormatted(a *sampleorg.Attribute, v any) (string, bool) {
	switch x := v.(type) {
	case sampleorg.Ref:
		if x.Name == "" {
			return "null", true
		}
		return jstr(x.Name), true
	case bool:
		n := 0
		if x {
			n = 1
		}
		if l, ok := a.OptionSet.Label(n); ok {
			return jstr(l), true
		}
		return "", false
	case time.Time:
		if a.DateTimeBehavior == "DateOnly" || a.Format == "DateOnly" {
			return jstr(x.Format("1/2/2006")), true
		}
		return jstr(x.Format("1/2/2006 3:04 PM")), true
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return "", false
		}
		prec := 2
		if a.Precision != nil {
			prec = *a.Precision
		}
		s := grouped(f, prec)
		if a.AttributeType == "Money" {
			s = "$" + grouped(f, 2)
		}
		return jstr(s), true
	case int:
		switch a.AttributeType {
		case "Picklist", "State", "Status":
			if l, ok := a.OptionSet.Label(x); ok {
				return jstr(l), true
			}
			return "", false
		}
		return jstr(groupDigits(int64(x))), true
	case float64:
		return jstr(grouped(x, 2)), true
	}
	return "", false
}

// The renderer writes every row of every table byte for byte as the
// reference did, for every annotation preference and with and without
// $select (a selection with Money and without the key adds the currency
// and the key).
func TestRendererMatchesReference(t *testing.T) {
	org, err := sampleorg.New(sampleorg.Options{Seed: 11, Cases: 80})
	if err != nil {
		t.Fatal(err)
	}
	prefs := []string{"*", "", "OData.Community.Display.V1.FormattedValue", "Microsoft.Dynamics.CRM.*",
		"Microsoft.Dynamics.CRM.lookuplogicalname"}
	rendered := 0
	for _, table := range org.Tables() {
		e := org.Entity(table)
		var sel []*sampleorg.Attribute
		for _, a := range listColumns(e) {
			if a.LogicalName != e.PrimaryIdAttribute && (len(sel) < 3 || a.AttributeType == "Money") {
				sel = append(sel, a)
			}
		}
		for _, pref := range prefs {
			for _, cols := range [][]*sampleorg.Attribute{nil, sel} {
				q := &query{e: e, ann: parseAnnotations(pref), sel: cols}
				for i := 0; i < min(org.Count(table), 30); i++ {
					row, err := org.Row(table, i)
					if err != nil {
						t.Fatalf("%s row %d: %v", table, i, err)
					}
					var want strings.Builder
					refWriteRowTo(&want, q, row)
					got := string(q.renderer().appendRow(nil, row))
					if got != want.String() {
						t.Fatalf("%s row %d, annotations %q, select %d columns:\n got %s\nwant %s",
							table, i, pref, len(cols), got, want.String())
					}
					rendered++
				}
			}
		}
	}
	if rendered < 1000 {
		t.Fatalf("only %d rows compared", rendered)
	}
}

// Values the org does not generate today still render as json.Marshal does.
func TestJSONValueMatchesMarshal(t *testing.T) {
	a := &sampleorg.Attribute{LogicalName: "x", AttributeType: "Double"}
	for _, v := range []any{0.0, 1.5, -2.25e-9, 1e21, 123456789.125, 3e-7, int64(-7), true, false, 42, []string{"a"}} {
		want, _ := json.Marshal(v)
		if got := jsonValue(a, v); got != string(want) {
			t.Errorf("jsonValue(%v) = %s, json.Marshal %s", v, got, want)
		}
	}
}
