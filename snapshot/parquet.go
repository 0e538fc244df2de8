package snapshot

import (
	"bytes"
	"fmt"
	"io"
	"strings"

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

// rawPage compresses a page's body as it is read, for the page file. The
// encoder works a block behind the reader on its own goroutine, so the
// compression (as costly as the page scan) runs on the other core.
type rawPage struct {
	zw  *zstd.Encoder
	out bytes.Buffer
}

// rawPage returns the compressor for page n, emptied. Pages alternate
// between two: page n is read while page n-1 is still being committed.
func (r *tableRun) rawPage(n int) *rawPage {
	rp := r.raws[n%2]
	if rp == nil {
		// A 1 MiB window instead of 8: a page's rows repeat within far less,
		// the page files grow by 1 %, and each of the two encoders holds
		// 7 MiB less history.
		zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(2),
			zstd.WithWindowSize(1<<20))
		if err != nil {
			panic(err) // only bad options make NewWriter fail
		}
		rp = &rawPage{zw: zw}
		r.raws[n%2] = rp
	}
	rp.out.Reset()
	rp.zw.Reset(&rp.out)
	return rp
}

func (rp *rawPage) Write(b []byte) (int, error) { return rp.zw.Write(b) }

// finish ends the frame and returns it; it is valid until the next page.
func (rp *rawPage) finish() ([]byte, error) {
	if err := rp.zw.Close(); err != nil {
		return nil, err
	}
	return rp.out.Bytes(), nil
}
