package transform

import (
	"strings"
	"testing"
)

// contractDDL is contracts.md §2, column by column: replay reads these
// tables, so names, order and types must match exactly.
var contractDDL = map[string]string{
	"admins":          "source_table varchar, source_id varchar, email varchar, name varchar, ord bigint",
	"teams":           "source_table varchar, source_id varchar, name varchar, ord bigint",
	"data_attributes": "model varchar, name varchar, data_type varchar, description varchar, source_table varchar, source_id varchar, ord bigint",
	"companies": "source_table varchar, source_id varchar, company_id varchar, name varchar, website varchar, " +
		"industry varchar, size integer, remote_created_at bigint, custom_attributes json, ord bigint",
	"contacts": "source_table varchar, source_id varchar, role varchar, external_id varchar, email varchar, " +
		"name varchar, phone varchar, signed_up_at bigint, unsubscribed_from_emails boolean, company_source_id varchar, " +
		"merged_source_ids varchar[], " +
		"custom_attributes json, ord bigint",
	"conversations": "source_table varchar, source_id varchar, contact_source_id varchar, company_source_id varchar, " +
		"admin_source_id varchar, team_source_id varchar, title varchar, body varchar, created_at bigint, " +
		"updated_at bigint, state varchar, snoozed_until bigint, closed_at bigint, custom_attributes json, ord bigint",
	"deletions": "kind varchar, source_table varchar, source_id varchar, action varchar, ord bigint",
	"conversation_parts": "source_table varchar, source_id varchar, conversation_source_id varchar, " +
		"part_order integer, author_type varchar, contact_source_id varchar, admin_source_id varchar, " +
		"message_type varchar, body varchar, created_at bigint, ord bigint",
}

func TestStageTablesMatchContract(t *testing.T) {
	dbPath, _, err := runFixture(t, sampleTables())
	if err != nil {
		t.Fatal(err)
	}
	for table, want := range contractDDL {
		cols := queryRows(t, dbPath, "select column_name || ' ' || lower(data_type) from duckdb_columns() "+
			"where schema_name = 'stage' and table_name = '"+table+"' order by column_index")
		if got := strings.Join(cols, ", "); got != want {
			t.Errorf("stage.%s\n got: %s\nwant: %s", table, got, want)
		}
	}
	for _, table := range []string{"admins", "teams", "companies", "contacts", "conversations", "conversation_parts"} {
		cols := queryRows(t, dbPath, "select string_agg(column_name, ',' order by column_index) from duckdb_columns() "+
			"where schema_name = 'rejects' and table_name = '"+table+"'")
		if len(cols) != 1 || !strings.HasPrefix(cols[0], "source_table,source_id,rule,reason") {
			t.Errorf("rejects.%s columns = %v", table, cols)
		}
	}
}
