package mapping

import (
	"os"
	"path/filepath"
	"testing"
)

// Real EntityDefinitions answers (testdata/SOURCES.md) through the reader
// Propose uses: a collection envelope of five entities, none flagged custom.
func TestReadEntityReal(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "real",
		"entitydefinitions_account_contact_opportunity_connection_incident_en.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		table, model string
		attrs        int
	}{
		{"account", "company", 24},
		{"contact", "contact", 28},
		{"incident", "conversation", 38},
		{"opportunity", "", 30},
		{"connection", "", 16},
	}
	for _, tc := range cases {
		t.Run(tc.table, func(t *testing.T) {
			ent, err := ReadEntity(b, tc.table)
			if err != nil {
				t.Fatal(err)
			}
			if ent.LogicalName != tc.table || len(ent.Attributes) != tc.attrs {
				t.Fatalf("%s: %d attributes, want %d", ent.LogicalName, len(ent.Attributes), tc.attrs)
			}
			if tc.model == "" {
				return
			}
			if got := ProposeEntity(tc.table, tc.model, ent, nil); len(got) != 0 {
				t.Errorf("no real attribute is custom, yet %d were proposed: %+v", len(got), got)
			}

			// The same attributes as if an org had made them custom: every
			// stored type must get a valid name and an Intercom type.
			for i := range ent.Attributes {
				ent.Attributes[i].IsCustomAttribute = true
			}
			got := ProposeEntity(tc.table, tc.model, ent, nil)
			if len(got) == 0 {
				t.Fatal("nothing proposed")
			}
			m := defaults()
			m.DataAttributes = got
			if err := m.Validate(); err != nil {
				t.Errorf("proposal from real metadata does not validate: %v", err)
			}
			for _, a := range got {
				if a.SourceType == "Lookup" && a.Column != "_"+a.SourceColumn+"_value" {
					t.Errorf("lookup %s reads column %q", a.SourceColumn, a.Column)
				}
			}
		})
	}
	if _, err := ReadEntity(b, "knowledgearticle"); err == nil {
		t.Error("a table missing from the answer was found")
	}
}

// A real Picklist cast answer for one attribute (no collection envelope).
func TestReadOptionsReal(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "real", "msdocs2020_entitydefinitions_account_picklist_attributes.json"))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{}
	if err := ReadOptions(b, opts); err != nil {
		t.Fatal(err)
	}
	labels := opts["accountcategorycode"]
	if len(labels) == 0 {
		t.Fatalf("no labels for accountcategorycode: %v", opts)
	}
	vm := valueMap(labels)
	for i, v := range vm {
		if v.Intercom == "" || (i > 0 && vm[i-1].Source >= v.Source) {
			t.Errorf("value map not labelled and ordered: %+v", vm)
		}
	}
	t.Logf("accountcategorycode: %+v", vm)
}

func TestProposeAttributeTypes(t *testing.T) {
	cases := []struct{ attrType, dataType, column string }{
		{"String", TypeString, "x"},
		{"Memo", TypeString, "x"},
		{"Integer", TypeInteger, "x"},
		{"BigInt", TypeInteger, "x"},
		{"Money", TypeFloat, "x"},
		{"Decimal", TypeFloat, "x"},
		{"Double", TypeFloat, "x"},
		{"Boolean", TypeBoolean, "x"},
		{"DateTime", TypeDate, "x"},
		{"Picklist", TypeString, "x"},
		{"MultiSelectPicklist", TypeString, "x"},
		{"Lookup", TypeString, "_x_value"},
		{"Customer", TypeString, "_x_value"},
		{"Virtual", "", ""},
		{"Image", "", ""},
	}
	for _, tc := range cases {
		da, ok := proposeAttribute("contact", "contact", Attribute{LogicalName: "x", AttributeType: tc.attrType},
			map[int32]string{1: "One"})
		if ok != (tc.dataType != "") || da.DataType != tc.dataType || da.Column != tc.column {
			t.Errorf("%s: ok=%v type=%q column=%q, want %q %q", tc.attrType, ok, da.DataType, da.Column,
				tc.dataType, tc.column)
		}
	}
}
