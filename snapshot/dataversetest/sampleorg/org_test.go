package sampleorg

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustNew(t *testing.T, seed int64, cases int) *Org {
	t.Helper()
	o, err := New(Options{Seed: seed, Cases: cases})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestDeterministic(t *testing.T) {
	a, b := mustNew(t, 42, 300), mustNew(t, 42, 300)
	c := mustNew(t, 43, 300)
	differs := false
	for _, tb := range a.Tables() {
		if a.Count(tb) != b.Count(tb) {
			t.Fatalf("%s counts differ", tb)
		}
		for i := 0; i < a.Count(tb); i += 7 {
			ra, _ := a.Row(tb, i)
			rb, _ := b.Row(tb, i)
			if fmt.Sprint(ra) != fmt.Sprint(rb) || !reflect.DeepEqual(ra, rb) {
				t.Fatalf("%s row %d differs between runs", tb, i)
			}
			if i < c.Count(tb) {
				rc, _ := c.Row(tb, i)
				differs = differs || fmt.Sprint(ra) != fmt.Sprint(rc)
			}
		}
	}
	if !differs {
		t.Fatal("another seed gave the same org")
	}
}

func TestEveryColumnAndOnlyColumns(t *testing.T) {
	o := mustNew(t, 1, 200)
	for _, tb := range o.Tables() {
		e := o.Entity(tb)
		cols := e.Columns()
		if len(cols) == 0 {
			t.Fatalf("%s has no columns", tb)
		}
		for i := 0; i < o.Count(tb); i += 13 {
			r, err := o.Row(tb, i)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range cols {
				if _, ok := r[a.LogicalName]; !ok {
					t.Fatalf("%s row %d lacks column %s", tb, i, a.LogicalName)
				}
				checkType(t, tb, a, r[a.LogicalName])
			}
			for k := range r {
				if a := e.Attribute(k); a == nil || !a.IsColumn() {
					t.Fatalf("%s row %d has %s, not a column", tb, i, k)
				}
			}
		}
	}
}

func checkType(t *testing.T, tb string, a *Attribute, v any) {
	t.Helper()
	if v == nil {
		return
	}
	switch a.AttributeType {
	case "String", "Memo":
		if b, ok := v.(Blob); ok {
			if a.MaxLength > 0 && b.Base64Len() > int64(a.MaxLength) {
				t.Fatalf("%s.%s Base64 longer than %d", tb, a.LogicalName, a.MaxLength)
			}
			return
		}
		s := v.(string)
		if a.MaxLength > 0 && len([]rune(s)) > a.MaxLength {
			t.Fatalf("%s.%s longer than %d", tb, a.LogicalName, a.MaxLength)
		}
	case "Picklist", "State", "Status":
		if _, ok := a.OptionSet.Label(v.(int)); !ok {
			t.Fatalf("%s.%s value %v not an option", tb, a.LogicalName, v)
		}
	case "Lookup", "Customer", "Owner":
		_ = v.(Ref)
	}
}

func TestReferentialIntegrity(t *testing.T) {
	o := mustNew(t, 3, 400)
	for _, tb := range o.Tables() {
		e := o.Entity(tb)
		for i := 0; i < o.Count(tb); i++ {
			r, _ := o.Row(tb, i)
			for _, a := range e.Columns() {
				ref, ok := r[a.LogicalName].(Ref)
				if !ok {
					continue
				}
				target := ref.LogicalName
				allowed := strings.Join(a.Targets, ",")
				if !strings.Contains(","+allowed+",", ","+target+",") && !(target == "email" && strings.HasPrefix(allowed, "activitypointer")) {
					t.Fatalf("%s.%s points at %s, targets %s", tb, a.LogicalName, target, allowed)
				}
				if _, ok := o.IndexOf(target, ref.ID); !ok {
					t.Fatalf("%s row %d %s=%s is no %s row", tb, i, a.LogicalName, ref.ID, target)
				}
			}
		}
	}
}

func TestStories(t *testing.T) {
	o := mustNew(t, 9, 2000)
	f := o.Facts()
	nc := o.Count("contact")
	if p := float64(f.ContactsWithoutEmail) / float64(nc); p < 0.03 || p > 0.07 {
		t.Fatalf("contacts without email %.3f", p)
	}
	if p := float64(f.DuplicateEmailContacts) / float64(nc); p < 0.015 || p > 0.045 {
		t.Fatalf("duplicate-email contacts %.3f", p)
	}
	for _, i := range f.DuplicateExamples {
		p := o.person(i)
		orig := o.person(p.duplicateOf).email
		if p.email == orig || !strings.EqualFold(strings.TrimSpace(p.email), orig) {
			t.Fatalf("contact %d duplicate %q of %q", i, p.email, orig)
		}
	}
	if f.CasesByState[0] == 0 || f.CasesByState[1] == 0 || f.CasesByState[2] == 0 {
		t.Fatalf("states %v", f.CasesByState)
	}
	if f.AccountCustomerCases == 0 || f.ContactCustomerCases == 0 || f.RoutedCases == 0 {
		t.Fatalf("customers %+v", f)
	}
	if f.UnresolvedSenders == 0 || f.EmailsWithoutCase == 0 {
		t.Fatalf("emails %+v", f)
	}
	scripts := map[string]bool{}
	for i := 0; i < nc; i++ {
		for _, c := range o.person(i).full {
			switch {
			case c >= 0x400 && c <= 0x4ff:
				scripts["cyrillic"] = true
			case c >= 0x370 && c <= 0x3ff:
				scripts["greek"] = true
			case c >= 0x4e00 && c <= 0x9fff:
				scripts["cjk"] = true
			case c >= 0x600 && c <= 0x6ff:
				scripts["arabic"] = true
			case c >= 0x1f300:
				scripts["emoji"] = true
			case c > 0xbf && c < 0x180:
				scripts["diacritics"] = true
			}
		}
	}
	if len(scripts) != 6 {
		t.Fatalf("scripts %v", scripts)
	}
	// e-mails of a case come after it, in order.
	for j := 0; j < 300; j++ {
		e, _ := o.Row("email", j)
		ref, ok := e["regardingobjectid"].(Ref)
		if !ok {
			continue
		}
		ci, _ := o.IndexOf("incident", ref.ID)
		c, _ := o.Row("incident", ci)
		cr, sent, end := e["createdon"].(time.Time), e["senton"].(time.Time), e["actualend"].(time.Time)
		if !cr.After(c["createdon"].(time.Time)) || sent.Before(cr) || end.Before(sent) {
			t.Fatalf("email %d times out of order", j)
		}
	}
}
