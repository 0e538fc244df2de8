package transform

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"html"
	"regexp"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/microcosm-cc/bluemonday"
)

// htmlPolicy is built once; bluemonday policies are safe for concurrent use,
// which matters because DuckDB calls UDFs from several threads.
var htmlPolicy = bluemonday.UGCPolicy()

// SanitizeHTML keeps basic formatting, links, lists and tables, drops script
// and style elements with their content, and unwraps anything else (old
// <font>, <span style>, Office markup) into its text.
func SanitizeHTML(s string) string {
	return strings.TrimSpace(dropEmptyImages(htmlPolicy.Sanitize(s)))
}

// dropEmptyImages removes <img> tags the policy left without a src (inline
// cid: and data: images): they would render as broken images. The files
// themselves travel as attachments.
//
// It is a byte scan rather than the regexp `<img\b[^>]*>` it stands for (a
// test checks they agree): run on every sanitised body of an org, the
// regexp was 2 % of the whole transform's CPU.
func dropEmptyImages(s string) string {
	if !strings.Contains(s, "<img") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	rest := s
	for {
		i := strings.Index(rest, "<img")
		if i < 0 {
			break
		}
		j := i + len("<img")
		if j < len(rest) && isWordByte(rest[j]) { // <imgfoo: not an img tag
			b.WriteString(rest[:j])
			rest = rest[j:]
			continue
		}
		k := strings.IndexByte(rest[j:], '>')
		if k < 0 { // unterminated: no tag here or after
			break
		}
		end := j + k + 1
		b.WriteString(rest[:i])
		if tag := rest[i:end]; strings.Contains(tag, " src=") {
			b.WriteString(tag)
		}
		rest = rest[end:]
	}
	b.WriteString(rest)
	return b.String()
}

// isWordByte is \w of Go's regexp (ASCII letters, digits, underscore), which
// is what \b in the old pattern tested.
func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// TextToHTML turns plain text (case descriptions are plain-text Memo columns)
// into HTML paragraphs, escaping markup and keeping line breaks.
func TextToHTML(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\r\n", "\n")
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, para := range splitParagraphs(s) {
		lines := strings.Split(para, "\n")
		for i := range lines {
			lines[i] = html.EscapeString(lines[i])
		}
		b.WriteString("<p>" + strings.Join(lines, "<br>") + "</p>")
	}
	return b.String()
}

var blankLines = regexp.MustCompile(`\n[ \t]*\n+`)

func splitParagraphs(s string) []string {
	var out []string
	for _, p := range blankLines.Split(s, -1) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// looksLikeHTML decides between the two: a common HTML tag or an HTML
// comment/doctype. A bare "<two>" in a plain-text description stays text.
var looksLikeHTML = regexp.MustCompile(`(?i)<(?:!--|!doctype|/?(?:html|head|body|p|div|span|br|hr|b|i|u|` +
	`strong|em|a|img|font|table|tr|td|th|tbody|thead|ul|ol|li|h[1-6]|blockquote|pre|code|script|style)\b)`)

// BodyHTML sanitises s when it holds markup and converts it from plain text
// otherwise.
func BodyHTML(s string) string {
	if looksLikeHTML.MatchString(s) {
		return SanitizeHTML(s)
	}
	return TextToHTML(s)
}

// stringUDF adapts a func(string) string to a DuckDB varchar → varchar scalar
// function (null in, null out).
type stringUDF struct{ fn func(string) string }

func (u *stringUDF) Config() duckdb.ScalarFuncConfig {
	vc, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{vc}, ResultTypeInfo: vc}
}

func (u *stringUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(values []driver.Value) (any, error) {
		s, ok := values[0].(string)
		if !ok {
			return nil, fmt.Errorf("expected varchar, got %T", values[0])
		}
		return u.fn(s), nil
	}}
}

// registerUDFs makes sanitize_html, text_to_html, body_html and article_html available on conn.
func registerUDFs(conn *sql.Conn) error {
	for name, fn := range map[string]func(string) string{
		"sanitize_html": SanitizeHTML,
		"text_to_html":  TextToHTML,
		"body_html":     BodyHTML,
		"article_html":  ArticleHTML,
	} {
		if err := duckdb.RegisterScalarUDF(conn, name, &stringUDF{fn: fn}); err != nil {
			return fmt.Errorf("register udf %s: %w", name, err)
		}
	}
	return nil
}
