package cell

import (
	"strings"
	"testing"
)

// Each hostile value must stay inside its cell: splitting a rendered row on
// unescaped pipes gives exactly the cells written.
func TestMarkdownKeepsOneCell(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"a|b", `a\|b`},
		{`a\|b`, `a\\\|b`},
		{`ends with \`, `ends with \\`},
		{"two\nlines\r\nthree\rfour", "two lines three four"},
		{"<script>alert(1)</script>", `\<script>alert(1)\</script>`},
		{"  padded\t ", "padded"},
		{"", ""},
	}
	for _, c := range cases {
		got := Markdown(c.in)
		if got != c.want {
			t.Errorf("Markdown(%q) = %q, want %q", c.in, got, c.want)
		}
		row := "| x | " + got + " | y |"
		if n := len(splitRow(row)); n != 3 {
			t.Errorf("row %q splits into %d cells, want 3", row, n)
		}
	}
}

func TestCode(t *testing.T) {
	cases := []struct{ in, want string }{
		{`<and a="1"/>`, "`<and a=\"1\"/>`"},
		{"x|y", "`x\\|y`"},
		{"has ` tick", "has ` tick"},
		{`back\slash|`, `back\\slash\|`},
		{"", ""},
	}
	for _, c := range cases {
		if got := Code(c.in); got != c.want {
			t.Errorf("Code(%q) = %q, want %q", c.in, got, c.want)
		}
		if n := len(splitRow("| " + Code(c.in) + " | y |")); n != 2 {
			t.Errorf("Code(%q) does not stay in one cell", c.in)
		}
	}
}

func TestCSVGuardsFormulas(t *testing.T) {
	cases := []struct{ in, want string }{
		{"=cmd()", "'=cmd()"},
		{"+1|2", "'+1|2"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"-3", "-3"},
		{"+1.5", "+1.5"},
		{"a=b", "a=b"},
		{"", ""},
		{"Billing", "Billing"},
	}
	for _, c := range cases {
		if got := CSV(c.in); got != c.want {
			t.Errorf("CSV(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	in := [][]string{{"h"}, {"=1"}}
	out := CSVRecords(in)
	if out[1][0] != "'=1" || in[1][0] != "=1" {
		t.Errorf("CSVRecords = %q, input now %q: want a guarded copy", out, in)
	}
}

// splitRow splits a GFM table row as GitHub's parser does: a backslash
// escapes the next character, and every other "|" separates cells.
func splitRow(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(row, "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(row); i++ {
		switch c := row[i]; {
		case c == '\\' && i+1 < len(row):
			cur.WriteByte(c)
			cur.WriteByte(row[i+1])
			i++
		case c == '|':
			cells = append(cells, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		cells = append(cells, cur.String())
	}
	return cells
}
