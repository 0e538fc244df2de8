package transform

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func runFixture(t *testing.T, tables map[string]fixtureTable) (string, *Result, error) {
	t.Helper()
	snap := t.TempDir()
	writeSnapshot(t, snap, tables)
	dbPath := filepath.Join(t.TempDir(), "staging.duckdb")
	res, err := Run(context.Background(), Config{SnapshotDir: snap, DBPath: dbPath})
	return dbPath, res, err
}

// queryRows renders every row of q as "v1|v2|..." with NULL for nulls.
func queryRows(t *testing.T, dbPath, q string) []string {
	t.Helper()
	db, err := sql.Open("duckdb", dbPath+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	names, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(names))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				parts[i] = "NULL"
			} else {
				parts[i] = fmt.Sprint(v)
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func assertRows(t *testing.T, dbPath, q string, want []string) {
	t.Helper()
	got := queryRows(t, dbPath, q)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s\n got:\n  %s\nwant:\n  %s", q, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestRunStagesFixture(t *testing.T) {
	dbPath, res, err := runFixture(t, withKnowledge()) // every source table present
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Notes) != 0 {
		t.Errorf("notes = %v, want none (every table present)", res.Notes)
	}

	tests := []struct {
		name, query string
		want        []string
	}{
		{"admins", "select * from stage.admins order by ord", []string{
			"systemuser|u1|agent1@example.com|Agent One|1",
		}},
		{"teams", "select * from stage.teams order by ord", []string{
			"queue|q1|Support|1",
		}},
		{"companies", "select source_table, source_id, company_id, name, website, industry, size, remote_created_at, " +
			"custom_attributes::varchar, ord from stage.companies order by ord", []string{
			// website gets a scheme; a parent account is noted by id and name
			`account|a2|a2|株式会社テスト|https://www.test.jp|NULL|NULL|1485950400|` +
				`{"dynamics_city":"東京","dynamics_country":"日本","dynamics_parent_account_id":"a1","dynamics_parent_account_name":"Acme"}|1`,
			// scheme and host lower-cased, path kept, trailing slash trimmed; city trimmed
			`account|a1|a1|Acme|https://acme.example/Path|Accounting|250|1488369600|` +
				`{"dynamics_city":"Lyon","dynamics_country":"France","dynamics_postal_code":"69001","dynamics_region":"Auvergne-Rhône-Alpes"}|2`,
			// a blank website is none; a parent outside the snapshot keeps the lookup's id and name
			`account|a4|a4|Lonely Ltd|NULL|NULL|0|1491048000|` +
				`{"dynamics_parent_account_id":"a9","dynamics_parent_account_name":"Gone Corp"}|3`,
		}},
		{"contacts", "select source_table, source_id, role, external_id, email, name, phone, signed_up_at, " +
			"unsubscribed_from_emails, company_source_id, merged_source_ids, custom_attributes::varchar, ord " +
			"from stage.contacts order by ord", []string{
			// c2 (older, inactive) and c3 (emailaddress2) share jane@example.com after trim+lower;
			// signed_up_at is the oldest of the group; c1's donotbulkemail and c2's donotemail both hold.
			`contact|c1|user|c1|jane@example.com|Jane Sample|+1 555|1468590310|true|a1|[c3 c2]|` +
				`{"dynamics_contact_id":"c1","dynamics_do_not_bulk_email":true,"dynamics_do_not_email":true,` +
				`"dynamics_first_name":"Jane","dynamics_last_name":"Sample"}|1`,
			// no fullname: first and last joined, kept as given (emoji, accents)
			`contact|c4|lead|NULL|NULL|Zoë 😀 Ünïcode|+44 7700|1546300800|false|a1|[]|` +
				`{"dynamics_contact_id":"c4","dynamics_do_not_bulk_email":false,"dynamics_do_not_email":false,` +
				`"dynamics_first_name":"Zoë 😀","dynamics_last_name":"Ünïcode"}|2`,
			// one word: a first name only
			`contact|c5|user|c5|wang@example.cn|王小明|NULL|1559347200|false|a2|[]|` +
				`{"dynamics_contact_id":"c5","dynamics_first_name":"王小明"}|3`,
			// malformed only address: a lead; fullname split at its last space, inner spaces kept
			`contact|c6|lead|NULL|NULL|Dr. Bad  Mail|NULL|1609459200|false|NULL|[]|` +
				`{"dynamics_contact_id":"c6","dynamics_first_name":"Dr. Bad","dynamics_last_name":"Mail"}|4`,
			// malformed emailaddress1, good emailaddress2; parent is a contact, so no company
			`contact|c7|user|c7|fallback@example.com|Fallback|NULL|1612137600|false|NULL|[]|` +
				`{"dynamics_contact_id":"c7","dynamics_first_name":"Fallback"}|5`,
		}},
		{"conversations", "select source_id, contact_source_id, company_source_id, admin_source_id, team_source_id, " +
			"title, body, created_at, updated_at, state, snoozed_until, closed_at, custom_attributes::varchar, ord " +
			"from stage.conversations order by ord", []string{
			// entitlement block (channels as remaining/total, dates as unix seconds), the latest
			// timer of each kind (k1 named by the case's lookup, k2 by its SLA item; k3 is older),
			// paused because k2 is
			`i1|c1|a1|u1|q1|Printer on fire|<p>Help <b>now</b></p>|1641031200|1641117600|open|NULL|NULL|` +
				`{"dynamics_case_id":"i1","dynamics_case_number":"CAS-001","dynamics_case_type":"Question",` +
				`"dynamics_entitlement":"Gold support","dynamics_entitlement_allocation":"Number of cases",` +
				`"dynamics_entitlement_channels":"Phone 3/5, Email 2.5/10","dynamics_entitlement_end":1672531200,` +
				`"dynamics_entitlement_remaining_terms":7.0,"dynamics_entitlement_start":1609459200,` +
				`"dynamics_entitlement_total_terms":10.0,"dynamics_first_response_by":1641060000,` +
				`"dynamics_first_response_status":"Succeeded","dynamics_first_response_warning":1641052800,` +
				`"dynamics_origin":"Email","dynamics_priority":"High","dynamics_resolve_by":1641290400,` +
				`"dynamics_resolve_by_status":"Paused","dynamics_resolve_by_warning":1641225600,` +
				`"dynamics_sla":"Standard SLA","dynamics_sla_business_hours":"Business hours","dynamics_sla_paused":true,` +
				`"dynamics_state":"Active","dynamics_status":"In Progress"}|1`,
			// parent case noted by its case number; k6 is of no known kind, so no SLA attributes
			`i2|c4|a1|NULL|NULL|Invoice question|<p>Line one<br>Line &lt;two&gt;</p>|1641204000|1641290400|closed|NULL|1641290400|` +
				`{"dynamics_case_id":"i2","dynamics_case_number":"CAS-002","dynamics_case_type":"Problem","dynamics_origin":"Phone",` +
				`"dynamics_parent_case_number":"CAS-001","dynamics_priority":"Normal","dynamics_state":"Resolved","dynamics_status":"Problem Solved"}|2`,
			`i3|c5|a2|u1|NULL|お問い合わせ|<p>お問い合わせ</p>|1641376800|1641463200|snoozed|1893456000|NULL|` +
				`{"dynamics_case_id":"i3","dynamics_case_number":"CAS-003","dynamics_priority":"Low","dynamics_state":"Active","dynamics_status":"On Hold"}|3`,
			`i5|c5|a2|NULL|NULL|Never mind|<p>Never mind</p>|1641636000|1641722400|closed|NULL|1641722400|` +
				`{"dynamics_case_id":"i5","dynamics_case_number":"CAS-005","dynamics_priority":"Normal","dynamics_state":"Cancelled","dynamics_status":"Cancelled"}|4`,
			`i6|c6|NULL|NULL|NULL|Need info|<p>plain</p>|1641808800|1641812400|snoozed|NULL|NULL|` +
				`{"dynamics_case_id":"i6","dynamics_case_number":"CAS-006","dynamics_priority":"Normal","dynamics_state":"Active","dynamics_status":"Waiting for Details"}|5`,
		}},
		{"parts", "select * from stage.conversation_parts order by ord", []string{
			// e2 was sent before e1 although it sorts after it by id; the call,
			// the appointment and the task fall between the emails by time.
			"email|e2|i1|1|admin|NULL|u1|comment|<p>On it</p>|1641034800|1",
			"phonecall|pc1|i1|2|admin|NULL|u1|note|<p>Phone call (incoming): Customer called<br>Number: +1 555<br>" +
				"Duration: 12 min<br>Status: Received<br>When: 2022-01-01 11:20 UTC</p><p>Smoke &lt;again&gt;</p>|1641036720|2",
			"email|e1|i1|3|contact|c1|NULL|comment|<div>Still burning 🔥</div>|1641038400|3",
			"email|e3|i1|4|contact|c1|NULL|comment|<p>thanks</p>|1641042000|4",
			"appointment|ap1|i1|5|admin|NULL|u1|note|<p>Appointment: On-site visit<br>Start: 2022-01-02 09:00 UTC<br>" +
				"End: 2022-01-02 10:00 UTC<br>Location: Lyon<br>Attendees: Jane Sample<br>Status: Completed</p>|1641047400|5",
			"task|tk3|i1|6|admin|NULL|u1|note|<p>Task: Order toner<br>Due: 2022-01-10 17:00 UTC<br>Priority: High<br>" +
				"Status: In Progress (50% complete)</p><p>Two cartridges</p>|1641049200|6",
			`email|e8|i3|1|admin|NULL|u1|comment|Waiting on <a href="https://x.example/a" rel="nofollow">you</a>` +
				`<table><tr><td>1</td></tr></table>|1641380400|7`,
			// owned by an agent who is not migrated: the case owner writes it
			"phonecall|pc2|i3|2|admin|NULL|u1|note|<p>Phone call (outgoing): Call back<br>Number: not recorded<br>" +
				"Duration: not recorded<br>Status: Open<br>When: 2022-01-06 09:00 UTC</p>|1641384000|8",
		}},
		// only attributes some staged row carries; typed, with the column each comes from
		{"data attributes", "select model, name, data_type, source_table, source_id, ord from stage.data_attributes order by ord", []string{
			"company|dynamics_city|string|account|address1_city|1",
			"company|dynamics_country|string|account|address1_country|2",
			"company|dynamics_parent_account_id|string|account|parentaccountid|3",
			"company|dynamics_parent_account_name|string|account|parentaccountid|4",
			"company|dynamics_postal_code|string|account|address1_postalcode|5",
			"company|dynamics_region|string|account|address1_stateorprovince|6",
			"contact|dynamics_contact_id|string|contact|contactid|7",
			"contact|dynamics_do_not_bulk_email|boolean|contact|donotbulkemail|8",
			"contact|dynamics_do_not_email|boolean|contact|donotemail|9",
			"contact|dynamics_first_name|string|contact|firstname|10",
			"contact|dynamics_last_name|string|contact|lastname|11",
			"conversation|dynamics_case_id|string|incident|incidentid|12",
			"conversation|dynamics_case_number|string|incident|ticketnumber|13",
			"conversation|dynamics_case_type|string|incident|casetypecode|14",
			"conversation|dynamics_entitlement|string|entitlement|name|15",
			"conversation|dynamics_entitlement_allocation|string|entitlement|allocationtypecode|16",
			"conversation|dynamics_entitlement_channels|string|entitlementchannel|channel|17",
			"conversation|dynamics_entitlement_end|date|entitlement|enddate|18",
			"conversation|dynamics_entitlement_remaining_terms|float|entitlement|remainingterms|19",
			"conversation|dynamics_entitlement_start|date|entitlement|startdate|20",
			"conversation|dynamics_entitlement_total_terms|float|entitlement|totalterms|21",
			"conversation|dynamics_first_response_by|date|slakpiinstance|failuretime|22",
			"conversation|dynamics_first_response_status|string|slakpiinstance|status|23",
			"conversation|dynamics_first_response_warning|date|slakpiinstance|warningtime|24",
			"conversation|dynamics_origin|string|incident|caseorigincode|25",
			"conversation|dynamics_parent_case_number|string|incident|parentcaseid|26",
			"conversation|dynamics_priority|string|incident|prioritycode|27",
			"conversation|dynamics_resolve_by|date|slakpiinstance|failuretime|28",
			"conversation|dynamics_resolve_by_status|string|slakpiinstance|status|29",
			"conversation|dynamics_resolve_by_warning|date|slakpiinstance|warningtime|30",
			"conversation|dynamics_sla|string|sla|name|31",
			"conversation|dynamics_sla_business_hours|string|sla|businesshoursid|32",
			"conversation|dynamics_sla_paused|boolean|slakpiinstance|status|33",
			"conversation|dynamics_state|string|incident|statecode|34",
			"conversation|dynamics_status|string|incident|statuscode|35",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertRows(t, dbPath, tt.query, tt.want) })
	}
}

func TestRunRejectsWithReasons(t *testing.T) {
	dbPath, _, err := runFixture(t, sampleTables())
	if err != nil {
		t.Fatal(err)
	}
	q := `select object, source_id, rule from (
		select 'admins' as object, source_id, rule from rejects.admins
		union all select 'teams', source_id, rule from rejects.teams
		union all select 'companies', source_id, rule from rejects.companies
		union all select 'contacts', source_id, rule from rejects.contacts
		union all select 'conversations', source_id, rule from rejects.conversations
		union all select 'conversation_parts', source_id, rule from rejects.conversation_parts)
		order by object, source_id`
	assertRows(t, dbPath, q, []string{
		"admins|u2|no_email",
		"companies|a3|missing_name",
		"conversation_parts|e4|no_admin",
		"conversation_parts|e5|parent_rejected",
		"conversation_parts|tk1|no_admin",
		"conversation_parts|tk2|parent_rejected",
		"conversations|i4|no_contact",
		"teams|q3|missing_name",
	})
	assertRows(t, dbPath, "select source_table, source_id, reason from reports.out_of_scope "+
		"where source_table in ('systemuser', 'queue', 'email', 'phonecall') order by all", []string{
		"email|e6|email not regarding a case",
		"email|e7|email not regarding a case",
		"email|e9|email never sent or received (draft, failed or cancelled)",
		"phonecall|pc3|phone call regarding neither a case nor a contact (notes on companies are not migrated yet)",
		"queue|q2|private (personal) queue, not a team",
		"systemuser|u3|application or non-interactive user, not an agent",
	})
	assertRows(t, dbPath, "select source_id, note from reports.notes where object <> 'contacts' order by all", []string{
		"e3|sender has no partyid: attributed to the conversation contact (address used: jane.other@example.com)",
		"i2|contact from the account primarycontactid",
		"i3|contact: oldest contact of the account",
		"i3|parent case i99 is not in the snapshot: dynamics_parent_case_number left empty",
		"pc2|owner is not a migrated agent: note written by the case owner",
	})
	assertRows(t, dbPath, "select source_table, source_id, reason from reports.out_of_scope "+
		"where source_table in ('sla', 'slaitem', 'entitlement', 'entitlementchannel', 'slakpiinstance') order by all", []string{
		"entitlement|en1|consumed as conversation attributes of its cases (dynamics_entitlement*)",
		"entitlement|en2|entitlement of no migrated case: listed in the SLA inventory",
		"entitlementchannel|ec1|consumed as channel restrictions of its entitlement (dynamics_entitlement_channels)",
		"entitlementchannel|ec2|consumed as channel restrictions of its entitlement (dynamics_entitlement_channels)",
		"entitlementchannel|ec3|channel of an entitlement of no migrated case",
		"sla|s1|SLA definition: listed in reports.sla_definitions to rebuild by hand in Intercom",
		"sla|s2|SLA definition: listed in reports.sla_definitions to rebuild by hand in Intercom",
		"slaitem|si1|SLA item (KPI target): listed in reports.sla_definitions to rebuild by hand in Intercom",
		"slaitem|si2|SLA item (KPI target): listed in reports.sla_definitions to rebuild by hand in Intercom",
		"slakpiinstance|k1|consumed as SLA conversation attributes of its case",
		"slakpiinstance|k2|consumed as SLA conversation attributes of its case",
		"slakpiinstance|k3|older SLA timer of the same kind: its case carries the latest",
		"slakpiinstance|k4|SLA timer of a case that was not migrated",
		"slakpiinstance|k5|SLA timer not regarding a case in the snapshot",
		"slakpiinstance|k6|SLA timer neither first response nor resolve by: counted in the SLA inventory",
	})
	// every SLA definition is in the inventory, items with their targets and timer counts
	assertRows(t, dbPath, "select source_table, source_id, sla_name, sla_state, business_hours, item_name, kpi_field, "+
		"warn_after_minutes, failure_after_minutes, allow_pause_resume, kpi_instances, ord from reports.sla_definitions order by ord",
		[]string{
			"sla|s2|Legacy SLA|Draft|NULL|NULL|NULL|NULL|NULL|false|0|1",
			"slaitem|si1|Standard SLA|Active|Business hours|First response|firstresponsebykpiid|360|480|false|0|2",
			"slaitem|si2|Standard SLA|Active|Business hours|Resolve by|resolvebykpiid|3240|4320|true|4|3",
		})
	// every reason in a rejects table has a row in rejects_by_reason
	assertRows(t, dbPath, "select object, source_table, rule, rows from reports.rejects_by_reason order by all", []string{
		"admins|systemuser|no_email|1",
		"companies|account|missing_name|1",
		"conversation_parts|email|no_admin|1",
		"conversation_parts|email|parent_rejected|1",
		"conversation_parts|task|no_admin|1",
		"conversation_parts|task|parent_rejected|1",
		"conversations|incident|no_contact|1",
		"teams|queue|missing_name|1",
	})
}

func TestRunConservation(t *testing.T) {
	_, res, err := runFixture(t, sampleTables())
	if err != nil {
		t.Fatal(err)
	}
	want := []Reconciliation{
		{"admins", "systemuser", 3, 3, 1, 0, 1, 1, true},
		{"teams", "queue", 3, 3, 1, 0, 1, 1, true},
		{"companies", "account", 4, 4, 3, 0, 1, 0, true},
		{"contacts", "contact", 7, 7, 5, 2, 0, 0, true},
		{"conversations", "incident", 6, 6, 5, 0, 1, 0, true},
		{"conversation_parts", "email", 9, 9, 4, 0, 2, 3, true},
		{"email_participants", "activityparty", 7, 7, 0, 0, 0, 7, true},
		{"case_routing", "queueitem", 2, 2, 0, 0, 0, 2, true},
		{"conversation_parts", "phonecall", 3, 3, 2, 0, 0, 1, true},
		{"conversation_parts", "task", 3, 3, 1, 0, 2, 0, true},
		{"conversation_parts", "appointment", 1, 1, 1, 0, 0, 0, true},
		{"sla_definitions", "sla", 2, 2, 0, 0, 0, 2, true},
		{"sla_definitions", "slaitem", 2, 2, 0, 0, 0, 2, true},
		{"conversation_attributes", "entitlement", 2, 2, 0, 0, 0, 2, true},
		{"conversation_attributes", "entitlementchannel", 3, 3, 0, 0, 0, 3, true},
		{"conversation_attributes", "slakpiinstance", 6, 6, 0, 0, 0, 6, true},
	}
	// The reconciliation lists these tables in this order; tables added
	// after them (knowledge) are checked by their own tests, but every row
	// must conserve.
	if len(res.Reconciliation) < len(want) || !reflect.DeepEqual(res.Reconciliation[:len(want)], want) {
		t.Errorf("reconciliation\n got %+v\nwant %+v", res.Reconciliation, want)
	}
	for _, r := range res.Reconciliation {
		if !r.Conserved {
			t.Errorf("%s does not conserve: %+v", r.SourceTable, r)
		}
	}
	if res.Staged["contacts"] != 5 || res.Staged["conversation_parts"] != 8 || res.Staged["data_attributes"] != 35 {
		t.Errorf("staged = %v", res.Staged)
	}
}

// allTables dumps every table of stage, rejects and reports in stored order.
func allTables(t *testing.T, dbPath string) map[string][]string {
	t.Helper()
	names := queryRows(t, dbPath, `select schema_name || '.' || table_name from duckdb_tables()
		where schema_name in ('stage', 'rejects', 'reports') order by 1`)
	out := map[string][]string{}
	for _, n := range names {
		out[n] = queryRows(t, dbPath, "select * from "+n)
	}
	return out
}

func TestRunDeterministicAndIdempotent(t *testing.T) {
	snap := t.TempDir()
	writeSnapshot(t, snap, sampleTables())
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.duckdb"), filepath.Join(dir, "b.duckdb")
	for _, p := range []string{a, b, b} { // b twice: a rerun rebuilds in place
		if _, err := Run(context.Background(), Config{SnapshotDir: snap, DBPath: p}); err != nil {
			t.Fatal(err)
		}
	}
	ta, tb := allTables(t, a), allTables(t, b)
	if len(ta) < 15 {
		t.Fatalf("only %d tables: %v", len(ta), ta)
	}
	if !reflect.DeepEqual(ta, tb) {
		for name := range ta {
			if !reflect.DeepEqual(ta[name], tb[name]) {
				t.Errorf("%s differs between runs:\n%v\n%v", name, ta[name], tb[name])
			}
		}
	}
	if st, err := os.Stat(a); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("staging file mode = %v, %v; want 0600", st.Mode(), err)
	}
}

func TestRunRefusesTamperedParquet(t *testing.T) {
	snap := t.TempDir()
	writeSnapshot(t, snap, sampleTables())
	path := filepath.Join(snap, "tables", "contact", "part-00000.parquet")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), Config{SnapshotDir: snap, DBPath: filepath.Join(t.TempDir(), "s.duckdb")})
	if err == nil || !strings.Contains(err.Error(), "tables/contact/part-00000.parquet") {
		t.Fatalf("err = %v, want a sha256 mismatch naming the contact file", err)
	}
}

func TestRunRefusesIncompleteSnapshot(t *testing.T) {
	snap := t.TempDir()
	writeSnapshot(t, snap, sampleTables())
	man := filepath.Join(snap, "manifest.json")
	b, _ := os.ReadFile(man)
	os.WriteFile(man, []byte(strings.Replace(string(b), `"complete": true`, `"complete": false`, 1)), 0o644)
	_, err := Run(context.Background(), Config{SnapshotDir: snap, DBPath: filepath.Join(t.TempDir(), "s.duckdb")})
	if err == nil || !strings.Contains(err.Error(), "not complete") {
		t.Fatalf("err = %v, want incomplete snapshot", err)
	}
}

// A snapshot without queue items, activity parties or systemusers still
// transforms: the views are empty, and parts fall back to the case owner.
func TestRunAbsentTables(t *testing.T) {
	tables := withKnowledge() // articles_test.go: only the two tables below are absent
	delete(tables, "queueitem")
	delete(tables, "activityparty")
	dbPath, res, err := runFixture(t, tables)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Notes) != 2 || !strings.Contains(strings.Join(res.Notes, ";"), "queueitem: not in the snapshot (status absent)") {
		t.Errorf("notes = %v", res.Notes)
	}
	assertRows(t, dbPath, "select source_id, team_source_id from stage.conversations where source_id = 'i1'",
		[]string{"i1|NULL"})
	// without sender parties: incoming → case contact, outgoing → case owner
	assertRows(t, dbPath, "select source_id, author_type, contact_source_id, admin_source_id from stage.conversation_parts order by ord",
		[]string{"e2|admin|NULL|u1", "pc1|admin|NULL|u1", "e1|contact|c1|NULL", "e3|contact|c1|NULL",
			"ap1|admin|NULL|u1", "tk3|admin|NULL|u1", "e8|admin|NULL|u1", "pc2|admin|NULL|u1"})
	assertRows(t, dbPath, "select source_table, snapshot_rows, snapshot_status, source_count, conserved "+
		"from reports.reconciliation where source_table in ('activityparty', 'queueitem') order by ord",
		[]string{"activityparty|0|absent|-1|true", "queueitem|0|absent|-1|true"})
}

// Columns the SQL reads but the snapshot lacks become typed nulls.
func TestRunMissingColumns(t *testing.T) {
	tables := sampleTables()
	tables["queue"] = fixtureTable{schema: "queueid varchar, name varchar", rows: []string{"('q1', 'Support')"}}
	dbPath, _, err := runFixture(t, tables)
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, dbPath, "select * from stage.teams", []string{"queue|q1|Support|1"})
}

// The real duplicate-email shape from BR02: rows 1-3 are one person.
func TestRunBR02DuplicateEmails(t *testing.T) {
	csvPath, err := filepath.Abs("testdata/br02_contacts_duplicate_email.csv")
	if err != nil {
		t.Fatal(err)
	}
	tables := sampleTables()
	tables["contact"] = fixtureTable{query: "select contactid, fullname, emailaddress1, emailaddress2, " +
		"cast(createdon as timestamptz) as createdon, cast(statecode as integer) as statecode " +
		"from read_csv('" + csvPath + "', all_varchar = true)"}
	tables["incident"] = fixtureTable{schema: sampleTables()["incident"].schema}
	tables["email"] = fixtureTable{schema: sampleTables()["email"].schema}
	dbPath, res, err := runFixture(t, tables)
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, dbPath, "select source_id, role, email, name, merged_source_ids from stage.contacts order by ord", []string{
		"6f1c6e2a-0b1f-e911-a98a-000d3a1c5a01|user|jane.sample@example.com|Jane Sample|" +
			"[8b3e804c-0b1f-e911-a98a-000d3a1c5a03 7a2d7f3b-0b1f-e911-a98a-000d3a1c5a02]",
		"9c4f915d-0b1f-e911-a98a-000d3a1c5a04|user|sam.other@example.com|Sam Other|[]",
	})
	for _, r := range res.Reconciliation {
		if r.SourceTable == "contact" && (r.Staged != 2 || r.Merged != 2 || !r.Conserved) {
			t.Errorf("contact reconciliation = %+v", r)
		}
	}
}

// A snapshot that repeats a primary key (paging drift) stages one copy; the
// other is out of scope, so the count still conserves and nothing is doubled.
func TestRunDuplicateKeys(t *testing.T) {
	tables := sampleTables()
	acc := tables["account"]
	acc.rows = append(acc.rows, acc.rows[3]) // a4 twice
	tables["account"] = acc
	dbPath, res, err := runFixture(t, tables)
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, dbPath, "select source_id from stage.companies order by ord", []string{"a2", "a1", "a4"})
	assertRows(t, dbPath, "select source_id, reason from reports.out_of_scope where source_table = 'account'",
		[]string{"a4|duplicate accountid in the snapshot: one copy kept"})
	assertRows(t, dbPath, "select source_id from rejects.conversations", []string{"i4"})
	if r := res.Reconciliation[2]; r.SnapshotRows != 5 || r.Staged != 3 || r.OutOfScope != 1 || !r.Conserved {
		t.Errorf("account reconciliation = %+v", r)
	}
}

func TestConservationError(t *testing.T) {
	if err := conservationError([]Reconciliation{{Object: "x", SourceTable: "y", Conserved: true}}); err != nil {
		t.Errorf("conserved rows gave %v", err)
	}
	err := conservationError([]Reconciliation{{Object: "contacts", SourceTable: "contact", SnapshotRows: 3, Staged: 1}})
	if err == nil || !strings.Contains(err.Error(), "contact (contacts): snapshot 3 != staged 1") {
		t.Errorf("err = %v", err)
	}
}
