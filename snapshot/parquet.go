package snapshot

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
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

// partRowGroup is the Parquet row-group length of a part.
const partRowGroup = 1000

// writePart writes one record as a zstd Parquet file, atomically.
func writePart(root, rel string, rec arrow.RecordBatch) (FileEntry, error) {
	fe, err := writeAtomic(root, rel, func(w io.Writer) error {
		// Row groups of partRowGroup rows: the column writers then buffer
		// a fifth of a default page, not all of it, before flushing.
		props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd),
			parquet.WithMaxRowGroupLength(partRowGroup))
		arrowProps := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())
		fw, err := pqarrow.NewFileWriter(rec.Schema(), w, props, arrowProps)
		if err != nil {
			return err
		}
		if err := fw.Write(rec); err != nil {
			fw.Close()
			return err
		}
		if err := fw.Close(); err != nil {
			return err
		}
		// Read the count back from the footer: rows read must equal rows written.
		md, err := fw.FileMetadata()
		if err != nil {
			return err
		}
		if md.NumRows != rec.NumRows() {
			return fmt.Errorf("parquet footer holds %d rows, record has %d", md.NumRows, rec.NumRows())
		}
		return nil
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
