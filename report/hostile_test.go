package report

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// hostileNames rename things on a real staging database the way a messy or
// malicious org could: pipes and backslashes that end a Markdown cell, line
// breaks, HTML, and spreadsheet formulas.
var hostileNames = []string{
	`create table main.q as select * replace (case when row_number() over (order by queueid) = 1
		then 'Bill|ing\|x' || chr(10) || '<script>alert(1)</script>' else '=cmd()|'' ; @SUM(1)' end as name)
		from src.queue`,
	`drop view src.queue`, `create table src.queue as select * from main.q`,
	`update stage.teams set name = (select name from src.queue q where q.queueid = stage.teams.source_id)`,
	`create table main.i as select * replace ('+1|2' || chr(10) || '# head <img src=x onerror=alert(1)> ` +
		"`tick" + `' as title) from src.incident`,
	`drop view src.incident`, `create table src.incident as select * from main.i`,
	`update stage.conversations set title = '-2+3|x' || chr(13) || chr(10) || '<b>bold</b>'`,
	`update stage.companies set name = '@evil|' || chr(10) || '\'`,
	`create table main.u as select * replace ('Mei |<script>x</script>' || chr(10) || '=1+1' as fullname)
		from src.systemuser`,
	`drop view src.systemuser`, `create table src.systemuser as select * from main.u`,
	`insert into rejects.companies (source_table, source_id, rule, reason, context)
		values ('account', 'acc-h', 'missing_name', 'no | name' || chr(10) || '<script>', '=2+5|ctx')`,
	`create table src.workflow as select '4a11fd34-0000-0000-0000-000000000001' as workflowid,
		'=HYPERLINK("http://x")|<script>' || chr(10) || 'w' as name, 5 as category, 1 as type,
		1 as statecode, '{"properties":{"definition":{"triggers":{"manual":{"type":"Request","kind":"Button"}},"actions":{}}}}' as clientdata`,
}

// Every report over hostile names must stay well formed: Markdown tables
// keep their columns and carry no raw HTML, CSV files parse and start no
// field with a formula, and the index links only files of the folder.
func TestBuildHostileNames(t *testing.T) {
	_, dbPath := reviewerSampleOrg(t)
	w, err := sql.Open("duckdb", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range hostileNames {
		if _, err := w.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	w.Close()

	out := filepath.Join(t.TempDir(), "reports")
	_, err = Build(context.Background(), Config{DBPath: dbPath, OutDir: out,
		Sample: &SampleInput{Seed: 1}, Plan: &PlanInput{RatePerMinute: 600, Staging: "staging.duckdb"}})
	if err != nil {
		t.Fatal(err)
	}
	assertFolderWellFormed(t, out)
	assertRealIndexInChromium(t, out)
	for _, want := range []string{"routing_inventory.md", "flow_inventory.md", "reviewer_sample.md"} {
		b, _ := os.ReadFile(filepath.Join(out, want))
		if !strings.Contains(string(b), `\<script>`) && !strings.Contains(string(b), `\<img`) {
			t.Errorf("%s shows no hostile name at all: the fixture missed it", want)
		}
	}
}

// assertRealIndexInChromium loads the index of a real run folder in
// headless Chromium, when one is installed (TestIndexInChromium is the test
// that insists on it), and checks the charts and links in its DOM.
func assertRealIndexInChromium(t *testing.T, dir string) {
	t.Helper()
	var browser string
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Log("no browser on PATH: the run folder's index was not rendered")
		return
	}
	dom, err := html.Parse(bytes.NewReader(dumpDOM(t, browser, filepath.Join(dir, IndexFile))))
	if err != nil {
		t.Fatalf("parse Chromium's DOM: %v", err)
	}
	if n := len(findAll(byID(t, dom, "chart-stages"), tagClass("rect", "bar"))); n == 0 {
		t.Error("#chart-stages has no bars")
	}
	links := findAll(byID(t, dom, "reports"), tagClass("a", ""))
	mds, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	if len(links) != 2*len(mds) {
		t.Errorf("Chromium sees %d report links, want %d", len(links), 2*len(mds))
	}
	for _, a := range links {
		if _, err := os.Stat(filepath.Join(dir, attrOf(a, "href"))); err != nil {
			t.Errorf("link %q points to no file", attrOf(a, "href"))
		}
	}
}

// assertFolderWellFormed checks every file of a report folder.
func assertFolderWellFormed(t *testing.T, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no reports in %s (%v)", dir, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(f) {
		case ".md":
			assertMarkdownWellFormed(t, filepath.Base(f), string(b))
		case ".csv":
			assertCSVWellFormed(t, filepath.Base(f), b)
		case ".html":
			assertIndexLinks(t, dir, b)
		}
	}
}

// rawHTML is a tag opening that a Markdown viewer would render.
var rawHTML = regexp.MustCompile(`(^|[^\\])<(script|img|b)\b`)

func assertMarkdownWellFormed(t *testing.T, name, md string) {
	t.Helper()
	header := 0
	for i, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			header = 0
			continue
		}
		n := len(gfmCells(line))
		if header == 0 {
			header = n
		} else if n != header {
			t.Errorf("%s line %d has %d cells, its table %d: %s", name, i+1, n, header, line)
		}
		if rawHTML.MatchString(line) {
			t.Errorf("%s line %d holds raw HTML: %s", name, i+1, line)
		}
	}
}

// gfmCells splits a GFM table row as GitHub does: a backslash escapes the
// next character, every other "|" separates cells.
func gfmCells(row string) []string {
	row = strings.TrimPrefix(strings.TrimSpace(row), "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(row); i++ {
		switch c := row[i]; {
		case c == '\\' && i+1 < len(row):
			cur.WriteString(row[i : i+2])
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

func assertCSVWellFormed(t *testing.T, name string, b []byte) {
	t.Helper()
	records, err := csv.NewReader(bytes.NewReader(b)).ReadAll() // also checks equal field counts
	if err != nil {
		t.Errorf("%s does not parse as CSV: %v", name, err)
		return
	}
	for _, rec := range records {
		for _, f := range rec {
			if f == "" || !strings.ContainsRune("=+-@\t\r", rune(f[0])) {
				continue
			}
			if _, err := strconv.ParseFloat(f, 64); err != nil {
				t.Errorf("%s has a field a spreadsheet would run as a formula: %q", name, f)
			}
		}
	}
}

// assertIndexLinks checks that the index is self-contained: no script, no
// external reference, and every link a relative path to a file that exists.
func assertIndexLinks(t *testing.T, dir string, page []byte) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("index.html: %v", err)
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "script" {
			t.Error("index.html holds a script element")
		}
		for _, a := range n.Attr {
			if a.Key != "href" && a.Key != "src" {
				continue
			}
			u, err := url.Parse(a.Val)
			if err != nil || u.IsAbs() || u.Host != "" || strings.HasPrefix(a.Val, "/") {
				t.Errorf("index.html %s=%q is not a relative link", a.Key, a.Val)
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(u.Path))); err != nil {
				t.Errorf("index.html links %q, which does not exist", a.Val)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}
