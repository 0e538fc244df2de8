package report

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
	"github.com/d2i/d2i/transform"
)

// sampleStaging writes a staging database with n cases inc-001..inc-NNN:
// src.incident (inc-002 twice, the older copy with a stale title), src.email,
// and stage/rejects as transform leaves them. Cases whose number is 7 or a
// multiple of 12 are rejected (no_contact); case i has i%4 emails and as
// many parts, contact con-(i%7) (con-0 has no name, only an e-mail) and
// company acc-(i%3), none when i%5 = 0.
func sampleStaging(t *testing.T, n int) (path string, db *sql.DB) {
	t.Helper()
	path = writeSampleStaging(t, n)
	db, err := openReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return path, db
}

func writeSampleStaging(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "staging.duckdb")
	w, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	id := `'inc-' || lpad(i::varchar, 3, '0')`
	rejected := `(i = 7 or i % 12 = 0)`
	stmts := []string{
		`create schema src; create schema stage; create schema rejects`,
		fmt.Sprintf(`create table src.incident as select %s as incidentid,
			'CAS-' || lpad(i::varchar, 5, '0') as ticketnumber, 'Printer ' || i || ' jams' as title,
			'description ' || i as description,
			case when i %% 3 = 0 then 'Resolved' else 'Active' end as statecode__label,
			case when i %% 3 = 0 then 'Problem Solved' else 'In Progress' end as statuscode__label,
			case when i %% 2 = 0 then 'High' else 'Normal' end as prioritycode__label,
			'Customer ' || i as _customerid_value__formatted,
			timestamptz '2026-01-01 00:00:00+00' + to_hours(i) as createdon,
			timestamptz '2026-02-01 00:00:00+00' + to_minutes(i) as modifiedon
			from range(1, %d) t(i)`, id, n+1),
		`insert into src.incident select incidentid, ticketnumber, 'stale title', description,
			statecode__label, statuscode__label, prioritycode__label, _customerid_value__formatted,
			createdon, modifiedon - to_days(10) from src.incident where incidentid = 'inc-002'`,
		fmt.Sprintf(`create table src.email as select 'em-' || i || '-' || k as activityid,
			%s as _regardingobjectid_value from range(1, %d) t(i), range(0, 3) e(k) where k < i %% 4
			union all select 'em-loose', null`, id, n+1),
		fmt.Sprintf(`create table stage.conversations as select 'incident' as source_table,
			%s as source_id, 'con-' || (i %% 7) as contact_source_id,
			case when i %% 5 <> 0 then 'acc-' || (i %% 3) end as company_source_id,
			'Printer ' || i || ' jams' as title, '<p>secret body ' || i || '</p>' as body,
			1767225600 + i * 3600 as created_at,
			case when i %% 3 = 0 then 'closed' else 'open' end as state,
			json_object('dynamics_case_id', %s, 'dynamics_priority', 'x') as custom_attributes, i as ord
			from range(1, %d) t(i) where not %s`, id, id, n+1, rejected),
		fmt.Sprintf(`create table rejects.conversations as select 'incident' as source_table,
			%s as source_id, 'no_contact' as rule, 'case customer has no contact' as reason
			from range(1, %d) t(i) where %s`, id, n+1, rejected),
		`create table stage.contacts as select 'contact' as source_table, 'con-' || k as source_id,
			case when k > 0 then 'Contact ' || k end as name, 'person' || k || '@example.com' as email
			from range(0, 7) t(k)`,
		`create table stage.companies as select 'account' as source_table, 'acc-' || k as source_id,
			'acc-' || k as company_id, 'Company ' || k as name from range(0, 3) t(k)`,
		`create table stage.conversation_parts as select 'email' as source_table, e.activityid as source_id,
			e._regardingobjectid_value as conversation_source_id, '<p>secret</p>' as body
			from src.email e join stage.conversations c on c.source_id = e._regardingobjectid_value`,
	}
	for _, s := range stmts {
		if _, err := w.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	return path
}

// sampleIDs is the incidentid column of a sample's CSV, in order.
func sampleIDs(t *testing.T, d Doc) []string {
	t.Helper()
	var ids []string
	for _, rec := range d.CSV[1:] {
		ids = append(ids, rec[0])
	}
	return ids
}

// csvRecord is the CSV row of one case, by column name.
func csvRecord(t *testing.T, d Doc, incidentID string) map[string]string {
	t.Helper()
	for _, rec := range d.CSV[1:] {
		if rec[0] == incidentID {
			m := map[string]string{}
			for i, col := range d.CSV[0] {
				m[col] = rec[i]
			}
			return m
		}
	}
	t.Fatalf("%s is not in the sample %v", incidentID, sampleIDs(t, d))
	return nil
}

func TestReviewerSampleSize(t *testing.T) {
	_, big := sampleStaging(t, 60)
	_, small := sampleStaging(t, 12)
	_, empty := sampleStaging(t, 0)
	tests := []struct {
		name string
		db   *sql.DB
		size int
		want int
	}{
		{"default", big, 0, 30},
		{"below the floor", big, 10, 25},
		{"within bounds", big, 40, 40},
		{"above the ceiling", big, 80, 50},
		{"fewer cases than asked", small, 30, 12},
		{"no cases", empty, 30, 0},
	}
	for _, tt := range tests {
		d, err := ReviewerSample(context.Background(), tt.db, SampleInput{Size: tt.size, Seed: 1})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		ids := sampleIDs(t, d)
		if len(ids) != tt.want {
			t.Errorf("%s: %d cases, want %d", tt.name, len(ids), tt.want)
		}
		if got := strings.Count(d.Markdown, "\n## "); got != tt.want {
			t.Errorf("%s: %d case tables in the Markdown, want %d", tt.name, got, tt.want)
		}
		if len(slices.Compact(slices.Clone(ids))) != len(ids) {
			t.Errorf("%s: a case appears twice: %v", tt.name, ids)
		}
	}
}

func TestReviewerSampleSeed(t *testing.T) {
	_, db := sampleStaging(t, 60)
	ctx := context.Background()
	pick := func(seed int64) Doc {
		d, err := ReviewerSample(ctx, db, SampleInput{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	first, again, other := pick(7), pick(7), pick(8)
	if first.Markdown != again.Markdown || !slices.EqualFunc(first.CSV, again.CSV, slices.Equal[[]string]) {
		t.Error("the same seed on the same staging gave two different samples")
	}
	a, b := sampleIDs(t, first), sampleIDs(t, other)
	if slices.Equal(a, b) {
		t.Errorf("seeds 7 and 8 picked the same cases: %v", a)
	}
	if !slices.IsSorted(a) {
		t.Errorf("cases are not listed by ticket number: %v", a)
	}
	// Staging is the sample's only input: a rejected case is as likely as a
	// staged one, so 5 rejects in 60 show up in a sample of 50.
	d, err := ReviewerSample(ctx, db, SampleInput{Size: 50, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.Markdown, "| outcome | — | rejected: no_contact |") {
		t.Errorf("no rejected case among 50 of 60:\n%s", d.Markdown)
	}
}

// One staged and one rejected case, field by field, against what the test
// reads from the staging database itself.
func TestReviewerSampleFields(t *testing.T) {
	_, db := sampleStaging(t, 12)
	d, err := ReviewerSample(context.Background(), db, SampleInput{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}

	var want struct{ title, state, status, prio, customer, created, modified string }
	err = db.QueryRow(`select title, statecode__label, statuscode__label, prioritycode__label,
		_customerid_value__formatted, strftime(createdon, '%Y-%m-%d %H:%M:%SZ'),
		strftime(modifiedon, '%Y-%m-%d %H:%M:%SZ')
		from src.incident where incidentid = 'inc-002' order by modifiedon desc limit 1`).Scan(
		&want.title, &want.state, &want.status, &want.prio, &want.customer, &want.created, &want.modified)
	if err != nil {
		t.Fatal(err)
	}
	var emails, parts string
	if err := db.QueryRow(`select count(*)::varchar from src.email where _regardingobjectid_value = 'inc-002'`).
		Scan(&emails); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`select count(*)::varchar from stage.conversation_parts
		where conversation_source_id = 'inc-002'`).Scan(&parts); err != nil {
		t.Fatal(err)
	}
	got := csvRecord(t, d, "inc-002")
	checks := map[string]string{
		"src_ticketnumber": "CAS-00002", "src_title": want.title, "src_state": want.state,
		"src_status": want.status, "src_priority": want.prio, "src_customer": want.customer,
		"src_createdon": want.created, "src_modifiedon": want.modified, "src_emails": emails,
		"dst_outcome": "staged", "dst_title": "Printer 2 jams", "dst_state": "open",
		"dst_created_at": "2026-01-01 02:00:00Z", "dst_contact": "Contact 2", "dst_company": "Company 2",
		"dst_parts": parts, "dst_custom_attribute_keys": "dynamics_case_id;dynamics_priority",
		"dst_intercom_id": "", "dst_verify": "",
	}
	for col, w := range checks {
		if got[col] != w {
			t.Errorf("inc-002 %s = %q, want %q", col, got[col], w)
		}
	}
	if emails != "2" || want.title != "Printer 2 jams" {
		t.Fatalf("fixture drifted: %s emails, title %q", emails, want.title)
	}

	// con-0 has no name: the contact shows as its e-mail.
	if c := csvRecord(t, d, "inc-007"); c["dst_outcome"] != "rejected: no_contact" || c["dst_title"] != "" ||
		c["src_title"] != "Printer 7 jams" {
		t.Errorf("rejected inc-007: %v", c)
	}
	if c := csvRecord(t, d, "inc-010"); c["dst_contact"] != "Contact 3" || c["dst_company"] != "" {
		t.Errorf("inc-010 contact/company: %q %q", c["dst_contact"], c["dst_company"])
	}
	if c := csvRecord(t, d, "inc-011"); c["dst_contact"] != "Contact 4" {
		t.Errorf("inc-011 contact: %q", c["dst_contact"])
	}
	for _, leak := range []string{"secret", "description 2"} {
		if strings.Contains(d.Markdown, leak) || strings.Contains(fmt.Sprint(d.CSV), leak) {
			t.Errorf("the sample shows message text %q", leak)
		}
	}
}

// Intercom ids come from the write logs (a failed try, a rollback, a
// re-creation, a dry run and a torn last line among them), verify's verdict
// from verify.txt.
func TestReviewerSampleWriteLogAndVerify(t *testing.T) {
	_, db := sampleStaging(t, 8)
	d, err := ReviewerSample(context.Background(), db, SampleInput{Seed: 1,
		LogDir: filepath.Join("testdata", "sample_writelog"), VerifyDir: filepath.Join("testdata", "sample_verify")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id, intercomID, rolledBack, verify string
	}{
		{"inc-001", "ic-101", "false", "equal"},
		{"inc-002", "ic-202", "false", "differs: title,state"}, // failed first, written by a later run
		{"inc-003", "ic-303", "true", "missing from Intercom"}, // rolled back
		{"inc-004", "", "", ""},                                // dry run only
		{"inc-005", "ic-555", "false", "unreadable: http_500"}, // rolled back, then created again
		{"inc-006", "", "", ""},                                // its outcome line is torn
		{"inc-007", "", "", ""},                                // rejected
		{"inc-008", "", "", ""},                                // never replayed
	}
	for _, tt := range tests {
		got := csvRecord(t, d, tt.id)
		if got["dst_intercom_id"] != tt.intercomID || got["dst_rolled_back"] != tt.rolledBack ||
			got["dst_verify"] != tt.verify {
			t.Errorf("%s: id %q rolled back %q verify %q, want %q %q %q", tt.id, got["dst_intercom_id"],
				got["dst_rolled_back"], got["dst_verify"], tt.intercomID, tt.rolledBack, tt.verify)
		}
	}
	for _, line := range []string{
		"| id | incident inc-003 | conversation ic-303 (rolled back) |",
		"| id | incident inc-004 | not written |",
		"| id | incident inc-007 | not migrated |",
		"| verify | — | * differs: title,state |",
		"| verify | — | ! unreadable: http_500 |",
		"| messages | 1 email | 1 part (1 email) |",
		"| verify | — | not checked |",
	} {
		if !strings.Contains(d.Markdown, line) {
			t.Errorf("Markdown lacks %q", line)
		}
	}
}

// Build writes the sample beside the reconciliation when asked to.
func TestBuildWritesReviewerSample(t *testing.T) {
	path := writeSampleStaging(t, 12)
	withReportsTables(t, path)
	out := t.TempDir()
	res, err := Build(context.Background(), Config{DBPath: path, OutDir: out,
		Sample: &SampleInput{Seed: 5, VerifyDir: filepath.Join("testdata", "sample_verify")}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range res.Docs {
		names = append(names, d.Name)
	}
	want := []string{"reconciliation", "reviewer_sample", "validation", "flow_inventory", "channel_assets",
		"routing_inventory", "sla_inventory"}
	if !slices.Equal(names, want) {
		t.Fatalf("Docs = %v, want %v", names, want)
	}
	for _, name := range append(slices.Clone(want), "index") {
		ext := ".md"
		if name == "index" {
			ext = ".html"
		}
		if _, err := os.Stat(filepath.Join(out, name+ext)); err != nil {
			t.Errorf("Build did not write %s%s: %v", name, ext, err)
		}
	}
	if got := len(res.Docs[1].CSV) - 1; got != 12 {
		t.Errorf("reviewer sample has %d cases, want all 12", got)
	}
	md, err := os.ReadFile(filepath.Join(out, "reviewer_sample.md"))
	if err != nil {
		t.Fatal(err)
	}
	if string(md) != res.Docs[1].Markdown {
		t.Error("reviewer_sample.md is not the Doc's Markdown")
	}
	if res.Markdown != filepath.Join(out, "reconciliation.md") {
		t.Errorf("Result.Markdown = %s", res.Markdown)
	}
}

// On a real staging database (the sample org, snapshotted from the emulator
// and transformed) the sample reads the columns transform really leaves;
// one case is checked against the snapshot's Parquet read directly.
func TestReviewerSampleOnSampleOrg(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	snapDir, dbPath := reviewerSampleOrg(t)
	db, err := openReadOnly(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d, err := ReviewerSample(context.Background(), db, SampleInput{Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.CSV) - 1; n != DefaultSampleSize {
		t.Fatalf("%d cases, want %d", n, DefaultSampleSize)
	}

	var staged map[string]string
	for _, rec := range d.CSV[1:] {
		if c := csvRecord(t, d, rec[0]); c["dst_outcome"] == "staged" && c["src_emails"] != "0" {
			staged = c
			break
		}
	}
	if staged == nil {
		t.Fatal("no staged case with emails in the sample")
	}
	id := staged["incidentid"]
	tables := func(name string) string {
		return sqlString(filepath.Join(snapDir, "tables", name, "*.parquet"))
	}
	var ticket, title, state, created, emails, dstTitle, dstState, parts string
	err = db.QueryRow(`select ticketnumber, title, statecode__label,
		strftime(createdon, '%Y-%m-%d %H:%M:%SZ') from read_parquet(`+tables("incident")+`)
		where incidentid = ? order by modifiedon desc limit 1`, id).Scan(&ticket, &title, &state, &created)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`select count(distinct activityid)::varchar from read_parquet(`+tables("email")+`)
		where _regardingobjectid_value = ?`, id).Scan(&emails); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`select title, state, (select count(*) from stage.conversation_parts
		where conversation_source_id = ?)::varchar from stage.conversations where source_id = ?`, id, id).
		Scan(&dstTitle, &dstState, &parts); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"src_ticketnumber": ticket, "src_title": title, "src_state": state,
		"src_createdon": created, "src_emails": emails, "dst_title": dstTitle, "dst_state": dstState,
		"dst_parts": parts, "dst_created_at": created}
	for col, w := range want {
		if staged[col] != w {
			t.Errorf("%s %s = %q, want %q", id, col, staged[col], w)
		}
	}
	if !strings.Contains(staged["dst_custom_attribute_keys"], "dynamics_case_number") {
		t.Errorf("%s custom attribute keys %q lack dynamics_case_number", id, staged["dst_custom_attribute_keys"])
	}
}

// reviewerSampleOrg snapshots a 60-case sample org from the emulator and
// transforms it; it returns the snapshot directory and the staging file.
func reviewerSampleOrg(t *testing.T) (snapDir, dbPath string) {
	t.Helper()
	org, err := sampleorg.New(sampleorg.Options{Seed: 7, Cases: 60})
	if err != nil {
		t.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{})
	defer srv.Close()
	snapDir = t.TempDir()
	ctx := context.Background()
	_, err = snapshot.Run(ctx, snapshot.Config{
		OrgURL: srv.URL, AuthorityURL: srv.URL,
		Credentials: snapshot.Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"},
		Tables: []string{"systemuser", "queue", "account", "contact", "incident", "email",
			"activityparty", "queueitem"},
		OutDir: snapDir,
	})
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	dbPath = filepath.Join(t.TempDir(), "staging.duckdb")
	if _, err := transform.Run(ctx, transform.Config{SnapshotDir: snapDir, DBPath: dbPath}); err != nil {
		t.Fatalf("transform: %v", err)
	}
	return snapDir, dbPath
}

// Both sides of the messages row count the same things: every activity
// regarding the case, by table, so a case with phone calls does not read
// as "1 email | 3 parts".
func TestActivitiesText(t *testing.T) {
	cases := []struct {
		counts map[string]int64
		want   string
	}{
		{map[string]int64{"email": 1, "phonecall": 2}, "1 email, 2 phone calls"},
		{map[string]int64{"appointment": 1, "task": 3, "email": 0}, "3 tasks, 1 appointment"},
		{map[string]int64{"msdyn_transcript": 2, "email": 2}, "2 emails, 2 msdyn_transcripts"},
		{nil, "no activities"},
	}
	for _, c := range cases {
		if got := activitiesText(c.counts); got != c.want {
			t.Errorf("activitiesText(%v) = %q, want %q", c.counts, got, c.want)
		}
	}
	d := destination{Parts: 3, PartsBySource: map[string]int64{"email": 1, "phonecall": 2}}
	if got := partsText(d); got != "3 parts (1 email, 2 phone calls)" {
		t.Errorf("partsText = %q", got)
	}
}
