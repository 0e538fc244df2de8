package snapshot_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// The snapshot benchmarks read the incident table of a generated org (real
// incident metadata, every annotation on) from the emulator on loopback,
// then time DuckDB's read_json turning the same raw pages into Parquet as a
// reference. They take minutes, so they only run when D2I_BENCH_SNAPSHOT=1
// (make bench sets it):
//
//	D2I_BENCH_SNAPSHOT=1 go test -tags duckdb_arrow -run '^$' \
//	  -bench 'SnapshotIncident(200k|1M)$' -benchtime 1x -timeout 60m ./snapshot/
//
// The snapshot runs in a child process (this test binary re-executed) so that
// the peak RSS reported is the snapshot's alone, not the emulator's or
// DuckDB's. It runs twice: first against the live emulator, which renders
// every page as it is asked for and keeps it in its page cache
// (dataversetest.Options.PageCache), then, timed as the main figure,
// against the same pages answered from that cache, so that what is timed is
// the snapshot and not the row generator sharing its 2 cores. Both runs
// must save byte-identical pages. D2I_BENCH_PROFILE_DIR, when set, makes
// the children write CPU profiles there (snapshot-<cases>[-live].pprof).
const (
	benchEnv        = "D2I_BENCH_SNAPSHOT"
	benchProfileEnv = "D2I_BENCH_PROFILE_DIR"
	benchKeepEnv    = "D2I_BENCH_KEEP" // keep the work directory for inspection

	// Set by the parent for the child only.
	childURLEnv    = "D2I_BENCH_CHILD_URL"
	childOutEnv    = "D2I_BENCH_CHILD_OUT"
	childResultEnv = "D2I_BENCH_CHILD_RESULT"
)

func BenchmarkSnapshotIncident20k(b *testing.B)  { benchSnapshot(b, 20_000) }
func BenchmarkSnapshotIncident200k(b *testing.B) { benchSnapshot(b, 200_000) }
func BenchmarkSnapshotIncident1M(b *testing.B)   { benchSnapshot(b, 1_000_000) }

// childResult is what the child hands back: its own timing of snapshot.Run.
type childResult struct {
	Seconds float64 `json:"seconds"`
	Rows    int64   `json:"rows"`
	Pages   int     `json:"pages"`
	HWMKiB  int64   `json:"hwm_kib"` // VmHWM: peak RSS of the child's own address space
	// HWMByPage is VmHWM after the first and every 10th page: whether the
	// peak grows with the table or is reached early and stays.
	HWMByPage map[int]int64 `json:"hwm_by_page"`
}

// benchFigures are one run's measurements: the snapshot against the cached
// pages, and the first, live one.
type benchFigures struct {
	rows, pages    int64
	pageBytes      int64 // raw (decompressed) page JSON
	snapSeconds    float64
	childWall      float64
	childCPU       float64 // user+system seconds of the child
	peakRSSKiB     int64   // the child's VmHWM
	maxrssKiB      int64   // the child's ru_maxrss, which can hold the parent's peak (see runChild)
	hwmByPage      map[int]int64
	live           childResult
	liveCPU        float64
	serveSeconds   float64 // the same page requests with the bodies thrown away, from the cache
	duckSeconds    float64
	duckRows       int64
	parquetBytes   int64 // the snapshot's Parquet parts
	duckParquetLen int64
}

func benchSnapshot(b *testing.B, cases int) {
	if os.Getenv(benchEnv) != "1" {
		b.Skipf("set %s=1 to run the snapshot benchmarks (make bench)", benchEnv)
	}
	org, err := sampleorg.New(sampleorg.Options{Seed: 1, Cases: cases})
	if err != nil {
		b.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{PageCache: b.TempDir()})
	defer srv.Close()

	var f benchFigures
	for b.Loop() {
		work := benchWorkDir(b)
		f = runOnce(b, srv, work, cases)
		if int(f.rows) != org.Count("incident") || f.duckRows != f.rows {
			b.Fatalf("rows: snapshot %d, duckdb %d, org has %d", f.rows, f.duckRows, org.Count("incident"))
		}
	}
	reportFigures(b, f)
	b.Logf("child VmHWM (MiB) after pages: %s (live run: %s)", hwmSeries(f.hwmByPage), hwmSeries(f.live.HWMByPage))
}

// hwmSeries prints page:MiB pairs in page order.
func hwmSeries(m map[int]int64) string {
	pages := make([]int, 0, len(m))
	for p := range m {
		pages = append(pages, p)
	}
	sort.Ints(pages)
	var parts []string
	for _, p := range pages {
		parts = append(parts, fmt.Sprintf("%d:%.0f", p, float64(m[p])/1024))
	}
	return strings.Join(parts, " ")
}

func benchWorkDir(b *testing.B) string {
	if os.Getenv(benchKeepEnv) == "" {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp("", "d2i-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("work directory kept: %s", dir)
	return dir
}

// runOnce snapshots in a child against the live emulator (filling its page
// cache), again against the cached pages, then unpacks the raw pages and
// times DuckDB on them. The figures time only the children's snapshot.Run
// and DuckDB's COPY; ns/op covers the whole round, unpacking included.
func runOnce(b *testing.B, srv *dataversetest.Server, work string, cases int) benchFigures {
	liveSnap := filepath.Join(work, "live")
	live, _, liveRU := runChild(b, srv.URL, liveSnap, fmt.Sprintf("%d-live", cases))
	snap := filepath.Join(work, "snap")
	logged := len(srv.RequestLog())
	res, wall, ru := runChild(b, srv.URL, snap, fmt.Sprint(cases))
	f := benchFigures{rows: res.Rows, pages: int64(res.Pages), snapSeconds: res.Seconds,
		childWall: wall, childCPU: cpuSeconds(ru), peakRSSKiB: res.HWMKiB, maxrssKiB: ru.Maxrss, hwmByPage: res.HWMByPage,
		live: live, liveCPU: cpuSeconds(liveRU)}
	if err := samePages(liveSnap, snap); err != nil {
		b.Fatal(err)
	}
	if err := os.RemoveAll(liveSnap); err != nil {
		b.Fatal(err)
	}

	var err error
	if f.serveSeconds, err = serveFloor(srv, srv.RequestLog()[logged:]); err != nil {
		b.Fatal(err)
	}
	raw := filepath.Join(work, "raw")
	var largest int64
	if f.pageBytes, largest, err = unpackPages(filepath.Join(snap, "pages", "incident"), raw); err != nil {
		b.Fatal(err)
	}
	if f.parquetBytes, err = dirBytes(filepath.Join(snap, "tables", "incident")); err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(work, "duckdb.parquet")
	if f.duckSeconds, f.duckRows, err = duckReference(raw, out, largest); err != nil {
		b.Fatal(err)
	}
	if st, err := os.Stat(out); err == nil {
		f.duckParquetLen = st.Size()
	}
	return f
}

// runChild re-executes this test binary as the snapshot process and returns
// its result, its wall time and its resource usage. Peak RSS comes from the
// child's own VmHWM, not from ru_maxrss: Go starts children with vfork, and
// Linux folds the high-water RSS of the address space the child leaves at
// exec (the parent's, emulator and DuckDB included) into ru_maxrss.
func runChild(b *testing.B, url, out, name string) (childResult, float64, *syscall.Rusage) {
	resultPath := out + ".result.json"
	args := []string{"-test.run=^TestSnapshotBenchChild$", "-test.count=1"}
	if dir := os.Getenv(benchProfileEnv); dir != "" {
		args = append(args, fmt.Sprintf("-test.cpuprofile=%s",
			filepath.Join(dir, fmt.Sprintf("snapshot-%s.pprof", name))))
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childURLEnv+"="+url, childOutEnv+"="+out, childResultEnv+"="+resultPath)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("snapshot child: %v\n%s", err, stderr.String())
	}
	wall := time.Since(start).Seconds()
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatal("no rusage for the snapshot child")
	}
	data, err := os.ReadFile(resultPath)
	if err != nil {
		b.Fatalf("snapshot child result: %v", err)
	}
	var res childResult
	if err := json.Unmarshal(data, &res); err != nil {
		b.Fatalf("snapshot child result: %v", err)
	}
	return res, wall, ru
}

func cpuSeconds(ru *syscall.Rusage) float64 {
	return time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)).Seconds()
}

// TestSnapshotBenchChild is the child half of the snapshot benchmarks; it
// does nothing unless the parent benchmark started it.
func TestSnapshotBenchChild(t *testing.T) {
	url, out, resultPath := os.Getenv(childURLEnv), os.Getenv(childOutEnv), os.Getenv(childResultEnv)
	if url == "" || out == "" || resultPath == "" {
		t.Skip("runs only as the snapshot benchmark's child process")
	}
	hwmByPage := map[int]int64{}
	start := time.Now()
	m, err := snapshot.Run(context.Background(), snapshot.Config{
		OrgURL:       url,
		AuthorityURL: url,
		Credentials:  snapshot.Credentials{TenantID: "bench", ClientID: "bench", ClientSecret: "bench"},
		Tables:       []string{"incident"},
		OutDir:       out,
		Progress: func(_ string, _, pages int) {
			if pages == 1 || pages%10 == 0 {
				hwmByPage[pages], _ = peakRSSKiB()
			}
		},
	})
	secs := time.Since(start).Seconds()
	if err != nil {
		t.Fatal(err)
	}
	tm := m.Tables["incident"]
	hwm, err := peakRSSKiB()
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(childResult{Seconds: secs, Rows: tm.Rows, Pages: tm.Pages, HWMKiB: hwm, HWMByPage: hwmByPage})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(resultPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// peakRSSKiB reads this process's VmHWM (Linux only).
func peakRSSKiB() (int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kib); err != nil {
				return 0, fmt.Errorf("peak RSS: parse %q: %w", line, err)
			}
			return kib, nil
		}
	}
	return 0, fmt.Errorf("peak RSS: no VmHWM in /proc/self/status")
}

// samePages checks that two snapshots of the incident table saved the same
// raw pages, by the hashes their manifests give.
func samePages(a, b string) error {
	ha, err := pageHashes(a)
	if err != nil {
		return err
	}
	hb, err := pageHashes(b)
	if err != nil {
		return err
	}
	if len(ha) == 0 || strings.Join(ha, ",") != strings.Join(hb, ",") {
		return fmt.Errorf("the live and the cached snapshot saved different pages (%d and %d)", len(ha), len(hb))
	}
	return nil
}

func pageHashes(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var m snapshot.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	var out []string
	for _, f := range m.Tables["incident"].Files {
		if strings.HasPrefix(f.Path, "pages/") {
			out = append(out, f.Path+"="+f.SHA256)
		}
	}
	sort.Strings(out)
	return out, nil
}

// serveFloor sends the snapshot's page requests again with a client that
// only reads the bytes: the (cached) emulator's own cost plus loopback
// transfer, which bounds what any client can reach against it, since the
// pages of one table come one after another along the next links.
func serveFloor(srv *dataversetest.Server, log []dataversetest.RequestInfo) (float64, error) {
	token := srv.IssueToken()
	var secs float64
	for _, ri := range log {
		if ri.Method != http.MethodGet || ri.Status != http.StatusOK || !strings.Contains(ri.URI, "/incidents?") {
			continue
		}
		req, err := http.NewRequest(http.MethodGet, srv.URL+ri.URI, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Prefer", ri.Prefer)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, fmt.Errorf("replay %s: %w", ri.URI, err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		secs += time.Since(start).Seconds()
		if err != nil || resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("replay %s: status %d, %v", ri.URI, resp.StatusCode, err)
		}
	}
	return secs, nil
}

// unpackPages decompresses every saved page into dst as NNNNN.json and
// returns the total and the largest page's raw bytes: the page JSON exactly
// as the server sent it.
func unpackPages(src, dst string) (total, largest int64, err error) {
	names, err := filepath.Glob(filepath.Join(src, "*.json.zst"))
	if err != nil || len(names) == 0 {
		return 0, 0, fmt.Errorf("no pages under %s: %v", src, err)
	}
	sort.Strings(names)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return 0, 0, err
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		return 0, 0, err
	}
	defer dec.Close()
	for _, name := range names {
		n, err := unpackPage(dec, name, filepath.Join(dst, strings.TrimSuffix(filepath.Base(name), ".zst")))
		if err != nil {
			return 0, 0, fmt.Errorf("unpack %s: %w", name, err)
		}
		total, largest = total+n, max(largest, n)
	}
	return total, largest, nil
}

func unpackPage(dec *zstd.Decoder, src, dst string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	if err := dec.Reset(in); err != nil {
		return 0, err
	}
	out, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, dec)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return n, err
}

func dirBytes(dir string) (int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			return 0, err
		}
		total += info.Size()
	}
	return total, nil
}

// duckReference times DuckDB turning the raw pages into one zstd Parquet file
// with a row per record and a column per key, and counts the rows it wrote.
// Map inference is off so that every record key becomes a column, as in the
// snapshot's own Parquet. The object size limit is raised to just above the
// largest page, because one page of 5,000 annotated incidents is larger than
// the 16 MB default; DuckDB sizes its read buffers from this limit, so a
// generous one (1 GB) runs it out of memory at 200,000 rows.
func duckReference(rawDir, out string, largest int64) (float64, int64, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return 0, 0, fmt.Errorf("duckdb: open: %w", err)
	}
	defer db.Close()
	q := fmt.Sprintf(`copy (select unnest(value, max_depth := 2) from read_json(%s,
	  format = 'auto', maximum_object_size = %d, map_inference_threshold = -1))
	  to %s (format parquet, compression zstd)`,
		sqlString(filepath.Join(rawDir, "*.json")), (largest>>20+2)<<20, sqlString(out))
	start := time.Now()
	if _, err := db.Exec(q); err != nil {
		return 0, 0, fmt.Errorf("duckdb: copy pages to parquet: %w", err)
	}
	secs := time.Since(start).Seconds()
	var n int64
	if err := db.QueryRow(`select count(*) from read_parquet(` + sqlString(out) + `)`).Scan(&n); err != nil {
		return 0, 0, fmt.Errorf("duckdb: count parquet rows: %w", err)
	}
	return secs, n, nil
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func reportFigures(b *testing.B, f benchFigures) {
	const mb = 1e6
	rowsPerSec := float64(f.rows) / f.snapSeconds
	duckRowsPerSec := float64(f.duckRows) / f.duckSeconds
	b.ReportMetric(rowsPerSec, "rows/s")
	b.ReportMetric(float64(f.pageBytes)/mb/f.snapSeconds, "MB/s")
	b.ReportMetric(f.snapSeconds, "snapshot_s")
	b.ReportMetric(float64(f.peakRSSKiB)/1024, "peak_rss_MB")
	b.ReportMetric(duckRowsPerSec, "duckdb_rows/s")
	b.ReportMetric(f.duckSeconds, "duckdb_s")
	b.ReportMetric(rowsPerSec/duckRowsPerSec, "ratio")
	b.ReportMetric(float64(f.rows)/f.serveSeconds, "server_rows/s")
	b.ReportMetric(float64(f.live.Rows)/f.live.Seconds, "live_rows/s")
	b.ReportMetric(float64(f.live.HWMKiB)/1024, "live_peak_rss_MB")
	b.Logf("rows %d, pages %d, raw page JSON %.1f MB (%.0f B/row), snapshot Parquet %.1f MB, "+
		"DuckDB Parquet %.1f MB; snapshot.Run %.1fs (child wall %.1fs, CPU %.1fs), "+
		"peak RSS %.1f MiB (ru_maxrss %.1f MiB); "+
		"DuckDB COPY %.1fs; ratio %.2fx; the emulator serves the cached pages alone in %.1fs; "+
		"live run: snapshot.Run %.1fs (%.0f rows/s, ratio %.2fx), CPU %.1fs, peak RSS %.1f MiB",
		f.rows, f.pages, float64(f.pageBytes)/mb, float64(f.pageBytes)/float64(f.rows),
		float64(f.parquetBytes)/mb, float64(f.duckParquetLen)/mb, f.snapSeconds, f.childWall, f.childCPU,
		float64(f.peakRSSKiB)/1024, float64(f.maxrssKiB)/1024, f.duckSeconds, rowsPerSec/duckRowsPerSec, f.serveSeconds,
		f.live.Seconds, float64(f.live.Rows)/f.live.Seconds, float64(f.live.Rows)/f.live.Seconds/duckRowsPerSec,
		f.liveCPU, float64(f.live.HWMKiB)/1024)
}
