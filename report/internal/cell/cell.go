// Package cell makes untrusted text (names of queues, accounts, flows,
// case titles) safe inside the reports: one line of a Markdown table cell,
// an inline code span, or a CSV field a spreadsheet opens without running
// it as a formula. Every report renders through it, so a hostile name
// breaks none of them the same way everywhere.
package cell

import (
	"strconv"
	"strings"
)

// mdEscaper escapes what would end a table cell or start raw HTML. The
// backslash comes first: a name ending in "\" before an escaped "|" would
// otherwise turn the escape into a literal backslash and split the cell.
// CommonMark renders "\<" and "\\" as "<" and "\", so readers see the name.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "<", `\<`)

// Markdown keeps s on one line of one table cell or list item: line breaks
// and runs of white space become one space, "|" cannot end the cell and
// "<" cannot open an HTML tag (a Markdown viewer would run <script>).
func Markdown(s string) string {
	return mdEscaper.Replace(strings.Join(strings.Fields(s), " "))
}

// Code is s as an inline code span in a table cell. Code spans take no
// backslash escapes, so text with a backtick or a backslash, which could
// close the span or swallow the "|" escape, falls back to Markdown.
func Code(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" || strings.ContainsAny(s, "`\\") {
		return Markdown(s)
	}
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}

// CSV guards a field against formula injection: a spreadsheet runs a field
// that starts with =, +, -, @, a tab or a carriage return as a formula, so
// such a field gets a leading apostrophe, which shows it as text. Numbers
// ("-3", "+1.5") are left alone: they are data, not formulas.
func CSV(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

// CSVRecords applies CSV to every field of a copy of records.
func CSVRecords(records [][]string) [][]string {
	out := make([][]string, len(records))
	for i, rec := range records {
		out[i] = make([]string, len(rec))
		for j, f := range rec {
			out[i][j] = CSV(f)
		}
	}
	return out
}
