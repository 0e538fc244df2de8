package report

import (
	"context"
	"strings"
	"testing"
)

// Files transform split, could not send, or left on a contact's note are
// listed with size, owner and landing place; the cap is the one transform
// recorded from the mapping file (1000 bytes here), not the default.
func TestChannelAssetsAttachments(t *testing.T) {
	db := invFixture(t, `create schema src`, `create schema stage`, `create schema rejects`, `create schema reports`,
		`create table reports.attachment_rule as select 1000::bigint as max_bytes, 'split' as over_limit,
			'/snap' as snapshot_dir`,
		`create table src.email as select 'e1' as activityid, 'i1' as _regardingobjectid_value,
			'incident' as _regardingobjectid_value__lookuplogicalname`,
		`create table src.activitymimeattachment as select * from (values
			('m1', 'big.pdf', 2500, 'email', 'e1', 'email', 2500::bigint, null),
			('m2', 'small.pdf', 10, 'email', 'e1', 'email', 10::bigint, null),
			('m3', 'empty.pdf', 0, 'email', 'e1', 'email', 0::bigint, null))
			t(activitymimeattachmentid, filename, filesize, objecttypecode, _objectid_value,
			  _objectid_value__lookuplogicalname, body__size, body__error)`,
		`create table src.annotation as select * from (values
			('n1', 'id-scan.png', 500, 'contact', 'c1', 'contact', 500::bigint, null),
			('n2', 'plain', 0, 'incident', 'i1', 'incident', null::bigint, null))
			t(annotationid, filename, filesize, objecttypecode, _objectid_value,
			  _objectid_value__lookuplogicalname, documentbody__size, documentbody__error)`,
		`create table stage.attachments as select * from (values
			('activitymimeattachment', 'm1', 'email', 'e1', 3), ('activitymimeattachment', 'm2', 'email', 'e1', 1))
			t(source_table, source_id, part_source_table, part_source_id, chunk_count)`,
		`create table rejects.attachments as select 'activitymimeattachment' as source_table, 'm3' as source_id,
			'empty_file' as rule, 'the file is empty (size 0)' as reason, 'e1' as context`,
		`create table src.incident as select 'i1' as incidentid, 'CAS-1' as ticketnumber`,
		`create table stage.conversations as select 'i1' as source_id`,
		`create table stage.contacts as select 'c1' as source_id, []::varchar[] as merged_source_ids`)

	doc, err := ChannelAssets(context.Background(), db, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := csvText(doc.CSV)
	for _, w := range []string{
		"attachment_failed,activitymimeattachment,m3,empty.pdf,0,the file is empty (size 0),,email,e1,i1,CAS-1,conversation,i1",
		"attachment_not_migrated,annotation,n1,id-scan.png,500,note on a contact: its text is a note on the " +
			"Intercom user, which takes no files,,contact,c1,,,contact,c1",
		"attachment_over_cap,activitymimeattachment,m1,big.pdf,2500,larger than the cap: sent split into 3 " +
			"numbered parts on email e1,,email,e1,i1,CAS-1,conversation,i1",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("CSV lacks\n%s\nin\n%s", w, got)
		}
	}
	if strings.Contains(got, "small.pdf") || strings.Contains(got, ",n2,") {
		t.Errorf("a file sent whole, or a note without file, is listed:\n%s", got)
	}
	if !strings.Contains(doc.Markdown, "larger than 1000 B (1000 bytes)") {
		t.Errorf("markdown does not use the mapping's cap:\n%s", doc.Markdown)
	}
}
