package report

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

func int64p(n int64) *int64 { return &n }

func utcMinute(hhmm string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", "2026-12-03 "+hhmm)
	if err != nil {
		panic(err)
	}
	return t
}

// sampleIndex is a run folder after one replay that was throttled and
// resumed: contacts were written, conversations not yet.
func sampleIndex() IndexInput {
	return IndexInput{
		Snapshot:   "snap-20261203",
		SnapshotAt: time.Date(2026, 12, 3, 10, 5, 0, 0, time.UTC),
		Staging:    "staging.duckdb",
		StagingAt:  time.Date(2026, 12, 3, 10, 9, 30, 0, time.UTC),
		Docs: []Doc{
			{Name: "reconciliation", Title: "Reconciliation", Summary: "Every source row, accounted for."},
			{Name: "flow_inventory", Title: "Flow inventory", Summary: "Flows to rebuild by hand."},
		},
		Stages: []StageCounts{
			{Object: "contacts", Snapshot: 200, Staged: 150, Merged: 30, Rejected: 15, OutOfScope: 5, Written: int64p(150)},
			{Object: "conversations", Snapshot: 100, Staged: 90, Rejected: 10},
		},
		Rate: []RatePoint{
			{Run: "r1", Minute: utcMinute("10:00"), Requests: 40},
			{Run: "r1", Minute: utcMinute("10:01"), Requests: 80},
			{Run: "r1", Minute: utcMinute("10:02"), Requests: 100, Throttled: 7},
			{Run: "r1", Minute: utcMinute("10:04"), Requests: 20},
			{Run: "r2", Minute: utcMinute("10:15"), Requests: 60, Throttled: 1},
			{Run: "r2", Minute: utcMinute("10:16"), Requests: 50},
			{Run: "r2", Minute: utcMinute("10:20"), Requests: 10},
		},
	}
}

func renderIndex(t *testing.T, in IndexInput) ([]byte, *html.Node) {
	t.Helper()
	out, err := Index(in)
	if err != nil {
		t.Fatalf("Index: %v", err)
	}
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("parse index: %v", err)
	}
	return out, doc
}

// --- a few DOM helpers, so assertions read as selectors ---

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	return slices.Contains(strings.Fields(attrOf(n, "class")), class)
}

// findAll returns the elements under n, in document order, that match.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var found []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && match(c) {
			found = append(found, c)
		}
	}
	return found
}

func byID(t *testing.T, n *html.Node, id string) *html.Node {
	t.Helper()
	found := findAll(n, func(c *html.Node) bool { return attrOf(c, "id") == id })
	if len(found) != 1 {
		t.Fatalf("want one element #%s, found %d", id, len(found))
	}
	return found[0]
}

func tagClass(tag, class string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == tag && (class == "" || hasClass(n, class)) }
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

func nodeTexts(nodes []*html.Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = nodeText(n)
	}
	return out
}

func stageGroupNode(t *testing.T, doc *html.Node, object string) *html.Node {
	t.Helper()
	chart := byID(t, doc, "chart-stages")
	found := findAll(chart, func(n *html.Node) bool { return hasClass(n, "group") && attrOf(n, "data-object") == object })
	if len(found) != 1 {
		t.Fatalf("want one group for %s, found %d", object, len(found))
	}
	return found[0]
}

// --- unit tests ---

func TestIndexBarWidthsProportional(t *testing.T) {
	_, doc := renderIndex(t, sampleIndex())

	// The largest count (contacts' 200 snapshot rows) spans the full 480
	// units; every other bar is its count's share of that.
	tests := []struct {
		object, stage string
		width         float64
	}{
		{"contacts", "snapshot", 480},
		{"contacts", "staged", 360},
		{"contacts", "merged", 72},
		{"contacts", "rejected", 36},
		{"contacts", "out_of_scope", 12},
		{"contacts", "written", 360},
		{"conversations", "snapshot", 240},
		{"conversations", "staged", 216},
		{"conversations", "merged", 0},
		{"conversations", "rejected", 24},
	}
	for _, tt := range tests {
		t.Run(tt.object+"/"+tt.stage, func(t *testing.T) {
			bars := findAll(stageGroupNode(t, doc, tt.object), func(n *html.Node) bool {
				return n.Data == "rect" && hasClass(n, "bar") && attrOf(n, "data-stage") == tt.stage
			})
			if len(bars) != 1 {
				t.Fatalf("want one bar, found %d", len(bars))
			}
			got, err := strconv.ParseFloat(attrOf(bars[0], "width"), 64)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.width {
				t.Errorf("width = %v, want %v", got, tt.width)
			}
			if x := attrOf(bars[0], "x"); x != "160.0" {
				t.Errorf("bars start at x=%s, want 160.0 so they share a baseline", x)
			}
		})
	}
}

func TestIndexStageLabels(t *testing.T) {
	_, doc := renderIndex(t, sampleIndex())

	values := nodeTexts(findAll(stageGroupNode(t, doc, "contacts"), tagClass("text", "value")))
	want := []string{"200", "150", "30", "15", "5", "150"}
	if !slices.Equal(values, want) {
		t.Errorf("contacts value labels = %q, want %q", values, want)
	}
	titles := nodeTexts(findAll(stageGroupNode(t, doc, "contacts"), tagClass("title", "")))
	if titles[0] != "contacts, snapshot: 200 rows" {
		t.Errorf("first bar tooltip = %q", titles[0])
	}
}

func TestIndexLegends(t *testing.T) {
	_, doc := renderIndex(t, sampleIndex())

	stagesLegend := findAll(byID(t, doc, "chart-stages"), tagClass("g", "legend"))[0]
	labels := nodeTexts(findAll(stagesLegend, tagClass("text", "")))
	want := []string{"snapshot", "staged", "merged", "rejected", "out of scope", "written", "verified", "rolled back"}
	if !slices.Equal(labels, want) {
		t.Errorf("stage legend = %q, want %q", labels, want)
	}
	fills := map[string]bool{}
	for _, sw := range findAll(stagesLegend, tagClass("rect", "swatch")) {
		fills[attrOf(sw, "fill")] = true
	}
	if len(fills) != len(want) {
		t.Errorf("legend uses %d distinct colours for %d stages", len(fills), len(want))
	}

	rateLegend := findAll(byID(t, doc, "chart-rate"), tagClass("g", "legend"))[0]
	labels = nodeTexts(findAll(rateLegend, tagClass("text", "")))
	want = []string{"run r1", "run r2", "answered 429"}
	if !slices.Equal(labels, want) {
		t.Errorf("rate legend = %q, want %q", labels, want)
	}
}

func TestIndexNotRunStages(t *testing.T) {
	_, doc := renderIndex(t, sampleIndex())

	tests := []struct {
		object string
		notRun []string
	}{
		{"contacts", []string{"verified", "rolled_back"}},
		{"conversations", []string{"written", "verified", "rolled_back"}},
	}
	for _, tt := range tests {
		g := stageGroupNode(t, doc, tt.object)
		var got []string
		for _, n := range findAll(g, tagClass("text", "not-run")) {
			if nodeText(n) != "not run" {
				t.Errorf("%s: not-run label reads %q", tt.object, nodeText(n))
			}
			got = append(got, attrOf(n, "data-stage"))
		}
		if !slices.Equal(got, tt.notRun) {
			t.Errorf("%s: not run = %q, want %q", tt.object, got, tt.notRun)
		}
		if bars := findAll(g, tagClass("rect", "bar")); len(bars) != 8-len(tt.notRun) {
			t.Errorf("%s: %d bars, want %d (no bar for a stage that did not run)", tt.object, len(bars), 8-len(tt.notRun))
		}
	}

	rows := findAll(byID(t, doc, "table-stages"), tagClass("tr", ""))
	if len(rows) != 3 {
		t.Fatalf("fallback table has %d rows, want header + 2", len(rows))
	}
	cells := nodeTexts(findAll(rows[2], func(n *html.Node) bool { return n.Data == "th" || n.Data == "td" }))
	want := []string{"conversations", "100", "90", "0", "10", "0", "not run", "not run", "not run"}
	if !slices.Equal(cells, want) {
		t.Errorf("fallback row = %q, want %q", cells, want)
	}
}

func TestIndexReportLinks(t *testing.T) {
	_, doc := renderIndex(t, sampleIndex())

	nav := byID(t, doc, "reports")
	var hrefs []string
	for _, a := range findAll(nav, tagClass("a", "")) {
		hrefs = append(hrefs, attrOf(a, "href"))
	}
	want := []string{"reconciliation.md", "reconciliation.csv", "flow_inventory.md", "flow_inventory.csv"}
	if !slices.Equal(hrefs, want) {
		t.Errorf("links = %q, want %q", hrefs, want)
	}
	items := findAll(nav, tagClass("li", "report"))
	if len(items) != 2 {
		t.Fatalf("%d report items, want 2", len(items))
	}
	title := nodeTexts(findAll(items[1], tagClass("span", "report-title")))
	summary := nodeTexts(findAll(items[1], tagClass("p", "")))
	if !slices.Equal(title, []string{"Flow inventory"}) || !slices.Equal(summary, []string{"Flows to rebuild by hand."}) {
		t.Errorf("second item: title %q, summary %q", title, summary)
	}
}

func TestIndexEscapesHostileText(t *testing.T) {
	const hostile = `<script>alert(1)</script>`
	in := sampleIndex()
	in.Snapshot = hostile
	in.Docs[0].Title = hostile
	in.Docs[0].Summary = `"quoted" & <b>bold</b>`
	in.Stages[0].Object = `<img src=x onerror=alert(1)>`
	in.Rate[0].Run = `</title><script>alert(2)</script>`
	out, doc := renderIndex(t, in)

	for _, raw := range []string{"<script", "<img", "<b>"} {
		if bytes.Contains(out, []byte(raw)) {
			t.Errorf("output holds unescaped %q", raw)
		}
	}
	if n := findAll(doc, func(n *html.Node) bool { return n.Data == "script" || n.Data == "img" }); len(n) > 0 {
		t.Errorf("hostile text became %d elements", len(n))
	}
	// Escaped, not dropped: the reader still sees the text as it was.
	if got := nodeText(byID(t, doc, "snapshot-name")); got != hostile {
		t.Errorf("snapshot name reads %q, want %q", got, hostile)
	}
	if got := nodeText(findAll(doc, tagClass("title", ""))[0]); got != "d2i run report: "+hostile {
		t.Errorf("page title reads %q", got)
	}
	if got := findAll(byID(t, doc, "chart-rate"), tagClass("path", "series")); attrOf(got[0], "data-run") != in.Rate[0].Run {
		t.Errorf("hostile run name did not survive as an attribute value")
	}
	if got := nodeTexts(findAll(byID(t, doc, "reports"), tagClass("span", "report-title")))[0]; got != hostile {
		t.Errorf("report title reads %q, want %q", got, hostile)
	}
	if got := nodeTexts(findAll(byID(t, doc, "reports"), tagClass("p", "")))[0]; got != `"quoted" & <b>bold</b>` {
		t.Errorf("summary reads %q", got)
	}
	stageGroupNode(t, doc, `<img src=x onerror=alert(1)>`)
}

func TestIndexRejectsUnsafeNames(t *testing.T) {
	for _, name := range []string{"", "../secrets", "a/b", `a\b`, "javascript:alert(1)", ".hidden", "two words"} {
		in := sampleIndex()
		in.Docs[0].Name = name
		if _, err := Index(in); err == nil {
			t.Errorf("name %q: want an error", name)
		}
	}
	in := sampleIndex()
	in.Docs[1].Name = in.Docs[0].Name
	if _, err := Index(in); err == nil {
		t.Error("duplicate name: want an error")
	}
}

func TestIndexDeterministic(t *testing.T) {
	first, err := Index(sampleIndex())
	if err != nil {
		t.Fatal(err)
	}
	second, err := Index(sampleIndex())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Fatal("two builds of the same input differ")
	}

	// The write log may hand minutes over in any order and in any zone.
	shuffled := sampleIndex()
	slices.Reverse(shuffled.Rate)
	for i := range shuffled.Rate {
		shuffled.Rate[i].Minute = shuffled.Rate[i].Minute.In(time.FixedZone("CET", 3600))
	}
	shuffled.SnapshotAt = shuffled.SnapshotAt.In(time.FixedZone("PST", -8*3600))
	third, err := Index(shuffled)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, third) {
		t.Error("reordering rate points or changing their zone changed the page")
	}

	golden := filepath.Join("testdata", "html_index.golden.html")
	if *update {
		if err := os.WriteFile(golden, first, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(first, want) {
		t.Errorf("index differs from %s; inspect and rerun with -update if intended", golden)
	}
}

func TestIndexSelfContained(t *testing.T) {
	out, doc := renderIndex(t, sampleIndex())

	for _, ref := range []string{"http:", "https:", "//", "xmlns", "<script", "<link", "@import", "url(", "<img", "@font-face"} {
		if bytes.Contains(out, []byte(ref)) {
			t.Errorf("output references %q; the page must load nothing", ref)
		}
	}
	for _, n := range findAll(doc, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if a.Key == "src" {
				t.Errorf("<%s src=%q> loads a resource", n.Data, a.Val)
			}
		}
	}
}

func TestIndexRateChart(t *testing.T) {
	_, doc := renderIndex(t, sampleIndex())
	chart := byID(t, doc, "chart-rate")

	paths := findAll(chart, tagClass("path", "series"))
	var runs, moves []string
	for _, p := range paths {
		runs = append(runs, attrOf(p, "data-run"))
		moves = append(moves, strconv.Itoa(strings.Count(attrOf(p, "d"), "M")))
	}
	// r1 skips 10:03 and r2 skips 10:17-10:19: each line breaks once.
	if !slices.Equal(runs, []string{"r1", "r2"}) || !slices.Equal(moves, []string{"2", "2"}) {
		t.Errorf("series = %q with %q sub-paths, want [r1 r2] with [2 2]", runs, moves)
	}
	if d := attrOf(paths[0], "d"); !strings.HasSuffix(d, " h0") {
		t.Errorf("r1's lone last minute should draw as a dot, d = %q", d)
	}

	marks := findAll(chart, tagClass("circle", "throttled"))
	if got := nodeTexts(marks); !slices.Equal(got, []string{
		"r1, 2026-12-03 10:02 UTC: 100 requests, 7 answered 429",
		"r2, 2026-12-03 10:15 UTC: 60 requests, 1 answered 429",
	}) {
		t.Errorf("429 marks = %q", got)
	}

	// 20 minutes span four 5-minute steps; labels are UTC wall clock.
	ticks := nodeTexts(findAll(chart, tagClass("text", "x-tick")))
	if want := []string{"10:00", "10:05", "10:10", "10:15", "10:20"}; !slices.Equal(ticks, want) {
		t.Errorf("x ticks = %q, want %q", ticks, want)
	}
	if got := nodeTexts(findAll(chart, tagClass("text", "axis-title"))); !slices.Equal(got,
		[]string{"time (UTC) on 2026-12-03", "requests per minute"}) {
		t.Errorf("axis titles = %q", got)
	}

	rows := findAll(byID(t, doc, "table-rate"), tagClass("tr", ""))
	cells := nodeTexts(findAll(rows[1], func(n *html.Node) bool { return n.Data == "th" || n.Data == "td" }))
	if want := []string{"r1", "2026-12-03 10:00", "2026-12-03 10:04", "240", "7", "100"}; !slices.Equal(cells, want) {
		t.Errorf("rate table row = %q, want %q", cells, want)
	}
}

func TestIndexBeforeReplay(t *testing.T) {
	in := sampleIndex()
	in.Rate = nil
	_, doc := renderIndex(t, in)

	if found := findAll(doc, func(n *html.Node) bool { return attrOf(n, "id") == "chart-rate" }); len(found) != 0 {
		t.Error("an empty rate chart was drawn")
	}
	if got := nodeText(byID(t, doc, "rate-none")); !strings.Contains(got, "Nothing has been replayed") {
		t.Errorf("no-replay sentence = %q", got)
	}
	byID(t, doc, "chart-stages")
}

func TestTimeTicks(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name        string
		first, last time.Time
		labels      []string
		title       string
	}{
		{"one minute", at("2026-12-03T10:07:00Z"), at("2026-12-03T10:07:00Z"),
			[]string{"10:07"}, "time (UTC) on 2026-12-03"},
		{"two hours", at("2026-12-03T10:07:00Z"), at("2026-12-03T12:01:00Z"),
			[]string{"10:30", "11:00", "11:30", "12:00"}, "time (UTC) on 2026-12-03"},
		{"across midnight", at("2026-12-03T23:50:00Z"), at("2026-12-04T00:10:00Z"),
			[]string{"Dec 3 23:50", "Dec 3 23:55", "Dec 4 00:00", "Dec 4 00:05", "Dec 4 00:10"}, "time (UTC)"},
		{"ten days", at("2026-12-01T00:00:00Z"), at("2026-12-11T00:00:00Z"),
			[]string{"Dec 1 00:00", "Dec 3 00:00", "Dec 5 00:00", "Dec 7 00:00", "Dec 9 00:00", "Dec 11 00:00"}, "time (UTC)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ticks, title := timeTicks(tt.first, tt.last, timeScale(tt.first, tt.last), 200)
			var labels []string
			for _, tk := range ticks {
				labels = append(labels, tk.Label)
			}
			if !slices.Equal(labels, tt.labels) || title != tt.title {
				t.Errorf("got %q, %q; want %q, %q", labels, title, tt.labels, tt.title)
			}
		})
	}
}

func TestNiceAxis(t *testing.T) {
	tests := []struct{ peak, top, step int64 }{
		{0, 1, 1},
		{1, 1, 1},
		{7, 8, 2},
		{100, 100, 50},
		{1234, 1500, 500},
		{3000, 3000, 1000},
	}
	for _, tt := range tests {
		top, step := niceAxis(tt.peak)
		if top != tt.top || step != tt.step {
			t.Errorf("niceAxis(%d) = %d, %d; want %d, %d", tt.peak, top, step, tt.top, tt.step)
		}
	}
}

func TestGroupedCount(t *testing.T) {
	tests := map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"}
	for n, want := range tests {
		if got := groupedCount(n); got != want {
			t.Errorf("groupedCount(%d) = %q, want %q", n, got, want)
		}
	}
}

// --- the page as a real browser sees it ---

// browserNames are the executables a Debian, Ubuntu or Chrome install puts on PATH.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome"}

// findBrowser skips only on a developer machine: in CI a missing browser
// must fail, or the one test that renders the page would silently vanish.
func findBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range browserNames {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if envOn("CI") || envOn("D2I_REQUIRE_CHROMIUM") {
		t.Fatalf("no browser on PATH (looked for %v) and CI requires one", browserNames)
	}
	t.Skipf("no browser on PATH (looked for %v); set CI=1 to make this a failure", browserNames)
	return ""
}

func envOn(name string) bool {
	v := strings.ToLower(os.Getenv(name))
	return v != "" && v != "0" && v != "false"
}

// dumpDOM loads page in headless Chromium and returns the DOM after parsing
// and layout, as the browser serialises it.
func dumpDOM(t *testing.T, browser, page string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	pageURL := url.URL{Scheme: "file", Path: filepath.ToSlash(page)}
	cmd := exec.CommandContext(ctx, browser,
		"--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-extensions", "--disable-background-networking",
		"--user-data-dir="+filepath.Join(t.TempDir(), "profile"),
		"--dump-dom", pageURL.String())
	// Chromium's helper processes may keep stdout open after the kill; do
	// not wait on them forever.
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s timed out after 60s; stderr:\n%s", browser, lastBytes(stderr.String(), 2000))
	}
	if err != nil {
		t.Fatalf("%s: %v; stderr:\n%s", browser, err, lastBytes(stderr.String(), 2000))
	}
	return stdout.Bytes()
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func TestIndexInChromium(t *testing.T) {
	browser := findBrowser(t)
	dir := t.TempDir()
	in := sampleIndex()
	for _, d := range in.Docs {
		d.Markdown, d.CSV = "# "+d.Title+"\n", [][]string{{"column"}, {"value"}}
		if _, _, err := d.Write(dir); err != nil {
			t.Fatal(err)
		}
	}
	page, err := Index(in)
	if err != nil {
		t.Fatal(err)
	}
	indexPath := filepath.Join(dir, "index.html")
	if err := os.WriteFile(indexPath, page, 0o600); err != nil {
		t.Fatal(err)
	}

	dom, err := html.Parse(bytes.NewReader(dumpDOM(t, browser, indexPath)))
	if err != nil {
		t.Fatalf("parse Chromium's DOM: %v", err)
	}

	stagesChart := byID(t, dom, "chart-stages")
	// 6 stages of contacts ran and 5 of conversations; 8 legend swatches.
	if n := len(findAll(stagesChart, tagClass("rect", "bar"))); n != 11 {
		t.Errorf("#chart-stages has %d bars, want 11", n)
	}
	if n := len(findAll(stagesChart, tagClass("rect", ""))); n != 11+8 {
		t.Errorf("#chart-stages has %d rects, want 19", n)
	}
	rateChart := byID(t, dom, "chart-rate")
	if n := len(findAll(rateChart, tagClass("path", ""))); n != 2 {
		t.Errorf("#chart-rate has %d paths, want one per run (2)", n)
	}
	if n := len(findAll(rateChart, tagClass("circle", "throttled"))); n != 2 {
		t.Errorf("#chart-rate has %d 429 marks, want 2", n)
	}

	links := findAll(byID(t, dom, "reports"), tagClass("a", ""))
	if len(links) != 2*len(in.Docs) {
		t.Errorf("%d report links, want %d", len(links), 2*len(in.Docs))
	}
	for _, a := range links {
		href := attrOf(a, "href")
		target, err := url.Parse(href)
		if err != nil || target.IsAbs() || target.Path == "" {
			t.Errorf("link %q is not a relative file link", href)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(target.Path))); err != nil {
			t.Errorf("link %q points to no file: %v", href, err)
		}
	}
}
