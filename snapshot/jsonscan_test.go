package snapshot

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// scanRecord is the page scanner's path: every row straight into builders.
func scanRecord(t testing.TB, s *tableSchema, body []byte) (*page, arrow.RecordBatch, error) {
	t.Helper()
	l := newRowLayout(s)
	b := array.NewRecordBuilder(memory.DefaultAllocator, s.arrow)
	defer b.Release()
	p, rowErr, err := scanPage(body, l, func(i int, vals []jval) error { return appendRow(b, s, l, i, vals) })
	if err != nil {
		return nil, nil, err
	}
	if rowErr != nil {
		return nil, nil, rowErr
	}
	return p, b.NewRecordBatch(), nil
}

// mapRecord is the encoding/json path the blob and delta reads keep.
func mapRecord(t testing.TB, s *tableSchema, body []byte) (*page, arrow.RecordBatch, error) {
	t.Helper()
	p, err := decodePage(body)
	if err != nil {
		return nil, nil, err
	}
	rec, err := buildRecord(s, p.rows)
	return p, rec, err
}

// streamRecord is scanRecord reading the body as a stream, one byte per
// Read, through a window of the given size: every value meets a window edge.
func streamRecord(t testing.TB, s *tableSchema, body []byte, window int) (*page, arrow.RecordBatch, error) {
	t.Helper()
	l := newRowLayout(s)
	b := array.NewRecordBuilder(memory.DefaultAllocator, s.arrow)
	defer b.Release()
	var raw bytes.Buffer
	sc := newStreamScanner(iotest.OneByteReader(bytes.NewReader(body)), &raw, window)
	ra := newRowAppender(b, s, l) // the page reader's appender; scanRecord uses appendRow
	p, rowErr, err := scanPageFrom(sc, l, ra.append)
	if err == nil {
		err = sc.drain()
	}
	if err == nil && !bytes.Equal(raw.Bytes(), body) {
		t.Fatalf("tee saw %d bytes, body has %d", raw.Len(), len(body))
	}
	if err != nil {
		return nil, nil, err
	}
	if rowErr != nil {
		return nil, nil, rowErr
	}
	return p, b.NewRecordBatch(), nil
}

// assertSameDecoding decodes body both ways (the scanner over the whole
// body and over a stream) and wants identical records and page properties.
func assertSameDecoding(t *testing.T, s *tableSchema, body []byte, name string) int64 {
	t.Helper()
	p1, want, err := mapRecord(t, s, body)
	if err != nil {
		t.Fatalf("%s: encoding/json path: %v", name, err)
	}
	defer want.Release()
	for _, window := range []int{5, 300} {
		p3, streamed, err := streamRecord(t, s, body, window)
		if err != nil {
			t.Fatalf("%s: streamed through %d bytes: %v", name, window, err)
		}
		if !array.RecordEqual(want, streamed) || p3.nextLink != p1.nextLink || p3.n != p1.n {
			t.Fatalf("%s: streamed through %d bytes: different record or page", name, window)
		}
		streamed.Release()
	}
	p2, got, err := scanRecord(t, s, body)
	if err != nil {
		t.Fatalf("%s: scanner: %v", name, err)
	}
	defer got.Release()
	if !array.RecordEqual(want, got) {
		for j := range want.NumCols() {
			if !array.Equal(want.Column(int(j)), got.Column(int(j))) {
				t.Errorf("%s: column %s differs:\nencoding/json %v\nscanner       %v", name,
					want.ColumnName(int(j)), want.Column(int(j)), got.Column(int(j)))
			}
		}
		t.FailNow()
	}
	if p1.n != p2.n || p1.nextLink != p2.nextLink || p1.deltaLink != p2.deltaLink ||
		p1.count != p2.count || p1.countCapped != p2.countCapped {
		t.Fatalf("%s: page %+v, scanner %+v", name, p1, p2)
	}
	return got.NumRows()
}

// Every table of a generated org, as the emulator serves it (annotations,
// escapes, non-ASCII names, every column kind): the scanner builds exactly
// the record encoding/json and the map path build.
func TestScanPageMatchesEncodingJSON(t *testing.T) {
	org, err := sampleorg.New(sampleorg.Options{Seed: 5, Cases: 120})
	if err != nil {
		t.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{})
	defer srv.Close()
	dir := t.TempDir()
	tables := []string{"incident", "contact", "account", "email", "annotation", "systemuser"}
	cfg := Config{OrgURL: srv.URL, AuthorityURL: srv.URL, Tables: tables, OutDir: dir, MaxPageSize: 50,
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
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no saved pages: %v", table, err)
		}
		var rows int64
		for _, f := range files {
			body, err := readSavedPage(f)
			if err != nil {
				t.Fatal(err)
			}
			rows += assertSameDecoding(t, s, body, table+" "+filepath.Base(f))
		}
		if rows != int64(org.Count(table)) {
			t.Errorf("%s: %d rows decoded, org has %d", table, rows, org.Count(table))
		}
	}
}

// Strings and numbers at the edges of JSON: escapes, surrogate pairs, lone
// surrogates, raw invalid UTF-8, exponents, quoted numbers, space between
// tokens, unknown nested properties.
func TestScanPageEdgeValues(t *testing.T) {
	s, err := buildSchema(mustDef(t, incidentDef), map[string]map[int32]string{"prioritycode": {1: "High"}})
	if err != nil {
		t.Fatal(err)
	}
	const id = `"incidentid":"c0000000-0000-4000-8000-000000000001"`
	rows := []string{
		`{` + id + `,"title":"tab\there \"quoted\" back\\slash \/ \u00e9 \ud83d\ude00 lone \ud800 end","description":"` + "raw \xff\xfe bytes é 😀" + `"}`,
		`{` + id + `,"title":"","description":"\u0000\u001f\b\f\n\r","extra":{"a":[1,{"b":null}],"c":"x"},"more":[[],{}]}`,
		` { ` + id + ` , "new_score" : -2.5E-3 , "new_ratio" : 1.5e2 , "new_billed" : "12.3400" , "versionnumber" : "9223372036854775807" } `,
		`{` + id + `,"new_ratio":0.0001,"new_billed":-0,"new_reopens":-0,"new_score":1E300}`,
		`{` + id + `,"createdon":"2024-02-29T23:59:59Z","followupby":"2024-03-01T00:00:00.1234567Z","new_duedate":"2024-02-29T00:00:00Z"}`,
		`{` + id + `,"createdon":"2024-02-29T23:59:59+02:00","followupby":"2023-04-07T22:00:00","new_duedate":"0001-01-01"}`,
		`{` + id + `,"prioritycode":1,"prioritycode@OData.Community.Display.V1.FormattedValue":"ignored","statecode":7,"statecode@OData.Community.Display.V1.FormattedValue":"Seven"}`,
		`{` + id + `,"_customerid_value":null,"_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname":123,"_ownerid_value@OData.Community.Display.V1.FormattedValue":"x"}`,
		`{` + id + `,"new_channels":" ","new_channels@OData.Community.Display.V1.FormattedValue":"A; B"}`,
		`{` + id + `,"new_channels":"1, 2","new_channels@OData.Community.Display.V1.FormattedValue":"A; B"}`,
		`{` + id + `,"title":12.5,"description":true,"isescalated":false,"isescalated":null}`,
		`{}`,
	}
	body := `{"@odata.count":12,"@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded":false,"value":[` +
		strings.Join(rows, ",\n") + `],"@odata.nextLink":"https://org/api/data/v9.2/incidents?$skiptoken=%3Ccookie%20\/%3E"}`
	if n := assertSameDecoding(t, s, []byte(body), "edge rows"); n != int64(len(rows)) {
		t.Fatalf("%d rows, want %d", n, len(rows))
	}
	for _, empty := range []string{`{}`, `{"value":[]}`, ` {"value" : [ ] } `, `{"@odata.nextLink":null,"value":[]}`} {
		assertSameDecoding(t, s, []byte(empty), empty)
	}
}

// A body that is not JSON never decodes: every truncation of a page, and
// random one-byte damage that encoding/json refuses, is refused too.
func TestScanPageRefusesBrokenJSON(t *testing.T) {
	s, err := buildSchema(mustDef(t, incidentDef), nil)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"@odata.count":3,"value":[` + strings.Join(incidentRows, ",") + `],"@odata.nextLink":"x"}`)
	for n := range len(body) {
		if _, _, err := scanRecord(t, s, body[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: decoded %q", n, body[:n])
		}
		if _, _, err := streamRecord(t, s, body[:n], 16); err == nil {
			t.Fatalf("stream truncated to %d bytes: decoded %q", n, body[:n])
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("{}[]:,\"\\ 0123456789.eE+-tfnulr\x00\x1f\xff")
	for range 5000 {
		bad := bytes.Clone(body)
		bad[rng.IntN(len(bad))] = alphabet[rng.IntN(len(alphabet))]
		if json.Valid(bad) {
			continue
		}
		if _, _, err := scanRecord(t, s, bad); err == nil {
			t.Fatalf("invalid JSON decoded: %q", bad)
		}
	}
}

// The bad-page errors keep naming the row, and say truncated.
func TestScanPageErrorText(t *testing.T) {
	s, err := buildSchema(mustDef(t, incidentDef), nil)
	if err != nil {
		t.Fatal(err)
	}
	for body, want := range map[string]string{
		`{"value":[{"incidentid":"c0000000-0000-4000-8000-000000000002","title":"Nu`: "value: row 0: truncated JSON",
		`{"value":[{"incidentid":"c0000000-0000-4000-8000-000000000002"}`:            "value: truncated JSON",
		`{"value":[{},42]}`:    "value: row 1: want object, got number",
		`{"value":[{"a":01}]}`: "value: row 0: invalid character '1' in numeric literal at offset 16",
		``:                     "truncated JSON, want '{'",
	} {
		_, _, err := scanRecord(t, s, []byte(body))
		if err == nil || err.Error() != want {
			t.Errorf("%q: err = %v, want %q", body, err, want)
		}
	}
}

// benchPage is one page of incidents as the emulator serves them with every
// annotation, and the incident schema, read once from a snapshot of it.
func benchPage(b *testing.B, rows int) (*tableSchema, []byte) {
	org, err := sampleorg.New(sampleorg.Options{Seed: 1, Cases: rows})
	if err != nil {
		b.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{})
	defer srv.Close()
	dir := b.TempDir()
	cfg := Config{OrgURL: srv.URL, AuthorityURL: srv.URL, Tables: []string{"incident"}, OutDir: dir,
		Credentials: Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"}}
	if _, err := Run(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	src := &savedPages{pagesDir: filepath.Join(dir, "pages"), metaDir: filepath.Join(dir, "metadata"), files: map[string][]string{}}
	meta, err := src.tableMeta(context.Background(), b.TempDir(), "incident")
	if err != nil {
		b.Fatal(err)
	}
	s, err := buildSchema(meta.def, meta.labels)
	if err != nil {
		b.Fatal(err)
	}
	body, err := readSavedPage(filepath.Join(dir, pageRel("incident", 0)))
	if err != nil {
		b.Fatal(err)
	}
	return s, body
}

// BenchmarkScanIncidentPage is the decode path alone: a 5,000-row incident
// page scanned into Arrow builders (MB/s of page JSON).
func BenchmarkScanIncidentPage(b *testing.B) {
	s, body := benchPage(b, 5000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_, rec, err := scanRecord(b, s, body)
		if err != nil {
			b.Fatal(err)
		}
		rec.Release()
	}
}

// BenchmarkStreamIncidentPart is the page's whole CPU path but the HTTP
// read: streamed scan, Parquet part on disk, raw page compressed.
func BenchmarkStreamIncidentPart(b *testing.B) {
	s, body := benchPage(b, 5000)
	dir := b.TempDir()
	r := &tableRun{cfg: Config{OutDir: dir}, table: "incident", schema: s}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var part FileEntry
	for b.Loop() {
		raw := r.rawPage(0)
		var err error
		if _, part, err = r.streamPart(bytes.NewReader(body), raw, 0); err != nil {
			b.Fatal(err)
		}
		if _, err := raw.finish(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(part.Bytes), "part_bytes")
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
}

// swarSpecial flags exactly the words holding a byte str must look at.
func TestSWARSpecial(t *testing.T) {
	special := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 || c >= 0x80 }
	word := []byte("abcdefgh")
	for pos := range 8 {
		for c := range 256 {
			w := bytes.Clone(word)
			w[pos] = byte(c)
			want := special(byte(c))
			if got := swarSpecial(binary.LittleEndian.Uint64(w)); got != want {
				t.Fatalf("byte %#x at %d: swarSpecial %v, want %v", c, pos, got, want)
			}
		}
	}
}

// BenchmarkAppendIncidentPage appends a scanned 5,000-row incident page to
// the builders, per value (appendRow) and through appenders bound once per
// page (rowAppender).
func BenchmarkAppendIncidentPage(b *testing.B) {
	s, body := benchPage(b, 5000)
	l := newRowLayout(s)
	var rows [][]jval
	if _, rowErr, err := scanPage(body, l, func(_ int, vals []jval) error {
		rows = append(rows, slices.Clone(vals))
		return nil
	}); err != nil || rowErr != nil {
		b.Fatal(err, rowErr)
	}
	run := func(b *testing.B, add func(rb *array.RecordBuilder) func(int, []jval) error) {
		rb := array.NewRecordBuilder(memory.DefaultAllocator, s.arrow)
		defer rb.Release()
		for b.Loop() {
			f := add(rb)
			for i, vals := range rows {
				if err := f(i, vals); err != nil {
					b.Fatal(err)
				}
			}
			rb.NewRecordBatch().Release()
		}
	}
	b.Run("appendRow", func(b *testing.B) {
		run(b, func(rb *array.RecordBuilder) func(int, []jval) error {
			return func(i int, vals []jval) error { return appendRow(rb, s, l, i, vals) }
		})
	})
	b.Run("rowAppender", func(b *testing.B) {
		run(b, func(rb *array.RecordBuilder) func(int, []jval) error { return newRowAppender(rb, s, l).append })
	})
}
