package dataversetest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// The $filter subset: comparisons eq ne gt ge lt le of a column with a
// literal, contains/startswith/endswith(column,'text'), and, or, not,
// parentheses. Literals: 'strings' (” escapes '), null, true, false,
// numbers, unquoted GUIDs and dates (2024-01-01 or RFC 3339). String
// comparisons are case-insensitive as in Dataverse.
// TODO: SQL wildcards (% _ [ ]) inside string functions, lambda operators,
// Microsoft.Dynamics.CRM.* query functions and parameter aliases.

type pred func(sampleorg.Row) bool

type lexer struct {
	toks []string
	pos  int
}

var tokRe = regexp.MustCompile(`\s*('(?:[^']|'')*'|\(|\)|,|[^\s(),']+)`)

func parseFilter(s string, e *sampleorg.Entity) (pred, error) {
	var toks []string
	rest := s
	for strings.TrimSpace(rest) != "" {
		m := tokRe.FindStringSubmatchIndex(rest)
		if m == nil || m[0] != 0 {
			return nil, fmt.Errorf("Syntax error in $filter near '%s'.", rest)
		}
		toks = append(toks, rest[m[2]:m[3]])
		rest = rest[m[1]:]
	}
	l := &lexer{toks: toks}
	p, err := l.or(e)
	if err != nil {
		return nil, err
	}
	if l.pos != len(toks) {
		return nil, fmt.Errorf("Syntax error in $filter at '%s'.", toks[l.pos])
	}
	return p, nil
}

func (l *lexer) peek() string {
	if l.pos < len(l.toks) {
		return l.toks[l.pos]
	}
	return ""
}

func (l *lexer) next() string { t := l.peek(); l.pos++; return t }

func (l *lexer) or(e *sampleorg.Entity) (pred, error) {
	left, err := l.and(e)
	for err == nil && l.peek() == "or" {
		l.next()
		var right pred
		if right, err = l.and(e); err == nil {
			a, b := left, right
			left = func(r sampleorg.Row) bool { return a(r) || b(r) }
		}
	}
	return left, err
}

func (l *lexer) and(e *sampleorg.Entity) (pred, error) {
	left, err := l.unary(e)
	for err == nil && l.peek() == "and" {
		l.next()
		var right pred
		if right, err = l.unary(e); err == nil {
			a, b := left, right
			left = func(r sampleorg.Row) bool { return a(r) && b(r) }
		}
	}
	return left, err
}

func (l *lexer) unary(e *sampleorg.Entity) (pred, error) {
	switch t := l.peek(); {
	case t == "not":
		l.next()
		p, err := l.unary(e)
		if err != nil {
			return nil, err
		}
		return func(r sampleorg.Row) bool { return !p(r) }, nil
	case t == "(":
		l.next()
		p, err := l.or(e)
		if err != nil {
			return nil, err
		}
		if l.next() != ")" {
			return nil, fmt.Errorf("Syntax error in $filter: missing ')'.")
		}
		return p, nil
	case t == "contains" || t == "startswith" || t == "endswith":
		return l.function(e)
	}
	return l.comparison(e)
}

func (l *lexer) function(e *sampleorg.Entity) (pred, error) {
	fn := l.next()
	if l.next() != "(" {
		return nil, fmt.Errorf("Syntax error in $filter after '%s'.", fn)
	}
	a, err := column(e, l.next())
	if err != nil {
		return nil, err
	}
	if l.next() != "," {
		return nil, fmt.Errorf("Syntax error in $filter: %s needs two arguments.", fn)
	}
	lit := l.next()
	if !strings.HasPrefix(lit, "'") || l.next() != ")" {
		return nil, fmt.Errorf("Syntax error in $filter: %s needs a string literal.", fn)
	}
	needle := strings.ToLower(unquote(lit))
	test := map[string]func(string, string) bool{
		"contains": strings.Contains, "startswith": strings.HasPrefix, "endswith": strings.HasSuffix}[fn]
	return func(r sampleorg.Row) bool {
		s, ok := r[a.LogicalName].(string)
		return ok && test(strings.ToLower(s), needle)
	}, nil
}

func unquote(lit string) string {
	return strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(lit, "'"), "'"), "''", "'")
}

func column(e *sampleorg.Entity, name string) (*sampleorg.Attribute, error) {
	if a := byODataName(e, name); a != nil {
		return a, nil
	}
	return nil, fmt.Errorf("Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", name, e.LogicalName)
}

func (l *lexer) comparison(e *sampleorg.Entity) (pred, error) {
	a, err := column(e, l.next())
	if err != nil {
		return nil, err
	}
	op := l.next()
	switch op {
	case "eq", "ne", "gt", "ge", "lt", "le":
	default:
		return nil, fmt.Errorf("Syntax error in $filter: unknown operator '%s'.", op)
	}
	lit := l.next()
	if lit == "" {
		return nil, fmt.Errorf("Syntax error in $filter: missing literal after '%s'.", op)
	}
	if lit == "null" {
		return func(r sampleorg.Row) bool {
			isNull := r[a.LogicalName] == nil
			return (op == "eq" && isNull) || (op == "ne" && !isNull)
		}, nil
	}
	want, err := literal(lit)
	if err != nil {
		return nil, err
	}
	return func(r sampleorg.Row) bool {
		c, ok := compare(r[a.LogicalName], want)
		if !ok {
			return op == "ne"
		}
		switch op {
		case "eq":
			return c == 0
		case "ne":
			return c != 0
		case "gt":
			return c > 0
		case "ge":
			return c >= 0
		case "lt":
			return c < 0
		}
		return c <= 0
	}, nil
}

var guidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// literal turns a token into string, float64, bool or time.Time.
func literal(t string) (any, error) {
	switch {
	case strings.HasPrefix(t, "'"):
		return unquote(t), nil
	case t == "true" || t == "false":
		return t == "true", nil
	case guidRe.MatchString(t):
		return strings.ToLower(t), nil
	}
	if ts, err := time.Parse(time.RFC3339, t); err == nil {
		return ts, nil
	}
	if ts, err := time.Parse("2006-01-02", t); err == nil {
		return ts, nil
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		return f, nil
	}
	return nil, fmt.Errorf("Unrecognized literal '%s' in $filter.", t)
}

// compare orders a row value against a literal; ok is false when the two
// cannot be compared (including a null value).
func compare(v, want any) (int, bool) {
	switch w := want.(type) {
	case string:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case sampleorg.Ref:
			s = x.ID
		default:
			return 0, false
		}
		return strings.Compare(strings.ToLower(s), strings.ToLower(w)), true
	case bool:
		b, ok := v.(bool)
		if !ok {
			return 0, false
		}
		if b == w {
			return 0, true
		}
		return 1, true
	case time.Time:
		t, ok := v.(time.Time)
		if !ok {
			return 0, false
		}
		return t.Compare(w), true
	case float64:
		var f float64
		switch x := v.(type) {
		case int:
			f = float64(x)
		case int64:
			f = float64(x)
		case float64:
			f = x
		case json.Number:
			var err error
			if f, err = x.Float64(); err != nil {
				return 0, false
			}
		default:
			return 0, false
		}
		switch {
		case f < w:
			return -1, true
		case f > w:
			return 1, true
		}
		return 0, true
	}
	return 0, false
}
