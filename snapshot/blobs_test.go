package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const attachmentDef = `{"LogicalName":"activitymimeattachment","EntitySetName":"activitymimeattachments","PrimaryIdAttribute":"activitymimeattachmentid","Attributes":[
 {"LogicalName":"activitymimeattachmentid","AttributeType":"Uniqueidentifier","AttributeOf":null},
 {"LogicalName":"filename","AttributeType":"String","AttributeOf":null},
 {"LogicalName":"mimetype","AttributeType":"String","AttributeOf":null},
 {"LogicalName":"filesize","AttributeType":"Integer","AttributeOf":null},
 {"LogicalName":"body","AttributeType":"String","AttributeOf":null},
 {"LogicalName":"objectid","AttributeType":"Lookup","AttributeOf":null,"Targets":["email","task"]}]}`

const recordingDef = `{"LogicalName":"msdyn_ocrecording","EntitySetName":"msdyn_ocrecordings","PrimaryIdAttribute":"msdyn_ocrecordingid","Attributes":[
 {"LogicalName":"msdyn_ocrecordingid","AttributeType":"Uniqueidentifier","AttributeOf":null},
 {"LogicalName":"msdyn_name","AttributeType":"String","AttributeOf":null},
 {"LogicalName":"msdyn_recording","AttributeType":"File","AttributeOf":null},
 {"LogicalName":"msdyn_recordingmetadata","AttributeType":"File","AttributeOf":null}]}`

// genFile is a deterministic file of size bytes, readable at any offset.
type genFile struct {
	size int64
	seed byte
}

func (g genFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for ; n < len(p) && off+int64(n) < g.size; n++ {
		k := off + int64(n)
		p[n] = byte(k*31+k>>9) ^ g.seed
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (g genFile) sum() string {
	h := sha256.New()
	io.Copy(h, io.NewSectionReader(g, 0, g.size))
	return hex.EncodeToString(h.Sum(nil))
}

// blobServer adds the file routes of spec §12 to a fakeDV.
type blobServer struct {
	f      *fakeDV
	files  map[string]genFile // id → file
	mu     sync.Mutex
	hits   map[string]int // "value id", "block id", "range id" → requests
	onHit  func(kind, id string)
	ranges []string
}

var (
	reValue = regexp.MustCompile(`^/api/data/v9\.2/(\w+)\(([0-9a-f-]{36})\)/(\w+)/\$value$`)
)

func newBlobServer(t *testing.T) *blobServer {
	b := &blobServer{f: newFakeDV(t), files: map[string]genFile{}, hits: map[string]int{}}
	b.f.srv.Config.Handler = http.HandlerFunc(b.serve)
	return b
}

func (b *blobServer) hit(kind, id string) {
	b.mu.Lock()
	b.hits[kind+" "+id]++
	cb := b.onHit
	b.mu.Unlock()
	if cb != nil {
		cb(kind, id)
	}
}

func (b *blobServer) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case reValue.MatchString(p):
		m := reValue.FindStringSubmatch(p)
		g, ok := b.files[m[2]]
		if !ok {
			writeErr(w, http.StatusNotFound, "0x80040217", "no file")
			return
		}
		if m[1] == "msdyn_ocrecordings" {
			b.serveRange(w, r, m[2], g)
			return
		}
		b.hit("value", m[2])
		w.Header().Set("Content-Type", "text/plain")
		enc := base64.NewEncoder(base64.StdEncoding, w)
		io.Copy(enc, io.NewSectionReader(g, 0, g.size))
		enc.Close()
	case p == "/api/data/v9.2/InitializeAttachmentBlocksDownload":
		var req struct {
			Target map[string]string `json:"Target"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		id := req.Target["activitymimeattachmentid"]
		b.hit("init", id)
		fmt.Fprintf(w, `{"FileContinuationToken":%q,"FileSizeInBytes":%d,"FileName":"x.pdf"}`, "tok-"+id, b.files[id].size)
	case p == "/api/data/v9.2/DownloadBlock":
		var req struct {
			Offset, BlockLength   int64
			FileContinuationToken string
		}
		json.NewDecoder(r.Body).Decode(&req)
		id := strings.TrimPrefix(req.FileContinuationToken, "tok-")
		g := b.files[id]
		if req.BlockLength > 4<<20 || req.Offset >= g.size {
			writeErr(w, http.StatusBadRequest, "0x80040203", "bad block")
			return
		}
		b.hit("block", id)
		buf := make([]byte, min(req.BlockLength, g.size-req.Offset))
		g.ReadAt(buf, req.Offset)
		fmt.Fprintf(w, `{"Data":%q}`, base64.StdEncoding.EncodeToString(buf))
	default:
		b.f.serve(w, r)
	}
}

func (b *blobServer) serveRange(w http.ResponseWriter, r *http.Request, id string, g genFile) {
	rg := r.Header.Get("Range")
	b.mu.Lock()
	b.ranges = append(b.ranges, rg)
	b.mu.Unlock()
	b.hit("range", id)
	var from, to int64
	if _, err := fmt.Sscanf(rg, "bytes=%d-%d", &from, &to); err != nil {
		writeErr(w, http.StatusBadRequest, "0x80090017", "range required here")
		return
	}
	to = min(to, g.size-1)
	w.Header().Set("x-ms-file-size", fmt.Sprint(g.size))
	w.WriteHeader(http.StatusPartialContent)
	io.Copy(w, io.NewSectionReader(g, from, to-from+1))
}

func attachmentRow(id string, size int64) string {
	return fmt.Sprintf(`{"activitymimeattachmentid":%q,"filename":"f.bin","mimetype":"application/pdf","filesize":%d,"_objectid_value":null}`, id, size)
}

func guid(n int) string { return fmt.Sprintf("00000000-0000-0000-0000-%012d", n) }

func readIndex(t *testing.T, dir, table string) map[string]blobEntry {
	t.Helper()
	out := map[string]blobEntry{}
	b, err := os.ReadFile(joinRel(dir, blobIndexRel(table, 0)))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e blobEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		out[e.ID+"/"+e.Column] = e
	}
	return out
}

// A 20 MB attachment comes through the block protocol, and a small one
// through $value, into content-addressed files whose sha256 matches; the
// heap never holds the large file whole.
func TestBlobsLargeFileByBlocksMemoryBounded(t *testing.T) {
	b := newBlobServer(t)
	b.f.entities["activitymimeattachment"] = attachmentDef
	big, small := genFile{20 << 20, 7}, genFile{3000, 9}
	b.files[guid(1)], b.files[guid(2)] = big, small
	b.f.sets["activitymimeattachments"] = &fakeSet{rows: []string{attachmentRow(guid(1), big.size), attachmentRow(guid(2), small.size)}}
	dir := t.TempDir()
	cfg := b.f.config(dir, "activitymimeattachment")
	cfg.Blobs = BlobOptions{BlockThreshold: 1 << 20, BlockSize: 1 << 20, Concurrency: 1}

	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var s runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				runtime.ReadMemStats(&s)
				if s.HeapAlloc > peak.Load() {
					peak.Store(s.HeapAlloc)
				}
			}
		}
	}()
	m, err := Run(context.Background(), cfg)
	close(stop)
	if err != nil {
		t.Fatal(err)
	}
	if grow := int64(peak.Load()) - int64(base); grow > 14<<20 {
		t.Errorf("heap grew by %d MB while fetching a 20 MB file", grow>>20)
	}
	if n := b.hits["block "+guid(1)]; n != 20 {
		t.Errorf("large file took %d blocks, want 20", n)
	}
	if b.hits["value "+guid(1)] != 0 || b.hits["value "+guid(2)] != 1 {
		t.Errorf("$value hits = %v", b.hits)
	}
	idx := readIndex(t, dir, "activitymimeattachment")
	for id, g := range map[string]genFile{guid(1): big, guid(2): small} {
		e := idx[id+"/body"]
		if e.SHA256 != g.sum() || e.Bytes != g.size || e.Error != "" {
			t.Errorf("%s: index %+v, want sha %s", id, e, g.sum())
		}
		st, err := os.Stat(joinRel(dir, blobRel(g.sum())))
		if err != nil || st.Size() != g.size {
			t.Errorf("%s: blob file %v", id, err)
		}
	}
	if bs := m.Tables["activitymimeattachment"].Blobs; bs == nil || bs.Files != 2 || bs.Bytes != big.size+small.size {
		t.Errorf("manifest blobs = %+v", bs)
	}
	for _, q := range b.f.dataReqs {
		if strings.Contains(q, "body") {
			t.Errorf("list query selects the body: %s", q)
		}
	}
	db := openDuck(t)
	var sha string
	var size int64
	q := `select body__sha256, body__size from '` + dir + `/tables/activitymimeattachment/*.parquet' where activitymimeattachmentid = '` + guid(1) + `'`
	if err := db.QueryRow(q).Scan(&sha, &size); err != nil || sha != big.sum() || size != big.size {
		t.Errorf("parquet columns: %s %d %v", sha, size, err)
	}
}

// A run killed while a page's files download re-downloads, on resume, only
// the files it had not finished; a failed file marks its row, not the table.
func TestBlobsResumeAfterKill(t *testing.T) {
	b := newBlobServer(t)
	b.f.entities["activitymimeattachment"] = attachmentDef
	var rows []string
	for i := 1; i <= 3; i++ {
		b.files[guid(i)] = genFile{int64(1000 * i), byte(i)}
		rows = append(rows, attachmentRow(guid(i), int64(1000*i)))
	}
	rows = append(rows, attachmentRow(guid(4), 10)) // no file on the server: 404
	b.f.sets["activitymimeattachments"] = &fakeSet{rows: rows}
	dir := t.TempDir()
	cfg := b.f.config(dir, "activitymimeattachment")
	cfg.Blobs = BlobOptions{Concurrency: 1}

	ctx, cancel := context.WithCancel(context.Background())
	b.onHit = func(kind, id string) {
		if id == guid(3) {
			cancel() // the kill, while the third file is on the wire
		}
	}
	if _, err := Run(ctx, cfg); err == nil {
		t.Fatal("killed run reported success")
	}
	if b.hits["value "+guid(1)] != 1 || b.hits["value "+guid(2)] != 1 {
		t.Fatalf("first run hits = %v", b.hits)
	}
	b.onHit = nil
	m, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The third file is fetched again unless its bytes had all arrived
	// before the cancel was noticed, in which case the first run kept it.
	if b.hits["value "+guid(1)] != 1 || b.hits["value "+guid(2)] != 1 || b.hits["value "+guid(3)] < 1 ||
		b.hits["value "+guid(3)] > 2 {
		t.Errorf("resume re-downloaded finished files: %v", b.hits)
	}
	idx := readIndex(t, dir, "activitymimeattachment")
	if e := idx[guid(4)+"/body"]; e.Error == "" || e.SHA256 != "" {
		t.Errorf("missing file entry = %+v", e)
	}
	bs := m.Tables["activitymimeattachment"].Blobs
	if m.Tables["activitymimeattachment"].Status != StatusComplete || bs == nil || bs.Files != 3 || bs.Failed != 1 {
		t.Errorf("manifest = %+v blobs %+v", m.Tables["activitymimeattachment"], bs)
	}
	db := openDuck(t)
	var errs int
	q := `select count(*) from '` + dir + `/tables/activitymimeattachment/*.parquet' where body__error is not null and body__sha256 is null`
	if err := db.QueryRow(q).Scan(&errs); err != nil || errs != 1 {
		t.Errorf("rows with body__error = %d, %v", errs, err)
	}
}

// Recordings are listed with their size unless WithRecordings asks for
// their content.
func TestRecordingsGated(t *testing.T) {
	for _, with := range []bool{false, true} {
		t.Run(fmt.Sprint("with=", with), func(t *testing.T) {
			b := newBlobServer(t)
			b.f.entities["msdyn_ocrecording"] = recordingDef
			g := genFile{9 << 20, 3}
			b.files[guid(1)] = g
			b.f.sets["msdyn_ocrecordings"] = &fakeSet{rows: []string{
				fmt.Sprintf(`{"msdyn_ocrecordingid":%q,"msdyn_name":"call"}`, guid(1))}}
			dir := t.TempDir()
			cfg := b.f.config(dir, "msdyn_ocrecording")
			cfg.WithRecordings = with
			if _, err := Run(context.Background(), cfg); err != nil {
				t.Fatal(err)
			}
			e := readIndex(t, dir, "msdyn_ocrecording")[guid(1)+"/msdyn_recording"]
			if e.Bytes != g.size {
				t.Errorf("size %d, want %d", e.Bytes, g.size)
			}
			if !with {
				if !e.SizeOnly || e.SHA256 != "" || strings.Join(b.ranges, ";") != "bytes=0-0;bytes=0-0" {
					t.Errorf("without the switch: entry %+v ranges %v", e, b.ranges)
				}
				return
			}
			if e.SizeOnly || e.SHA256 != g.sum() || len(b.ranges) != 6 {
				t.Errorf("with the switch: entry %+v ranges %v", e, b.ranges)
			}
		})
	}
}
