package report

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/d2i/d2i/report/internal/cell"
)

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func optText(n *int64) string {
	if n == nil {
		return "—"
	}
	return strconv.FormatInt(*n, 10)
}

func sourceCountText(n int64) string {
	if n < 0 {
		return "unknown"
	}
	return strconv.FormatInt(n, 10)
}

// verifiedText is the verified-equal cell: the count, and how many were
// checked when verify looked at a sample only.
func verifiedText(r Row) string {
	if r.Verify == nil {
		return "—"
	}
	if r.VerifySampled() {
		return fmt.Sprintf("%d (%d of %d checked)", r.Verify.Equal, r.Verify.Checked(), r.Staged)
	}
	return strconv.FormatInt(r.Verify.Equal, 10)
}

// reconciliationDoc renders the reconciliation as a Doc.
func reconciliationDoc(res *Result, cfg Config) Doc {
	bad := 0
	for _, r := range res.Rows {
		if !r.OK() {
			bad++
		}
	}
	summary := fmt.Sprintf("✓ all %d source tables reconcile", len(res.Rows))
	if bad > 0 {
		summary = fmt.Sprintf("✗ %d of %d source tables need a look", bad, len(res.Rows))
	}
	return Doc{
		Name:     "reconciliation",
		Title:    "Reconciliation",
		Summary:  summary + ": " + stagesCovered(cfg),
		Markdown: renderMarkdown(res, cfg),
		CSV:      reconciliationCSV(res.Rows),
	}
}

// stagesCovered says which stages the reconciliation checked, for the
// index: a run not yet replayed or verified must not read as if it were.
func stagesCovered(cfg Config) string {
	s := "every source row staged, merged, rejected or out of scope"
	if cfg.Written != nil {
		s += "; written and rolled back per the write log"
	}
	if cfg.VerifyDir != "" {
		s += "; read back by verify"
	}
	return s
}

// renderMarkdown writes the summary lines first (one per source table, like
// rclone check), then the table, then the reasons behind every reject.
func renderMarkdown(res *Result, cfg Config) string {
	var b strings.Builder
	b.WriteString("# Reconciliation\n\n")
	writeSources(&b, cfg)
	b.WriteString("Every row of every source table is accounted for exactly once: " +
		"snapshot = staged + merged + rejected + out of scope. Once replayed, written + rolled back must " +
		"equal staged (admins and teams are matched to existing Intercom ones, never written). Once verified, " +
		"every object verify read back must be equal: after a full verify, verified equal = written; after a " +
		"sampled one, only the checked objects count. ✓ means all of this holds, ✗ means a row needs a look.\n\n")
	fmt.Fprintf(&b, "Overall: %s\n\n", mark(res.AllOK))

	b.WriteString("```\n")
	for _, r := range res.Rows {
		b.WriteString(checkLine(r) + "\n")
	}
	b.WriteString("```\n\n")

	b.WriteString("| | source table | object | source count | snapshot | staged | merged | rejected " +
		"| out of scope | written | rolled back | verified equal |\n")
	b.WriteString("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range res.Rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d | %d | %d | %d | %s | %s | %s |\n", mark(r.OK()),
			mdEscape(r.SourceTable), mdEscape(r.Object), sourceCountText(r.SourceCount), r.SnapshotRows, r.Staged, r.Merged,
			r.Rejected, r.OutOfScope, optText(r.Written), optText(r.RolledBack), verifiedText(r))
	}
	if cfg.Written != nil {
		fmt.Fprintf(&b, "\nData attributes written: %d.", cfg.Written["data_attributes"])
		if n := cfg.RolledBack["data_attributes"]; n > 0 {
			fmt.Fprintf(&b, " Rolled back: %d.", n)
		}
		b.WriteString("\n")
	}

	writeVerify(&b, res)
	writeReasons(&b, res)
	return b.String()
}

// writeSources says where the written, rolled-back and verified counts come
// from, or that they are not there yet.
func writeSources(b *strings.Builder, cfg Config) {
	fmt.Fprintf(b, "Staging database: %s. ", cell.Code(filepath.Base(cfg.DBPath)))
	switch {
	case cfg.Written == nil && cfg.LogDir != "":
		fmt.Fprintf(b, "The write logs in %s record no write sent to Intercom (none, or dry runs only): "+
			"not replayed yet, the written column shows —. ", cell.Code(filepath.Base(cfg.LogDir)))
	case cfg.Written == nil:
		b.WriteString("Not replayed yet: the written column shows —. ")
	case cfg.RolledBack == nil:
		b.WriteString("Written counts come from replay's write log. ")
	default:
		b.WriteString("Written and rolled-back counts come from the write log of replay and rollback. ")
	}
	if cfg.VerifyDir == "" {
		b.WriteString("Not verified: the verified column shows —.\n\n")
	} else {
		fmt.Fprintf(b, "Verified counts come from %s.\n\n", cell.Code(filepath.Base(cfg.VerifyDir)+"/"+verifyTextFile))
	}
}

// checkLine is one rclone-check style line: the row's arithmetic in words.
func checkLine(r Row) string {
	eq := "="
	if !r.Conserved {
		eq = "≠"
	}
	s := fmt.Sprintf("%s %s → %s: %d in %s %d staged + %d merged + %d rejected + %d out of scope",
		mark(r.OK()), r.SourceTable, r.Object, r.SnapshotRows, eq, r.Staged, r.Merged, r.Rejected, r.OutOfScope)
	if r.Written != nil {
		s += fmt.Sprintf("; %d of %d written", *r.Written, r.Staged)
	}
	if n := r.rolledBack(); n > 0 {
		s += fmt.Sprintf(", %d rolled back", n)
	}
	if v := r.Verify; v != nil {
		scope := ""
		if r.VerifySampled() {
			scope = " (sample)"
		}
		s += fmt.Sprintf("; verify checked %d of %d%s: %d equal", v.Checked(), r.Staged, scope, v.Equal)
		s += nonZero(v.Differ, "differ") + nonZero(v.Missing, "missing") + nonZero(v.Errors, "unreadable")
	}
	return s
}

func nonZero(n int64, what string) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d %s", n, what)
}

// writeVerify lists verify's counts per object, when verify ran.
func writeVerify(b *strings.Builder, res *Result) {
	found := false
	for _, r := range res.Rows {
		v := r.Verify
		if v == nil {
			continue
		}
		if !found {
			b.WriteString("\n## Verify\n\n" +
				"What `d2i verify` read back from Intercom, per object: = equal, * differs, - missing, " +
				"! could not be read.\n\n" +
				"| object | scope | checked | of staged | = equal | * differ | - missing | ! error |\n" +
				"|---|---|--:|--:|--:|--:|--:|--:|\n")
			found = true
		}
		scope := "every staged object"
		if r.VerifySampled() {
			scope = "sample"
		}
		fmt.Fprintf(b, "| %s | %s | %d | %d | %d | %d | %d | %d |\n", r.Object, scope, v.Checked(),
			r.Staged, v.Equal, v.Differ, v.Missing, v.Errors)
	}
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
			fmt.Fprintf(b, "| %s | %s | %s | %d |\n", mdEscape(r.Object), mdEscape(why.Rule),
				mdEscape(why.Reason), why.Rows)
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
		fmt.Fprintf(b, "| %s | %s | %d |\n", mdEscape(o.SourceTable), mdEscape(o.Reason), o.Rows)
	}
}

// mdEscape keeps a value inside its table cell (see cell.Markdown).
func mdEscape(s string) string { return cell.Markdown(s) }

// reconciliationCSV has one record per source table; the by-reason columns
// pack "rule=rows" (or "reason=rows") pairs separated by ";" so the file
// stays one table. Columns that do not apply yet are empty.
func reconciliationCSV(rows []Row) [][]string {
	out := [][]string{{"ok", "source_table", "object", "source_count", "snapshot_rows", "staged", "merged",
		"rejected", "out_of_scope", "written", "rolled_back", "verify_scope", "verify_checked",
		"verified_equal", "verify_differ", "verify_missing", "verify_error", "conserved",
		"rejected_by_reason", "out_of_scope_by_reason"}}
	for _, r := range rows {
		rec := []string{mark(r.OK()), r.SourceTable, r.Object, itoa(r.SourceCount), itoa(r.SnapshotRows),
			itoa(r.Staged), itoa(r.Merged), itoa(r.Rejected), itoa(r.OutOfScope), optCSV(r.Written),
			optCSV(r.RolledBack)}
		rec = append(rec, verifyCSV(r)...)
		rec = append(rec, strconv.FormatBool(r.Conserved), packReasons(r.RejectedBy, true),
			packReasons(r.OutOfScopeBy, false))
		out = append(out, rec)
	}
	return out
}

func verifyCSV(r Row) []string {
	v := r.Verify
	if v == nil {
		return []string{"", "", "", "", "", ""}
	}
	scope := "all"
	if r.VerifySampled() {
		scope = "sample"
	}
	return []string{scope, itoa(v.Checked()), itoa(v.Equal), itoa(v.Differ), itoa(v.Missing), itoa(v.Errors)}
}

func packReasons(rs []Reason, byRule bool) string {
	parts := make([]string, len(rs))
	for i, why := range rs {
		key := why.Reason
		if byRule {
			key = why.Rule
		}
		parts[i] = fmt.Sprintf("%s=%d", key, why.Rows)
	}
	return strings.Join(parts, ";")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func optCSV(n *int64) string {
	if n == nil {
		return ""
	}
	return itoa(*n)
}
