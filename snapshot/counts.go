package snapshot

import (
	"context"
	"fmt"
	"strings"
)

// settleCounts compares the rows read with the source's own figures once a
// table is read: @odata.count from page 0 (exact below the cap) and
// RetrieveTotalRecordCount (spec §6). SourceCount keeps the exact
// @odata.count when there is one, else takes RetrieveTotalRecordCount; any
// difference is explained in the checkpoint's count note, never an error,
// since rows come and go during a read and the total is refreshed only
// periodically.
func (r *tableRun) settleCounts(ctx context.Context) {
	odata := r.cp.SourceCount
	total := r.api.totalRecordCount(ctx, r.table)
	if r.cp.SourceCount < 0 {
		r.cp.SourceCount = total
	}
	r.cp.CountNote = countNote(r.cp.Rows, odata, total)
	if r.cp.CountNote != "" {
		r.log.Warn("dataverse count differs from rows read", "rows", r.cp.Rows,
			"odata_count", odata, "total_record_count", total)
	}
}

// countNote explains each known count that differs from rows; "" when
// every known count agrees.
func countNote(rows, odata, total int64) string {
	var notes []string
	if odata >= 0 && odata != rows {
		notes = append(notes, fmt.Sprintf("@odata.count was %d when the read began (%s); "+
			"rows were added or removed while the pages were read", odata, diffWords(odata, rows)))
	}
	if total >= 0 && total != rows {
		notes = append(notes, fmt.Sprintf("RetrieveTotalRecordCount is refreshed periodically; "+
			"it said %d (%s)", total, diffWords(total, rows)))
	}
	return strings.Join(notes, "; ")
}

func diffWords(count, rows int64) string {
	if count > rows {
		return fmt.Sprintf("differs by %d: %d more than the rows read", count-rows, count-rows)
	}
	return fmt.Sprintf("differs by %d: %d fewer than the rows read", rows-count, rows-count)
}
