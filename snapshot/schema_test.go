package snapshot

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// The real EntityDefinitions payload decodes into the schema builder, and
// every lookup becomes the contract's three columns.
func TestSchemaFromRealEntityDefinitions(t *testing.T) {
	var resp struct {
		Value []entityDef `json:"value"`
	}
	if err := json.Unmarshal(readFixture(t, "entitydefinitions_account_contact_opportunity_connection_incident_en.json"), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Value) != 5 {
		t.Fatalf("entities = %d, want 5", len(resp.Value))
	}
	for _, def := range resp.Value {
		s, err := buildSchema(def, nil)
		if err != nil {
			t.Fatalf("%s: %v", def.LogicalName, err)
		}
		want := 0
		for _, a := range def.Attributes {
			switch a.AttributeType {
			case "Lookup", "Customer", "Owner":
				want += 3
				f, ok := s.arrow.FieldsByName("_" + a.LogicalName + "_value__lookuplogicalname")
				if !ok || f[0].Type.ID() != arrow.STRING {
					t.Errorf("%s.%s: no lookup logical-name column", def.LogicalName, a.LogicalName)
				}
			default:
				want++
			}
		}
		if got := len(s.arrow.Fields()); got != want {
			t.Errorf("%s: %d fields, want %d", def.LogicalName, got, want)
		}
		if f, ok := s.arrow.FieldsByName(def.PrimaryIdAttribute); !ok || f[0].Type.ID() != arrow.STRING {
			t.Errorf("%s: primary key %s missing", def.LogicalName, def.PrimaryIdAttribute)
		}
	}
	incident := resp.Value[4]
	s, _ := buildSchema(incident, nil)
	for _, name := range []string{"_customerid_value", "_customerid_value__formatted", "title", "incidentid"} {
		if _, ok := s.arrow.FieldsByName(name); !ok {
			t.Errorf("incident: no column %s", name)
		}
	}
}

func TestOptionLabelsFromRealPicklistMetadata(t *testing.T) {
	var a optionAttr
	if err := json.Unmarshal(readFixture(t, "msdocs2020_entitydefinitions_account_picklist_attributes.json"), &a); err != nil {
		t.Fatal(err)
	}
	if a.LogicalName != "accountcategorycode" || len(a.OptionSet.Options) != 2 ||
		a.OptionSet.Options[0].Label.text() != "Preferred Customer" || a.OptionSet.Options[1].Label.text() != "Standard" {
		t.Errorf("decoded = %+v", a)
	}
}

func TestContractColumnTypes(t *testing.T) {
	prec := func(n int) *int { return &n }
	cases := []struct {
		a    attributeDef
		want string
	}{
		{attributeDef{LogicalName: "x", AttributeType: "Money", Precision: prec(2)}, "x: decimal(19, 4)"},
		{attributeDef{LogicalName: "x", AttributeType: "Decimal", Precision: prec(2)}, "x: decimal(14, 2)"},
		{attributeDef{LogicalName: "x", AttributeType: "Decimal"}, "x: decimal(22, 10)"},
		{attributeDef{LogicalName: "x", AttributeType: "Decimal", Precision: prec(12), MinValue: "0.000000000001", MaxValue: "100000000000"}, "x: decimal(24, 12)"},
		{attributeDef{LogicalName: "x", AttributeType: "Money", Precision: prec(2), MinValue: "-922337203685477", MaxValue: "922337203685477"}, "x: decimal(19, 4)"},
		{attributeDef{LogicalName: "x", AttributeType: "DateTime", DateTimeBehavior: "DateOnly"}, "x: date32"},
		{attributeDef{LogicalName: "x", AttributeType: "DateTime", DateTimeBehavior: "TimeZoneIndependent"}, "x: timestamp[us, tz=UTC]"},
		{attributeDef{LogicalName: "x", AttributeType: "BigInt"}, "x: int64"},
		{attributeDef{LogicalName: "x", AttributeType: "Status"}, "x: int32,x__label: utf8"},
		{attributeDef{LogicalName: "x", AttributeType: "Virtual", AttributeTypeName: "MultiSelectPicklistType"}, "x: list<item: int32, nullable>,x__label: list<item: utf8, nullable>"},
		{attributeDef{LogicalName: "x", AttributeType: "Owner"}, "_x_value: utf8,_x_value__lookuplogicalname: utf8,_x_value__formatted: utf8"},
		{attributeDef{LogicalName: "x", AttributeType: "Virtual", AttributeTypeName: "ImageType"}, ""},
		{attributeDef{LogicalName: "x", AttributeType: "PartyList"}, ""},
	}
	for _, c := range cases {
		col, ok := columnFor("t", c.a)
		got := ""
		if ok {
			for i, f := range col.fields() {
				if i > 0 {
					got += ","
				}
				got += f.Name + ": " + f.Type.String()
			}
		}
		if got != c.want {
			t.Errorf("%s/%s: %q, want %q", c.a.AttributeType, c.a.AttributeTypeName, got, c.want)
		}
	}
}

func TestParseDecimalExact(t *testing.T) {
	cases := []struct {
		in       string
		prec, sc int32
		want     string
		wantErr  bool
	}{
		{"12345678901234.5678", 19, 4, "12345678901234.5678", false},
		{"20000.0000", 19, 4, "20000.0000", false},
		{"52000.0", 14, 2, "52000.00", false},
		{"1", 22, 10, "1.0000000000", false},
		{"-0.0001", 19, 4, "-0.0001", false},
		{"1.5E+3", 14, 2, "1500.00", false},
		{"123456.35", 19, 4, "123456.3500", false},
		{"0.12345", 19, 4, "", true},            // would need rounding
		{"1.10", 12, 1, "1.1", false},           // trailing zero beyond scale is fine
		{"100000000000000000", 19, 4, "", true}, // too wide
		{"abc", 19, 4, "", true},
		{"9999999999999999.9999", 38, 4, "9999999999999999.9999", false},
	}
	for _, c := range cases {
		n, err := parseDecimal(c.in, c.prec, c.sc)
		if (err != nil) != c.wantErr {
			t.Errorf("%s: err = %v", c.in, err)
			continue
		}
		if err == nil && n.ToString(c.sc) != c.want {
			t.Errorf("%s: %s, want %s", c.in, n.ToString(c.sc), c.want)
		}
	}
}

const devkitDef = `{"LogicalName":"devkit_webapi","EntitySetName":"devkit_webapis","PrimaryIdAttribute":"devkit_webapiid","Attributes":[
 {"LogicalName":"devkit_webapiid","AttributeType":"Uniqueidentifier"},
 {"LogicalName":"devkit_name","AttributeType":"String"},
 {"LogicalName":"devkit_currency","AttributeType":"Money","Precision":2},
 {"LogicalName":"devkit_currency_base","AttributeType":"Money","Precision":4},
 {"LogicalName":"devkit_decimalnumber","AttributeType":"Decimal","Precision":2},
 {"LogicalName":"exchangerate","AttributeType":"Decimal","Precision":10},
 {"LogicalName":"devkit_floatingpointnumber","AttributeType":"Double"},
 {"LogicalName":"devkit_wholenumbernone","AttributeType":"Integer"},
 {"LogicalName":"transactioncurrencyid","AttributeType":"Lookup"},
 {"LogicalName":"statecode","AttributeType":"State"},
 {"LogicalName":"statuscode","AttributeType":"Status"},
 {"LogicalName":"devkit_singleoptionsetcode","AttributeType":"Picklist"},
 {"LogicalName":"devkit_multioptionsetcode","AttributeType":"Virtual","AttributeTypeName":{"Value":"MultiSelectPicklistType"}},
 {"LogicalName":"devkit_yesandno","AttributeType":"Boolean"}]}`

// Real captured rows (vi-VN org): decimals stay exact and, with no option
// metadata served, labels come from the formatted values.
func TestRealDevkitRecords(t *testing.T) {
	f := newFakeDV(t)
	f.entities["devkit_webapi"] = devkitDef
	f.sets["devkit_webapis"] = &fakeSet{script: []step{
		{status: http.StatusOK, body: string(readFixture(t, "devkit_number_records_formattedvalues.json"))},
	}}
	f.casts["devkit_webapi/PicklistAttributeMetadata"] = `{"value":[]}`
	dir := t.TempDir()
	if _, err := Run(context.Background(), f.config(dir, "devkit_webapi")); err != nil {
		t.Fatal(err)
	}
	var cur, base, dec, rate, currency string
	err := openDuck(t).QueryRow(`select devkit_currency::varchar, devkit_currency_base::varchar,
	  devkit_decimalnumber::varchar, exchangerate::varchar, _transactioncurrencyid_value__formatted
	  from '`+filepath.Join(dir, "tables/devkit_webapi/*.parquet")+`'`).Scan(&cur, &base, &dec, &rate, &currency)
	if err != nil {
		t.Fatal(err)
	}
	if cur != "123456.3500" || base != "123456.3500" || dec != "1234567.89" || rate != "1.0000000000" || currency != "US Dollar" {
		t.Errorf("got %s %s %s %s %s", cur, base, dec, rate, currency)
	}

	f2 := newFakeDV(t)
	f2.entities["devkit_webapi"] = devkitDef
	f2.sets["devkit_webapis"] = &fakeSet{script: []step{
		{status: http.StatusOK, body: string(readFixture(t, "devkit_optionset_records_formattedvalues.json"))},
	}}
	f2.refuseCasts = true // a refused cast costs only the metadata labels
	dir2 := t.TempDir()
	if _, err := Run(context.Background(), f2.config(dir2, "devkit_webapi")); err != nil {
		t.Fatal(err)
	}
	var single, multi, state string
	var yes bool
	err = openDuck(t).QueryRow(`select devkit_singleoptionsetcode__label, devkit_multioptionsetcode__label::varchar,
	  statecode__label, devkit_yesandno from '`+filepath.Join(dir2, "tables/devkit_webapi/*.parquet")+`'`).Scan(&single, &multi, &state, &yes)
	if err != nil {
		t.Fatal(err)
	}
	if single != "Crm 4" || multi != "[Crm 4, Crm 2011, Crm 2013]" || state != "Active" || !yes {
		t.Errorf("got %q %q %q %v", single, multi, state, yes)
	}
}

func TestRealOwnerLookupAnnotations(t *testing.T) {
	f := newFakeDV(t)
	f.entities["account"] = `{"LogicalName":"account","EntitySetName":"accounts","PrimaryIdAttribute":"accountid","Attributes":[
	 {"LogicalName":"accountid","AttributeType":"Uniqueidentifier"},{"LogicalName":"name","AttributeType":"String"},
	 {"LogicalName":"ownerid","AttributeType":"Owner"}]}`
	f.sets["accounts"] = &fakeSet{script: []step{
		{status: http.StatusOK, body: string(readFixture(t, "msdocs2024_accounts_ownerid_lookup_annotations.json"))},
	}}
	dir := t.TempDir()
	if _, err := Run(context.Background(), f.config(dir, "account")); err != nil {
		t.Fatal(err)
	}
	var got string
	err := openDuck(t).QueryRow(`select string_agg(_ownerid_value__lookuplogicalname, ',' order by name)
	  from '` + filepath.Join(dir, "tables/account/*.parquet") + `'`).Scan(&got)
	if err != nil || got != "team,systemuser" {
		t.Errorf("owner kinds = %q, %v", got, err)
	}
}
