package snapshot

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Binary content (spec §12): notes and e-mail attachments keep their file
// as Base64 text in a column that list queries never select; recordings
// keep theirs in file columns. Each file is fetched on its own, streamed
// into a temporary file while it is hashed, and renamed to
// blobs/sha256/<ab>/<rest>, so identical files are stored once and no file
// is ever held whole in memory.

// BlobOptions tune the download of file contents.
type BlobOptions struct {
	// BlockThreshold: files larger than this (by the row's filesize) go
	// through the block download actions instead of $value; default 4 MiB.
	BlockThreshold int64
	// BlockSize is the BlockLength asked of DownloadBlock; default and
	// maximum 4 MiB.
	BlockSize int64
	// Concurrency is how many files of one page download at once; default 4.
	Concurrency int
	// Skip leaves the blob columns empty (no file is fetched).
	Skip bool
}

const defaultBlockSize = 4 << 20

func (o BlobOptions) withDefaults() BlobOptions {
	if o.BlockThreshold <= 0 {
		o.BlockThreshold = defaultBlockSize
	}
	if o.BlockSize <= 0 || o.BlockSize > defaultBlockSize {
		o.BlockSize = defaultBlockSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	return o
}

// BlobStats summarise a table's files in the manifest.
type BlobStats struct {
	Files    int64 `json:"files"`     // rows whose file is in blobs/sha256
	Bytes    int64 `json:"bytes"`     // decoded bytes of those files (shared files counted per row)
	Failed   int64 `json:"failed"`    // rows whose download failed (see <col>__error)
	SizeOnly int64 `json:"size_only"` // files listed with their size, not downloaded (recordings)
}

// blobSpec is one column of a table that holds a file.
type blobSpec struct {
	column string // documentbody, body, msdyn_recording
	// initAction starts a block download of a Base64 column; "" for file
	// columns, which are read in byte ranges of $value instead.
	initAction string
	recording  bool // downloaded only with Config.WithRecordings
	// wants says whether the row has a file; nil means every row may.
	wants func(row map[string]any) bool
}

var blobSpecs = map[string][]blobSpec{
	"annotation":             {{column: "documentbody", initAction: "InitializeAnnotationBlocksDownload", wants: noteHasFile}},
	"activitymimeattachment": {{column: "body", initAction: "InitializeAttachmentBlocksDownload"}},
	"msdyn_ocrecording": {
		{column: "msdyn_recording", recording: true},
		{column: "msdyn_recordingmetadata", recording: true},
	},
}

// Suffixes of the derived blob columns (docs/contracts.md §1 extension).
const (
	suffixSHA256 = "__sha256"
	suffixSize   = "__size"
	suffixError  = "__error"
)

// blobColumns are the derived columns a table's files add to its Parquet;
// they are filled by fetchBlobs, never selected from the server.
func blobColumns(table string) []column {
	var out []column
	for _, s := range blobSpecs[table] {
		out = append(out,
			column{attr: s.column + suffixSHA256, key: s.column + suffixSHA256, kind: kString, derived: true},
			column{attr: s.column + suffixSize, key: s.column + suffixSize, kind: kInt64, derived: true},
			column{attr: s.column + suffixError, key: s.column + suffixError, kind: kString, derived: true})
	}
	return out
}

// noteHasFile: a note carries a file when isdocument is set or it has a size.
func noteHasFile(row map[string]any) bool {
	if b, _ := row["isdocument"].(bool); b {
		return true
	}
	return rowSize(row) > 0
}

// rowSize is the filesize column, -1 when absent.
func rowSize(row map[string]any) int64 {
	if n, ok := row["filesize"].(json.Number); ok {
		if v, err := n.Int64(); err == nil {
			return v
		}
	}
	return -1
}

// blobEntry is one line of a page's blob index, blobs/index/<table>/NNNNN.jsonl.
type blobEntry struct {
	ID     string `json:"id"`
	Column string `json:"column"`
	SHA256 string `json:"sha256,omitempty"`
	Path   string `json:"path,omitempty"`
	Bytes  int64  `json:"bytes"`
	// SizeOnly: listed with its size, content not downloaded.
	SizeOnly bool   `json:"size_only,omitempty"`
	Error    string `json:"error,omitempty"`
}

func blobIndexRel(table string, n int) string {
	return fmt.Sprintf("blobs/index/%s/%05d.jsonl", table, n)
}

func blobRel(sum string) string { return "blobs/sha256/" + sum[:2] + "/" + sum[2:] }

// fetchBlobs downloads the files of one page's rows, writes their derived
// columns into the rows and returns the page's blob index file. A failed
// download is recorded in the row, not returned: only local disk errors
// stop the table.
func (r *tableRun) fetchBlobs(ctx context.Context, n int, rows []map[string]any) ([]FileEntry, error) {
	specs := blobSpecs[r.table]
	c, online := r.api.(*client)
	opts := r.cfg.Blobs.withDefaults()
	if sp, ok := r.api.(*savedPages); ok && len(specs) > 0 {
		refillBlobs(filepath.Dir(sp.pagesDir), r.table, r.schema.primaryID, n, rows, specs)
		return nil, nil
	}
	if len(specs) == 0 || !online || opts.Skip {
		return nil, nil
	}
	j, err := openBlobJournal(r.cfg.OutDir, blobIndexRel(r.table, n))
	if err != nil {
		return nil, fmt.Errorf("table %s page %d: %w", r.table, n, err)
	}
	f := &blobFetcher{c: c, root: r.cfg.OutDir, table: r.table, schema: r.schema, opts: opts,
		recordings: r.cfg.WithRecordings, journal: j}
	err = f.run(ctx, rows, specs)
	if cerr := j.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("table %s page %d: blobs: %w", r.table, n, err)
	}
	fe, err := j.commit(r.cfg.OutDir)
	if err != nil {
		return nil, fmt.Errorf("table %s page %d: blob index: %w", r.table, n, err)
	}
	if f.failed > 0 {
		r.log.Warn("dataverse files failed to download", "page", n, "failed", f.failed)
	}
	return []FileEntry{fe}, nil
}

type blobFetcher struct {
	c          *client
	root       string
	table      string
	schema     *tableSchema
	opts       BlobOptions
	recordings bool
	journal    *blobJournal

	mu     sync.Mutex
	failed int
}

// run fetches every row's files with a bounded number of workers.
func (f *blobFetcher) run(ctx context.Context, rows []map[string]any, specs []blobSpec) error {
	if err := os.MkdirAll(joinRel(f.root, "blobs/tmp"), 0o700); err != nil {
		return err
	}
	work := make(chan map[string]any)
	errs := make(chan error, f.opts.Concurrency)
	var wg sync.WaitGroup
	for range f.opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for row := range work {
				if err := f.row(ctx, row, specs); err != nil {
					errs <- err
					for range work { // drain so the feeder finishes
					}
					return
				}
			}
		}()
	}
feed:
	for _, row := range rows {
		select {
		case work <- row:
		case err := <-errs:
			close(work)
			wg.Wait()
			return err
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	return ctx.Err()
}

// row fetches the files of one row and fills its derived columns.
func (f *blobFetcher) row(ctx context.Context, row map[string]any, specs []blobSpec) error {
	id, _ := row[f.schema.primaryID].(string)
	for _, s := range specs {
		for _, suf := range []string{suffixSHA256, suffixSize, suffixError} {
			delete(row, s.column+suf)
		}
		if !isGUID(id) || (s.wants != nil && !s.wants(row)) {
			continue
		}
		e, err := f.one(ctx, id, row, s)
		if err != nil {
			return err
		}
		if err := f.journal.add(e); err != nil {
			return err
		}
		fillBlobColumns(row, s.column, e)
		if e.Error != "" {
			f.mu.Lock()
			f.failed++
			f.mu.Unlock()
		}
	}
	return nil
}

func fillBlobColumns(row map[string]any, col string, e blobEntry) {
	if e.SHA256 != "" {
		row[col+suffixSHA256] = e.SHA256
	}
	if e.Error == "" {
		row[col+suffixSize] = json.Number(fmt.Sprint(e.Bytes))
	} else {
		row[col+suffixError] = e.Error
	}
}

// one fetches a single file, or reuses what a killed run already stored.
// The error is local (disk); a download failure is in the entry.
func (f *blobFetcher) one(ctx context.Context, id string, row map[string]any, s blobSpec) (blobEntry, error) {
	e := blobEntry{ID: id, Column: s.column}
	if prev, ok := f.journal.done(id, s.column); ok {
		return prev, nil
	}
	tag := reqTag{f.table, fmt.Sprintf("%s %s %s", s.column, f.schema.primaryID, id)}
	if s.recording && !f.recordings {
		size, err := f.c.fileSize(ctx, f.schema.entitySet, id, s.column, tag)
		if err != nil {
			e.Error = err.Error()
		}
		e.Bytes, e.SizeOnly = size, true
		return e, nil
	}
	tmp, err := newBlobTemp(f.root)
	if err != nil {
		return e, err
	}
	defer tmp.discard()
	switch {
	case s.initAction == "":
		err = f.c.fetchFileRanges(ctx, f.schema.entitySet, id, s.column, f.opts.BlockSize, tmp, tag)
	case rowSize(row) > f.opts.BlockThreshold:
		err = f.c.fetchBlocks(ctx, s.initAction, f.table, f.schema.primaryID, id, f.opts.BlockSize, tmp, tag)
	default:
		err = f.c.fetchValue(ctx, f.schema.entitySet, id, s.column, tmp, tag)
	}
	var le *localError
	if errors.As(err, &le) {
		return e, le.err
	}
	if err != nil {
		e.Error = err.Error()
		return e, nil
	}
	sum, size, err := tmp.commit(f.root)
	if err != nil {
		return e, err
	}
	e.SHA256, e.Path, e.Bytes = sum, blobRel(sum), size
	return e, nil
}

// localError marks a failure of this machine (disk, temp files): it stops
// the table, where a failed download only marks its row.
type localError struct{ err error }

func (e *localError) Error() string { return e.err.Error() }
func (e *localError) Unwrap() error { return e.err }

// blobTemp is a file being downloaded: bytes are hashed as they are written.
type blobTemp struct {
	f  *os.File
	bw *bufio.Writer
	hw *hashingWriter
}

func newBlobTemp(root string) (*blobTemp, error) {
	f, err := os.CreateTemp(joinRel(root, "blobs/tmp"), ".blob-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create blob temp: %w", err)
	}
	t := &blobTemp{f: f}
	t.reset()
	return t, nil
}

func (t *blobTemp) Write(p []byte) (int, error) {
	n, err := t.hw.Write(p)
	if err != nil {
		return n, &localError{fmt.Errorf("write blob temp: %w", err)}
	}
	return n, nil
}

// reset empties the file before a download starts over.
func (t *blobTemp) reset() error {
	if err := t.f.Truncate(0); err != nil {
		return &localError{err}
	}
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return &localError{err}
	}
	t.bw = bufio.NewWriterSize(t.f, 64<<10)
	t.hw = newHashingWriter(t.bw)
	return nil
}

func (t *blobTemp) written() int64 { return t.hw.n }

// commit syncs the file and renames it to its content address; a blob
// already there (the same file on another row) is kept as it is.
func (t *blobTemp) commit(root string) (string, int64, error) {
	if err := t.bw.Flush(); err != nil {
		return "", 0, fmt.Errorf("flush blob temp: %w", err)
	}
	if err := t.f.Sync(); err != nil {
		return "", 0, fmt.Errorf("sync blob temp: %w", err)
	}
	sum, size := t.hw.sum(), t.hw.n
	final := joinRel(root, blobRel(sum))
	if _, err := os.Stat(final); err == nil {
		return sum, size, nil
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return "", 0, fmt.Errorf("create blob directory: %w", err)
	}
	if err := os.Rename(t.f.Name(), final); err != nil {
		return "", 0, fmt.Errorf("store blob %s: %w", sum, err)
	}
	syncDir(filepath.Dir(final))
	return sum, size, nil
}

// discard closes the file and removes it unless commit renamed it.
func (t *blobTemp) discard() {
	t.f.Close()
	os.Remove(t.f.Name())
}

// blobJournal is a page's blob index while the page is fetched: each
// entry is appended as its file lands, so a killed run re-downloads only
// the files it had not finished. Once the page's files are all fetched the
// index is rewritten atomically, sorted and without duplicates.
type blobJournal struct {
	rel  string
	prev map[string]blobEntry // entries of an earlier, killed run
	mu   sync.Mutex
	f    *os.File
	all  []blobEntry
}

func openBlobJournal(root, rel string) (*blobJournal, error) {
	j := &blobJournal{rel: rel, prev: map[string]blobEntry{}}
	path := joinRel(root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create blob index directory: %w", err)
	}
	if err := j.load(root, path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open blob index: %w", err)
	}
	j.f = f
	return j, nil
}

// load keeps the earlier run's successful entries whose blob is on disk; a
// torn last line (the kill) is ignored.
func (j *blobJournal) load(root, path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read blob index: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e blobEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Error != "" || e.SizeOnly || len(e.SHA256) != 64 {
			continue
		}
		if st, err := os.Stat(joinRel(root, blobRel(e.SHA256))); err != nil || st.Size() != e.Bytes {
			continue
		}
		j.prev[e.ID+"/"+e.Column] = e
	}
	return nil
}

func (j *blobJournal) done(id, col string) (blobEntry, bool) {
	e, ok := j.prev[id+"/"+col]
	return e, ok
}

func (j *blobJournal) add(e blobEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.all = append(j.all, e)
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("append blob index: %w", err)
	}
	return nil
}

func (j *blobJournal) close() error { return j.f.Close() }

// commit rewrites the index with this page's entries, in row-id order.
func (j *blobJournal) commit(root string) (FileEntry, error) {
	sortEntries(j.all)
	fe, err := writeAtomic(root, j.rel, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, e := range j.all {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	})
	fe.Rows = int64(len(j.all))
	return fe, err
}

func sortEntries(es []blobEntry) {
	less := func(a, b blobEntry) bool {
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Column < b.Column
	}
	// insertion into a sorted slice is fine at page size (≤ 5000 rows)
	for i := 1; i < len(es); i++ {
		for k := i; k > 0 && less(es[k], es[k-1]); k-- {
			es[k], es[k-1] = es[k-1], es[k]
		}
	}
}

// summarizeBlobs reads a table's committed blob index files into its
// manifest entry.
func summarizeBlobs(root string, tm *TableManifest) error {
	var st BlobStats
	found := false
	for _, fe := range tm.Files {
		if !strings.HasPrefix(fe.Path, "blobs/index/") {
			continue
		}
		found = true
		if err := addIndexStats(joinRel(root, fe.Path), &st); err != nil {
			return fmt.Errorf("blob index %s: %w", fe.Path, err)
		}
	}
	if found {
		tm.Blobs = &st
	}
	return nil
}

func addIndexStats(path string, st *BlobStats) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	for {
		var e blobEntry
		err := dec.Decode(&e)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case e.Error != "":
			st.Failed++
		case e.SizeOnly:
			st.SizeOnly++
		default:
			st.Files++
			st.Bytes += e.Bytes
		}
	}
}

// refillBlobs gives an offline rebuild the blob columns its source snapshot
// recorded for page n, so rebuilt rows equal the original ones.
// TODO: copy or link the blobs themselves into the rebuilt snapshot.
func refillBlobs(srcRoot, table, pk string, n int, rows []map[string]any, specs []blobSpec) {
	j := &blobJournal{prev: map[string]blobEntry{}}
	f, err := os.Open(joinRel(srcRoot, blobIndexRel(table, n)))
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e blobEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			j.prev[e.ID+"/"+e.Column] = e
		}
	}
	for _, row := range rows {
		id, _ := row[pk].(string)
		for _, s := range specs {
			if e, ok := j.done(id, s.column); ok {
				fillBlobColumns(row, s.column, e)
			}
		}
	}
}
