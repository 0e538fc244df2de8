package transform

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The transcripts of the Omnichannel fixture, as the snapshot stores them:
// the decoded documentbody of each transcript note, in blobs/sha256.
var ocTranscripts = map[string]string{
	// on case i1, messages out of time order in the document: a customer, a
	// system line, an agent (by systemuserid), a private line from the same
	// agent under an id that is not a systemuserid (matched by name), a bot,
	// a customer line with a file, and a deleted line.
	"n1": `[
 {"id":"1003","content":"<p>Hello <b>Jane</b></p><script>x()</script>","contentType":"html","createdDateTime":"2022-01-01T09:52:00.000Z","from":{"user":{"displayName":"Agent One","id":"u1"}},"tags":"public"},
 {"id":"1001","content":"Hi, printer on fire","contentType":"text","createdDateTime":"2022-01-01T09:50:00.000Z","from":{"user":{"displayName":"Jane","id":"c1"}},"tags":"public,client_activity_id:1"},
 {"id":"1002","content":"Agent One joined the conversation","contentType":"text","createdDateTime":"2022-01-01T09:51:00.000Z","from":null,"isControlMessage":true,"tags":"system"},
 {"id":"1004","content":"Internal: checked","contentType":"text","createdDateTime":"2022-01-01T09:53:00.000Z","from":{"user":{"displayName":"agent one","id":"8:orgid:aad-1"}},"tags":"private"},
 {"id":"1005","content":"I am a bot","contentType":"text","createdDateTime":"2022-01-01T09:54:00.000Z","from":{"application":{"displayName":"HelpBot","id":"bot-1"}},"tags":"public"},
 {"id":"1006","content":"photo","contentType":"text","createdDateTime":"2022-01-01T09:55:00.000Z","from":{"user":{"displayName":"Jane","id":"c1"}},"tags":"public","attachments":[{"id":"f1","name":"burn.jpg","fileType":"image/jpeg","annotationid":"n9"}]},
 {"id":"1007","content":"oops","contentType":"text","createdDateTime":"2022-01-01T09:56:00.000Z","from":{"user":{"displayName":"Jane","id":"c1"}},"deleted":true}
]`,
	// standalone w2: the first customer line becomes the conversation body.
	"n2": `[
 {"id":"2","content":"Thanks, refunded.","contentType":"text","createdDateTime":"2022-02-01T10:05:00Z","from":{"user":{"displayName":"Agent One","id":"u1"}},"tags":"public"},
 {"id":"1","content":"Where is my refund?","contentType":"text","createdDateTime":"2022-02-01T10:00:00Z","from":{"user":{"displayName":"王小明","id":"c5"}},"tags":"public"}
]`,
	// w3 has no customer: its transcript goes with it.
	"n3": `[{"id":"1","content":"hello?","contentType":"text","createdDateTime":"2022-03-01T10:00:00Z","from":{"user":{"displayName":"Anon","id":"visitor-1"}},"tags":"public"}]`,
}

func ocSHA(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

// omnichannelTables adds to the shared fixture: work items on a case (w1),
// on no case (w2), without a customer (w3), on a rejected case (w4),
// abandoned with no transcript (w5); their sessions, transcripts, notes and
// recordings.
func omnichannelTables() map[string]fixtureTable {
	tables := sampleTables()
	tables["msdyn_ocliveworkitem"] = fixtureTable{
		schema: "activityid varchar, subject varchar, msdyn_title varchar, statecode integer, statecode__label varchar, " +
			"statuscode integer, statuscode__label varchar, msdyn_channel integer[], msdyn_channel__label varchar[], " +
			lk("regardingobjectid") + ", " + lk("msdyn_customer") + ", " + lk("msdyn_activeagentid") + ", " +
			lk("msdyn_cdsqueueid") + ", msdyn_createdon timestamptz, msdyn_closedon timestamptz, createdon timestamptz",
		rows: []string{
			`('w1', 'Chat: fire', 'Printer on fire', 1, 'Closed', 4, 'Closed', [192360000, 192390000], ['Live chat', 'Co-browse'],
			  'i1', 'incident', 'Printer on fire', 'c1', 'contact', 'Jane', 'u1', 'systemuser', 'Agent One', 'q1', 'queue', 'Support',
			  '2022-01-01 09:49:00+00', '2022-01-01 10:00:00+00', '2022-01-01 09:49:00+00')`,
			`('w2', 'Chat: refund', 'Where is my refund?', 1, 'Closed', 4, 'Closed', [192340000], ['SMS'],
			  null, null, null, 'c5', 'contact', '王小明', 'u1', 'systemuser', 'Agent One', 'q1', 'queue', 'Support',
			  '2022-02-01 09:59:00+00', '2022-02-01 10:10:00+00', '2022-02-01 09:59:00+00')`,
			`('w3', 'Chat: anon', null, 1, 'Closed', 4, 'Closed', [192360000], ['Live chat'],
			  null, null, null, null, null, null, 'u1', 'systemuser', 'Agent One', null, null, null,
			  '2022-03-01 09:59:00+00', '2022-03-01 10:10:00+00', '2022-03-01 09:59:00+00')`,
			`('w4', 'Call: orphan', 'Orphan', 1, 'Closed', 4, 'Closed', [192370000], ['Voice'],
			  'i4', 'incident', 'Orphan', 'a4', 'account', 'Lonely Ltd', 'u1', 'systemuser', 'Agent One', null, null, null,
			  '2022-01-07 09:00:00+00', '2022-01-07 09:30:00+00', '2022-01-07 09:00:00+00')`,
			`('w5', 'Chat: gone', 'Gone', 1, 'Closed', 4, 'Closed', [192360000], ['Live chat'],
			  null, null, null, 'c5', 'contact', '王小明', null, null, null, null, null, null,
			  '2022-04-01 09:00:00+00', '2022-04-01 09:01:00+00', '2022-04-01 09:00:00+00')`,
		},
	}
	tables["msdyn_ocsession"] = fixtureTable{
		schema: "activityid varchar, " + lk("msdyn_liveworkitemid") + ", " + lk("msdyn_activeagentid") +
			", msdyn_sessioncreatedon timestamptz",
		rows: []string{
			"('s1', 'w1', 'msdyn_ocliveworkitem', 'Chat: fire', 'u2', 'systemuser', 'No Mail', '2022-01-01 09:49:30+00')",
			"('s2', 'w1', 'msdyn_ocliveworkitem', 'Chat: fire', 'u1', 'systemuser', 'Agent One', '2022-01-01 09:50:30+00')",
			"('s3', 'w2', 'msdyn_ocliveworkitem', 'Chat: refund', 'u1', 'systemuser', 'Agent One', '2022-02-01 09:59:30+00')",
			"('s4', 'w99', 'msdyn_ocliveworkitem', 'Gone', null, null, null, '2022-02-01 09:59:30+00')",
		},
	}
	tables["msdyn_transcript"] = fixtureTable{
		schema: "msdyn_transcriptid varchar, msdyn_name varchar, " + lk("msdyn_liveworkitemidid") + ", createdon timestamptz",
		rows: []string{
			"('t1', 'Transcript 1', 'w1', 'msdyn_ocliveworkitem', 'Chat: fire', '2022-01-01 10:00:00+00')",
			"('t2', 'Transcript 2', 'w2', 'msdyn_ocliveworkitem', 'Chat: refund', '2022-02-01 10:10:00+00')",
			"('t3', 'Transcript 3', 'w3', 'msdyn_ocliveworkitem', 'Chat: anon', '2022-03-01 10:10:00+00')",
			"('t4', 'Transcript 4', 'w99', 'msdyn_ocliveworkitem', 'Gone', '2022-03-01 10:10:00+00')",
			"('t5', 'Transcript 5', 'w2', 'msdyn_ocliveworkitem', 'Chat: refund', '2022-02-01 10:10:00+00')",
		},
	}
	tables["msdyn_ocrecording"] = fixtureTable{
		schema: "msdyn_ocrecordingid varchar, msdyn_name varchar, msdyn_mediauri varchar, " + lk("msdyn_liveworkitemid") +
			", msdyn_recording__size bigint, msdyn_recording__error varchar",
		rows: []string{
			"('r1', 'Recording of Call: orphan', 'https://media.example.com/r1.mp3?sig=secret', 'w4', 'msdyn_ocliveworkitem', 'Call: orphan', 1200, null)",
		},
	}
	note := func(id, owner, ownerTable, sha, dlErr string) string {
		return "('" + id + "', '" + ownerTable + "', '" + owner + "', '" + ownerTable + "', 'Conversation transcript', " +
			"true, 'transcript.json', " + sqlOrNull(sha) + ", " + sqlOrNull(dlErr) + ", '2022-01-01 10:00:00+00')"
	}
	tables["annotation"] = fixtureTable{
		schema: "annotationid varchar, objecttypecode varchar, _objectid_value varchar, " +
			"_objectid_value__lookuplogicalname varchar, subject varchar, isdocument boolean, filename varchar, " +
			"documentbody__sha256 varchar, documentbody__error varchar, createdon timestamptz",
		rows: []string{
			note("n1", "t1", "msdyn_transcript", ocSHA(ocTranscripts["n1"]), ""),
			note("n2", "t2", "msdyn_transcript", ocSHA(ocTranscripts["n2"]), ""),
			note("n3", "t3", "msdyn_transcript", ocSHA(ocTranscripts["n3"]), ""),
			note("n5", "t5", "msdyn_transcript", "", "HTTP 404"),
		},
	}
	return tables
}

func sqlOrNull(s string) string {
	if s == "" {
		return "null"
	}
	return "'" + s + "'"
}

// runOmnichannel writes the fixture with its transcript blobs and runs the
// transform; the run must conserve every row.
func runOmnichannel(t *testing.T, tables map[string]fixtureTable) string {
	t.Helper()
	snap := t.TempDir()
	writeSnapshot(t, snap, tables)
	for _, doc := range ocTranscripts {
		sum := ocSHA(doc)
		path := filepath.Join(snap, "blobs", "sha256", sum[:2], sum[2:])
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dbPath := filepath.Join(t.TempDir(), "staging.duckdb")
	if _, err := Run(t.Context(), Config{SnapshotDir: snap, DBPath: dbPath}); err != nil {
		t.Fatal(err)
	}
	return dbPath
}

func checkRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got: %s\nwant: %s", what, strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

// A work item on a case: a summary note, then its messages in time order
// (whatever their order in the document) with the case's own parts, each
// by the right author and kind.
func TestOmnichannelOnCase(t *testing.T) {
	db := runOmnichannel(t, omnichannelTables())
	checkRows(t, "parts of i1", queryRows(t, db, `select part_order, source_table, source_id, author_type,
			coalesce(contact_source_id, admin_source_id), message_type, body
		from stage.conversation_parts where conversation_source_id = 'i1' and part_order <= 8 order by part_order`),
		[]string{
			"1|msdyn_ocliveworkitem|w1|admin|u1|note|<p>Omnichannel conversation: Printer on fire<br>" +
				"Channel: Live chat, Co-browse<br>Queue: Support<br>Agents: No Mail, Agent One<br>" +
				"Opened: 2022-01-01 09:49 UTC; closed: 2022-01-01 10:00 UTC<br>Status: Closed</p>",
			"2|msdyn_transcript_message|t1:1001|contact|c1|comment|<p>Hi, printer on fire</p>",
			"3|msdyn_transcript_message|t1:1002|admin|u1|note|<p>Agent One joined the conversation</p>",
			"4|msdyn_transcript_message|t1:1003|admin|u1|comment|<p>Hello <b>Jane</b></p>",
			"5|msdyn_transcript_message|t1:1004|admin|u1|note|<p>Internal: checked</p>",
			"6|msdyn_transcript_message|t1:1005|admin|u1|note|<p>Bot HelpBot:</p><p>I am a bot</p>",
			"7|msdyn_transcript_message|t1:1006|contact|c1|comment|<p>photo</p>",
			"8|email|e2|admin|u1|comment|<p>On it</p>",
		})
	checkRows(t, "chat files", queryRows(t, db, `select transcriptid, message_id, item_id, file_name, annotationid
		from reports.omnichannel_files`), []string{"t1|t1:1006|w1|burn.jpg|n9"})
}

// A work item on no case is a conversation of its own; one without a
// customer is rejected, and one with nothing said is out of scope.
func TestOmnichannelStandalone(t *testing.T) {
	db := runOmnichannel(t, omnichannelTables())
	checkRows(t, "conversation w2", queryRows(t, db, `select source_table, contact_source_id, admin_source_id,
			team_source_id, title, body, created_at, state, closed_at, cast(custom_attributes as varchar)
		from stage.conversations where source_id = 'w2'`),
		[]string{`msdyn_ocliveworkitem|c5|u1|q1|Where is my refund?|<p>Where is my refund?</p>|1643709540|closed|` +
			`1643710200|{"dynamics_channel":"SMS","dynamics_omnichannel_conversation_id":"w2"}`})
	checkRows(t, "parts of w2", queryRows(t, db, `select part_order, source_id, author_type, admin_source_id, body
		from stage.conversation_parts where conversation_source_id = 'w2' order by part_order`),
		[]string{"1|t2:2|admin|u1|<p>Thanks, refunded.</p>"})
	checkRows(t, "ord continues after the cases", queryRows(t, db, `select count(*) = count(distinct ord)
		and max(ord) = count(*) from stage.conversations`), []string{"true"})
	checkRows(t, "rejected", queryRows(t, db, `select source_table, source_id, rule from rejects.conversations
			where source_table like 'msdyn%'
		union all select source_table, source_id, rule from rejects.conversation_parts where source_table like 'msdyn%'
		order by 1, 2`),
		[]string{
			"msdyn_ocliveworkitem|w3|no_contact",
			"msdyn_ocliveworkitem|w4|parent_rejected",
			"msdyn_transcript|t3|parent_rejected",
			"msdyn_transcript|t4|parent_missing",
			"msdyn_transcript|t5|no_content",
		})
	checkRows(t, "data attributes", queryRows(t, db, `select name from stage.data_attributes
		where source_table = 'msdyn_ocliveworkitem' order by name`),
		[]string{"dynamics_channel", "dynamics_omnichannel_conversation_id"})
}

// Every work item, session, transcript and recording has one fate, with a
// reason; recordings and sessions are out of scope, the recording listed.
func TestOmnichannelConservation(t *testing.T) {
	db := runOmnichannel(t, omnichannelTables())
	checkRows(t, "reconciliation", queryRows(t, db, `select source_table, snapshot_rows, staged, rejected,
			out_of_scope, conserved from reports.reconciliation where source_table like 'msdyn%' order by ord`),
		[]string{
			"msdyn_ocliveworkitem|5|2|2|1|true",
			"msdyn_ocsession|4|0|0|4|true",
			"msdyn_transcript|5|0|3|2|true",
			"msdyn_ocrecording|1|0|0|1|true",
		})
	checkRows(t, "out of scope", queryRows(t, db, `select source_table, source_id, reason from reports.out_of_scope
		where source_table in ('msdyn_ocsession', 'msdyn_ocrecording', 'msdyn_ocliveworkitem') order by 1, 2`),
		[]string{
			"msdyn_ocliveworkitem|w5|Omnichannel conversation on no case without a customer message " +
				"(abandoned, or no transcript): nothing to migrate",
			"msdyn_ocrecording|r1|voice recording: listed in the channel-asset report (replay moves no recordings)",
			"msdyn_ocsession|s1|consumed: its agent is named in its conversation's summary",
			"msdyn_ocsession|s2|consumed: its agent is named in its conversation's summary",
			"msdyn_ocsession|s3|consumed: its agent is named in its conversation's summary",
			"msdyn_ocsession|s4|session of an Omnichannel conversation not in the snapshot",
		})
	checkRows(t, "no message text in rejects", queryRows(t, db, `select count(*) from rejects.conversation_parts
		where reason like '%refund%' or context like '%refund%'`), []string{"0"})
}

// An org without Omnichannel: the tables are absent from the snapshot.
// The SQL reads them as empty, but they get no src view (the channel-asset
// report says "no msdyn_ocrecording table" by its absence), no note and no
// reconciliation row; an empty table the org does have is reconciled.
func TestOmnichannelAbsentTables(t *testing.T) {
	db, res, err := runFixture(t, sampleTables())
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, "views and reconciliation", queryRows(t, db, `select
			(select count(*) from information_schema.tables where table_schema = 'src' and table_name like 'msdyn%'),
			(select count(*) from reports.reconciliation where source_table like 'msdyn%'),
			(select count(*) from stage.conversations where source_table like 'msdyn%')`),
		[]string{"0|0|0"})
	if slices.ContainsFunc(res.Notes, func(n string) bool { return strings.HasPrefix(n, "msdyn_") }) {
		t.Errorf("notes on tables the org does not have: %v", res.Notes)
	}

	tables := sampleTables()
	tables["msdyn_ocsession"] = fixtureTable{schema: "activityid varchar"}
	db, _, err = runFixture(t, tables)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, "empty but present", queryRows(t, db, `select source_table, snapshot_rows, snapshot_status, conserved
		from reports.reconciliation where source_table like 'msdyn%'`), []string{"msdyn_ocsession|0|complete|true"})
}

// Omnichannel tables without the notes table: every transcript is rejected
// for want of content, and nothing else breaks.
func TestOmnichannelWithoutNotes(t *testing.T) {
	tables := omnichannelTables()
	delete(tables, "annotation")
	db := runOmnichannel(t, tables)
	checkRows(t, "transcripts", queryRows(t, db, `select source_id, rule from rejects.conversation_parts
		where source_table = 'msdyn_transcript' order by 1`),
		[]string{"t1|no_content", "t2|no_content", "t3|no_content", "t4|parent_missing", "t5|no_content"})
	checkRows(t, "work items", queryRows(t, db, `select source_id, rule from rejects.conversations
		where source_table = 'msdyn_ocliveworkitem' order by 1`),
		[]string{"w2|no_transcript_content", "w3|no_transcript_content"})
	checkRows(t, "conserved", queryRows(t, db, `select bool_and(conserved) from reports.reconciliation`),
		[]string{"true"})
}

// The document is a list of messages; a wrapped list is taken too, and
// anything else is refused without quoting the document.
func TestDecodeTranscript(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want int
	}{
		{`[{"id":1,"content":"a"},{"id":"2","content":"b"}]`, 2},
		{`{"messages":[{"id":"1","content":"a"}]}`, 1},
		{`{"value":[]}`, 0},
		{`{"other":1}`, -1},
		{`secret text, not JSON`, -1},
	} {
		msgs, err := decodeTranscript([]byte(tc.doc))
		switch {
		case tc.want < 0 && err == nil:
			t.Errorf("%s: decoded %d messages, want an error", tc.doc, len(msgs))
		case tc.want < 0 && strings.Contains(err.Error(), "secret"):
			t.Errorf("error quotes the document: %v", err)
		case tc.want >= 0 && (err != nil || len(msgs) != tc.want):
			t.Errorf("%s: %d messages, %v; want %d", tc.doc, len(msgs), err, tc.want)
		}
	}
	if got := rawString([]byte(`1700000000123`)); got != "1700000000123" {
		t.Errorf("numeric id = %v", got)
	}
}
