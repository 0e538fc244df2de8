package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
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
	cfg     Config
	api     source
	table   string
	log     *slog.Logger
	schema  *tableSchema
	cp      *checkpoint
	meta    []FileEntry
	start   time.Time
	read    int64       // rows decoded in this run
	layout  *rowLayout  // where the page scanner puts each property, made once
	raws    [2]*rawPage // compress the raw page bodies, one for the page read, one for the page committed
	rawBufs *rawBufs    // the chunk buffers raws share
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

// pageStreamer is a source that hands a page's body over as it arrives
// (the Web API client); the others give whole bodies.
type pageStreamer interface {
	streamPage(ctx context.Context, table, link string, n int, consume func(body io.Reader, size int64) error) error
}

func (c *client) streamPage(ctx context.Context, table, link string, n int, consume func(io.Reader, int64) error) error {
	if err := c.checkLink(link); err != nil {
		return fmt.Errorf("table %s page %d: %w", table, n, err)
	}
	return c.stream(ctx, link, true, reqTag{table, fmt.Sprintf("page %d", n)}, consume)
}

// readPages follows the next links from the checkpoint to the last page.
// Each page is decoded as its body arrives, so the server produces a page
// while the snapshot decodes its first rows, and no page is ever held
// whole. A page is committed (its part closed, its files synced, the
// checkpoint written) while the next one is read: the commit's Parquet
// compression and fsyncs left the scan idle at the end of every page.
// Pages are still committed strictly in order, one checkpoint after
// another, and nothing is read beyond the page after the last committed.
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
	var pending *commitJob
	for n := r.cp.LastPage + 1; ; n++ {
		got, err := r.fetchPage(ctx, link, n)
		if cerr := pending.wait(); cerr != nil {
			got.discard()
			return cerr
		}
		if err == nil && got.body != nil {
			// Tables with files: the blob downloads need the page's own
			// request finished, which holds one of the flow's request slots.
			err = r.decodeWithBlobs(ctx, got, n)
			putBody(got.body)
		}
		if err != nil {
			got.discard()
			return err
		}
		pending = r.startCommit(got, n)
		if got.p.nextLink == "" {
			if err := pending.wait(); err != nil {
				return err
			}
			return r.finish(ctx)
		}
		link = got.p.nextLink
	}
}

// commitJob is a page's commit running beside the next page's read.
type commitJob struct{ done chan error }

func (r *tableRun) startCommit(got *pageRead, n int) *commitJob {
	j := &commitJob{done: make(chan error, 1)}
	go func() { j.done <- r.commit(got, n) }()
	return j
}

// wait returns the commit's error; a nil job has nothing to wait for.
func (j *commitJob) wait() error {
	if j == nil {
		return nil
	}
	return <-j.done
}

// commit puts page n's files in place and then the checkpoint that counts
// them. Commits run one at a time, in page order.
func (r *tableRun) commit(got *pageRead, n int) error {
	p := got.p
	if got.part != nil {
		part, err := got.part.finish()
		if err != nil {
			return fmt.Errorf("table %s page %d: %w", r.table, n, err)
		}
		part.Rows = int64(p.n)
		got.files = append([]FileEntry{part}, got.files...)
	}
	zst, err := got.raw.finish()
	if err != nil {
		return fmt.Errorf("table %s page %d: compress: %w", r.table, n, err)
	}
	pageFile, err := writeBytesAtomic(r.cfg.OutDir, pageRel(r.table, n), zst)
	if err != nil {
		return fmt.Errorf("table %s page %d: %w", r.table, n, err)
	}
	pageFile.Rows = int64(p.n)
	if n == 0 {
		r.cp.SourceCount = exactCount(p)
	}
	r.cp.LastPage, r.cp.NextLink = n, p.nextLink
	r.noteDeltaLink(p)
	r.cp.Rows += int64(p.n)
	r.cp.Files = append(r.cp.Files, pageFile)
	r.cp.Files = append(r.cp.Files, got.files...)
	if err := writeJSONAtomic(r.cfg.OutDir, checkpointRel(r.table), r.cp); err != nil {
		return fmt.Errorf("table %s page %d: %w", r.table, n, err)
	}
	r.read += int64(p.n)
	r.progress(n, p.n)
	return nil
}

// pageRead is what reading one page produced, before it is committed.
type pageRead struct {
	p     *page
	part  *openPart   // the Parquet part, written but not closed (tables without files)
	files []FileEntry // the Parquet part of a table with files, then its blob files
	raw   *rawPage    // the raw body, being zstd-compressed
	body  []byte      // the whole body, kept only for tables with files
}

// discard drops what a page read that will not be committed left open.
func (got *pageRead) discard() {
	if got != nil && got.part != nil {
		got.part.abort()
		got.part = nil
	}
}

// fetchPage requests page n and reads its body, compressing it as it goes.
// Tables without files are scanned as the body arrives, row by row
// straight into the builders and the Parquet part; for tables with files
// the body is kept whole, since the blob fetch reads and fills the rows
// first. The read runs again when the body is cut off in transit.
func (r *tableRun) fetchPage(ctx context.Context, link string, n int) (*pageRead, error) {
	var got *pageRead
	consume := func(body io.Reader, size int64) error {
		got.discard() // a retried read starts the page over
		raw := r.rawPage(n)
		got = &pageRead{raw: raw}
		var err error
		if len(blobSpecs[r.table]) == 0 {
			got.p, got.part, err = r.scanPart(body, raw, n)
		} else if got.body, err = readBody(io.TeeReader(body, raw), size); err != nil {
			err = fmt.Errorf("table %s page %d: read body: %w", r.table, n, err)
		}
		return err
	}
	pageCtx := trackChanges(ctx, r.schema)
	var err error
	if ps, ok := r.api.(pageStreamer); ok {
		err = ps.streamPage(pageCtx, r.table, link, n, consume)
	} else {
		var body []byte
		if body, err = r.api.page(pageCtx, r.table, link, n); err == nil {
			err = consume(bytes.NewReader(body), int64(len(body)))
		}
	}
	if err != nil {
		got.discard()
	}
	return got, err
}

// decodeWithBlobs decodes a page of a table with files, fetches the files
// and writes the part from the decoded rows.
func (r *tableRun) decodeWithBlobs(ctx context.Context, got *pageRead, n int) error {
	p, err := decodePage(got.body)
	if err != nil {
		return fmt.Errorf("table %s page %d: decode: %w", r.table, n, err)
	}
	blobFiles, err := r.fetchBlobs(ctx, n, p.rows)
	if err != nil {
		return err
	}
	rec, err := buildRecord(r.schema, p.rows)
	if err != nil {
		return fmt.Errorf("table %s page %d %w", r.table, n, err)
	}
	defer rec.Release()
	p.rows = nil // the record holds the page now
	part, err := r.storePart(n, rec, p.n)
	if err != nil {
		return err
	}
	got.p, got.files = p, append([]FileEntry{part}, blobFiles...)
	return nil
}

// streamPart scans page n into the Arrow builders as the body arrives and
// writes its Parquet part as it goes, partBatch rows at a time: neither the
// body, nor a decoded page, nor a page-sized record is ever held. Every
// byte read is copied to raw.
func (r *tableRun) streamPart(body io.Reader, raw io.Writer, n int) (*page, FileEntry, error) {
	p, op, err := r.scanPart(body, raw, n)
	if err != nil {
		return nil, FileEntry{}, err
	}
	part, err := op.finish()
	if err != nil {
		return nil, FileEntry{}, fmt.Errorf("table %s page %d: %w", r.table, n, err)
	}
	part.Rows = int64(p.n)
	return p, part, nil
}

// openPart is a page's Parquet part with every row written, to be closed
// and put in place by the page's commit.
type openPart struct {
	file *atomicFile
	pw   *partWriter
}

// finish writes the part's footer and puts the file in place.
func (op *openPart) finish() (FileEntry, error) {
	if err := op.pw.close(); err != nil {
		op.file.abort()
		return FileEntry{}, fmt.Errorf("write %s: %w", op.file.rel, err)
	}
	return op.file.commit()
}

func (op *openPart) abort() {
	op.pw.fw.Close() // frees its buffers; the file is dropped anyway
	op.file.abort()
}

// scanPart is streamPart but for the part's close, left to the commit.
func (r *tableRun) scanPart(body io.Reader, raw io.Writer, n int) (*page, *openPart, error) {
	if r.layout == nil {
		r.layout = newRowLayout(r.schema)
	}
	af, err := createAtomic(r.cfg.OutDir, partRel(r.table, n))
	if err != nil {
		return nil, nil, fmt.Errorf("table %s page %d: %w", r.table, n, err)
	}
	pw, err := newPartWriter(af.w, r.schema.arrow)
	if err != nil {
		af.abort()
		return nil, nil, fmt.Errorf("table %s page %d: write %s: %w", r.table, n, af.rel, err)
	}
	op := &openPart{file: af, pw: pw}
	b := array.NewRecordBuilder(recordPool, r.schema.arrow)
	defer b.Release()
	// pageErr: a page that does not decode or holds a bad value, reported as is.
	p, pageErr, writeErr := r.scanInto(newStreamScanner(body, raw, streamWindow), n, b, pw)
	if pageErr == nil && writeErr == nil {
		return p, op, nil
	}
	op.abort()
	if pageErr != nil {
		return nil, nil, pageErr
	}
	return nil, nil, fmt.Errorf("table %s page %d: write %s: %w", r.table, n, af.rel, writeErr)
}

// scanInto appends page n's rows to b and hands them to pw every partBatch
// rows, to be encoded on another goroutine while the scan goes on. pageErr
// is the page's own fault (it does not decode, or a value does not fit its
// column) or its body's (cut off); writeErr is the Parquet writer's.
func (r *tableRun) scanInto(sc *scanner, n int, b *array.RecordBuilder, pw *partWriter) (p *page, pageErr, writeErr error) {
	bw := pw.async()
	pending := 0
	ra := newRowAppender(b, r.schema, r.layout)
	p, rowErr, err := scanPageFrom(sc, r.layout, func(i int, vals []jval) error {
		if err := ra.append(i, vals); err != nil {
			return err
		}
		if pending++; pending == partBatch {
			pending = 0
			bw.send(b)
		}
		return nil
	})
	if err == nil {
		err = sc.drain()
	}
	if err == nil && rowErr == nil {
		bw.send(b)
	}
	writeErr = bw.wait()
	switch {
	case err != nil:
		return nil, fmt.Errorf("table %s page %d: decode: %w", r.table, n, err), nil
	case rowErr != nil:
		return nil, fmt.Errorf("table %s page %d %w", r.table, n, rowErr), nil
	case writeErr != nil:
		return nil, nil, writeErr
	}
	if int64(p.n) != pw.rows {
		return nil, fmt.Errorf("table %s page %d: read %d rows, built %d", r.table, n, p.n, pw.rows), nil
	}
	return p, nil, nil
}

// storePart writes a page's record as its Parquet part and checks that
// every row read was written.
func (r *tableRun) storePart(n int, rec arrow.RecordBatch, rows int) (FileEntry, error) {
	if rec.NumRows() != int64(rows) {
		return FileEntry{}, fmt.Errorf("table %s page %d: read %d rows, built %d", r.table, n, rows, rec.NumRows())
	}
	part, err := writePart(r.cfg.OutDir, partRel(r.table, n), rec)
	if err != nil {
		return FileEntry{}, fmt.Errorf("table %s page %d: %w", r.table, n, err)
	}
	if part.Rows != int64(rows) {
		return FileEntry{}, fmt.Errorf("table %s page %d: read %d rows, wrote %d", r.table, n, rows, part.Rows)
	}
	return part, nil
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
