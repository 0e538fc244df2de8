package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func writtenText(r Row) string {
	if r.Written == nil {
		return "—"
	}
	return strconv.FormatInt(*r.Written, 10)
}

func sourceCountText(n int64) string {
	if n < 0 {
		return "unknown"
	}
	return strconv.FormatInt(n, 10)
}

// renderMarkdown writes the summary lines first (one per source table, like
// rclone check), then the table, then the reasons behind every reject.
func renderMarkdown(res *Result, cfg Config) string {
	var b strings.Builder
	b.WriteString("# Reconciliation\n\n")
	fmt.Fprintf(&b, "Staging database: `%s`. ", filepath.Base(cfg.DBPath))
	if cfg.Written == nil {
		b.WriteString("Not replayed yet: the written column shows —.\n\n")
	} else {
		b.WriteString("Written counts come from replay's write log.\n\n")
	}
	b.WriteString("Every row of every source table is accounted for exactly once: " +
		"snapshot = staged + merged + rejected + out of scope. Once replayed, written must equal staged " +
		"(admins and teams are matched to existing Intercom ones, never written). " +
		"✓ means both hold, ✗ means a row needs a look.\n\n")
	fmt.Fprintf(&b, "Overall: %s\n\n", mark(res.AllOK))

	b.WriteString("```\n")
	for _, r := range res.Rows {
		eq := "="
		if !r.Conserved {
			eq = "≠"
		}
		fmt.Fprintf(&b, "%s %s → %s: %d in %s %d staged + %d merged + %d rejected + %d out of scope",
			mark(r.OK()), r.SourceTable, r.Object, r.SnapshotRows, eq, r.Staged, r.Merged, r.Rejected, r.OutOfScope)
		if r.Written != nil {
			fmt.Fprintf(&b, "; %d of %d written", *r.Written, r.Staged)
		}
		b.WriteString("\n")
	}
	b.WriteString("```\n\n")

	b.WriteString("| | source table | object | source count | snapshot | staged | merged | rejected " +
		"| out of scope | written |\n")
	b.WriteString("|---|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range res.Rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d | %d | %d | %d | %s |\n", mark(r.OK()), r.SourceTable,
			r.Object, sourceCountText(r.SourceCount), r.SnapshotRows, r.Staged, r.Merged, r.Rejected,
			r.OutOfScope, writtenText(r))
	}
	if cfg.Written != nil {
		fmt.Fprintf(&b, "\nData attributes written: %d.\n", cfg.Written["data_attributes"])
	}

	writeReasons(&b, res)
	return b.String()
}

func writeReasons(b *strings.Builder, res *Result) {
	b.WriteString("\n## Rejected rows by reason\n\n")
	found := false
	for _, r := range res.Rows {
		for _, why := range r.RejectedBy {
			if !found {
				b.WriteString("| object | rule | reason | rows |\n|---|---|---|--:|\n")
				found = true
			}
			fmt.Fprintf(b, "| %s | %s | %s | %d |\n", r.Object, why.Rule, mdEscape(why.Reason), why.Rows)
		}
	}
	if !found {
		b.WriteString("None.\n")
	}

	b.WriteString("\n## Out of scope by reason\n\n")
	if len(res.OutOfScope) == 0 {
		b.WriteString("None.\n")
		return
	}
	b.WriteString("| source table | reason | rows |\n|---|---|--:|\n")
	for _, o := range res.OutOfScope {
		fmt.Fprintf(b, "| %s | %s | %d |\n", o.SourceTable, mdEscape(o.Reason), o.Rows)
	}
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// renderCSV writes one record per source table; rejected_by_reason packs
// "rule=rows" pairs separated by ";" so the file stays one table.
func renderCSV(rows []Row) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	header := []string{"ok", "source_table", "object", "source_count", "snapshot_rows", "staged", "merged",
		"rejected", "out_of_scope", "written", "conserved", "rejected_by_reason"}
	if err := w.Write(header); err != nil {
		return nil, fmt.Errorf("write csv header: %w", err)
	}
	for _, r := range rows {
		written := ""
		if r.Written != nil {
			written = strconv.FormatInt(*r.Written, 10)
		}
		var reasons []string
		for _, why := range r.RejectedBy {
			reasons = append(reasons, fmt.Sprintf("%s=%d", why.Rule, why.Rows))
		}
		rec := []string{mark(r.OK()), r.SourceTable, r.Object, strconv.FormatInt(r.SourceCount, 10),
			strconv.FormatInt(r.SnapshotRows, 10), strconv.FormatInt(r.Staged, 10), strconv.FormatInt(r.Merged, 10),
			strconv.FormatInt(r.Rejected, 10), strconv.FormatInt(r.OutOfScope, 10), written,
			strconv.FormatBool(r.Conserved), strings.Join(reasons, ";")}
		if err := w.Write(rec); err != nil {
			return nil, fmt.Errorf("write csv row %s: %w", r.SourceTable, err)
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}
