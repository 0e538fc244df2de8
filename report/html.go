package report

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"math"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// IndexInput is everything the run folder's index.html shows. Names and
// times come from the run's own artifacts, never from the clock, so two
// builds of the same folder are byte-identical and diff cleanly.
type IndexInput struct {
	Snapshot   string    // snapshot directory name
	SnapshotAt time.Time // when the snapshot finished; zero = unknown
	Staging    string    // staging database file name
	StagingAt  time.Time // when transform built it; zero = unknown
	Docs       []Doc     // every report of the folder, in the order to list them
	Stages     []StageCounts
	Rate       []RatePoint // empty = not replayed yet
}

// StageCounts is where the rows of one Intercom object went, stage by
// stage. The pointer stages are nil when that step has not run, which the
// index shows as "not run" rather than as a misleading zero.
type StageCounts struct {
	Object     string
	Snapshot   int64
	Staged     int64
	Merged     int64
	Rejected   int64
	OutOfScope int64
	Written    *int64
	Verified   *int64
	RolledBack *int64
}

// stageDef is one bar of an object's group; the palette is Okabe-Ito, which
// stays distinguishable for the common forms of colour blindness.
type stageDef struct {
	Label string
	Key   string // stable name for ids and tests
	Fill  string
	count func(StageCounts) *int64
}

func stageCount(n int64) *int64 { return &n }

var stageOrder = []stageDef{
	{"snapshot", "snapshot", "#0072B2", func(s StageCounts) *int64 { return stageCount(s.Snapshot) }},
	{"staged", "staged", "#009E73", func(s StageCounts) *int64 { return stageCount(s.Staged) }},
	{"merged", "merged", "#56B4E9", func(s StageCounts) *int64 { return stageCount(s.Merged) }},
	{"rejected", "rejected", "#D55E00", func(s StageCounts) *int64 { return stageCount(s.Rejected) }},
	{"out of scope", "out_of_scope", "#999999", func(s StageCounts) *int64 { return stageCount(s.OutOfScope) }},
	{"written", "written", "#E69F00", func(s StageCounts) *int64 { return s.Written }},
	{"verified", "verified", "#CC79A7", func(s StageCounts) *int64 { return s.Verified }},
	{"rolled back", "rolled_back", "#000000", func(s StageCounts) *int64 { return s.RolledBack }},
}

// Report names become relative file links, so they must stay plain file
// stems: no directories, no scheme, nothing a browser could read as a URL.
var reportStem = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Index renders the run folder's index.html: links to every report and two
// charts drawn as inline SVG, so the page works offline, from a file:// URL,
// with JavaScript off, and with no request leaving the machine.
func Index(in IndexInput) ([]byte, error) {
	if err := checkIndexDocs(in.Docs); err != nil {
		return nil, err
	}
	page := indexPage{
		Title:      "d2i run report",
		Snapshot:   nameOrUnknown(in.Snapshot),
		SnapshotAt: utcStamp(in.SnapshotAt),
		Staging:    nameOrUnknown(in.Staging),
		StagingAt:  utcStamp(in.StagingAt),
		Docs:       in.Docs,
		Stages:     layoutStages(in.Stages),
		Rate:       layoutRate(in.Rate),
	}
	if in.Snapshot != "" {
		page.Title += ": " + in.Snapshot
	}
	var buf bytes.Buffer
	if err := indexTemplate.Execute(&buf, page); err != nil {
		return nil, fmt.Errorf("render index: %w", err)
	}
	return buf.Bytes(), nil
}

func checkIndexDocs(docs []Doc) error {
	seen := make(map[string]bool, len(docs))
	for _, d := range docs {
		if !reportStem.MatchString(d.Name) {
			return fmt.Errorf("index: report name %q is not a plain file stem", d.Name)
		}
		if seen[d.Name] {
			return fmt.Errorf("index: report %q listed twice", d.Name)
		}
		seen[d.Name] = true
	}
	return nil
}

func nameOrUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func utcStamp(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// groupedCount groups digits in threes so that 1234567 reads as 1,234,567.
func groupedCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return sign + s
}

// svgNum formats an SVG coordinate with one decimal: enough for a screen, and
// fixed so that the bytes do not depend on float printing details.
func svgNum(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', 1, 64)
}

type indexPage struct {
	Title      string
	Snapshot   string
	SnapshotAt string
	Staging    string
	StagingAt  string
	Docs       []Doc
	Stages     stageChart
	Rate       rateChart
}

// Stage chart geometry, in SVG user units.
const (
	chartWidth    = 760.0
	stageLabelCol = 160.0 // stage names, right-aligned before the bars
	stagePlotW    = 480.0 // the longest bar
	stageRowH     = 18.0
	stageBarH     = 13.0
	groupHeadH    = 22.0
	groupGap      = 10.0
	legendRowH    = 20.0
	legendPerRow  = 4
)

type stageChart struct {
	Width, Height string
	Legend        []legendItem
	Groups        []stageGroup
	Table         []stageTableRow
	Headers       []string
}

type legendItem struct {
	Label, Fill        string
	X, Y, TextX, TextY string
}

type stageGroup struct {
	Object string
	HeadY  string
	Bars   []stageBar
}

type stageBar struct {
	Stage, Key, Fill string
	NotRun           bool
	Count            int64
	CountText        string
	LabelX, TextY    string
	X, Y, W, H       string
	ValueX           string
}

type stageTableRow struct {
	Object string
	Cells  []string
}

func layoutStages(rows []StageCounts) stageChart {
	c := stageChart{Width: svgNum(chartWidth)}
	for _, s := range stageOrder {
		c.Headers = append(c.Headers, s.Label)
	}
	c.Legend = layoutLegend()
	y := legendRowH*float64((len(stageOrder)+legendPerRow-1)/legendPerRow) + groupGap
	scale := barScale(rows)
	for _, r := range rows {
		g := stageGroup{Object: r.Object, HeadY: svgNum(y + 15)}
		y += groupHeadH
		for _, s := range stageOrder {
			g.Bars = append(g.Bars, layoutBar(s, s.count(r), y, scale))
			y += stageRowH
		}
		y += groupGap
		c.Groups = append(c.Groups, g)
		c.Table = append(c.Table, stageTableRow{Object: r.Object, Cells: stageCells(r)})
	}
	c.Height = svgNum(y)
	return c
}

// barScale maps a count to a bar length; all groups share it so that bars
// compare across objects, not only within one.
func barScale(rows []StageCounts) float64 {
	var most int64
	for _, r := range rows {
		for _, s := range stageOrder {
			if n := s.count(r); n != nil && *n > most {
				most = *n
			}
		}
	}
	if most == 0 {
		return 0
	}
	return stagePlotW / float64(most)
}

func layoutLegend() []legendItem {
	items := make([]legendItem, 0, len(stageOrder))
	colW := chartWidth / legendPerRow
	for i, s := range stageOrder {
		x := float64(i%legendPerRow) * colW
		y := float64(i/legendPerRow) * legendRowH
		items = append(items, legendItem{Label: s.Label, Fill: s.Fill,
			X: svgNum(x), Y: svgNum(y + 3), TextX: svgNum(x + 18), TextY: svgNum(y + 14)})
	}
	return items
}

func layoutBar(s stageDef, n *int64, y, scale float64) stageBar {
	b := stageBar{Stage: s.Label, Key: s.Key, Fill: s.Fill,
		LabelX: svgNum(stageLabelCol - 8), TextY: svgNum(y + stageBarH - 2)}
	if n == nil {
		b.NotRun = true
		b.ValueX = svgNum(stageLabelCol + 4)
		return b
	}
	w := float64(max(*n, 0)) * scale // a negative count is a bug upstream, not a bar
	b.Count, b.CountText = *n, groupedCount(*n)
	b.X, b.Y, b.W, b.H = svgNum(stageLabelCol), svgNum(y), svgNum(w), svgNum(stageBarH)
	b.ValueX = svgNum(stageLabelCol + w + 6)
	return b
}

func stageCells(r StageCounts) []string {
	cells := make([]string, 0, len(stageOrder))
	for _, s := range stageOrder {
		if n := s.count(r); n != nil {
			cells = append(cells, groupedCount(*n))
		} else {
			cells = append(cells, "not run")
		}
	}
	return cells
}

// Rate chart geometry, in SVG user units.
const (
	rateHeight  = 300.0
	rateLeft    = 64.0
	rateRight   = 24.0
	rateTop     = 16.0
	rateBottom  = 56.0
	runLegendH  = 20.0
	runLegendW  = 190.0
	maxXTicks   = 6
	targetYTick = 4
)

// runColours cycle when a folder holds more replay runs than colours.
var runColours = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#000000"}

type rateChart struct {
	Empty          bool
	Width, Height  string
	PlotLeft       string
	PlotRight      string
	PlotTop        string
	PlotBottom     string
	XTitleX        string
	XTitleY        string
	XTitle         string
	YTitleY        string
	XTicks, YTicks []axisTick
	Runs           []runSeries
	Mark           *legendItem // the 429 dot's legend entry, when any minute had one
}

type axisTick struct {
	Label, X, Y, TextX, TextY string
}

type runSeries struct {
	Run, Colour        string
	Path               string
	Summary            string
	Marks              []throttleMark
	LegendX, LegendY   string
	LegendTX, LegendTY string
	From, To           string
	Requests           string
	Throttled          string
	Peak               string
}

type throttleMark struct {
	X, Y, Title string
}

type runPoints struct {
	name   string
	points []RatePoint
}

func layoutRate(points []RatePoint) rateChart {
	runs := groupRuns(points)
	if len(runs) == 0 {
		return rateChart{Empty: true}
	}
	legendRows := (len(runs) + 1 + legendPerRow - 1) / legendPerRow // +1: the 429 entry
	top := rateTop + runLegendH*float64(legendRows)
	bottom := top + rateHeight - rateTop - rateBottom
	c := rateChart{
		Width: svgNum(chartWidth), Height: svgNum(bottom + rateBottom),
		PlotLeft: svgNum(rateLeft), PlotRight: svgNum(chartWidth - rateRight),
		PlotTop: svgNum(top), PlotBottom: svgNum(bottom),
		YTitleY: svgNum((top + bottom) / 2),
	}
	first, last := timeRange(runs)
	xOf := timeScale(first, last)
	yMax, yStep := niceAxis(peakRequests(runs))
	yOf := func(v int64) float64 { return bottom - float64(v)/float64(yMax)*(bottom-top) }
	c.XTicks, c.XTitle = timeTicks(first, last, xOf, bottom)
	c.XTitleX, c.XTitleY = svgNum((rateLeft+chartWidth-rateRight)/2), svgNum(bottom+44)
	for v := int64(0); v <= yMax; v += yStep {
		y := yOf(v)
		c.YTicks = append(c.YTicks, axisTick{Label: groupedCount(v), Y: svgNum(y), TextX: svgNum(rateLeft - 6), TextY: svgNum(y + 4)})
	}
	for i, r := range runs {
		c.Runs = append(c.Runs, layoutRun(i, r, xOf, yOf))
	}
	c.Mark = throttleLegend(c.Runs)
	return c
}

// groupRuns splits the points by run, each run's minutes in order, and
// orders runs by when they started so colours follow the timeline.
func groupRuns(points []RatePoint) []runPoints {
	var runs []runPoints
	at := map[string]int{}
	for _, p := range points {
		i, ok := at[p.Run]
		if !ok {
			i = len(runs)
			at[p.Run] = i
			runs = append(runs, runPoints{name: p.Run})
		}
		runs[i].points = append(runs[i].points, p)
	}
	for i := range runs {
		slices.SortStableFunc(runs[i].points, func(a, b RatePoint) int { return a.Minute.Compare(b.Minute) })
	}
	slices.SortStableFunc(runs, func(a, b runPoints) int {
		return cmp.Or(a.points[0].Minute.Compare(b.points[0].Minute), cmp.Compare(a.name, b.name))
	})
	return runs
}

func timeRange(runs []runPoints) (first, last time.Time) {
	first, last = runs[0].points[0].Minute, runs[0].points[0].Minute
	for _, r := range runs {
		if t := r.points[0].Minute; t.Before(first) {
			first = t
		}
		if t := r.points[len(r.points)-1].Minute; t.After(last) {
			last = t
		}
	}
	return first.UTC(), last.UTC()
}

func timeScale(first, last time.Time) func(time.Time) float64 {
	left, right := rateLeft+8, chartWidth-rateRight-8
	span := last.Sub(first)
	if span <= 0 {
		return func(time.Time) float64 { return (left + right) / 2 }
	}
	return func(t time.Time) float64 {
		return left + float64(t.Sub(first))/float64(span)*(right-left)
	}
}

func peakRequests(runs []runPoints) int64 {
	var most int64
	for _, r := range runs {
		for _, p := range r.points {
			most = max(most, p.Requests)
		}
	}
	return most
}

// niceAxis rounds the top of the y axis up to a multiple of 1, 2 or 5 times
// a power of ten, so tick labels read as round numbers.
func niceAxis(peak int64) (top, step int64) {
	if peak <= 0 {
		return 1, 1
	}
	least := (peak + targetYTick - 1) / targetYTick
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if step = m * p; step >= least {
				return (peak + step - 1) / step * step, step
			}
		}
	}
}

// tickSteps are the x-axis spacings people read easily.
var tickSteps = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute,
	30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour,
	12 * time.Hour, 24 * time.Hour,
}

// tickStep is the smallest readable spacing that keeps the x axis under
// maxXTicks labels; replays longer than a few days fall back to whole days.
func tickStep(span time.Duration) time.Duration {
	for _, s := range tickSteps {
		if span/s < maxXTicks {
			return s
		}
	}
	day := 24 * time.Hour
	return (span/maxXTicks/day + 1) * day
}

func timeTicks(first, last time.Time, xOf func(time.Time) float64, bottom float64) ([]axisTick, string) {
	step := tickStep(last.Sub(first))
	layout, title := "15:04", "time (UTC) on "+first.Format("2006-01-02")
	if first.YearDay() != last.YearDay() || first.Year() != last.Year() {
		layout, title = "Jan 2 15:04", "time (UTC)"
	}
	var ticks []axisTick
	t := first.Truncate(step)
	if t.Before(first) {
		t = t.Add(step)
	}
	for ; !t.After(last); t = t.Add(step) {
		x := xOf(t)
		ticks = append(ticks, axisTick{Label: t.Format(layout), X: svgNum(x), Y: svgNum(bottom + 5),
			TextX: svgNum(x), TextY: svgNum(bottom + 20)})
	}
	if len(ticks) == 0 { // one minute only: label it where the point is
		x := xOf(first)
		ticks = append(ticks, axisTick{Label: first.Format(layout), X: svgNum(x), Y: svgNum(bottom + 5),
			TextX: svgNum(x), TextY: svgNum(bottom + 20)})
	}
	return ticks, title
}

// throttleLegend places the 429 dot's legend entry in the slot after the
// last run; it is left out when no minute was throttled.
func throttleLegend(runs []runSeries) *legendItem {
	marked := slices.ContainsFunc(runs, func(r runSeries) bool { return len(r.Marks) > 0 })
	if !marked {
		return nil
	}
	i := len(runs)
	x := rateLeft + float64(i%legendPerRow)*runLegendW
	y := float64(i/legendPerRow) * runLegendH
	return &legendItem{Label: "answered 429", X: svgNum(x + 13), Y: svgNum(y + 8), TextX: svgNum(x + 26), TextY: svgNum(y + 13)}
}

func layoutRun(i int, r runPoints, xOf func(time.Time) float64, yOf func(int64) float64) runSeries {
	s := runSeries{Run: r.name, Colour: runColours[i%len(runColours)], Path: seriesPath(r.points, xOf, yOf)}
	col, row := i%legendPerRow, i/legendPerRow
	lx, ly := rateLeft+float64(col)*runLegendW, float64(row)*runLegendH
	s.LegendX, s.LegendY = svgNum(lx), svgNum(ly+8)
	s.LegendTX, s.LegendTY = svgNum(lx+26), svgNum(ly+13)

	var requests, throttled, peak int64
	for _, p := range r.points {
		requests += p.Requests
		throttled += p.Throttled
		peak = max(peak, p.Requests)
		if p.Throttled > 0 {
			s.Marks = append(s.Marks, throttleMark{X: svgNum(xOf(p.Minute)), Y: svgNum(yOf(p.Requests)),
				Title: fmt.Sprintf("%s, %s UTC: %s requests, %s answered 429",
					r.name, p.Minute.UTC().Format("2006-01-02 15:04"), groupedCount(p.Requests), groupedCount(p.Throttled))})
		}
	}
	s.From = r.points[0].Minute.UTC().Format("2006-01-02 15:04")
	s.To = r.points[len(r.points)-1].Minute.UTC().Format("2006-01-02 15:04")
	s.Requests, s.Throttled, s.Peak = groupedCount(requests), groupedCount(throttled), groupedCount(peak)
	s.Summary = fmt.Sprintf("run %s: %s requests over %d minutes, %s answered 429, peak %s per minute",
		r.name, s.Requests, len(r.points), s.Throttled, s.Peak)
	return s
}

// seriesPath draws one run as a line that breaks where minutes are missing:
// a minute without a point sent nothing, and a line across it would claim
// otherwise. A lone minute becomes a zero-length segment that the round
// line cap shows as a dot.
func seriesPath(points []RatePoint, xOf func(time.Time) float64, yOf func(int64) float64) string {
	var b bytes.Buffer
	for i, p := range points {
		cont := i > 0 && p.Minute.Sub(points[i-1].Minute) <= time.Minute
		if !cont && i > 0 {
			b.WriteByte(' ')
		}
		op := "M"
		if cont {
			op = " L"
		}
		fmt.Fprintf(&b, "%s%s %s", op, svgNum(xOf(p.Minute)), svgNum(yOf(p.Requests)))
		lone := !cont && (i == len(points)-1 || points[i+1].Minute.Sub(p.Minute) > time.Minute)
		if lone {
			b.WriteString(" h0")
		}
	}
	return b.String()
}

var indexTemplate = template.Must(template.New("index").Parse(indexHTML))

// indexHTML is the page. Geometry arrives precomputed as strings, so the
// template only places it; html/template escapes every name and title.
const indexHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff;
  max-width:54rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.4rem}
h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dt{font-weight:600}
dd{margin:0}
#reports ul{list-style:none;padding:0}
#reports li{margin:.8rem 0}
#reports p{margin:.15rem 0 0;color:#444}
.report-title{font-weight:600;margin-right:.6rem}
#reports a{margin-right:.5rem}
svg{max-width:100%;height:auto;font-size:12px}
svg text{fill:#1a1a1a}
svg .object{font-weight:600;font-size:13px}
svg .stage,svg .not-run{fill:#555}
svg .not-run{font-style:italic}
svg .axis{stroke:#333}
svg .grid{stroke:#e4e4e4}
table{border-collapse:collapse;margin-top:1rem;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}
caption{text-align:left;font-weight:600;padding-bottom:.3rem}
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p>This folder holds the reports of one d2i migration run: what was read from
Dataverse, what the transform kept, merged, rejected or left out, and what replay
wrote to Intercom. Each report comes as Markdown to read and CSV to open in a
spreadsheet. This page needs no network and no scripts.</p>
<dl id="run">
<dt>Snapshot</dt><dd><span id="snapshot-name">{{.Snapshot}}</span>, finished <span id="snapshot-at">{{.SnapshotAt}}</span></dd>
<dt>Staging database</dt><dd><span id="staging-name">{{.Staging}}</span>, built <span id="staging-at">{{.StagingAt}}</span></dd>
</dl>
</header>

<nav id="reports" aria-labelledby="reports-heading">
<h2 id="reports-heading">Reports</h2>
{{- if .Docs}}
<ul>
{{- range .Docs}}
<li class="report"><span class="report-title">{{.Title}}</span>
<a href="{{.Name}}.md">{{.Name}}.md</a> <a href="{{.Name}}.csv">{{.Name}}.csv</a>
<p>{{.Summary}}</p></li>
{{- end}}
</ul>
{{- else}}
<p>No reports in this folder yet.</p>
{{- end}}
</nav>

<section id="stages" aria-labelledby="stages-heading">
<h2 id="stages-heading">Where rows went</h2>
{{- with .Stages}}
{{- if .Groups}}
<p>For each Intercom object, the rows read from Dataverse and where they went:
staged, merged into another row, rejected, or left out on purpose; then, once
those steps have run, written, verified and rolled back. All bars share one scale.</p>
<svg id="chart-stages" role="img" aria-labelledby="chart-stages-title" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}">
<title id="chart-stages-title">Rows per stage, one group per object</title>
<g class="legend">
{{- range .Legend}}
<rect class="swatch" x="{{.X}}" y="{{.Y}}" width="12" height="12" fill="{{.Fill}}"></rect><text x="{{.TextX}}" y="{{.TextY}}">{{.Label}}</text>
{{- end}}
</g>
{{- range .Groups}}
{{- $object := .Object}}
<g class="group" data-object="{{.Object}}">
<text class="object" x="0" y="{{.HeadY}}">{{.Object}}</text>
{{- range .Bars}}
<text class="stage" x="{{.LabelX}}" y="{{.TextY}}" text-anchor="end">{{.Stage}}</text>
{{- if .NotRun}}
<text class="not-run" data-stage="{{.Key}}" x="{{.ValueX}}" y="{{.TextY}}">not run</text>
{{- else}}
<rect class="bar" data-stage="{{.Key}}" data-count="{{.Count}}" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Fill}}"><title>{{$object}}, {{.Stage}}: {{.CountText}} rows</title></rect>
<text class="value" x="{{.ValueX}}" y="{{.TextY}}">{{.CountText}}</text>
{{- end}}
{{- end}}
</g>
{{- end}}
</svg>
<table id="table-stages">
<caption>Rows per stage</caption>
<thead><tr><th scope="col">object</th>{{range .Headers}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Table}}
<tr><th scope="row">{{.Object}}</th>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p id="stages-none">No row counts yet: the transform has not produced a reconciliation.</p>
{{- end}}
{{- end}}
</section>

<section id="rate" aria-labelledby="rate-heading">
<h2 id="rate-heading">Replay request rate</h2>
{{- with .Rate}}
{{- if .Empty}}
<p id="rate-none">Nothing has been replayed to Intercom yet, so there is no request rate to show.</p>
{{- else}}
<p>Requests sent to Intercom per minute, retries included, one line per replay
run. A dot marks a minute in which Intercom answered 429 (too many requests);
a gap in a line is a minute with no requests.</p>
<svg id="chart-rate" role="img" aria-labelledby="chart-rate-title" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}">
<title id="chart-rate-title">Requests per minute over time, per replay run</title>
<g class="legend">
{{- range .Runs}}
<line class="swatch" x1="{{.LegendX}}" y1="{{.LegendY}}" x2="{{.LegendTX}}" y2="{{.LegendY}}" stroke="{{.Colour}}" stroke-width="3"></line><text x="{{.LegendTX}}" y="{{.LegendTY}}" dx="4">run {{.Run}}</text>
{{- end}}
{{- with .Mark}}
<circle class="swatch" cx="{{.X}}" cy="{{.Y}}" r="4" fill="#D55E00"></circle><text x="{{.TextX}}" y="{{.TextY}}" dx="4">{{.Label}}</text>
{{- end}}
</g>
<g class="axes">
{{- range .YTicks}}
<line class="grid" x1="{{$.Rate.PlotLeft}}" y1="{{.Y}}" x2="{{$.Rate.PlotRight}}" y2="{{.Y}}"></line><text x="{{.TextX}}" y="{{.TextY}}" text-anchor="end">{{.Label}}</text>
{{- end}}
{{- range .XTicks}}
<line class="axis" x1="{{.X}}" y1="{{$.Rate.PlotBottom}}" x2="{{.X}}" y2="{{.Y}}"></line><text class="x-tick" x="{{.TextX}}" y="{{.TextY}}" text-anchor="middle">{{.Label}}</text>
{{- end}}
<line class="axis" x1="{{.PlotLeft}}" y1="{{.PlotBottom}}" x2="{{.PlotRight}}" y2="{{.PlotBottom}}"></line>
<line class="axis" x1="{{.PlotLeft}}" y1="{{.PlotTop}}" x2="{{.PlotLeft}}" y2="{{.PlotBottom}}"></line>
<text class="axis-title" x="{{.XTitleX}}" y="{{.XTitleY}}" text-anchor="middle">{{.XTitle}}</text>
<text class="axis-title" transform="rotate(-90)" x="-{{.YTitleY}}" y="14" text-anchor="middle">requests per minute</text>
</g>
{{- range .Runs}}
<path class="series" data-run="{{.Run}}" d="{{.Path}}" fill="none" stroke="{{.Colour}}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"><title>{{.Summary}}</title></path>
{{- range .Marks}}
<circle class="throttled" cx="{{.X}}" cy="{{.Y}}" r="4" fill="#D55E00" stroke="#fff"><title>{{.Title}}</title></circle>
{{- end}}
{{- end}}
</svg>
<table id="table-rate">
<caption>Requests per replay run (times in UTC)</caption>
<thead><tr><th scope="col">run</th><th scope="col">first minute</th><th scope="col">last minute</th><th scope="col">requests</th><th scope="col">answered 429</th><th scope="col">peak per minute</th></tr></thead>
<tbody>
{{- range .Runs}}
<tr><th scope="row">{{.Run}}</th><td>{{.From}}</td><td>{{.To}}</td><td>{{.Requests}}</td><td>{{.Throttled}}</td><td>{{.Peak}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- end}}
</section>
</body>
</html>
`
