package snapshot

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// incidentDef is an EntityDefinitions answer with one attribute of every
// kind the contracts table names, plus attributes that must not be stored.
const incidentDef = `{
 "@odata.context": "https://org.crm.dynamics.com/api/data/v9.2/$metadata#EntityDefinitions(LogicalName,EntitySetName,PrimaryIdAttribute,Attributes())/$entity",
 "LogicalName": "incident", "EntitySetName": "incidents", "PrimaryIdAttribute": "incidentid", "PrimaryNameAttribute": "title",
 "Attributes": [
  {"@odata.type": "#Microsoft.Dynamics.CRM.UniqueidentifierAttributeMetadata", "LogicalName": "incidentid", "AttributeType": "Uniqueidentifier", "AttributeTypeName": {"Value": "UniqueidentifierType"}, "AttributeOf": null, "IsValidForRead": true},
  {"@odata.type": "#Microsoft.Dynamics.CRM.StringAttributeMetadata", "LogicalName": "title", "AttributeType": "String", "AttributeTypeName": {"Value": "StringType"}, "AttributeOf": null, "IsValidForRead": true},
  {"@odata.type": "#Microsoft.Dynamics.CRM.MemoAttributeMetadata", "LogicalName": "description", "AttributeType": "Memo", "AttributeTypeName": {"Value": "MemoType"}, "AttributeOf": null, "IsValidForRead": true},
  {"@odata.type": "#Microsoft.Dynamics.CRM.StateAttributeMetadata", "LogicalName": "statecode", "AttributeType": "State", "AttributeTypeName": {"Value": "StateType"}, "AttributeOf": null, "IsValidForRead": true},
  {"@odata.type": "#Microsoft.Dynamics.CRM.StatusAttributeMetadata", "LogicalName": "statuscode", "AttributeType": "Status", "AttributeTypeName": {"Value": "StatusType"}, "AttributeOf": null, "IsValidForRead": true},
  {"@odata.type": "#Microsoft.Dynamics.CRM.PicklistAttributeMetadata", "LogicalName": "prioritycode", "AttributeType": "Picklist", "AttributeTypeName": {"Value": "PicklistType"}, "AttributeOf": null, "IsValidForRead": true},
  {"@odata.type": "#Microsoft.Dynamics.CRM.LookupAttributeMetadata", "LogicalName": "customerid", "AttributeType": "Customer", "AttributeTypeName": {"Value": "CustomerType"}, "AttributeOf": null, "IsValidForRead": true},
  {"@odata.type": "#Microsoft.Dynamics.CRM.LookupAttributeMetadata", "LogicalName": "ownerid", "AttributeType": "Owner", "AttributeTypeName": {"Value": "OwnerType"}, "AttributeOf": null, "IsValidForRead": true},
  {"@odata.type": "#Microsoft.Dynamics.CRM.EntityNameAttributeMetadata", "LogicalName": "owneridtype", "AttributeType": "EntityName", "AttributeTypeName": {"Value": "EntityNameType"}, "AttributeOf": "ownerid", "IsValidForRead": true},
  {"@odata.type": "#Microsoft.Dynamics.CRM.DateTimeAttributeMetadata", "LogicalName": "createdon", "AttributeType": "DateTime", "AttributeTypeName": {"Value": "DateTimeType"}, "AttributeOf": null, "IsValidForRead": true, "Format": "DateAndTime", "DateTimeBehavior": {"Value": "UserLocal"}},
  {"@odata.type": "#Microsoft.Dynamics.CRM.DateTimeAttributeMetadata", "LogicalName": "followupby", "AttributeType": "DateTime", "AttributeTypeName": {"Value": "DateTimeType"}, "AttributeOf": null, "IsValidForRead": true, "Format": "DateOnly", "DateTimeBehavior": {"Value": "UserLocal"}},
  {"@odata.type": "#Microsoft.Dynamics.CRM.DateTimeAttributeMetadata", "LogicalName": "new_duedate", "AttributeType": "DateTime", "AttributeTypeName": {"Value": "DateTimeType"}, "AttributeOf": null, "IsValidForRead": true, "Format": "DateOnly", "DateTimeBehavior": {"Value": "DateOnly"}},
  {"@odata.type": "#Microsoft.Dynamics.CRM.MoneyAttributeMetadata", "LogicalName": "new_billed", "AttributeType": "Money", "AttributeTypeName": {"Value": "MoneyType"}, "AttributeOf": null, "IsValidForRead": true, "Precision": 2, "PrecisionSource": 2},
  {"@odata.type": "#Microsoft.Dynamics.CRM.DecimalAttributeMetadata", "LogicalName": "new_ratio", "AttributeType": "Decimal", "AttributeTypeName": {"Value": "DecimalType"}, "AttributeOf": null, "IsValidForRead": true, "Precision": 4},
  {"@odata.type": "#Microsoft.Dynamics.CRM.DoubleAttributeMetadata", "LogicalName": "new_score", "AttributeType": "Double", "AttributeTypeName": {"Value": "DoubleType"}, "AttributeOf": null, "IsValidForRead": true},
  {"@odata.type": "#Microsoft.Dynamics.CRM.IntegerAttributeMetadata", "LogicalName": "new_reopens", "AttributeType": "Integer", "AttributeTypeName": {"Value": "IntegerType"}, "AttributeOf": null, "IsValidForRead": true},
  {"@odata.type": "#Microsoft.Dynamics.CRM.BigIntAttributeMetadata", "LogicalName": "versionnumber", "AttributeType": "BigInt", "AttributeTypeName": {"Value": "BigIntType"}, "AttributeOf": null, "IsValidForRead": true},
  {"@odata.type": "#Microsoft.Dynamics.CRM.BooleanAttributeMetadata", "LogicalName": "isescalated", "AttributeType": "Boolean", "AttributeTypeName": {"Value": "BooleanType"}, "AttributeOf": null, "IsValidForRead": true},
  {"@odata.type": "#Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata", "LogicalName": "new_channels", "AttributeType": "Virtual", "AttributeTypeName": {"Value": "MultiSelectPicklistType"}, "AttributeOf": null, "IsValidForRead": true},
  {"@odata.type": "#Microsoft.Dynamics.CRM.ImageAttributeMetadata", "LogicalName": "entityimage", "AttributeType": "Virtual", "AttributeTypeName": {"Value": "ImageType"}, "AttributeOf": null, "IsValidForRead": true},
  {"@odata.type": "#Microsoft.Dynamics.CRM.StringAttributeMetadata", "LogicalName": "new_hidden", "AttributeType": "String", "AttributeTypeName": {"Value": "StringType"}, "AttributeOf": null, "IsValidForRead": false}
 ]}`

func optionsJSON(attr, set string, opts map[int]string) string {
	var parts []string
	for v, l := range opts {
		parts = append(parts, `{"Value":`+itoa(v)+`,"Label":{"LocalizedLabels":[{"Label":"`+l+`","LanguageCode":1033}],"UserLocalizedLabel":{"Label":"`+l+`","LanguageCode":1033}}}`)
	}
	os := `{"Options":[` + strings.Join(parts, ",") + `]}`
	if set == "global" {
		return `{"LogicalName":"` + attr + `","OptionSet":null,"GlobalOptionSet":` + os + `}`
	}
	return `{"LogicalName":"` + attr + `","OptionSet":` + os + `,"GlobalOptionSet":null}`
}

func itoa(n int) string { return strconv.Itoa(n) }

var incidentRows = []string{
	`{"@odata.etag":"W/\"101\"","incidentid":"c0000000-0000-4000-8000-000000000001","title":"Printer jam","description":"<p>hi</p>",
	  "statecode@OData.Community.Display.V1.FormattedValue":"Active","statecode":0,
	  "statuscode@OData.Community.Display.V1.FormattedValue":"In Progress","statuscode":1,
	  "prioritycode@OData.Community.Display.V1.FormattedValue":"Hoch","prioritycode":1,
	  "_customerid_value@OData.Community.Display.V1.FormattedValue":"Contoso Ltd",
	  "_customerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty":"customerid_account",
	  "_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname":"account",
	  "_customerid_value":"78914942-34cb-ed11-b596-0022481d68cd",
	  "_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname":"systemuser","_ownerid_value":"4026be43-6b69-e111-8f65-78e7d1620f5e",
	  "createdon":"2023-04-07T21:59:01Z","followupby":"2023-04-07T22:00:00Z","new_duedate":"2023-04-07",
	  "new_billed@OData.Community.Display.V1.FormattedValue":"$12,345,678,901,234.57","new_billed":12345678901234.5678,
	  "new_ratio":52000.0,"new_score":0.1,"new_reopens":3,"versionnumber":9007199254740993,"isescalated":true,
	  "new_channels@OData.Community.Display.V1.FormattedValue":"Email; Web","new_channels":"100000000,100000002"}`,
	`{"@odata.etag":"W/\"102\"","incidentid":"c0000000-0000-4000-8000-000000000002","title":"Nulls","description":null,
	  "statecode":null,"statuscode":null,
	  "prioritycode@OData.Community.Display.V1.FormattedValue":"Low (custom)","prioritycode":100000007,
	  "_customerid_value":null,"_ownerid_value":null,"createdon":null,"followupby":null,"new_duedate":null,
	  "new_billed":null,"new_ratio":null,"new_score":null,"new_reopens":null,"versionnumber":1,"isescalated":null,
	  "new_channels@OData.Community.Display.V1.FormattedValue":"Chat; Email","new_channels":"100000009,100000000"}`,
	`{"@odata.etag":"W/\"103\"","incidentid":"c0000000-0000-4000-8000-000000000003","title":"Old","description":"",
	  "statecode":1,"statuscode":5,"prioritycode":2,
	  "_customerid_value@OData.Community.Display.V1.FormattedValue":null,
	  "_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname":"contact","_customerid_value":"6f1c6e2a-0b1f-e911-a98a-000d3a1c5a01",
	  "_ownerid_value@OData.Community.Display.V1.FormattedValue":"Support Team ",
	  "_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname":"team","_ownerid_value":"39e0dbe4-131b-e111-ba7e-78e7d1620f5e",
	  "createdon":"1753-01-01T00:00:00Z","followupby":null,"new_duedate":"1753-01-01",
	  "new_billed":-0.0001,"new_ratio":1,"new_score":-2.5e3,"new_reopens":-2147483648,"versionnumber":9223372036854775807,"isescalated":false,
	  "new_channels":null}`,
}

// addIncident registers the incident table with the rows above.
func addIncident(f *fakeDV, pageSize int) {
	f.entities["incident"] = incidentDef
	f.casts["incident/PicklistAttributeMetadata"] = `{"value":[` + optionsJSON("prioritycode", "local", map[int]string{1: "High", 2: "Normal", 3: "Low"}) + `]}`
	f.casts["incident/StateAttributeMetadata"] = `{"value":[` + optionsJSON("statecode", "local", map[int]string{0: "Active", 1: "Resolved", 2: "Cancelled"}) + `]}`
	f.casts["incident/StatusAttributeMetadata"] = `{"value":[` + optionsJSON("statuscode", "local", map[int]string{1: "In Progress", 5: "Problem Solved"}) + `]}`
	f.casts["incident/MultiSelectPicklistAttributeMetadata"] = `{"value":[` + optionsJSON("new_channels", "global", map[int]string{100000000: "Email", 100000001: "Phone", 100000002: "Web"}) + `]}`
	f.sets["incidents"] = &fakeSet{rows: incidentRows, pageSize: pageSize, count: len(incidentRows)}
}

func openDuck(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestIncidentColumnsRoundTripThroughDuckDB(t *testing.T) {
	f := newFakeDV(t)
	addIncident(f, 2)
	dir := t.TempDir()
	m, err := Run(context.Background(), f.config(dir, "incident"))
	if err != nil {
		t.Fatal(err)
	}
	tm := m.Tables["incident"]
	if tm.Status != StatusComplete || tm.Rows != 3 || tm.Pages != 2 || tm.SourceCount != 3 || !m.Complete {
		t.Fatalf("manifest entry = %+v complete=%v", tm, m.Complete)
	}

	db := openDuck(t)
	glob := filepath.Join(dir, "tables", "incident", "*.parquet")
	var n int
	if err := db.QueryRow(`select count(*) from '` + glob + `'`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("count(*) = %d, %v", n, err)
	}

	q := `select
	  coalesce(new_billed::varchar, 'NULL'), coalesce(new_ratio::varchar, 'NULL'),
	  coalesce(new_duedate::varchar, 'NULL'), coalesce(epoch_us(followupby)::varchar, 'NULL'),
	  coalesce(statecode__label, 'NULL'), coalesce(prioritycode::varchar, 'NULL'), coalesce(prioritycode__label, 'NULL'),
	  coalesce(_customerid_value, 'NULL'), coalesce(_customerid_value__lookuplogicalname, 'NULL'),
	  coalesce(_customerid_value__formatted, 'NULL'), coalesce(_ownerid_value__formatted, 'NULL'),
	  coalesce(new_channels::varchar, 'NULL'), coalesce(new_channels__label::varchar, 'NULL'),
	  versionnumber::varchar, coalesce(isescalated::varchar, 'NULL'), coalesce(description, 'NULL')
	  from '` + glob + `' order by incidentid`
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := [][]string{
		{"12345678901234.5678", "52000.0000", "2023-04-07", "1680904800000000", "Active", "1", "High",
			"78914942-34cb-ed11-b596-0022481d68cd", "account", "Contoso Ltd", "NULL",
			"[100000000, 100000002]", "[Email, Web]", "9007199254740993", "true", "<p>hi</p>"},
		{"NULL", "NULL", "NULL", "NULL", "NULL", "100000007", "Low (custom)", "NULL", "NULL", "NULL", "NULL",
			"[100000009, 100000000]", "[Chat, Email]", "1", "NULL", "NULL"},
		{"-0.0001", "1.0000", "1753-01-01", "NULL", "Resolved", "2", "Normal",
			"6f1c6e2a-0b1f-e911-a98a-000d3a1c5a01", "contact", "NULL", "Support Team ",
			"NULL", "NULL", "9223372036854775807", "false", ""},
	}
	for i := 0; rows.Next(); i++ {
		got := make([]string, len(want[i]))
		ptrs := make([]any, len(got))
		for j := range got {
			ptrs[j] = &got[j]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for j := range got {
			if got[j] != want[i][j] {
				t.Errorf("row %d col %d = %q, want %q", i, j, got[j], want[i][j])
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
