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

// writePart writes one record as a zstd Parquet file, atomically.
func writePart(root, rel string, rec arrow.RecordBatch) (FileEntry, error) {
	fe, err := writeAtomic(root, rel, func(w io.Writer) error {
		props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd))
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

// zstdEncoder is shared: EncodeAll is safe for concurrent use.
var zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))

// writePage keeps the raw page body exactly as received, zstd-compressed.
func writePage(root, rel string, body []byte, rows int) (FileEntry, error) {
	fe, err := writeBytesAtomic(root, rel, zstdEncoder.EncodeAll(body, nil))
	fe.Rows = int64(rows)
	return fe, err
}
