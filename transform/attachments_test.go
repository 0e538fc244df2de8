package transform

import (
	"database/sql"
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"
)

const (
	annotationSchema = "annotationid varchar, subject varchar, notetext varchar, isdocument boolean, " +
		"filename varchar, mimetype varchar, filesize bigint, objecttypecode varchar, " +
		"_objectid_value varchar, _objectid_value__lookuplogicalname varchar, " +
		"_ownerid_value varchar, _ownerid_value__lookuplogicalname varchar, documentbody__sha256 varchar, " +
		"documentbody__size bigint, documentbody__error varchar, createdon timestamptz, modifiedon timestamptz"
	mimeSchema = "activitymimeattachmentid varchar, filename varchar, mimetype varchar, filesize bigint, " +
		"objecttypecode varchar, _objectid_value varchar, _objectid_value__lookuplogicalname varchar, " +
		"attachmentnumber integer, body__sha256 varchar, body__size bigint, body__error varchar, " +
		"createdon timestamptz, modifiedon timestamptz"
	sha = "ab" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
)

// emptyAttachmentTables makes both tables present without a row, so that
// fixtures about other things stay as they are.
func emptyAttachmentTables() map[string]fixtureTable {
	return map[string]fixtureTable{"annotation": {schema: annotationSchema},
		"activitymimeattachment": {schema: mimeSchema}}
}

func mimeRow(id, email string, n int, name string, size int64, hash, errText string) string {
	q := func(s string) string {
		if s == "" {
			return "null"
		}
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return fmt.Sprintf("(%s, %s, 'application/pdf', %d, 'email', %s, 'email', %d, %s, %d, %s, "+
		"'2022-01-01 00:00:00+00', null)", q(id), q(name), size, q(email), n, q(hash), size, q(errText))
}

// attachmentTables: e1 carries 12 files (two beyond Intercom's 10), e2 one
// file of 25 MiB and three that cannot go; the rest exercise every fate.
func attachmentTables() map[string]fixtureTable {
	var mime []string
	names := []string{"CON.txt", "../../etc/passwd", "a\x01b.txt", "résumé.pdf", "invoice\u202Efdp.exe",
		"  .hidden. ", "", "f8.pdf", "f9.pdf", "f10.pdf", "f11.pdf", "f12.pdf"}
	for i, n := range names {
		mime = append(mime, mimeRow(fmt.Sprintf("m%02d", i+1), "e1", i+1, n, 100, sha, ""))
	}
	mime = append(mime,
		mimeRow("m20", "e2", 1, "big.pdf", 25<<20, sha, ""),
		mimeRow("m21", "e2", 2, "failed.pdf", 10, "", "timeout"),
		mimeRow("m22", "e2", 3, "empty.pdf", 0, sha, ""),
		mimeRow("m23", "e2", 4, "noblob.pdf", 10, "", ""),
		mimeRow("m24", "e6", 1, "account.pdf", 10, sha, ""), // its email is out of scope
		"('m25', 'slot.ics', 'text/calendar', 10, 'appointment', 'ap1', 'appointment', 1, '"+sha+
			"', 10, null, '2022-01-01 00:00:00+00', null)")
	note := func(id, owner, ownerType, name string, size int64) string {
		file := "false, null, null, 0"
		blob := "null, null"
		if name != "" {
			file = fmt.Sprintf("true, '%s', 'image/png', %d", name, size)
			blob = fmt.Sprintf("'%s', %d", sha, size)
		}
		return fmt.Sprintf("('%s', 'Subj %s', 'text of %s', %s, '%s', '%s', '%s', 'u1', 'systemuser', %s, null, "+
			"'2022-01-01 11:30:00+00', null)", id, id, id, file, ownerType, owner, ownerType, blob)
	}
	return map[string]fixtureTable{
		"activitymimeattachment": {schema: mimeSchema, rows: mime},
		"annotation": {schema: annotationSchema, rows: []string{
			note("n1", "i1", "incident", "shot.png", 2048), // note with file on a case
			note("n2", "i1", "incident", "", 0),            // plain note on a case
			note("n3", "c1", "contact", "id.png", 10),      // on a contact: a note on the user, file listed
			note("n4", "i4", "incident", "", 0),            // its case is rejected
			note("n5", "x1", "msdyn_transcript", "t.txt", 10),
			note("n6", "q1", "queue", "", 0),
			note("n7", "a1", "account", "", 0),   // Intercom has no notes on companies
			note("n8", "c404", "contact", "", 0), // its contact is not in the snapshot
		}},
	}
}

func withAttachments() map[string]fixtureTable {
	tables := sampleTables()
	maps.Copy(tables, attachmentTables())
	return tables
}

func TestAttachmentsStaged(t *testing.T) {
	dbPath, res, err := runFixture(t, withAttachments())
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, dbPath, `select source_id, part_source_table, part_source_id, position, file_name, content_type,
		size_bytes, blob_offset, chunk_no, chunk_count from stage.attachments order by ord`, []string{
		"m20|email|e2|1|big.pdf.part1of3|application/octet-stream|10485760|0|1|3",
		"m20|email|e2|2|big.pdf.part2of3|application/octet-stream|10485760|10485760|2|3",
		"m20|email|e2|3|big.pdf.part3of3|application/octet-stream|5242880|20971520|3|3",
		"n1|annotation|n1|1|shot.png|image/png|2048|0|1|1",
		"m01|email|e1|1|_CON.txt|application/pdf|100|0|1|1",
		"m02|email|e1|2|_.._etc_passwd|application/pdf|100|0|1|1",
		"m03|email|e1|3|a_b.txt|application/pdf|100|0|1|1",
		"m04|email|e1|4|résumé.pdf|application/pdf|100|0|1|1",
		"m05|email|e1|5|invoice_fdp.exe|application/pdf|100|0|1|1",
		"m06|email|e1|6|hidden|application/pdf|100|0|1|1",
		"m07|email|e1|7|attachment-7|application/pdf|100|0|1|1",
		"m08|email|e1|8|f8.pdf|application/pdf|100|0|1|1",
		"m09|email|e1|9|f9.pdf|application/pdf|100|0|1|1",
		"m10|email|e1|10|f10.pdf|application/pdf|100|0|1|1",
		"m11|attachment_overflow|e1/attachments-2|1|f11.pdf|application/pdf|100|0|1|1",
		"m12|attachment_overflow|e1/attachments-2|2|f12.pdf|application/pdf|100|0|1|1",
	})
	// the overflow part follows e1 at once, by the same author.
	assertRows(t, dbPath, `select source_table, source_id, author_type, message_type, body from stage.conversation_parts
		where conversation_source_id = 'i1' and source_table in ('email', 'annotation', 'attachment_overflow')
		order by part_order`, []string{
		"email|e2|admin|comment|<p>On it</p>",
		"annotation|n1|admin|note|<p>Note: Subj n1</p><p>text of n1</p><p>File: shot.png</p>",
		"annotation|n2|admin|note|<p>Note: Subj n2</p><p>text of n2</p>",
		"email|e1|contact|comment|<div>Still burning 🔥</div>",
		"attachment_overflow|e1/attachments-2|contact|comment|<p>Attachments 11–12 of 12 (continued from the previous message)</p>",
		"email|e3|contact|comment|<p>thanks</p>",
	})
	assertRows(t, dbPath, `select source_table, source_id, rule from rejects.attachments order by source_id`, []string{
		"activitymimeattachment|m21|download_failed",
		"activitymimeattachment|m22|empty_file",
		"activitymimeattachment|m23|missing_blob",
	})
	assertRows(t, dbPath, `select source_table, source_id, rule from rejects.conversation_parts
		where source_table = 'annotation'`, []string{"annotation|n4|parent_rejected"})
	assertRows(t, dbPath, `select source_id, reason from reports.out_of_scope
		where source_table in ('annotation', 'activitymimeattachment') order by source_id`, []string{
		"m24|its email is not migrated (see the email's fate)",
		"m25|attached to a record of table appointment, not an email",
		"n5|consumed: a transcript's messages are conversation parts (see msdyn_transcript)",
		"n6|note not about a case, contact or account",
		"n7|note on an account: Intercom's API has no notes on companies (a file on it is listed in the " +
			"channel-asset report)",
	})
	assertRows(t, dbPath, `select source_id, contact_source_id, admin_source_id, body from stage.contact_notes
		where source_table = 'annotation'`, []string{
		"n3|c1|u1|<p>Note: Subj n3</p><p>text of n3</p><p>File not attached (a note on a user takes no files; " +
			"listed in the channel-asset report): id.png</p>",
	})
	assertRows(t, dbPath, `select source_id, rule, context from rejects.contact_notes where source_table = 'annotation'`,
		[]string{"n8|parent_missing|c404"})
	for _, r := range res.Reconciliation {
		if !r.Conserved {
			t.Errorf("%s does not conserve: %+v", r.SourceTable, r)
		}
	}
	assertRows(t, dbPath, `select source_table, staged, rejected, out_of_scope from reports.reconciliation
		where source_table in ('annotation', 'activitymimeattachment') order by ord`, []string{
		"annotation|3|2|3",
		"activitymimeattachment|13|3|2",
	})
}

// TestSafeFilename runs the macro file alone against names that break
// file systems or mislead readers.
func TestSafeFilename(t *testing.T) {
	text, err := os.ReadFile("sql/56_safe_filename.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), string(text)); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 300) + ".pdf"
	longUTF8 := strings.Repeat("ü", 100) + ".pdf"
	cases := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"a/b\\c.txt", "a_b_c.txt"},
		{"../../etc/passwd", "_.._etc_passwd"},
		{"C:\\boot.ini", "C__boot.ini"},
		{`what?*"<>|.txt`, "what______.txt"},
		{"tab\there\n.txt", "tab_here_.txt"},
		{"invoice\u202Efdp.exe", "invoice_fdp.exe"},
		{"CON", "_CON"},
		{"nul.txt", "_nul.txt"},
		{"com1.log", "_com1.log"},
		{"console.txt", "console.txt"},
		{" .profile ", "profile"},
		{"trailing...", "trailing"},
		{"...", "fallback"},
		{"", "fallback"},
		{long, strings.Repeat("x", 196) + ".pdf"},
		{longUTF8, strings.Repeat("ü", 56) + ".pdf"},
		{"日本語の資料.xlsx", "日本語の資料.xlsx"},
	}
	for _, c := range cases {
		var got string
		if err := conn.QueryRowContext(t.Context(), "select safe_filename(?, 'fallback')", c.in).Scan(&got); err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if got != c.want {
			t.Errorf("safe_filename(%q) = %q, want %q", c.in, got, c.want)
		}
		if len(got) > 255 {
			t.Errorf("safe_filename(%q) is %d bytes", c.in, len(got))
		}
	}
}

// TestAttachmentRuleFromMapping: with over_limit list and a 1 MiB cap the
// 25 MiB file is not staged but left for the channel-asset report, and the
// cap the mapping chose is the one recorded for replay and report.
func TestAttachmentRuleFromMapping(t *testing.T) {
	tables := withAttachments()
	maps.Copy(tables, mappedTables())
	m := mappedMapping()
	m.Attachments.OverLimit = "list"
	db, err := runMapped(t, tables, m)
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, db, "select max_bytes, over_limit from reports.attachment_rule", []string{"1048576|list"})
	assertRows(t, db, "select count(*) from stage.attachments where source_id = 'm20'", []string{"0"})
	assertRows(t, db, "select reason from reports.out_of_scope where source_id = 'm20'",
		[]string{"file larger than 1048576 bytes: listed in the channel-asset report"})
	assertRows(t, db, `select conserved from reports.reconciliation where source_table = 'activitymimeattachment'`,
		[]string{"true"})
}

// TestAttachmentTablesMatchContract: replay reads stage.attachments and
// reports.attachment_rule by these names and types (contracts.md §2).
func TestAttachmentTablesMatchContract(t *testing.T) {
	dbPath, _, err := runFixture(t, withAttachments())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"stage.attachments": "source_table varchar, source_id varchar, part_source_table varchar, " +
			"part_source_id varchar, conversation_source_id varchar, position integer, file_name varchar, " +
			"original_file_name varchar, content_type varchar, original_content_type varchar, size_bytes bigint, " +
			"file_size_bytes bigint, sha256 varchar, blob_path varchar, blob_offset bigint, chunk_no integer, " +
			"chunk_count integer, ord bigint",
		"reports.attachment_rule": "max_bytes bigint, over_limit varchar, snapshot_dir varchar",
		"rejects.attachments":     "source_table varchar, source_id varchar, rule varchar, reason varchar, context varchar",
	}
	for table, w := range want {
		schema, name, _ := strings.Cut(table, ".")
		cols := queryRows(t, dbPath, "select column_name || ' ' || lower(data_type) from duckdb_columns() "+
			"where schema_name = '"+schema+"' and table_name = '"+name+"' order by column_index")
		if got := strings.Join(cols, ", "); got != w {
			t.Errorf("%s\n got: %s\nwant: %s", table, got, w)
		}
	}
}
