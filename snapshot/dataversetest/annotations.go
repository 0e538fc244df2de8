package dataversetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

const (
	annFormatted = "OData.Community.Display.V1.FormattedValue"
	annNav       = "Microsoft.Dynamics.CRM.associatednavigationproperty"
	annLogical   = "Microsoft.Dynamics.CRM.lookuplogicalname"
)

// annotations is the include-annotations preference: "*", exact names, or
// prefixes written "Microsoft.Dynamics.CRM.*".
type annotations []string

func parseAnnotations(v string) annotations {
	var out annotations
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (a annotations) match(name string) bool {
	for _, p := range a {
		if p == "*" || p == name || (strings.HasSuffix(p, ".*") && strings.HasPrefix(name, strings.TrimSuffix(p, "*"))) {
			return true
		}
	}
	return false
}

type kv struct {
	k string
	v any
}

// obj is a JSON object that keeps its key order.
type obj []kv

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jstr(p.k))
		b.WriteByte(':')
		v, err := json.Marshal(p.v)
		if err != nil {
			return nil, fmt.Errorf("marshal %s: %w", p.k, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type ann struct{ k, v string }

// annotate returns the annotations a non-null value carries, in the order
// the real service writes them.
func annotate(want annotations, a *sampleorg.Attribute, v any) []ann {
	if len(want) == 0 {
		return nil
	}
	var out []ann
	if want.match(annFormatted) {
		if f, ok := formatted(a, v); ok {
			out = append(out, ann{annFormatted, f})
		}
	}
	if ref, ok := v.(sampleorg.Ref); ok {
		if want.match(annNav) {
			nav := a.NavProps[ref.LogicalName]
			if nav == "" {
				nav = a.LogicalName
			}
			out = append(out, ann{annNav, jstr(nav)})
		}
		if want.match(annLogical) {
			out = append(out, ann{annLogical, jstr(ref.LogicalName)})
		}
	}
	return out
}

// formatted renders the FormattedValue as an en-US user in UTC sees it.
func formatted(a *sampleorg.Attribute, v any) (string, bool) {
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

func grouped(f float64, prec int) string {
	s := strconv.FormatFloat(f, 'f', prec, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	n, _ := strconv.ParseInt(strings.TrimPrefix(intPart, "-"), 10, 64)
	out := groupDigits(n)
	if neg {
		out = "-" + out
	}
	if frac != "" {
		out += "." + frac
	}
	return out
}

// jsonNumber keeps a metadata bound's exact text as a JSON number.
func jsonNumber(s string) json.Number { return json.Number(s) }
