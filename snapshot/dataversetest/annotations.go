package dataversetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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
