package mapping

import (
	"reflect"
	"testing"
)

func TestProposeCustomTable(t *testing.T) {
	yes := true
	cases := []struct {
		name string
		ent  Entity
		want CustomTable
	}{
		{"lookup to a contact", Entity{LogicalName: "new_pet", PrimaryIdAttribute: "new_petid",
			PrimaryNameAttribute: "new_name", Attributes: []Attribute{
				{LogicalName: "new_petid", AttributeType: "Uniqueidentifier", IsCustomAttribute: true},
				{LogicalName: "new_name", AttributeType: "String", IsCustomAttribute: true},
				{LogicalName: "new_species", AttributeType: "Picklist", IsCustomAttribute: true},
				{LogicalName: "new_vetid", AttributeType: "Lookup", IsCustomAttribute: true, Targets: []string{"new_vet"}},
				{LogicalName: "new_ownerid", AttributeType: "Lookup", IsCustomAttribute: true, Targets: []string{"contact"}},
				{LogicalName: "createdon", AttributeType: "DateTime"},
			}},
			CustomTable{Table: "new_pet", Key: "new_petid", Mode: ModeJSONAttribute, Model: "contact",
				Link: "new_ownerid", Name: "new_pet", MaxChars: DefaultMaxChars,
				Columns: []string{"new_name", "new_species__label", "_new_vetid_value__formatted"},
				Note:    "rows of one contact, ordered by new_petid, as a JSON array; mode note is not replayed yet"}},
		{"nothing to attach to", Entity{LogicalName: "new_vet", PrimaryIdAttribute: "new_vetid",
			IsCustomEntity: &yes, Attributes: []Attribute{{LogicalName: "new_vetid", AttributeType: "Uniqueidentifier"}}},
			CustomTable{Table: "new_vet", Key: "new_vetid", Mode: ModeSkip,
				Note: "no lookup to an account, contact or case: nothing to attach the rows to"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !isCustomEntity(&tc.ent) {
				t.Fatal("not seen as a custom table")
			}
			got := proposeCustomTable(&tc.ent, newNamer(nil))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestIsCustomEntity(t *testing.T) {
	no := false
	standard := &Entity{LogicalName: "incident", PrimaryIdAttribute: "incidentid", PrimaryNameAttribute: "title",
		Attributes: []Attribute{{LogicalName: "incidentid"}, {LogicalName: "new_x", IsCustomAttribute: true}}}
	if isCustomEntity(standard) {
		t.Error("incident with one custom column seen as a custom table")
	}
	flagged := &Entity{IsCustomEntity: &no, PrimaryIdAttribute: "x",
		Attributes: []Attribute{{LogicalName: "x", IsCustomAttribute: true}}}
	if isCustomEntity(flagged) {
		t.Error("IsCustomEntity false was overridden")
	}
}
