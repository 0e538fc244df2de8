package snapshot

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/klauspost/compress/zstd"
)

func partRel(table string, n int) string {
	return fmt.Sprintf("tables/%s/part-%05d.parquet", table, n)
}

func pageRel(table string, n int) string {
	return fmt.Sprintf("pages/%s/%05d.json.zst", table, n)
}

// A part is one row group per page (the service's pages hold at most 5,000
// rows), written from records of partBatch rows: setting up a row group's
// column writers cost more than encoding 1,000 rows into them, and the
// buffered row group holds encoded columns, far smaller than the records.
const (
	partRowGroup = 5000
	partBatch    = 1000
)

// partWriter writes one Parquet part a row group at a time, so that a page
// is never held as one record.
type partWriter struct {
	fw   *pqarrow.FileWriter
	rows int64
}

func newPartWriter(w io.Writer, schema *arrow.Schema) (*partWriter, error) {
	return newPartWriterWith(w, schema, recordPool)
}

// newPartWriterWith is newPartWriter with the writer's own buffers taken
// from mem.
func newPartWriterWith(w io.Writer, schema *arrow.Schema, mem memory.Allocator) (*partWriter, error) {
	// zstd level 1 (klauspost's SpeedFastest): the library default level
	// cost the snapshot more CPU than it saved bytes on parts this small.
	opts := []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(1), parquet.WithMaxRowGroupLength(partRowGroup),
		parquet.WithAllocator(mem)}
	props := parquet.NewWriterProperties(append(opts, dictionaryChoice(schema)...)...)
	arrowProps := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())
	fw, err := pqarrow.NewFileWriter(schema, w, props, arrowProps)
	if err != nil {
		return nil, err
	}
	return &partWriter{fw: fw}, nil
}

// dictionaryChoice turns dictionary encoding off for the columns whose
// values rarely repeat within a page: keys, free text, instants, amounts.
// Their dictionaries never paid (a 5,000-row group never reaches the
// dictionary size limit, so a unique column was hashed, stored as a
// dictionary and as indexes), and building them was half the Parquet
// writer's CPU. Choices, option labels, lookup targets and their names,
// flags and dates repeat, and keep it.
func dictionaryChoice(schema *arrow.Schema) []parquet.WriterProperty {
	var opts []parquet.WriterProperty
	for _, f := range schema.Fields() {
		if !repeats(f) {
			opts = append(opts, parquet.WithDictionaryFor(f.Name, false))
		}
	}
	return opts
}

// repeats tells, from a field's type and the sibling naming of
// docs/contracts.md §1, whether its values are likely to repeat in a page.
func repeats(f arrow.Field) bool {
	switch f.Type.ID() {
	case arrow.INT64, arrow.FLOAT64, arrow.DECIMAL128, arrow.TIMESTAMP:
		return false
	case arrow.STRING:
		return isLookupValue(f.Name) || strings.HasSuffix(f.Name, suffixLabel) ||
			strings.HasSuffix(f.Name, suffixLookupName) || strings.HasSuffix(f.Name, suffixFormatted)
	}
	return true
}

// isLookupValue matches a lookup's _attr_value property.
func isLookupValue(name string) bool {
	return len(name) > len("__value") && name[0] == '_' && strings.HasSuffix(name, "_value")
}

// write appends rec to the current row group, starting a new one every
// partRowGroup rows.
func (pw *partWriter) write(rec arrow.RecordBatch) error {
	if err := pw.fw.WriteBuffered(rec); err != nil {
		return err
	}
	pw.rows += rec.NumRows()
	return nil
}

// batchWriter hands records to a partWriter on its own goroutine, so that
// Parquet encoding (a third of a page's CPU) runs beside the page scan.
type batchWriter struct {
	pw   *partWriter
	recs chan arrow.RecordBatch
	done chan error
}

func (pw *partWriter) async() *batchWriter {
	bw := &batchWriter{pw: pw, recs: make(chan arrow.RecordBatch, 1), done: make(chan error, 1)}
	go func() {
		var err error
		for rec := range bw.recs {
			if err == nil {
				err = pw.write(rec)
			}
			rec.Release() // after a failure the rest are only drained
		}
		bw.done <- err
	}()
	return bw
}

// send queues what b holds and empties it; it blocks while the writer is
// a record behind, which bounds the rows in memory.
func (bw *batchWriter) send(b *array.RecordBuilder) {
	rows, data := sizes(b)
	rec := b.NewRecordBatch()
	reserve(b, rows, data)
	if rec.NumRows() == 0 {
		rec.Release()
		return
	}
	bw.recs <- rec
}

// sizes is how many rows b holds and how many value bytes each of its
// string fields.
func sizes(b *array.RecordBuilder) (rows int, data []int) {
	data = make([]int, len(b.Fields()))
	for i, f := range b.Fields() {
		rows = max(rows, f.Len())
		if sb, ok := f.(*array.StringBuilder); ok {
			data[i] = sb.DataLen()
		}
	}
	return rows, data
}

// reserve sizes the emptied builders for a batch like the last one, so
// that they do not grow step by step, copying, through every batch.
func reserve(b *array.RecordBuilder, rows int, data []int) {
	for i, f := range b.Fields() {
		switch fb := f.(type) {
		case *array.StringBuilder:
			fb.Reserve(rows)
			fb.ReserveData(data[i])
		case *array.ListBuilder:
		default:
			fb.Reserve(rows)
		}
	}
}

// wait returns once every record sent is written, with the first error.
func (bw *batchWriter) wait() error {
	close(bw.recs)
	return <-bw.done
}

// close writes the footer and checks it counts every row written: rows
// read must equal rows written.
func (pw *partWriter) close() error {
	if err := pw.fw.Close(); err != nil {
		return err
	}
	md, err := pw.fw.FileMetadata()
	if err != nil {
		return err
	}
	if md.NumRows != pw.rows {
		return fmt.Errorf("parquet footer holds %d rows, %d were written", md.NumRows, pw.rows)
	}
	return nil
}

// writePart writes one record as a zstd Parquet file, atomically.
func writePart(root, rel string, rec arrow.RecordBatch) (FileEntry, error) {
	fe, err := writeAtomic(root, rel, func(w io.Writer) error {
		pw, err := newPartWriter(w, rec.Schema())
		if err != nil {
			return err
		}
		if err := pw.write(rec); err != nil {
			pw.fw.Close()
			return err
		}
		return pw.close()
	})
	fe.Rows = rec.NumRows()
	return fe, err
}

// zstdEncoder is shared and reused: EncodeAll is safe for concurrent use.
// SpeedFastest because the raw pages are kept for audit and rebuilds, read
// rarely; at the default level compressing them cost 14 % of the snapshot's
// CPU (BENCHMARKS.md). One encoder block at a time keeps its memory small.
var zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
	zstd.WithEncoderConcurrency(1))

// writePage keeps the raw page body exactly as received, zstd-compressed.
func writePage(root, rel string, body []byte, rows int) (FileEntry, error) {
	fe, err := writeBytesAtomic(root, rel, zstdEncoder.EncodeAll(body, nil))
	fe.Rows = int64(rows)
	return fe, err
}

// rawPage compresses a page's body as it is read, for the page file, as a
// run of independent zstd frames of rawChunk bytes each: a decoder reads
// concatenated frames as one stream (RFC 8878 §3), so the file still
// decompresses to exactly the body. One streaming encoder compressed a
// block at a time behind the scan, and the scan spent half its time waiting
// for it (BENCHMARKS.md, fifth pass); frames compress on any free core, and
// the scan waits only when every chunk buffer is taken.
type rawPage struct {
	bufs   *rawBufs
	chunk  []byte      // the part of the body not handed off yet
	frames []*rawFrame // the page's frames in body order; reused across pages
	used   int         // frames of this page
	out    bytes.Buffer
}

// rawFrame is one chunk of a page being compressed.
type rawFrame struct {
	out  []byte
	done chan struct{}
}

// rawChunk is the size of one frame's input. Against one stream, 1 MiB
// frames made the page files about 5 % larger and 4 MiB ones 0.5 % (a hand
// measurement), but with
// 4 MiB the encoders' buffers lifted peak RSS at 200k incidents from 248 to
// 308 MiB, over the 300 MB the snapshot must stay under.
const rawChunk = 1 << 20

// rawBufs are the chunk buffers the two pages of a table share: one each
// being filled and two compressing, which bounds the memory.
type rawBufs struct {
	free chan []byte
	made atomic.Int32
}

const rawBufCount = 3

func newRawBufs() *rawBufs { return &rawBufs{free: make(chan []byte, rawBufCount)} }

// get returns an empty chunk buffer, made while fewer than rawBufCount
// exist, else once one is put back.
func (rb *rawBufs) get() []byte {
	if rb.made.Add(1) <= rawBufCount {
		return make([]byte, 0, rawChunk)
	}
	rb.made.Add(-1)
	return (<-rb.free)[:0]
}

func (rb *rawBufs) put(b []byte) { rb.free <- b }

// rawEncoder compresses the frames; its concurrency is how many EncodeAll
// calls run at once. The 1 MiB window of the streaming encoder it replaces:
// each encoder's history is twice the window (the 8 MiB default cost 30 MiB
// of RSS). Zero frames are kept so that even an empty body makes a valid
// zstd file.
var rawEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
	zstd.WithEncoderConcurrency(2), zstd.WithWindowSize(1<<20), zstd.WithZeroFrames(true))

// rawPage returns the compressor for page n, emptied. Pages alternate
// between two: page n is read while page n-1 is still being committed.
func (r *tableRun) rawPage(n int) *rawPage {
	rp := r.raws[n%2]
	if rp == nil {
		if r.rawBufs == nil {
			r.rawBufs = newRawBufs()
		}
		rp = &rawPage{bufs: r.rawBufs}
		r.raws[n%2] = rp
	}
	rp.wait() // a retried read drops what the failed one left
	if rp.chunk != nil {
		rp.bufs.put(rp.chunk)
		rp.chunk = nil
	}
	rp.used = 0
	rp.out.Reset()
	return rp
}

func (rp *rawPage) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		if rp.chunk == nil {
			rp.chunk = rp.bufs.get()
		}
		k := copy(rp.chunk[len(rp.chunk):cap(rp.chunk)], b)
		rp.chunk, b = rp.chunk[:len(rp.chunk)+k], b[k:]
		if len(rp.chunk) == cap(rp.chunk) {
			rp.flush()
		}
	}
	return n, nil
}

// flush hands the chunk being filled to a goroutine to compress.
func (rp *rawPage) flush() {
	if rp.used == len(rp.frames) {
		rp.frames = append(rp.frames, &rawFrame{})
	}
	f, in := rp.frames[rp.used], rp.chunk
	rp.used, rp.chunk = rp.used+1, nil
	f.done = make(chan struct{})
	go func() {
		f.out = rawEncoder.EncodeAll(in, f.out[:0])
		if in != nil {
			rp.bufs.put(in)
		}
		close(f.done)
	}()
}

// wait returns once no frame of the page is compressing.
func (rp *rawPage) wait() {
	for _, f := range rp.frames[:rp.used] {
		<-f.done
	}
}

// finish compresses the last chunk and returns the page's frames, joined;
// it is valid until the next page.
func (rp *rawPage) finish() ([]byte, error) {
	if rp.chunk != nil || rp.used == 0 {
		rp.flush()
	}
	rp.wait()
	for _, f := range rp.frames[:rp.used] {
		rp.out.Write(f.out)
	}
	return rp.out.Bytes(), nil
}
