package transform

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// incidentFixtureRow is a case row of sampleTables' incident schema with
// only what the validation tests vary; the rest is null.
func incidentFixtureRow(id, title, description, customer, customerType string) string {
	return fmt.Sprintf("(%s, %s, 'CAS-%s', %s, 2, 'Normal', 0, 'Active', 1, 'In Progress', %s, %s, null, "+
		"null, null, null, 'u1', 'systemuser', 'Agent One', '2022-02-01 10:00:00+00', null, null"+
		strings.Repeat(", null", 16)+")", sqlQuote(id), title, id, description, sqlQuote(customer), sqlQuote(customerType))
}

// contactFixtureRow is a contact row of sampleTables' contact schema.
func contactFixtureRow(id, fullname, email, createdon string) string {
	return fmt.Sprintf("(%s, %s, null, null, %s, null, null, null, null, null, null, null, 0, 'Active', %s, null, "+
		"null, null)", sqlQuote(id), fullname, sqlQuote(email), sqlQuote(createdon))
}

// accountFixtureRow is an account row of sampleTables' account schema.
func accountFixtureRow(id, name, city, createdon string) string {
	return fmt.Sprintf("(%s, %s, null, null, null, null, null, null, %s, null, %s, null, null, null, null, "+
		"null, null, null)", sqlQuote(id), name, sqlQuote(createdon), city)
}

func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// validationTables adds, to the shared fixture, one row per field rule (and
// rows just inside the caps, and text that must keep its exact characters).
func validationTables() map[string]fixtureTable {
	tables := sampleTables()
	add := func(name string, rows ...string) {
		ft := tables[name]
		ft.rows = append(append([]string(nil), ft.rows...), rows...)
		tables[name] = ft
	}
	add("account",
		accountFixtureRow("a5", "repeat('N', 300)", "null", "2017-05-01 00:00:00+00"),              // string_too_long: name
		accountFixtureRow("a6", "'Bad ' || chr(65533) || ' Co'", "null", "2017-05-02 00:00:00+00"), // invalid_utf8
		accountFixtureRow("a7", "'Old Co'", "null", "1970-01-01 00:00:00+00"),                      // timestamp_out_of_range
		accountFixtureRow("a8", "'City Co'", "repeat('C', 256)", "2017-05-03 00:00:00+00"),         // string_too_long: attribute
		accountFixtureRow("a10", "repeat('Ü', 255)", "null", "2017-05-04 00:00:00+00"),             // exactly at the cap: staged
	)
	add("contact",
		contactFixtureRow("c8", "repeat('é', 256)", "long@example.com", "2019-02-01 00:00:00+00"), // 256 characters
		contactFixtureRow("c9", "'Future'", "future@example.com", "2100-01-01 00:00:00+00"),
		contactFixtureRow("c10", "repeat('é', 255)", "edge@example.com", "2019-02-02 00:00:00+00"),
	)
	add("incident",
		incidentFixtureRow("i7", "'Long name'", "'x'", "c8", "contact"),            // contact_rejected
		incidentFixtureRow("i8", "'  '", "null", "c5", "contact"),                  // title blank: falls back to the number
		incidentFixtureRow("i9", "'Huge'", "repeat('x', 100001)", "c5", "contact"), // oversized_body
		incidentFixtureRow("i10", "'HTML entities'", "'<p>5 &amp;lt; 6 — 😀 é</p>'", "c5", "contact"),
		incidentFixtureRow("i11", "'Plain entities'", "'a &lt; b 😀 ñ'", "c5", "contact"),
		incidentFixtureRow("i12", "'Nul' || chr(0) || 'title'", "'x'", "c5", "contact"), // invalid_utf8: title
	)
	return tables
}

func TestRunValidationRules(t *testing.T) {
	dbPath, res, err := runFixture(t, validationTables())
	if err != nil {
		t.Fatal(err)
	}
	long := func(c string, n int) string { return strings.Repeat(c, n) }
	tests := []struct {
		name, query string
		want        []string
	}{
		{"companies", "select source_id, rule, field, context from rejects.companies order by source_id", []string{
			"a3|missing_name|name|NULL",
			"a5|string_too_long|name|name (300 > 255 chars): " + long("N", 40) + "…",
			"a6|invalid_utf8|name|name: Bad \uFFFD Co",
			"a7|timestamp_out_of_range|createdon|createdon: 1970-01-01 00:00:00 UTC",
			"a8|string_too_long|custom_attributes.dynamics_city|custom_attributes.dynamics_city (string, varchar): \"" +
				long("C", 39) + "…",
		}},
		{"contacts", "select source_id, rule, field, context from rejects.contacts order by source_id", []string{
			"c8|string_too_long|name|name (256 > 255 chars): " + long("é", 40) + "…",
			"c9|timestamp_out_of_range|createdon|createdon: 2100-01-01 00:00:00 UTC",
		}},
		{"conversations", "select source_id, rule, field, context from rejects.conversations order by source_id", []string{
			"i12|invalid_utf8|title|title: Nul\x00title",
			"i4|no_contact|customerid|account:a4",
			"i7|contact_rejected|customerid|contact:c8",
			// a body's text never reaches a report: only its length
			"i9|oversized_body|body|body: 100008 chars",
		}},
		{"every reject names its rule's reason", "select distinct rule, reason from (select rule, reason from rejects.companies " +
			"union all select rule, reason from rejects.contacts union all select rule, reason from rejects.conversations) " +
			"where rule not in ('missing_name', 'no_contact') order by rule", []string{
			"contact_rejected|the case's contact was rejected (see rejects.contacts)",
			"invalid_utf8|text holds U+FFFD or NUL: the source bytes were not valid UTF-8",
			"oversized_body|message body longer than the cap (reports.field_caps): not sent cut short",
			"string_too_long|longer than Intercom's cap for the field (reports.field_caps)",
			"timestamp_out_of_range|timestamp before 1990 or more than a year after the snapshot",
		}},
		// at the cap is not over it; accents count as one character each
		{"at the cap", "select source_id, length(name) from stage.companies where source_id = 'a10' " +
			"union all select source_id, length(name) from stage.contacts where source_id = 'c10'", []string{
			"a10|255", "c10|255",
		}},
		// HTML is decoded once when Intercom renders it, so &amp;lt; stays &amp;lt; in the staged
		// HTML; plain text keeps its characters exactly, escaped once.
		{"exact text", "select source_id, title, body from stage.conversations where source_id in ('i8', 'i10', 'i11') order by source_id", []string{
			"i10|HTML entities|<p>5 &amp;lt; 6 — 😀 é</p>",
			"i11|Plain entities|<p>a &amp;lt; b 😀 ñ</p>",
			"i8|CAS-i8|<p>CAS-i8</p>",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertRows(t, dbPath, tt.query, tt.want) })
	}
	for _, r := range res.Reconciliation {
		if !r.Conserved {
			t.Errorf("%s does not conserve: %+v", r.SourceTable, r)
		}
	}
}

// An attribute value of the wrong type or under an undefined name rejects
// its row. The object steps only build typed values, so the rules are fed
// directly: 00 and 15 run on a fresh connection, then attr_values gets one
// row per case.
func TestViolationsAttributeRules(t *testing.T) {
	ctx := context.Background()
	db, conn, err := openStaging(ctx, filepath.Join(t.TempDir(), "v.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	defer conn.Close()
	// Run fills snap_info from the manifest before any SQL file.
	if _, err := conn.ExecContext(ctx, "create temp table snap_info as "+
		"select timestamptz '2026-12-03 10:05:00+00' as finished_at"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sql/00_schemas.sql", "sql/15_validation.sql"} {
		text, err := sqlText(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, text); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	_, err = conn.ExecContext(ctx, `
		insert into attr_values values
			('conversation', 'x1', 'dynamics_priority', to_json(3)),
			('conversation', 'x2', 'no such attr', to_json('v')),
			('conversation', 'x3', 'dynamics_sla_paused', to_json('yes')),
			('conversation', 'x4', 'dynamics_resolve_by', to_json(1641290400)),
			('conversation', 'x5', 'dynamics_entitlement_total_terms', to_json(2.5)),
			('conversation', 'x6', 'dynamics_resolve_by', to_json('2022-01-04')),
			('contact', 'x7', 'dynamics_first_name', to_json(repeat('a', 256))),
			('contact', 'x8', 'dynamics$name', to_json('v'));
		insert into field_values values
			('conversation', 'x4', 'createdon', null, timestamptz '2027-12-03 10:05:00+00', false),
			('conversation', 'x5', 'createdon', null, timestamptz '2027-12-03 10:05:01+00', false);`)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, `select source_id, rule, field, context from violations('conversation')
		union all select source_id, rule, field, context from violations('contact') order by source_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, rule, field, context string
		if err := rows.Scan(&id, &rule, &field, &context); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{id, rule, field, context}, "|"))
	}
	want := []string{
		"x1|attribute_type|custom_attributes.dynamics_priority|custom_attributes.dynamics_priority (string, ubigint): 3",
		"x2|attribute_name|custom_attributes.no such attr|custom_attributes.no such attr (undefined, varchar): \"v\"",
		"x3|attribute_type|custom_attributes.dynamics_sla_paused|custom_attributes.dynamics_sla_paused (boolean, varchar): \"yes\"",
		// a year after the snapshot is still in range; a second more is not
		"x5|timestamp_out_of_range|createdon|createdon: 2027-12-03 10:05:01 UTC",
		"x6|attribute_type|custom_attributes.dynamics_resolve_by|custom_attributes.dynamics_resolve_by (date, varchar): \"2022-01-04\"",
		"x7|string_too_long|custom_attributes.dynamics_first_name|custom_attributes.dynamics_first_name (string, varchar): \"" +
			strings.Repeat("a", 39) + "…",
		"x8|attribute_name|custom_attributes.dynamics$name|custom_attributes.dynamics$name (undefined, varchar): \"v\"",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("violations\n got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
