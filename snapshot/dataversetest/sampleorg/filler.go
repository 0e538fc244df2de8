package sampleorg

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fill gives every column the story did not set a null or a plausible value
// of its type, within the metadata's MaxLength, bounds, options and
// precision. Lookups without a story stay null so that every lookup id
// points at a generated row.
func (o *Org) fill(table string, i int, row Row) {
	for _, c := range o.fillPlan(table) {
		a := c.a
		if v, ok := row[a.LogicalName]; ok {
			if s, isStr := v.(string); isStr && a.MaxLength > 0 {
				row[a.LogicalName] = clip(s, a.MaxLength) // stories respect MaxLength too
			}
			continue
		}
		r := &rnd{s: hashIndex(c.stream, int64(i))} // newRnd(o.seed, table+"/"+a.LogicalName, i)
		row[a.LogicalName] = plausible(a, r)
	}
}

// fillColumn is a column fill may set, with the part of its random
// stream's seed that does not depend on the row.
type fillColumn struct {
	a      *Attribute
	stream uint64 // hashLabel(seed, table+"/"+column)
}

type fillKey struct {
	seed  int64
	table *Entity
}

// fillPlans caches each table's fill plan: fill runs for every generated
// row, and listing the columns and hashing their labels again for each one
// was a fifth of the emulator's time.
var fillPlans sync.Map // fillKey → []fillColumn

func (o *Org) fillPlan(table string) []fillColumn {
	e := o.schemas[table]
	key := fillKey{o.seed, e}
	if plan, ok := fillPlans.Load(key); ok {
		return plan.([]fillColumn)
	}
	var plan []fillColumn
	for _, a := range e.Columns() {
		plan = append(plan, fillColumn{a: a, stream: hashLabel(o.seed, table+"/"+a.LogicalName)})
	}
	fillPlans.Store(key, plan)
	return plan
}

// hashLabel and hashIndex are hash64 in two halves:
// hash64(seed, label, i) == hashIndex(hashLabel(seed, label), i).
func hashLabel(seed int64, label string) uint64 {
	h := uint64(14695981039346656037)
	for _, b := range []byte(label) {
		h ^= uint64(b)
		h *= 1099511628211
	}
	h ^= uint64(seed) * 0x9e3779b97f4a7c15
	return mix64(h)
}

func hashIndex(h uint64, i int64) uint64 {
	return mix64(h ^ uint64(i)*0xbf58476d1ce4e5b9)
}

func plausible(a *Attribute, r *rnd) any {
	switch a.AttributeType {
	case "Lookup", "Customer", "Owner", "EntityName", "Virtual", "Uniqueidentifier":
		return nil
	case "Boolean":
		switch n := r.intn(10); {
		case n < 8:
			return false
		case n < 9:
			return true
		}
		return nil
	}
	if r.chance(50) {
		return nil
	}
	switch a.AttributeType {
	case "Picklist", "State", "Status":
		if a.OptionSet == nil || len(a.OptionSet.Options) == 0 {
			return nil
		}
		return pick(r, a.OptionSet.Options).Value
	case "String", "Memo":
		return clip(plausibleText(a, r), a.MaxLength)
	case "Integer":
		lo, hi := bounds(a, 0, 1000)
		return int(lo) + r.intn(int(hi-lo)+1)
	case "BigInt":
		return int64(r.intn(100000))
	case "Double":
		lo, hi := bounds(a, 0, 1000)
		return round(lo+float64(r.intn(1000000))/1000000*(hi-lo), prec(a, 2))
	case "Decimal", "Money":
		lo, hi := bounds(a, 0, 100000)
		v := lo + float64(r.intn(1000000))/1000000*(hi-lo)
		return decimalNumber(v, prec(a, 2))
	case "DateTime":
		t := anchor.AddDate(-3, 0, 0).Add(time.Duration(r.intn(3*365*24*3600)) * time.Second)
		if a.DateTimeBehavior == "DateOnly" {
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		}
		return t
	}
	return nil
}

func plausibleText(a *Attribute, r *rnd) string {
	switch a.Format {
	case "Email":
		return fmt.Sprintf("someone%d@%s", r.intn(10000), pick(r, domains))
	case "Url":
		return fmt.Sprintf("https://www.site%d.example.com", r.intn(10000))
	case "Phone":
		return fmt.Sprintf("+1 555 %04d", r.intn(10000))
	}
	words := []string{"alpha", "north", "blue", "Ledger", "münchen", "quote", "Östra", "renewal", "legacy", "VIP"}
	n := 1 + r.intn(3)
	out := make([]string, n)
	for k := range out {
		out[k] = pick(r, words)
	}
	return strings.Join(out, " ")
}

// bounds intersects the metadata range with a plausible default range.
func bounds(a *Attribute, lo, hi float64) (float64, float64) {
	if m, ok := a.MinFloat(); ok && m > lo {
		lo = m
	}
	if m, ok := a.MaxFloat(); ok && m < hi {
		hi = m
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// decimalNumber writes v with at most places decimals and no binary
// floating-point noise, as Dataverse serialises Edm.Decimal: 74943.4, never
// 74943.400000000009. Sample values never need more than 4 decimals.
func decimalNumber(v float64, places int) json.Number {
	places = min(places, 4)
	return json.Number(strconv.FormatFloat(round(v, places), 'f', -1, 64))
}

func prec(a *Attribute, def int) int {
	if a.Precision != nil {
		return *a.Precision
	}
	return def
}

func round(v float64, p int) float64 {
	m := math.Pow(10, float64(p))
	return math.Round(v*m) / m
}
