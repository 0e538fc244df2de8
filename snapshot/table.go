package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// countCap is where @odata.count stops counting (spec §6).
const countCap = 5000

// source is where a table's metadata and pages come from: the Web API
// (*client), or the pages an earlier snapshot saved (savedPages).
type source interface {
	// tableMeta gets the table's metadata and saves it under root/metadata.
	tableMeta(ctx context.Context, root, table string) (*tableMeta, error)
	// firstLink is the request for page 0.
	firstLink(table string, s *tableSchema) (string, error)
	// page gets page n, reached by link (the previous page's next link).
	page(ctx context.Context, table, link string, n int) ([]byte, error)
	// totalRecordCount is the source's own count, -1 when unknown.
	totalRecordCount(ctx context.Context, table string) int64
}

// tableRun holds the state of one table's snapshot while it runs.
type tableRun struct {
	cfg    Config
	api    source
	table  string
	log    *slog.Logger
	schema *tableSchema
	cp     *checkpoint
	meta   []FileEntry
	start  time.Time
	read   int64 // rows decoded in this run
}

// snapshotTable reads one table; its outcome is the manifest entry.
func snapshotTable(ctx context.Context, cfg Config, api source, table string) *TableManifest {
	if cfg.delta != nil {
		return deltaTable(ctx, cfg, api, table)
	}
	r := &tableRun{cfg: cfg, api: api, table: table, log: cfg.Logger.With("table", table), start: time.Now()}
	tm, err := r.run(ctx)
	if errors.Is(err, errAbsent) {
		r.log.Info("dataverse table absent")
		return &TableManifest{Status: StatusAbsent, SourceCount: -1, Files: []FileEntry{}}
	}
	if tm == nil {
		tm = &TableManifest{SourceCount: -1, Files: []FileEntry{}}
	}
	if err != nil {
		r.log.Error("dataverse table failed", "rows", tm.Rows, "pages", tm.Pages, "err", err)
		tm.Status, tm.Error = StatusFailed, err.Error()
	}
	return tm
}

func (r *tableRun) run(ctx context.Context) (*TableManifest, error) {
	cp, err := loadCheckpoint(r.cfg.OutDir, r.table)
	if err != nil {
		return nil, err
	}
	if cp != nil && cp.Complete {
		r.log.Info("dataverse table already complete", "rows", cp.Rows, "pages", cp.LastPage+1)
		return r.manifestFrom(cp), nil
	}
	if err := r.prepare(ctx, cp); err != nil {
		return r.manifestFrom(r.cp), err
	}
	err = r.readPages(ctx)
	return r.manifestFrom(r.cp), err
}

// prepare fetches the metadata, derives the schema and sets up the
// checkpoint to continue from.
func (r *tableRun) prepare(ctx context.Context, cp *checkpoint) error {
	meta, err := r.api.tableMeta(ctx, r.cfg.OutDir, r.table)
	if err != nil {
		return err
	}
	r.schema, err = buildSchema(meta.def, meta.labels)
	if err != nil {
		return err
	}
	r.meta = meta.files
	if cp == nil {
		cp = &checkpoint{Table: r.table, LastPage: -1, SourceCount: -1}
	} else if cp.SchemaHash != r.schema.hash() {
		cp.Files = mergeFiles(meta.files, cp.Files) // the metadata on disk is the new one
		r.cp = cp
		return fmt.Errorf("table %s: columns changed since checkpoint; "+
			"remove checkpoints/%s.json and its parts to restart it", r.table, r.table)
	} else {
		r.log.Info("dataverse table resumed", "after_page", cp.LastPage, "rows", cp.Rows)
	}
	cp.EntitySet, cp.SchemaHash = r.schema.entitySet, r.schema.hash()
	cp.Files = mergeFiles(meta.files, cp.Files)
	r.cp = cp
	for _, dir := range []string{"tables/" + r.table, "pages/" + r.table} {
		removeStaleTemps(joinRel(r.cfg.OutDir, dir))
		if err := removeUncommitted(joinRel(r.cfg.OutDir, dir), cp.LastPage); err != nil {
			return fmt.Errorf("table %s: clear uncommitted files: %w", r.table, err)
		}
	}
	return nil
}

// mergeFiles replaces metadata entries (fetched again on every run) and
// keeps the committed data files.
func mergeFiles(meta, old []FileEntry) []FileEntry {
	out := append([]FileEntry{}, meta...)
	for _, f := range old {
		if !strings.HasPrefix(f.Path, "metadata/") {
			out = append(out, f)
		}
	}
	return out
}

// maxURL is the longest GET URL Dataverse accepts (spec §4).
const maxURL = 32768

func (c *client) tableMeta(ctx context.Context, root, table string) (*tableMeta, error) {
	return fetchMeta(ctx, c, root, table)
}

func (c *client) firstLink(table string, s *tableSchema) (string, error) {
	u := c.base + s.entitySet + "?$select=" + s.selectList() + "&$count=true"
	if len(u) > maxURL {
		// TODO: split very wide tables into several column groups joined on the key.
		return "", fmt.Errorf("table %s: $select of %d columns makes a %d-character URL, over %d",
			table, len(s.columns), len(u), maxURL)
	}
	return u, nil
}

func (c *client) page(ctx context.Context, table, link string, n int) ([]byte, error) {
	if err := c.checkLink(link); err != nil {
		return nil, fmt.Errorf("table %s page %d: %w", table, n, err)
	}
	return c.get(ctx, link, true, reqTag{table, fmt.Sprintf("page %d", n)})
}

// readPages follows the next links from the checkpoint to the last page.
// Page n+1 is requested as soon as page n's body is in, so the server
// produces it while page n is decoded and written; pages are still
// committed strictly in order, one checkpoint after another.
func (r *tableRun) readPages(ctx context.Context) error {
	link, err := r.api.firstLink(r.table, r.schema)
	if err != nil {
		return err
	}
	if r.cp.LastPage >= 0 {
		if r.cp.NextLink == "" {
			return r.finish(ctx)
		}
		link = r.cp.NextLink
	}
	n := r.cp.LastPage + 1
	cur := r.fetch(ctx, link, n)
	for {
		f := cur.wait()
		if f.err != nil {
			return f.err
		}
		var ahead *prefetch
		if guess := guessNextLink(f.body); guess != "" {
			ahead = r.fetch(ctx, guess, n+1)
		}
		next, err := r.readPage(ctx, f.body, n)
		if err != nil || ahead == nil || ahead.link != next {
			ahead.drop()
			if err != nil {
				return err
			}
			if next == "" {
				return r.finish(ctx)
			}
			ahead = r.fetch(ctx, next, n+1)
		}
		cur, n = ahead, n+1
	}
}

// fetched is one page body, or why it could not be had.
type fetched struct {
	body []byte
	err  error
}

// prefetch is a page request running in the background.
type prefetch struct {
	link   string
	ch     chan fetched
	cancel context.CancelFunc
}

// fetch starts the request for page n.
func (r *tableRun) fetch(ctx context.Context, link string, n int) *prefetch {
	ctx, cancel := context.WithCancel(ctx)
	a := &prefetch{link: link, ch: make(chan fetched, 1), cancel: cancel}
	go func() {
		body, err := r.api.page(trackChanges(ctx, r.schema), r.table, link, n)
		a.ch <- fetched{body, err}
	}()
	return a
}

// wait returns the page once it is in.
func (a *prefetch) wait() fetched {
	f := <-a.ch
	a.cancel()
	return f
}

// drop abandons a prefetch whose link turned out wrong or unneeded: it is
// cancelled and waited for, so no request outlives the table's read.
func (a *prefetch) drop() {
	if a == nil {
		return
	}
	a.cancel()
	if f := <-a.ch; f.err == nil {
		putBody(f.body)
	}
}

var nextLinkKey = []byte(`"@odata.nextLink":`)

// guessNextLink finds a page's next link without decoding the page: the
// key's bytes cannot occur inside a JSON string (its quotes would be
// escaped), and the service writes it last. A wrong guess only costs a
// discarded request: readPages checks it against the decoded link.
func guessNextLink(body []byte) string {
	i := bytes.LastIndex(body, nextLinkKey)
	if i < 0 {
		return ""
	}
	var link string
	if json.NewDecoder(bytes.NewReader(body[i+len(nextLinkKey):])).Decode(&link) != nil {
		return ""
	}
	return link
}

// readPage decodes, stores and commits page n; it returns the next link.
func (r *tableRun) readPage(ctx context.Context, body []byte, n int) (string, error) {
	// The decoded rows copy every value out of body, and writePage copies it
	// compressed, so the buffer can serve a later page once this returns.
	defer putBody(body)
	p, rec, blobFiles, err := r.decode(ctx, body, n)
	if err != nil {
		return "", err
	}
	defer rec.Release()
	files, err := r.store(n, body, rec, p.n)
	if err != nil {
		return "", err
	}
	files = append(files, blobFiles...)
	if n == 0 {
		r.cp.SourceCount = exactCount(p)
	}
	r.cp.LastPage, r.cp.NextLink = n, p.nextLink
	r.noteDeltaLink(p)
	r.cp.Rows += int64(p.n)
	r.cp.Files = append(r.cp.Files, files...)
	if err := writeJSONAtomic(r.cfg.OutDir, checkpointRel(r.table), r.cp); err != nil {
		return "", fmt.Errorf("table %s page %d: %w", r.table, n, err)
	}
	r.read += int64(p.n)
	r.progress(n, p.n)
	return p.nextLink, nil
}

// decode turns page n into its Arrow record. Tables without files go row by
// row straight into the builders; tables with files keep the page's rows,
// which the blob fetch reads and fills first.
func (r *tableRun) decode(ctx context.Context, body []byte, n int) (*page, arrow.RecordBatch, []FileEntry, error) {
	if len(blobSpecs[r.table]) > 0 {
		p, err := decodePage(body)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("table %s page %d: decode: %w", r.table, n, err)
		}
		blobFiles, err := r.fetchBlobs(ctx, n, p.rows)
		if err != nil {
			return nil, nil, nil, err
		}
		rec, err := buildRecord(r.schema, p.rows)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("table %s page %d %w", r.table, n, err)
		}
		p.rows = nil // the record holds the page now
		return p, rec, blobFiles, nil
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, r.schema.arrow)
	defer b.Release()
	var rowErr error
	p, err := decodePageInto(body, func(i int, row map[string]any) {
		if rowErr == nil {
			rowErr = appendRow(b, r.schema, i, row)
		}
	})
	// A page that does not decode is reported as such before any bad value.
	if err != nil {
		return nil, nil, nil, fmt.Errorf("table %s page %d: decode: %w", r.table, n, err)
	}
	if rowErr != nil {
		return nil, nil, nil, fmt.Errorf("table %s page %d %w", r.table, n, rowErr)
	}
	return p, b.NewRecordBatch(), nil, nil
}

// store writes the raw page and its Parquet part and checks that every row
// read was written.
func (r *tableRun) store(n int, body []byte, rec arrow.RecordBatch, rows int) ([]FileEntry, error) {
	if rec.NumRows() != int64(rows) {
		return nil, fmt.Errorf("table %s page %d: read %d rows, built %d", r.table, n, rows, rec.NumRows())
	}
	pageFile, err := writePage(r.cfg.OutDir, pageRel(r.table, n), body, rows)
	if err != nil {
		return nil, fmt.Errorf("table %s page %d: %w", r.table, n, err)
	}
	part, err := writePart(r.cfg.OutDir, partRel(r.table, n), rec)
	if err != nil {
		return nil, fmt.Errorf("table %s page %d: %w", r.table, n, err)
	}
	if part.Rows != int64(rows) {
		return nil, fmt.Errorf("table %s page %d: read %d rows, wrote %d", r.table, n, rows, part.Rows)
	}
	return []FileEntry{pageFile, part}, nil
}

// checkLink refuses a next link that leaves the org: the bearer token would
// follow it. The link is only inspected here; it is sent as given.
func (c *client) checkLink(link string) error {
	u, err := url.Parse(link)
	if err != nil {
		return fmt.Errorf("next link does not parse: %w", err)
	}
	org, _ := url.Parse(c.base)
	if u.Scheme != org.Scheme || orgHost(u.Host) != orgHost(org.Host) {
		return errors.New("next link points outside the org")
	}
	return nil
}

// orgHost folds the ORG.api.crm… and ORG.crm… forms of one environment.
func orgHost(host string) string {
	host = strings.ToLower(host)
	if i := strings.Index(host, ".api."); i > 0 && strings.HasSuffix(host, ".dynamics.com") {
		return host[:i] + host[i+len(".api"):]
	}
	return host
}

func (r *tableRun) progress(n, pageRows int) {
	secs := time.Since(r.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(r.read) / secs
	}
	r.log.Info("dataverse page committed", "page", n, "page_rows", pageRows,
		"rows", r.cp.Rows, "rows_per_sec", int64(rate))
	if r.cfg.Progress != nil {
		r.cfg.Progress(r.table, int(r.cp.Rows), n+1)
	}
}

// exactCount is @odata.count when it is below the cap, else -1.
func exactCount(p *page) int64 {
	if p.count < 0 || p.countCapped || p.count >= countCap {
		return -1
	}
	return p.count
}

// finish checks the row totals, settles the source count and marks the
// checkpoint complete.
func (r *tableRun) finish(ctx context.Context) error {
	var partRows int64
	for _, f := range r.cp.Files {
		if strings.HasPrefix(f.Path, "tables/") {
			partRows += f.Rows
		}
	}
	if partRows != r.cp.Rows {
		return fmt.Errorf("table %s: read %d rows but Parquet parts hold %d", r.table, r.cp.Rows, partRows)
	}
	r.settleCounts(ctx)
	r.cp.Complete = true
	if err := writeJSONAtomic(r.cfg.OutDir, checkpointRel(r.table), r.cp); err != nil {
		return fmt.Errorf("table %s: %w", r.table, err)
	}
	r.log.Info("dataverse table complete", "rows", r.cp.Rows, "pages", r.cp.LastPage+1,
		"source_count", r.cp.SourceCount)
	return nil
}

func (r *tableRun) manifestFrom(cp *checkpoint) *TableManifest {
	if cp == nil {
		return &TableManifest{SourceCount: -1, Files: append([]FileEntry{}, r.meta...)}
	}
	files := append([]FileEntry{}, cp.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	tm := &TableManifest{
		EntitySet: cp.EntitySet, SourceCount: cp.SourceCount,
		Rows: cp.Rows, Pages: cp.LastPage + 1, Files: files, DeltaLink: cp.DeltaLink,
		CountNote: cp.CountNote,
	}
	if cp.Complete {
		tm.Status = StatusComplete
	}
	return tm
}

// totalRecordCount asks RetrieveTotalRecordCount (spec §6); -1 when the
// answer is missing. The figure may be up to a day old.
func (c *client) totalRecordCount(ctx context.Context, table string) int64 {
	u := c.base + "RetrieveTotalRecordCount(EntityNames=%5B'" + table + "'%5D)"
	body, err := c.get(ctx, u, false, reqTag{table, "RetrieveTotalRecordCount"})
	if err != nil {
		c.log.Warn("dataverse total record count unavailable", "table", table, "err", err)
		return -1
	}
	var resp struct {
		EntityRecordCountCollection struct {
			Keys   []string `json:"Keys"`
			Values []int64  `json:"Values"`
		} `json:"EntityRecordCountCollection"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return -1
	}
	rc := resp.EntityRecordCountCollection
	for i, k := range rc.Keys {
		if k == table && i < len(rc.Values) {
			return rc.Values[i]
		}
	}
	return -1
}
