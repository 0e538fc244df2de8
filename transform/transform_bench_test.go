package transform_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/d2i/d2i/transform"
)

// The transform benchmarks run transform.Run over a synthetic org written
// straight to a snapshot directory (bench_org_test.go; generated once and
// cached under $TMPDIR, keyed by benchOrgVersion). They take minutes, so they
// only run when D2I_BENCH_TRANSFORM=1 (make bench sets it):
//
//	D2I_BENCH_TRANSFORM=1 go test -tags duckdb_arrow -run '^$' \
//	  -bench 'TransformCustomerScale$' -benchtime 1x -timeout 90m ./transform/
//
// The transform runs in a child process (this test binary re-executed) so
// that the peak RSS reported is the transform's alone, not the generator's.
// D2I_BENCH_PROFILE_DIR, when set, makes the child write a CPU profile there
// (transform-<cases>.pprof). D2I_BENCH_DB_DIR, when set, keeps the staging
// database there (staging-<cases>.duckdb, replaced each run) instead of in a
// temporary directory, so that two trees' staging can be compared.
const (
	benchTransformEnv = "D2I_BENCH_TRANSFORM"
	benchProfileEnv   = "D2I_BENCH_PROFILE_DIR"
	benchDBDirEnv     = "D2I_BENCH_DB_DIR"

	// Set by the parent for the child only.
	childSnapEnv   = "D2I_BENCH_TRANSFORM_SNAP"
	childDBEnv     = "D2I_BENCH_TRANSFORM_DB"
	childResultEnv = "D2I_BENCH_TRANSFORM_RESULT"
)

// BenchmarkTransformCustomerScale is issue 4's figure: 200,000 cases,
// 1,000,000 activities, 100,000 contacts, 10,000 accounts.
func BenchmarkTransformCustomerScale(b *testing.B) { benchTransform(b, customerScaleOrg()) }

// BenchmarkTransformTenth checks the harness in a minute or two.
func BenchmarkTransformTenth(b *testing.B) { benchTransform(b, customerScaleOrg().shrunk(10)) }

// transformChildResult is what the child hands back.
type transformChildResult struct {
	Seconds float64          `json:"seconds"`
	HWMKiB  int64            `json:"hwm_kib"` // VmHWM: peak RSS of the child's own address space
	Staged  map[string]int64 `json:"staged"`
	Steps   []benchStep      `json:"steps"`
}

// benchStep is one SQL file's time, from the runner's debug log.
type benchStep struct {
	File    string  `json:"file"`
	Seconds float64 `json:"seconds"`
}

func benchTransform(b *testing.B, org benchOrg) {
	if os.Getenv(benchTransformEnv) != "1" {
		b.Skipf("set %s=1 to run the transform benchmarks (make bench)", benchTransformEnv)
	}
	snap, err := cachedBenchSnapshot(context.Background(), org, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	snapBytes, err := treeBytes(filepath.Join(snap, "tables"))
	if err != nil {
		b.Fatal(err)
	}

	var res transformChildResult
	var wall, cpu float64
	var dbBytes int64
	for b.Loop() {
		dbPath := benchDBPath(b, org.cases)
		res, wall, cpu = runTransformChild(b, snap, dbPath, fmt.Sprint(org.cases))
		if dbBytes, err = treeBytes(filepath.Dir(dbPath)); err != nil {
			b.Fatal(err)
		}
	}
	checkStaged(b, org, res.Staged)

	b.ReportMetric(res.Seconds, "transform-s")
	b.ReportMetric(float64(res.HWMKiB)/1024, "peak-MiB")
	b.ReportMetric(cpu, "child-cpu-s")
	b.ReportMetric(float64(org.cases+org.activities())/res.Seconds, "case+activity/s")
	b.Logf("org: %d cases, %d activities (%d emails), %d contacts, %d accounts; snapshot Parquet %.0f MB",
		org.cases, org.activities(), org.emails, org.contacts, org.accounts, float64(snapBytes)/1e6)
	b.Logf("transform.Run %.1f s (child wall %.1f s, CPU %.1f s), peak RSS %d MiB, staging %.0f MB",
		res.Seconds, wall, cpu, res.HWMKiB/1024, float64(dbBytes)/1e6)
	b.Logf("staged: %v", res.Staged)
	steps := make([]string, len(res.Steps))
	for i, s := range res.Steps {
		steps[i] = fmt.Sprintf("%s %.1fs", strings.TrimPrefix(s.File, "sql/"), s.Seconds)
	}
	b.Logf("steps: %s", strings.Join(steps, ", "))
}

// benchDBPath is where the child writes staging: a fresh temporary directory,
// or $D2I_BENCH_DB_DIR/staging-<cases>.duckdb with any earlier run's files removed.
func benchDBPath(b *testing.B, cases int) string {
	dir := os.Getenv(benchDBDirEnv)
	if dir == "" {
		return filepath.Join(b.TempDir(), "staging.duckdb")
	}
	dir = filepath.Join(dir, fmt.Sprintf("staging-%d", cases))
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	return filepath.Join(dir, "staging.duckdb")
}

// checkStaged fails the benchmark when the transform staged far less than
// the org holds: a fast run that dropped the emails would prove nothing.
func checkStaged(b *testing.B, org benchOrg, staged map[string]int64) {
	want := map[string]int64{
		"conversations":      int64(org.cases) * 9 / 10,
		"contacts":           int64(org.contacts) * 9 / 10,
		"companies":          int64(org.accounts) * 9 / 10,
		"conversation_parts": int64(org.activities()) * 7 / 10,
	}
	for table, least := range want {
		if staged[table] < least {
			b.Errorf("stage.%s holds %d rows, want at least %d", table, staged[table], least)
		}
	}
}

// runTransformChild re-executes this test binary as the transform process and
// returns its result, its wall time and its CPU seconds. Peak RSS is the
// child's own VmHWM (not ru_maxrss, which Linux can fill with the parent's
// peak when the child is started with vfork).
func runTransformChild(b *testing.B, snap, dbPath, name string) (transformChildResult, float64, float64) {
	resultPath := dbPath + ".result.json"
	args := []string{"-test.run=^TestTransformBenchChild$", "-test.count=1"}
	if dir := os.Getenv(benchProfileEnv); dir != "" {
		args = append(args, "-test.cpuprofile="+filepath.Join(dir, "transform-"+name+".pprof"))
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childSnapEnv+"="+snap, childDBEnv+"="+dbPath, childResultEnv+"="+resultPath)
	// the child's test failures go to its stdout, so keep both.
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("transform child: %v\n%s", err, out.String())
	}
	wall := time.Since(start).Seconds()
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatal("no rusage for the transform child")
	}
	cpu := time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)).Seconds()
	data, err := os.ReadFile(resultPath)
	if err != nil {
		b.Fatalf("transform child result: %v", err)
	}
	var res transformChildResult
	if err := json.Unmarshal(data, &res); err != nil {
		b.Fatalf("transform child result: %v", err)
	}
	return res, wall, cpu
}

// TestTransformBenchChild is the child half of the transform benchmarks; it
// does nothing unless the parent benchmark started it.
func TestTransformBenchChild(t *testing.T) {
	snap, dbPath, resultPath := os.Getenv(childSnapEnv), os.Getenv(childDBEnv), os.Getenv(childResultEnv)
	if snap == "" || dbPath == "" || resultPath == "" {
		t.Skip("runs only as the transform benchmark's child process")
	}
	logPath := resultPath + ".log"
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	log := slog.New(slog.NewJSONHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))

	start := time.Now()
	res, err := transform.Run(context.Background(), transform.Config{SnapshotDir: snap, DBPath: dbPath, Logger: log})
	secs := time.Since(start).Seconds()
	if err != nil {
		t.Fatal(err)
	}
	hwm, err := peakRSSKiB()
	if err != nil {
		t.Fatal(err)
	}
	steps, err := readSteps(logPath)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(transformChildResult{Seconds: secs, HWMKiB: hwm, Staged: res.Staged, Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(resultPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// readSteps picks the per-file timings out of the runner's JSON debug log.
func readSteps(logPath string) ([]benchStep, error) {
	f, err := os.Open(logPath)
	if err != nil {
		return nil, fmt.Errorf("open transform log: %w", err)
	}
	defer f.Close()
	var steps []benchStep
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		var rec struct {
			Msg  string        `json:"msg"`
			File string        `json:"file"`
			Took time.Duration `json:"took"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("parse transform log line %q: %w", sc.Text(), err)
		}
		if rec.Msg == "transform step done" {
			steps = append(steps, benchStep{File: rec.File, Seconds: rec.Took.Seconds()})
		}
	}
	return steps, sc.Err()
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

// treeBytes sums the sizes of the files under dir.
func treeBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	return n, err
}
