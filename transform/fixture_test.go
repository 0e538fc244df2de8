package transform

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// fixtureTable is one snapshot table written as Parquet by DuckDB itself:
// schema is a column list as in create table, rows are SQL value tuples.
type fixtureTable struct {
	schema string
	rows   []string
	query  string // when set, the Parquet is written from this query instead
}

// writeSnapshot writes tables/<t>/part-00000.parquet for each table plus a
// manifest.json with correct sha256s, the way the snapshot step lays it out.
func writeSnapshot(t *testing.T, dir string, tables map[string]fixtureTable) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	man := map[string]any{"tool_version": "test", "org_url": "https://test.crm.dynamics.com",
		"started_at": "2026-12-03T10:00:00Z", "finished_at": "2026-12-03T10:05:00Z", "complete": true}
	entries := map[string]any{}
	for name, ft := range tables {
		rel := "tables/" + name + "/part-00000.parquet"
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		stmts := []string{"create or replace table fx (" + ft.schema + ")"}
		if len(ft.rows) > 0 {
			stmts = append(stmts, "insert into fx values "+strings.Join(ft.rows, ",\n"))
		}
		if ft.query != "" {
			stmts = []string{"create or replace table fx as " + ft.query}
		}
		stmts = append(stmts, "copy (select * from fx) to '"+path+"' (format parquet, compression zstd)")
		for _, s := range stmts {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("fixture %s: %v\n%s", name, err, s)
			}
		}
		var n int64
		if err := db.QueryRow("select count(*) from fx").Scan(&n); err != nil {
			t.Fatal(err)
		}
		entries[name] = map[string]any{"entity_set": name + "s", "status": "complete",
			"source_count": n, "rows": n, "pages": 1,
			"files": []map[string]any{{"path": rel, "rows": n, "bytes": fileSize(t, path),
				"sha256": fileSHA(t, path)}}}
	}
	man["tables"] = entries
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

const (
	lookupCols = "_%s_value varchar, _%s_value__lookuplogicalname varchar, _%s_value__formatted varchar"
)

func lk(name string) string { return strings.ReplaceAll(lookupCols, "%s", name) }

// sampleTables is the fixture most tests share. Ids are short and readable;
// the comments say what each row exercises.
func sampleTables() map[string]fixtureTable {
	return map[string]fixtureTable{
		"systemuser": {
			schema: "systemuserid varchar, fullname varchar, firstname varchar, lastname varchar, " +
				"internalemailaddress varchar, applicationid varchar, accessmode integer, accessmode__label varchar, " +
				"isdisabled boolean, createdon timestamptz",
			rows: []string{
				"('u1', 'Agent One', 'Agent', 'One', ' Agent1@Example.com', null, 0, 'Read-Write', false, '2015-01-01 00:00:00+00')",
				"('u2', 'No Mail', 'No', 'Mail', null, null, 0, 'Read-Write', false, '2015-01-01 00:00:00+00')", // reject no_email
				"('u3', '# App', null, null, 'app@example.com', 'app-guid', 4, 'Non-interactive', false, '2015-01-01 00:00:00+00')",
			},
		},
		"queue": {
			schema: "queueid varchar, name varchar, emailaddress varchar, queueviewtype integer, queueviewtype__label varchar, " +
				"statecode integer, statecode__label varchar, createdon timestamptz",
			rows: []string{
				"('q1', 'Support', 'support@example.com', 0, 'Public', 0, 'Active', '2015-01-01 00:00:00+00')",
				"('q2', '<Agent One>', null, 1, 'Private', 0, 'Active', '2015-01-01 00:00:00+00')", // personal queue
				"('q3', '  ', null, 0, 'Public', 0, 'Active', '2015-01-01 00:00:00+00')",           // reject missing_name
			},
		},
		"account": {
			schema: "accountid varchar, name varchar, websiteurl varchar, industrycode integer, industrycode__label varchar, " +
				lk("primarycontactid") + ", createdon timestamptz, modifiedon timestamptz, address1_city varchar, " +
				"address1_stateorprovince varchar, address1_country varchar, address1_postalcode varchar, " +
				"numberofemployees integer, " + lk("parentaccountid"),
			rows: []string{
				// website with upper-case scheme, host and path and a trailing slash; full address and size
				"('a1', 'Acme', 'HTTPS://Acme.Example/Path/', 1, 'Accounting', 'c4', 'contact', 'Zoë', '2017-03-01 12:00:00+00', null, " +
					"' Lyon ', 'Auvergne-Rhône-Alpes', 'France', '69001', 250, null, null, null)",
				// website without a scheme; child of a1 (name taken from the lookup's formatted value)
				"('a2', '株式会社テスト', 'www.Test.jp', null, null, null, null, null, '2017-02-01 12:00:00+00', null, " +
					"'東京', null, '日本', null, null, 'a1', 'account', 'Acme')",
				"('a3', null, null, null, null, null, null, null, '2017-01-01 12:00:00+00', null, null, null, null, null, null, null, null, null)", // reject missing_name
				// parent not in the snapshot: the id and formatted name are still noted
				"('a4', 'Lonely Ltd', '  ', null, null, null, null, null, '2017-04-01 12:00:00+00', null, null, null, null, null, 0, " +
					"'a9', 'account', 'Gone Corp')",
			},
		},
		"contact": {
			schema: "contactid varchar, fullname varchar, firstname varchar, lastname varchar, emailaddress1 varchar, " +
				"emailaddress2 varchar, emailaddress3 varchar, telephone1 varchar, mobilephone varchar, " +
				lk("parentcustomerid") + ", statecode integer, statecode__label varchar, createdon timestamptz, modifiedon timestamptz, " +
				"donotemail boolean, donotbulkemail boolean",
			rows: []string{
				// no bulk email: unsubscribed
				"('c1', 'Jane Sample', 'Jane', 'Sample', 'jane@example.com', null, null, '+1 555', null, 'a1', 'account', 'Acme', 0, 'Active', '2018-02-01 09:00:00+00', null, false, true)",
				// older but inactive duplicate with trailing space and different case: merged into c1;
				// its donotemail carries over to the group
				"('c2', 'Jane Sample (old)', null, null, 'Jane@Example.com ', null, null, null, null, null, null, null, 1, 'Inactive', '2016-07-15 13:45:10+00', null, true, null)",
				// duplicate through emailaddress2
				"('c3', 'J. Sample', null, null, null, ' JANE@example.com', null, null, null, null, null, null, 0, 'Active', '2020-11-30 23:59:59+00', null, null, null)",
				"('c4', null, 'Zoë 😀', 'Ünïcode', null, null, null, null, '+44 7700', 'a1', 'account', 'Acme', 0, 'Active', '2019-01-01 00:00:00+00', null, false, false)",
				// one word, no first or last name: a first name only
				"('c5', '王小明', null, null, 'wang@example.cn', null, null, null, null, 'a2', 'account', '株式会社テスト', 0, 'Active', '2019-06-01 00:00:00+00', null, null, null)",
				// fullname only: split at the last space
				"('c6', ' Dr. Bad  Mail ', null, null, 'not an email', null, null, null, null, null, null, null, 0, 'Active', '2021-01-01 00:00:00+00', null, null, null)",
				"('c7', 'Fallback', null, null, 'broken@', 'fallback@example.com', null, null, null, 'c1', 'contact', 'Jane', 0, 'Active', '2021-02-01 00:00:00+00', null, null, null)",
			},
		},
		"incident": {
			schema: "incidentid varchar, title varchar, ticketnumber varchar, description varchar, " +
				"prioritycode integer, prioritycode__label varchar, statecode integer, statecode__label varchar, " +
				"statuscode integer, statuscode__label varchar, " + lk("customerid") + ", " + lk("primarycontactid") + ", " +
				lk("ownerid") + ", createdon timestamptz, modifiedon timestamptz, followupby timestamptz, " +
				"caseorigincode integer, caseorigincode__label varchar, casetypecode integer, casetypecode__label varchar, " +
				lk("parentcaseid") + ", " + lk("entitlementid") + ", " + lk("firstresponsebykpiid") + ", " + lk("resolvebykpiid"),
			rows: []string{
				// customer is a merged contact; open; HTML with script; origin, type, entitlement and SLA timers
				`('i1', 'Printer on fire', 'CAS-001', '<p>Help <b>now</b></p><script>alert(1)</script>', 1, 'High', 0, 'Active', 1, 'In Progress',
				  'c2', 'contact', 'Jane', null, null, null, 'u1', 'systemuser', 'Agent One', '2022-01-01 10:00:00+00', '2022-01-02 10:00:00+00', null, 2, 'Email', 1, 'Question', null, null, null, 'en1', 'entitlement', 'Gold support', 'k1', 'slakpiinstance', 'First Response By KPI', null, null, null)`,
				// customer is an account with a primary contact (a lead); resolved; plain text; owned by a team;
				// child of i1
				`('i2', 'Invoice question', 'CAS-002', 'Line one' || chr(10) || 'Line <two>', 2, 'Normal', 1, 'Resolved', 5, 'Problem Solved',
				  'a1', 'account', 'Acme', null, null, null, 't1', 'team', 'Team', '2022-01-03 10:00:00+00', '2022-01-04 10:00:00+00', null, 1, 'Phone', 2, 'Problem', 'i1', 'incident', 'Printer on fire', null, null, null, null, null, null, null, null, null)`,
				// account without primary contact: its only contact; on hold → snoozed until followupby;
				// parent case not in the snapshot
				`('i3', 'お問い合わせ', 'CAS-003', null, 3, 'Low', 0, 'Active', 2, 'On Hold',
				  'a2', 'account', '株式会社テスト', null, null, null, 'u1', 'systemuser', 'Agent One', '2022-01-05 10:00:00+00', '2022-01-06 10:00:00+00', '2030-01-01 00:00:00+00', null, null, null, null, 'i99', 'incident', 'Gone', null, null, null, null, null, null, null, null, null)`,
				// account without any contact: reject no_contact
				`('i4', 'Orphan', 'CAS-004', 'x', 2, 'Normal', 0, 'Active', 1, 'In Progress',
				  'a4', 'account', 'Lonely Ltd', null, null, null, 'u1', 'systemuser', 'Agent One', '2022-01-07 10:00:00+00', '2022-01-07 11:00:00+00', null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null)`,
				// cancelled, empty description → title as body
				`('i5', 'Never mind', 'CAS-005', '', 2, 'Normal', 2, 'Cancelled', 6, 'Cancelled',
				  'c5', 'contact', '王小明', null, null, null, 'u2', 'systemuser', 'No Mail', '2022-01-08 10:00:00+00', '2022-01-09 10:00:00+00', null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null)`,
				// waiting for details without followupby; lead customer
				`('i6', 'Need info', 'CAS-006', 'plain', 2, 'Normal', 0, 'Active', 3, 'Waiting for Details',
				  'c6', 'contact', 'Bad Mail', null, null, null, null, null, null, '2022-01-10 10:00:00+00', '2022-01-10 11:00:00+00', null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null)`,
			},
		},
		"email": {
			schema: "activityid varchar, subject varchar, description varchar, directioncode boolean, " + lk("regardingobjectid") +
				", actualend timestamptz, senton timestamptz, createdon timestamptz, modifiedon timestamptz, " +
				"statecode integer, statecode__label varchar",
			rows: []string{
				// incoming from a merged contact, latest in time
				`('e1', 'Re: fire', '<div>Still burning 🔥</div>', false, 'i1', 'incident', 'Printer on fire', '2022-01-01 12:00:00+00', null, '2022-01-01 12:00:05+00', null, 1, 'Completed')`,
				// outgoing from the agent, earlier than e1
				`('e2', 'Re: fire', '<p>On it</p><style>p{color:red}</style>', true, 'i1', 'incident', 'Printer on fire', '2022-01-01 11:00:00+00', null, '2022-01-01 11:00:05+00', null, 1, 'Completed')`,
				// incoming whose sender has no partyid; only createdon
				`('e3', 'Re: fire', 'thanks', false, 'i1', 'incident', 'Printer on fire', null, null, '2022-01-01 13:00:00+00', null, 1, 'Completed')`,
				// outgoing sent from a queue on a team-owned case: reject no_admin
				`('e4', 'Invoice', '<p>see attached</p>', true, 'i2', 'incident', 'Invoice question', '2022-01-03 11:00:00+00', null, '2022-01-03 11:00:00+00', null, 1, 'Completed')`,
				// about a rejected case
				`('e5', 'Orphan', 'x', false, 'i4', 'incident', 'Orphan', null, null, '2022-01-07 10:30:00+00', null, 1, 'Completed')`,
				// about an account, and about nothing: out of scope
				`('e6', 'Hello', 'x', true, 'a1', 'account', 'Acme', null, null, '2022-01-01 00:00:00+00', null, 1, 'Completed')`,
				`('e7', 'Loose', 'x', true, null, null, null, null, null, '2022-01-01 00:00:00+00', null, 1, 'Completed')`,
				// outgoing with legacy markup, sent time from senton
				`('e8', 'Status', '<font face="Arial" color="red">Waiting</font> on <a href="https://x.example/a">you</a><table><tr><td>1</td></tr></table>', true, 'i3', 'incident', 'お問い合わせ', null, '2022-01-05 11:00:00+00', '2022-01-05 10:59:00+00', null, 1, 'Completed')`,
				// a draft reply on i1: never sent, out of scope
				`('e9', 'Draft', '<p>draft</p>', true, 'i1', 'incident', 'Printer on fire', null, null, '2022-01-01 14:00:00+00', null, 0, 'Open')`,
			},
		},
		"activityparty": {
			schema: "activitypartyid varchar, addressused varchar, " + lk("activityid") + ", " + lk("partyid") +
				", participationtypemask integer, participationtypemask__label varchar",
			rows: []string{
				"('p1', 'jane@example.com', 'e1', 'email', null, 'c3', 'contact', 'J. Sample', 1, 'Sender')",
				"('p2', 'agent1@example.com', 'e1', 'email', null, 'u1', 'systemuser', 'Agent One', 2, 'To Recipient')",
				"('p3', 'agent1@example.com', 'e2', 'email', null, 'u1', 'systemuser', 'Agent One', 1, 'Sender')",
				"('p4', 'jane.other@example.com', 'e3', 'email', null, null, null, null, 1, 'Sender')",
				"('p5', 'support@example.com', 'e4', 'email', null, 'q1', 'queue', 'Support', 1, 'Sender')",
				"('p6', 'agent1@example.com', 'e8', 'email', null, 'u1', 'systemuser', 'Agent One', 1, 'Sender')",
				"('p7', 'jane@example.com', 'ap1', 'appointment', null, 'c1', 'contact', 'Jane Sample', 5, 'Required attendee')",
			},
		},
		"phonecall": {
			schema: "activityid varchar, subject varchar, description varchar, phonenumber varchar, directioncode boolean, " +
				"actualdurationminutes integer, statecode integer, statecode__label varchar, statuscode integer, " +
				"statuscode__label varchar, " + lk("regardingobjectid") + ", " + lk("ownerid") +
				", actualstart timestamptz, actualend timestamptz, scheduledstart timestamptz, createdon timestamptz",
			rows: []string{
				// incoming call on i1 by its agent, between e2 and e1 in time
				`('pc1', 'Customer called', 'Smoke <again>', '+1 555', false, 12, 1, 'Completed', 4, 'Received',
				  'i1', 'incident', 'Printer on fire', 'u1', 'systemuser', 'Agent One', '2022-01-01 11:20:00+00', '2022-01-01 11:32:00+00', null, '2022-01-01 11:20:00+00')`,
				// a call still to make, owned by an agent who is not migrated: the case owner writes it
				`('pc2', 'Call back', null, null, true, null, 0, 'Open', 1, 'Open',
				  'i3', 'incident', 'お問い合わせ', 'u2', 'systemuser', 'No Mail', null, null, '2022-01-06 09:00:00+00', '2022-01-05 12:00:00+00')`,
				// about an account: out of scope until notes on companies are migrated
				`('pc3', 'Account call', null, null, true, 5, 1, 'Completed', 2, 'Made',
				  'a1', 'account', 'Acme', 'u1', 'systemuser', 'Agent One', null, '2022-01-02 00:00:00+00', null, '2022-01-02 00:00:00+00')`,
			},
		},
		"task": {
			schema: "activityid varchar, subject varchar, description varchar, percentcomplete integer, prioritycode integer, " +
				"prioritycode__label varchar, statecode integer, statecode__label varchar, statuscode integer, " +
				"statuscode__label varchar, " + lk("regardingobjectid") + ", " + lk("ownerid") +
				", scheduledend timestamptz, actualend timestamptz, createdon timestamptz",
			rows: []string{
				// on a team-owned case, owned by the team: no agent to write it
				`('tk1', 'Check invoice', null, 100, 1, 'Normal', 1, 'Completed', 5, 'Completed',
				  'i2', 'incident', 'Invoice question', 't1', 'team', 'Team', '2022-01-05 00:00:00+00', '2022-01-04 09:00:00+00', '2022-01-03 12:00:00+00')`,
				// on a rejected case
				`('tk2', 'Find contact', null, 0, 2, 'High', 0, 'Open', 2, 'Not Started',
				  'i4', 'incident', 'Orphan', 'u1', 'systemuser', 'Agent One', null, null, '2022-01-07 10:40:00+00')`,
				// open task with a due date on i1, last in time
				`('tk3', 'Order toner', 'Two cartridges', 50, 2, 'High', 0, 'Open', 3, 'In Progress',
				  'i1', 'incident', 'Printer on fire', 'u1', 'systemuser', 'Agent One', '2022-01-10 17:00:00+00', null, '2022-01-01 15:00:00+00')`,
			},
		},
		"appointment": {
			schema: "activityid varchar, subject varchar, description varchar, location varchar, isalldayevent boolean, " +
				"statecode integer, statecode__label varchar, statuscode integer, statuscode__label varchar, " +
				lk("regardingobjectid") + ", " + lk("ownerid") + ", scheduledstart timestamptz, scheduledend timestamptz, createdon timestamptz",
			rows: []string{
				`('ap1', 'On-site visit', null, 'Lyon', false, 1, 'Completed', 3, 'Completed',
				  'i1', 'incident', 'Printer on fire', 'u1', 'systemuser', 'Agent One', '2022-01-02 09:00:00+00', '2022-01-02 10:00:00+00', '2022-01-01 14:30:00+00')`,
			},
		},
		// SLA and entitlement: i1's entitlement en1 has two channels; en2 serves no case. i1 has a
		// first-response timer (k1, named by the case's lookup), a paused resolve-by timer (k2, kind
		// from its SLA item) and an older resolve-by timer (k3); k4 regards a rejected case, k5 an
		// account, k6 is of no known kind.
		"sla": {
			schema: "slaid varchar, name varchar, statecode integer, statecode__label varchar, slatype integer, " +
				"slatype__label varchar, " + lk("businesshoursid") + ", isdefault boolean, allowpauseresume boolean, " +
				"createdon timestamptz, modifiedon timestamptz",
			rows: []string{
				"('s1', 'Standard SLA', 1, 'Active', 1, 'Enhanced', 'cal1', 'calendar', 'Business hours', true, true, '2020-01-01 00:00:00+00', null)",
				"('s2', 'Legacy SLA', 0, 'Draft', 0, 'Standard', null, null, null, false, false, '2019-01-01 00:00:00+00', null)",
			},
		},
		"slaitem": {
			schema: "slaitemid varchar, name varchar, relatedfield varchar, " + lk("slaid") + ", " + lk("businesshoursid") +
				", failureafter integer, warnafter integer, allowpauseresume boolean, sequencenumber integer, " +
				"createdon timestamptz, modifiedon timestamptz",
			rows: []string{
				"('si1', 'First response', 'firstresponsebykpiid', 's1', 'sla', 'Standard SLA', null, null, null, 480, 360, false, 1, '2020-01-01 00:00:00+00', null)",
				"('si2', 'Resolve by', 'resolvebykpiid', 's1', 'sla', 'Standard SLA', null, null, null, 4320, 3240, true, 2, '2020-01-01 00:00:00+00', null)",
			},
		},
		"entitlement": {
			schema: "entitlementid varchar, name varchar, allocationtypecode integer, allocationtypecode__label varchar, " +
				"statecode integer, statecode__label varchar, totalterms decimal(23,10), remainingterms decimal(23,10), " +
				lk("customerid") + ", startdate date, enddate date, createdon timestamptz, modifiedon timestamptz",
			rows: []string{
				"('en1', 'Gold support', 0, 'Number of cases', 1, 'Active', 10, 7, 'a1', 'account', 'Acme', '2021-01-01', '2023-01-01', '2020-12-20 00:00:00+00', null)",
				"('en2', 'Unused', 1, 'Number of hours', 3, 'Expired', 40, 0, 'a2', 'account', '株式会社テスト', '2019-01-01', '2020-01-01', '2018-12-20 00:00:00+00', null)",
			},
		},
		"entitlementchannel": {
			schema: "entitlementchannelid varchar, name varchar, channel integer, channel__label varchar, " + lk("entitlementid") +
				", totalterms decimal(23,10), remainingterms decimal(23,10), createdon timestamptz, modifiedon timestamptz",
			rows: []string{
				"('ec1', 'Phone', 1, 'Phone', 'en1', 'entitlement', 'Gold support', 5, 3, '2021-01-01 00:00:00+00', null)",
				"('ec2', 'Email', 2, 'Email', 'en1', 'entitlement', 'Gold support', 10, 2.5, '2021-01-01 00:00:00+00', null)",
				"('ec3', 'Web', 3, 'Web', 'en2', 'entitlement', 'Unused', 5, 5, '2019-01-01 00:00:00+00', null)",
			},
		},
		"slakpiinstance": {
			schema: "slakpiinstanceid varchar, name varchar, status integer, status__label varchar, " + lk("regarding") + ", " +
				lk("msdyn_slaitemid") + ", failuretime timestamptz, warningtime timestamptz, succeededon timestamptz, " +
				"pausedon timestamptz, createdon timestamptz, modifiedon timestamptz",
			rows: []string{
				"('k1', 'First Response By KPI', 4, 'Succeeded', 'i1', 'incident', 'Printer on fire', null, null, null, " +
					"'2022-01-01 18:00:00+00', '2022-01-01 16:00:00+00', '2022-01-01 11:00:00+00', null, '2022-01-01 10:00:00+00', null)",
				"('k2', 'Resolve By KPI', 3, 'Paused', 'i1', 'incident', 'Printer on fire', 'si2', 'slaitem', 'Resolve by', " +
					"'2022-01-04 10:00:00+00', '2022-01-03 16:00:00+00', null, '2022-01-02 00:00:00+00', '2022-01-01 10:00:00+00', null)",
				"('k3', 'Resolve By KPI', 1, 'Noncompliant', 'i1', 'incident', 'Printer on fire', 'si2', 'slaitem', 'Resolve by', " +
					"'2022-01-02 10:00:00+00', null, null, null, '2022-01-01 09:00:00+00', null)",
				"('k4', 'Resolve By KPI', 0, 'In Progress', 'i4', 'incident', 'Orphan', 'si2', 'slaitem', 'Resolve by', " +
					"'2022-01-10 10:00:00+00', null, null, null, '2022-01-07 10:00:00+00', null)",
				"('k5', 'Resolve By KPI', 0, 'In Progress', 'a1', 'account', 'Acme', 'si2', 'slaitem', 'Resolve by', " +
					"null, null, null, null, '2022-01-07 10:00:00+00', null)",
				"('k6', 'Custom KPI', 0, 'In Progress', 'i2', 'incident', 'Invoice question', null, null, null, " +
					"null, null, null, null, '2022-01-03 10:00:00+00', null)",
			},
		},
		"queueitem": {
			schema: "queueitemid varchar, " + lk("queueid") + ", " + lk("objectid") +
				", statecode integer, statecode__label varchar, enteredon timestamptz, createdon timestamptz",
			rows: []string{
				"('qi1', 'q1', 'queue', 'Support', 'i1', 'incident', 'Printer on fire', 0, 'Active', '2022-01-01 10:01:00+00', '2022-01-01 10:01:00+00')",
				"('qi2', 'q2', 'queue', 'Agent One', 'i2', 'incident', 'Invoice question', 0, 'Active', '2022-01-03 10:01:00+00', '2022-01-03 10:01:00+00')",
			},
		},
	}
}
