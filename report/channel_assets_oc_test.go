package report

import (
	"context"
	"strings"
	"testing"
)

// Omnichannel assets: a recording of a chat on a case lands on the case's
// conversation, one of a chat on no case on the chat's own conversation
// (transform stages it under the work item's id), and a file a transcript
// names without a note in the snapshot is listed once, while one whose
// note is there is listed as that note only. A transcript whose messages
// became parts is not listed; one whose messages did not is.
func TestChannelAssetsOmnichannel(t *testing.T) {
	db := invFixture(t, `create schema src`, `create schema stage`, `create schema reports`,
		`create table src.msdyn_ocliveworkitem as select * from (values
			('w1', 'i1', 'incident'), ('w2', null, null))
			t(activityid, _regardingobjectid_value, _regardingobjectid_value__lookuplogicalname)`,
		`create table src.msdyn_ocrecording as select * from (values
			('r1', 'Call 1', 'https://media.example.com/r1.mp3?sig=SECRET', 'w1', 1200::bigint, null),
			('r2', 'Call 2', 'https://media.example.com/r2.mp3', 'w2', 800::bigint, null))
			t(msdyn_ocrecordingid, msdyn_name, msdyn_mediauri, _msdyn_liveworkitemid_value,
				msdyn_recording__size, msdyn_recording__error)`,
		`create table src.annotation as select * from (values
			('n9', 'kept.png', 10, 'msdyn_ocliveworkitem', 'w1', 'msdyn_ocliveworkitem'))
			t(annotationid, filename, filesize, objecttypecode, _objectid_value, _objectid_value__lookuplogicalname)`,
		`create table src.msdyn_transcript as select * from (values ('t1', 'T 1', 'w1'), ('t2', 'T 2', 'w2'))
			t(msdyn_transcriptid, msdyn_name, _msdyn_liveworkitemidid_value)`,
		`create table reports.out_of_scope as select * from (values
			('msdyn_transcript', 't1', 'consumed: its messages are conversation parts'))
			t(source_table, source_id, reason)`,
		`create table src.incident as select 'i1' as incidentid, 'CAS-1' as ticketnumber`,
		`create table stage.conversations as select * from (values ('i1'), ('w2')) t(source_id)`,
		`create table reports.omnichannel_files as select * from (values
			('t1:1', 'w1', 'f1', 'burn.jpg', 'n8'), ('t1:2', 'w1', 'f2', 'kept.png', 'n9'))
			t(message_id, item_id, file_id, file_name, annotationid)`)

	doc, err := ChannelAssets(context.Background(), db, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{channelAssetsHeader,
		{"chat_file", "annotation", "n9", "kept.png", "10", "file shared in an Omnichannel conversation", "",
			"msdyn_ocliveworkitem", "w1", "i1", "CAS-1", "conversation", "i1"},
		{"chat_file", "msdyn_transcript", "t1:1/f1", "burn.jpg", "",
			"file shared in an Omnichannel chat: its transcript names it, the snapshot holds no note with it", "",
			"msdyn_ocliveworkitem", "w1", "i1", "CAS-1", "conversation", "i1"},
		{"recording", "msdyn_ocrecording", "r1", "Call 1", "1200", "voice recording",
			"https://media.example.com/r1.mp3", "msdyn_ocliveworkitem", "w1", "i1", "CAS-1", "conversation", "i1"},
		{"recording", "msdyn_ocrecording", "r2", "Call 2", "800", "voice recording",
			"https://media.example.com/r2.mp3", "msdyn_ocliveworkitem", "w2", "", "", "conversation", "w2"},
		{"transcript", "msdyn_transcript", "t2", "T 2", "", "chat transcript", "", "msdyn_ocliveworkitem", "w2",
			"", "", "conversation", "w2"},
	}
	if got, w := csvText(doc.CSV), csvText(want); got != w {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, w)
	}
	if strings.Contains(csvText(doc.CSV), "SECRET") {
		t.Error("the media link's query string leaked into the report")
	}
}
