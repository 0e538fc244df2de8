package snapshot

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// Buffers recycled by the pool allocator must never be read after their
// release: every page of a generated org, written in small batches through
// the pool, makes byte for byte the Parquet that Go's allocator makes.
func TestPoolAllocatorParquetIdentical(t *testing.T) {
	org, err := sampleorg.New(sampleorg.Options{Seed: 7, Cases: 60})
	if err != nil {
		t.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{})
	defer srv.Close()
	dir := t.TempDir()
	tables := []string{"incident", "contact", "email", "systemuser"}
	cfg := Config{OrgURL: srv.URL, AuthorityURL: srv.URL, Tables: tables, OutDir: dir, MaxPageSize: 40,
		Credentials: Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"}}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	src := &savedPages{pagesDir: filepath.Join(dir, "pages"), metaDir: filepath.Join(dir, "metadata"), files: map[string][]string{}}
	for _, table := range tables {
		meta, err := src.tableMeta(context.Background(), t.TempDir(), table)
		if err != nil {
			t.Fatal(err)
		}
		s, err := buildSchema(meta.def, meta.labels)
		if err != nil {
			t.Fatal(err)
		}
		files, err := src.list(table)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			body, err := readSavedPage(f)
			if err != nil {
				t.Fatal(err)
			}
			want := batchedPart(t, s, body, memory.DefaultAllocator)
			for round := range 3 {
				if got := batchedPart(t, s, body, recordPool); !bytes.Equal(got, want) {
					t.Fatalf("%s round %d: pooled part differs (%d bytes, want %d)", f, round, len(got), len(want))
				}
			}
		}
	}
}

// batchedPart writes a page as a part from 7-row records built with mem.
func batchedPart(t *testing.T, s *tableSchema, body []byte, mem memory.Allocator) []byte {
	t.Helper()
	var out bytes.Buffer
	pw, err := newPartWriterWith(&out, s.arrow, mem)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(mem, s.arrow)
	defer b.Release()
	bw := pw.async()
	l := newRowLayout(s)
	_, rowErr, err := scanPage(body, l, func(i int, vals []jval) error {
		if err := appendRow(b, s, l, i, vals); err != nil {
			return err
		}
		if (i+1)%7 == 0 {
			bw.send(b)
		}
		return nil
	})
	bw.send(b)
	if werr := bw.wait(); err == nil && rowErr == nil {
		err = werr
	}
	if err == nil && rowErr == nil {
		err = pw.close()
	}
	if err != nil || rowErr != nil {
		t.Fatal(err, rowErr)
	}
	return out.Bytes()
}
