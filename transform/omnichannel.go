package transform

import (
	"context"
	"database/sql"
	"fmt"
)

// optionalTables are source tables most orgs do not have: Omnichannel for
// Customer Service adds them (sql/56_omnichannel.sql). When the snapshot
// holds none of a table's rows, the SQL still reads an empty <table>_in, but
// src gets no view (reports tell "no such table" by its absence, as for any
// table not snapshotted), no note is made, and the table is reconciled only
// when the snapshot says it is complete (an empty table the org does have).
var optionalTables = map[string]bool{
	"msdyn_ocliveworkitem": true, "msdyn_ocsession": true, "msdyn_transcript": true, "msdyn_ocrecording": true,
}

// optionalInput creates the empty <name>_in view of an optional table the
// snapshot holds no Parquet for, and records it in snap_tables when complete.
func optionalInput(ctx context.Context, conn *sql.Conn, name string, cs []column, status string, t manifestTable,
	ord int) error {
	in := "create or replace temp view " + name + "_in as " + emptyView(cs)
	if _, err := conn.ExecContext(ctx, in); err != nil {
		return fmt.Errorf("create view %s_in: %w", name, err)
	}
	if status != "complete" {
		return nil
	}
	_, err := conn.ExecContext(ctx, "insert into snap_tables values (?, ?, ?, 0, 0, ?)", name, status,
		t.SourceCount, ord)
	if err != nil {
		return fmt.Errorf("record snapshot table %s: %w", name, err)
	}
	return nil
}
