package transform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2i/d2i/transform/mapping"
)

// mappedTables is a small org with custom columns on account, contact and
// incident and a custom table new_warrantyclaim; comments say what each
// row exercises.
func mappedTables() map[string]fixtureTable {
	return map[string]fixtureTable{
		"account": {
			schema: "accountid varchar, name varchar, createdon timestamptz, modifiedon timestamptz, " +
				"new_revenue decimal(12,2), new_active boolean, new_founded date",
			rows: []string{
				"('a1', 'Acme', '2017-01-01 00:00:00+00', null, 1000.50, true, '2001-02-03')",
				"('a2', 'Beta', '2017-02-01 00:00:00+00', null, null, false, null)",
				"('a3', 'Gamma', '2017-03-01 00:00:00+00', null, 7, null, null)",
			},
		},
		"contact": {
			schema: "contactid varchar, fullname varchar, emailaddress1 varchar, " + lk("parentcustomerid") +
				", statecode integer, statecode__label varchar, createdon timestamptz, modifiedon timestamptz, " +
				"new_loyaltytier integer, new_loyaltytier__label varchar, new_hobbies integer[], " +
				"new_score integer, new_since timestamptz, new_bio varchar",
			rows: []string{
				// survivor: its own Gold, not the merged c2's Silver
				"('c1', 'Jane', 'jane@example.com', 'a1', 'account', 'Acme', 0, 'Active', '2018-01-01 00:00:00+00', null, " +
					"100000002, 'Gold', [2, 1], 7, '2020-01-02 03:04:05+00', 'short')",
				"('c2', 'Jane old', 'Jane@Example.com', null, null, null, 1, 'Inactive', '2016-01-01 00:00:00+00', null, " +
					"100000001, 'Silver', [3], 1, null, null)",
				// unmapped tier code and a bio over the string cap: both left out with a note
				"('c3', 'Bob', 'bob@example.com', 'a2', 'account', 'Beta', 0, 'Active', '2019-01-01 00:00:00+00', null, " +
					"100000009, null, [], null, null, repeat('x', 300))",
			},
		},
		"incident": {
			schema: "incidentid varchar, title varchar, ticketnumber varchar, description varchar, " +
				"statecode integer, statecode__label varchar, statuscode integer, statuscode__label varchar, " +
				lk("customerid") + ", createdon timestamptz, modifiedon timestamptz, new_productserial varchar",
			rows: []string{
				"('i1', 'Broken', 'CAS-1', 'x', 0, 'Active', 1, 'In Progress', 'c1', 'contact', 'Jane', " +
					"'2022-01-01 00:00:00+00', null, 'SN-1')",
				"('i2', 'Invoice', 'CAS-2', 'y', 0, 'Active', 1, 'In Progress', 'a2', 'account', 'Beta', " +
					"'2022-01-02 00:00:00+00', null, null)",
			},
		},
		"new_warrantyclaim": {
			schema: "new_warrantyclaimid varchar, new_name varchar, " + lk("new_parentid") +
				", new_claimamount decimal(10,2), new_claimstatus integer, new_claimstatus__label varchar, " +
				"modifiedon timestamptz",
			rows: []string{
				// two claims on case i1: company a1 through the case's contact
				"('w1', 'WC-1', 'i1', 'incident', 'Broken', 100.00, 2, 'Approved', '2023-01-02 00:00:00+00')",
				"('w1', 'WC-1 old', 'i1', 'incident', 'Broken', 1.00, 1, 'Submitted', '2023-01-01 00:00:00+00')", // older copy
				"('w2', 'WC-2', 'i1', 'incident', 'Broken', 20.50, 4, 'Paid', '2023-01-03 00:00:00+00')",
				"('w3', 'WC-3', 'a2', 'account', 'Beta', 5.00, 1, 'Submitted', '2023-01-04 00:00:00+00')",
				"('w4', 'WC-4', null, null, null, 1.00, 1, 'Submitted', '2023-01-05 00:00:00+00')",         // no_link
				"('w5', 'WC-5', 'i9', 'incident', 'Gone', 1.00, 1, 'Submitted', '2023-01-06 00:00:00+00')", // parent_not_staged
			},
		},
	}
}

func mappedAttr(table, column, typ, name, dataType string) mapping.DataAttribute {
	return mapping.DataAttribute{SourceTable: table, SourceColumn: column, SourceType: typ, Column: column,
		Model: map[string]string{"contact": "contact", "account": "company", "incident": "conversation"}[table],
		Name:  name, DataType: dataType, Description: "Dynamics 365 " + table + "." + column, Enabled: true}
}

// mappedMapping maps every custom column of mappedTables and gathers the
// warranty claims on the company.
func mappedMapping() *mapping.Mapping {
	tier := mappedAttr("contact", "new_loyaltytier", "Picklist", "loyalty_tier", mapping.TypeString)
	tier.Values = []mapping.ValueMap{{Source: 100000001, Intercom: "Silver"}, {Source: 100000002, Intercom: "Gold"}}
	hobbies := mappedAttr("contact", "new_hobbies", "MultiSelectPicklist", "hobbies", mapping.TypeString)
	hobbies.Values = []mapping.ValueMap{{Source: 1, Intercom: "A"}, {Source: 2, Intercom: "B"}}
	return &mapping.Mapping{
		Version: mapping.Version,
		DataAttributes: []mapping.DataAttribute{
			tier, hobbies,
			mappedAttr("contact", "new_score", "Integer", "score", mapping.TypeInteger),
			mappedAttr("contact", "new_since", "DateTime", "member_since", mapping.TypeDate),
			mappedAttr("contact", "new_bio", "Memo", "bio", mapping.TypeString),
			mappedAttr("account", "new_revenue", "Money", "revenue", mapping.TypeFloat),
			mappedAttr("account", "new_active", "Boolean", "active", mapping.TypeBoolean),
			mappedAttr("account", "new_founded", "DateTime", "founded", mapping.TypeDate),
			mappedAttr("incident", "new_productserial", "String", "product_serial", mapping.TypeString),
		},
		CustomTables: []mapping.CustomTable{{Table: "new_warrantyclaim", Key: "new_warrantyclaimid",
			Mode: mapping.ModeJSONAttribute, Model: "company", Link: "new_parentid", Name: "warranty_claims",
			Columns: []string{"new_name", "new_claimamount", "new_claimstatus__label"}, MaxChars: 255}},
		Contacts:    mapping.ContactRules{EmailColumns: []string{"emailaddress1"}},
		Teams:       mapping.MatchRule{MatchBy: "name"},
		Admins:      mapping.MatchRule{MatchBy: "email"},
		Attachments: mapping.AttachmentRule{MaxBytes: 1 << 20, OverLimit: "split"},
		Taxonomy:    mapping.TaxonomyRule{MaxDepth: 3, Deeper: "flatten"},
	}
}

// confirmMapping writes m and seals it as 'd2i map confirm' does.
func confirmMapping(t *testing.T, m *mapping.Mapping) (string, error) {
	t.Helper()
	b, err := mapping.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mapping.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = mapping.Confirm(path)
	return path, err
}

// runMapped transforms tables with m and returns the staging path.
func runMapped(t *testing.T, tables map[string]fixtureTable, m *mapping.Mapping) (string, error) {
	t.Helper()
	path, err := confirmMapping(t, m)
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	snap := t.TempDir()
	writeSnapshot(t, snap, tables)
	dbPath := filepath.Join(t.TempDir(), "staging.duckdb")
	_, err = Run(context.Background(), Config{SnapshotDir: snap, DBPath: dbPath, MappingPath: path})
	return dbPath, err
}

func TestMapAppliesAttributes(t *testing.T) {
	db, err := runMapped(t, mappedTables(), mappedMapping())
	if err != nil {
		t.Fatal(err)
	}
	claimsA1 := `[{"new_name":"WC-1","new_claimamount":100.0,"new_claimstatus":"Approved"},` +
		`{"new_name":"WC-2","new_claimamount":20.5,"new_claimstatus":"Paid"}]`
	claimsA2 := `[{"new_name":"WC-3","new_claimamount":5.0,"new_claimstatus":"Submitted"}]`
	// -> keeps JSON types: 7 is a number, "Gold" a string; NULL = key absent.
	assertRows(t, db, `select source_id, (c->'active')::varchar, (c->'founded')::varchar, (c->'revenue')::varchar,
		(c->'warranty_claims')::varchar
		from (select source_id, custom_attributes as c from stage.companies) order by source_id`, []string{
		`a1|true|981158400|1000.5|` + jsonString(claimsA1),
		`a2|false|NULL|NULL|` + jsonString(claimsA2),
		`a3|NULL|NULL|7.0|NULL`,
	})
	assertRows(t, db, `select source_id, (c->'dynamics_contact_id')::varchar, (c->'loyalty_tier')::varchar,
		(c->'hobbies')::varchar, (c->'score')::varchar, (c->'member_since')::varchar, (c->'bio')::varchar from (select source_id, custom_attributes as c from stage.contacts)
		order by source_id`, []string{
		`c1|"c1"|"Gold"|"B, A"|7|1577934245|"short"`,
		`c3|"c3"|NULL|NULL|NULL|NULL|NULL`,
	})
	assertRows(t, db, `select source_id, custom_attributes->>'product_serial' from stage.conversations order by source_id`,
		[]string{"i1|SN-1", "i2|NULL"})
	assertRows(t, db, `select object, source_id, note from reports.notes where note like 'custom attribute%'
		order by source_id, note`, []string{
		"contacts|c3|custom attribute bio left out: 300 characters, over the 255 Intercom keeps",
		"contacts|c3|custom attribute loyalty_tier left out: option code 100000009 has no value in the mapping",
	})
	assertRows(t, db, `select model, name, data_type, source_table, source_id from stage.data_attributes
		where ord > 6 order by ord`, []string{
		"contact|loyalty_tier|string|contact|new_loyaltytier", "contact|hobbies|string|contact|new_hobbies",
		"contact|score|integer|contact|new_score", "contact|member_since|date|contact|new_since",
		"contact|bio|string|contact|new_bio", "company|revenue|float|account|new_revenue",
		"company|active|boolean|account|new_active", "company|founded|date|account|new_founded",
		"conversation|product_serial|string|incident|new_productserial",
		"company|warranty_claims|string|new_warrantyclaim|new_warrantyclaimid",
	})
}

// jsonString quotes s as a JSON string.
func jsonString(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func TestMapCustomTableFates(t *testing.T) {
	db, err := runMapped(t, mappedTables(), mappedMapping())
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, db, `select source_id, parent_source_id, attribute from reports.custom_table_rows order by 1`,
		[]string{"w1|a1|warranty_claims", "w2|a1|warranty_claims", "w3|a2|warranty_claims"})
	assertRows(t, db, `select source_id, rule, reason from rejects.companies where source_table = 'new_warrantyclaim'
		order by 1`, []string{
		"w4|no_link|new_parentid is empty: the row belongs to no company",
		"w5|parent_not_staged|new_parentid i9 leads to no staged company",
	})
	assertRows(t, db, `select source_id, reason from reports.out_of_scope where source_table = 'new_warrantyclaim'`,
		[]string{"w1|duplicate new_warrantyclaimid in the snapshot: one copy kept"})
	assertRows(t, db, `select object, snapshot_rows, staged, rejected, out_of_scope, conserved
		from reports.reconciliation where source_table = 'new_warrantyclaim'`,
		[]string{"custom_table|6|3|2|1|true"})
}

func TestMapCustomTableModes(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(*mapping.CustomTable)
		staged  []string
		rejects []string
		recon   string
	}{
		{"skip", func(ct *mapping.CustomTable) {
			*ct = mapping.CustomTable{Table: ct.Table, Key: ct.Key, Mode: mapping.ModeSkip}
		}, nil, nil, "6|0|0|6|true"},
		{"note is out of scope until replayed", func(ct *mapping.CustomTable) {
			*ct = mapping.CustomTable{Table: ct.Table, Key: ct.Key, Mode: mapping.ModeNote}
		}, nil, nil, "6|0|0|6|true"},
		{"a1's claims over max_chars", func(ct *mapping.CustomTable) { ct.MaxChars = 100 },
			[]string{"w3|a2"},
			[]string{"w1|json_too_long|the company's warranty_claims JSON is 142 characters; max_chars is 100",
				"w2|json_too_long|the company's warranty_claims JSON is 142 characters; max_chars is 100",
				"w4|no_link", "w5|parent_not_staged"},
			"6|1|4|1|true"},
		{"on the contact", func(ct *mapping.CustomTable) { ct.Model = "contact" },
			[]string{"w1|c1", "w2|c1"}, []string{"w3|parent_not_staged", "w4|no_link", "w5|parent_not_staged"},
			"6|2|3|1|true"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := mappedMapping()
			tc.edit(&m.CustomTables[0])
			db, err := runMapped(t, mappedTables(), m)
			if err != nil {
				t.Fatal(err)
			}
			assertRows(t, db, `select source_id || '|' || parent_source_id from reports.custom_table_rows order by 1`,
				tc.staged)
			assertRows(t, db, `select source_id || '|' || rule || case when rule = 'json_too_long'
				then '|' || reason else '' end from (select source_table, source_id, rule, reason from rejects.companies union all
				select source_table, source_id, rule, reason from rejects.contacts)
				where source_table = 'new_warrantyclaim' order by 1`, tc.rejects)
			assertRows(t, db, `select snapshot_rows, staged, rejected, out_of_scope, conserved
				from reports.reconciliation where source_table = 'new_warrantyclaim'`, []string{tc.recon})
		})
	}
}

func TestMapDisabledAttributeStagesNothing(t *testing.T) {
	m := mappedMapping()
	m.DataAttributes[0].Enabled = false // loyalty_tier
	m.CustomTables[0].Mode = mapping.ModeSkip
	db, err := runMapped(t, mappedTables(), m)
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, db, `select count(*) from stage.contacts where custom_attributes->>'loyalty_tier' is not null`,
		[]string{"0"})
	assertRows(t, db, `select count(*) from stage.companies where custom_attributes->>'warranty_claims' is not null`,
		[]string{"0"})
	assertRows(t, db, `select name from stage.data_attributes where name in ('loyalty_tier', 'warranty_claims', 'score')`,
		[]string{"score"})
	assertRows(t, db, `select count(*) from reports.notes where note like '%loyalty_tier%'`, []string{"0"})
}

// Each rule is refused with an error naming the mapping entry, either when
// the file is confirmed or when the transform meets the snapshot.
func TestMapRules(t *testing.T) {
	many := func(m *mapping.Mapping, n int) {
		for i := range n {
			a := mappedAttr("contact", "new_score", "Integer", fmt.Sprintf("score_%03d", i), mapping.TypeInteger)
			m.DataAttributes = append(m.DataAttributes, a)
		}
	}
	cases := []struct {
		name      string
		edit      func(*mapping.Mapping)
		atConfirm bool
		want      string
	}{
		{"name with a dot", func(m *mapping.Mapping) { m.DataAttributes[2].Name = "score.v2" }, true,
			`data attribute contact.new_score: name "score.v2" may hold only`},
		{"Intercom built-in name", func(m *mapping.Mapping) { m.DataAttributes[2].Name = "Email" }, true,
			`data attribute contact.new_score: name "Email" is one of Intercom's built-in attributes`},
		{"transform built-in name", func(m *mapping.Mapping) { m.DataAttributes[2].Name = "dynamics_case_id" }, false,
			`data attribute contact.new_score: name "dynamics_case_id" is a built-in attribute of the transform`},
		{"type change in the file", func(m *mapping.Mapping) { m.DataAttributes[2].DataType = mapping.TypeDate }, true,
			`data attribute contact.new_score: data_type "date" cannot hold a Integer column`},
		{"type change against the snapshot", func(m *mapping.Mapping) { m.DataAttributes[2].Column = "new_bio" }, false,
			"data attribute contact.new_score: data_type integer cannot hold column new_bio of type VARCHAR"},
		{"wrong model", func(m *mapping.Mapping) { m.DataAttributes[2].Model = "company" }, true,
			`data attribute contact.new_score: model "company": contact rows become Intercom contact objects`},
		{"column not snapshotted", func(m *mapping.Mapping) { m.DataAttributes[2].Column = "new_gone" }, false,
			`data attribute contact.new_score: column "new_gone" is not in snapshot table contact`},
		{"over 250 in the file", func(m *mapping.Mapping) { many(m, 241) }, true,
			"251 data attributes enabled (with stamps); Intercom allows 250"},
		// 245 of the file's + 6 the transform stages itself
		{"over 250 with the built-ins", func(m *mapping.Mapping) { many(m, 235) }, false,
			"251 data attributes to create (245 from the mapping, the rest built in); Intercom allows 250"},
		{"custom table name clash", func(m *mapping.Mapping) { m.CustomTables[0].Name = "Score" }, true,
			`custom table new_warrantyclaim: name "Score" already used by data attribute contact.new_score`},
		{"custom table not snapshotted", func(m *mapping.Mapping) { m.CustomTables[0].Table = "new_gone" }, false,
			"custom table new_gone: not in the snapshot (no src.new_gone): snapshot it, or set mode: skip"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := mappedMapping()
			tc.edit(m)
			path, err := confirmMapping(t, m)
			if tc.atConfirm {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("confirm: err = %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("confirm: %v", err)
			}
			snap := t.TempDir()
			writeSnapshot(t, snap, mappedTables())
			_, err = Run(context.Background(), Config{SnapshotDir: snap, DBPath: filepath.Join(t.TempDir(), "s.duckdb"),
				MappingPath: path})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("transform: err = %v, want %q", err, tc.want)
			}
		})
	}
}

// Same snapshot + same mapping = the same bytes in every stage table.
func TestMapDeterministic(t *testing.T) {
	snap := t.TempDir()
	writeSnapshot(t, snap, mappedTables())
	path, err := confirmMapping(t, mappedMapping())
	if err != nil {
		t.Fatal(err)
	}
	hashes := make([]map[string]string, 2)
	for i := range hashes {
		db := filepath.Join(t.TempDir(), "s.duckdb")
		if _, err := Run(context.Background(), Config{SnapshotDir: snap, DBPath: db, MappingPath: path}); err != nil {
			t.Fatal(err)
		}
		hashes[i] = hashTables(t, db)
	}
	if len(hashes[0]) < len(stageTables) {
		t.Fatalf("hashed %d tables: %v", len(hashes[0]), hashes[0])
	}
	for name, h := range hashes[0] {
		if hashes[1][name] != h {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// hashTables hashes every row, in stored order, of each stage, rejects and
// reports table.
func hashTables(t *testing.T, db string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, rows := range allTables(t, db) {
		sum := sha256.Sum256([]byte(strings.Join(rows, "\n")))
		out[name] = hex.EncodeToString(sum[:])
	}
	return out
}

func TestJSONKey(t *testing.T) {
	for col, want := range map[string]string{
		"new_name": "new_name", "new_claimstatus__label": "new_claimstatus",
		"_new_incidentid_value__formatted": "new_incidentid", "_new_incidentid_value": "new_incidentid",
	} {
		if got := jsonKey(col); got != want {
			t.Errorf("jsonKey(%q) = %q, want %q", col, got, want)
		}
	}
}
