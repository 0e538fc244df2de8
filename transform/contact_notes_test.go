package transform

import (
	"strings"
	"testing"
)

// contactNoteTables is sampleTables plus phone calls on no case: one per way
// of finding the contact, one per way of not finding it, and a task on a
// contact (tasks do not become contact notes).
func contactNoteTables() map[string]fixtureTable {
	tables := sampleTables()
	contact := tables["contact"]
	contact.rows = append(contact.rows,
		// invalid_utf8 in the name: rejected, so notes about it are too
		"('c8', 'Bad ' || chr(65533) || ' Name', null, null, 'bad@example.com', null, null, null, null, null, null, null, 0, 'Active', '2021-03-01 00:00:00+00', null, null, null)")
	tables["contact"] = contact

	call := tables["phonecall"]
	call.rows = append(call.rows,
		// regarding a contact merged into c1: the note goes to the survivor; an HTML description is sanitised
		`('pc4', 'Billing query', 'Asked about <b>VAT</b>', '+1 555', false, 7, 1, 'Completed', 4, 'Received',
		  'c2', 'contact', 'Jane Sample (old)', 'u1', 'systemuser', 'Agent One', '2022-02-01 09:00:00+00', '2022-02-01 09:07:00+00', null, '2022-02-01 09:00:00+00')`,
		// outgoing, regarding an account: the callee (to party c5), not the caller (the agent)
		`('pc5', 'Renewal', null, '+81 3', true, 3, 1, 'Completed', 2, 'Made',
		  'a2', 'account', '株式会社テスト', 'u2', 'systemuser', 'No Mail', null, null, null, '2022-02-02 10:00:00+00')`,
		// incoming, regarding nothing: the caller (from party c6, a lead) wins over the to party c4
		`('pc6', null, 'Left a voicemail', null, false, null, 1, 'Completed', 4, 'Received',
		  null, null, null, 'u1', 'systemuser', 'Agent One', '2022-02-03 08:00:00+00', null, null, '2022-02-03 08:00:00+00')`,
		// regarding a contact that is not in the snapshot, and one that was rejected
		`('pc7', 'Ghost', null, null, false, 1, 1, 'Completed', 4, 'Received',
		  'c99', 'contact', 'Gone', 'u1', 'systemuser', 'Agent One', null, null, null, '2022-02-04 08:00:00+00')`,
		`('pc8', 'Bad', null, null, false, 1, 1, 'Completed', 4, 'Received',
		  'c8', 'contact', 'Bad', 'u1', 'systemuser', 'Agent One', null, null, null, '2022-02-05 08:00:00+00')`)
	tables["phonecall"] = call

	party := tables["activityparty"]
	party.rows = append(party.rows,
		"('p8', null, 'pc5', 'phonecall', null, 'u2', 'systemuser', 'No Mail', 1, 'Sender')",
		"('p9', null, 'pc5', 'phonecall', null, 'c5', 'contact', '王小明', 2, 'To Recipient')",
		"('p10', null, 'pc6', 'phonecall', null, 'c4', 'contact', 'Zoë', 2, 'To Recipient')",
		"('p11', null, 'pc6', 'phonecall', null, 'c6', 'contact', 'Bad Mail', 1, 'Sender')")
	tables["activityparty"] = party

	task := tables["task"]
	task.rows = append(task.rows,
		`('tk4', 'Send brochure', null, 0, 1, 'Normal', 0, 'Open', 2, 'Not Started',
		  'c1', 'contact', 'Jane', 'u1', 'systemuser', 'Agent One', null, null, '2022-02-06 08:00:00+00')`)
	tables["task"] = task
	return tables
}

func TestRunStagesContactNotes(t *testing.T) {
	dbPath, res, err := runFixture(t, contactNoteTables())
	if err != nil {
		t.Fatal(err)
	}

	cols := queryRows(t, dbPath, "select column_name || ' ' || lower(data_type) from duckdb_columns() "+
		"where schema_name = 'stage' and table_name = 'contact_notes' order by column_index")
	if got, want := strings.Join(cols, ", "), "source_table varchar, source_id varchar, contact_source_id varchar, "+
		"admin_source_id varchar, body varchar, created_at bigint, ord bigint"; got != want {
		t.Errorf("stage.contact_notes\n got: %s\nwant: %s", got, want)
	}

	// ord follows the contact's ord (c1 before c5 before c6), then time.
	assertRows(t, dbPath, "select * from stage.contact_notes order by ord", []string{
		"phonecall|pc4|c1|u1|<p>Phone call (incoming): Billing query<br>Number: +1 555<br>Duration: 7 min<br>" +
			"Status: Received<br>When: 2022-02-01 09:00 UTC</p>Asked about <b>VAT</b>|1643706420|1",
		"phonecall|pc5|c5|NULL|<p>Phone call (outgoing): Renewal<br>Number: +81 3<br>Duration: 3 min<br>" +
			"Status: Made<br>When: 2022-02-02 10:00 UTC</p>|1643796000|2",
		"phonecall|pc6|c6|u1|<p>Phone call (incoming): (no subject)<br>Number: not recorded<br>" +
			"Duration: not recorded<br>Status: Received<br>When: 2022-02-03 08:00 UTC</p><p>Left a voicemail</p>|1643875200|3",
	})
	assertRows(t, dbPath, "select * from rejects.contact_notes order by source_id", []string{
		"phonecall|pc7|parent_missing|the contact this phone call is about is not in the snapshot|c99",
		"phonecall|pc8|parent_rejected|the contact this phone call is about was rejected (see rejects.contacts)|c8",
	})
	assertRows(t, dbPath, "select source_table, source_id, reason from reports.out_of_scope "+
		"where source_table in ('phonecall', 'task') order by all", []string{
		"phonecall|pc3|phone call regarding neither a case nor a contact (notes on companies are not migrated yet)",
		"task|tk4|activity not regarding a case (notes on users and companies are not migrated yet)",
	})
	// the calls on cases are parts as before.
	assertRows(t, dbPath, "select source_id from stage.conversation_parts where source_table = 'phonecall' "+
		"order by all", []string{"pc1", "pc2"})

	for _, r := range res.Reconciliation {
		if r.SourceTable == "phonecall" && (r.SnapshotRows != 8 || r.Staged != 5 || r.Rejected != 2 ||
			r.OutOfScope != 1 || !r.Conserved) {
			t.Errorf("phonecall reconciliation = %+v, want 8 = 5 staged + 2 rejected + 1 out of scope", r)
		}
	}
	if res.Staged["contact_notes"] != 3 {
		t.Errorf("staged = %v, want 3 contact_notes", res.Staged)
	}
}
