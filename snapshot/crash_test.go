package snapshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// Environment of the child process TestCrashResumeRowForRow starts.
const (
	envCrashURL = "D2I_TEST_CRASH_URL"
	envCrashDir = "D2I_TEST_CRASH_DIR"
	// envCrashSeed replays a failed run: D2I_TEST_CRASH_SEED=<printed seed>.
	envCrashSeed = "D2I_TEST_CRASH_SEED"
)

const (
	crashTable    = "email"
	crashPageSize = 100
	crashKills    = 20
)

// TestHelperSnapshotProcess is the child the crash test kills; run alone it
// skips.
func TestHelperSnapshotProcess(t *testing.T) {
	orgURL, dir := os.Getenv(envCrashURL), os.Getenv(envCrashDir)
	if orgURL == "" || dir == "" {
		t.Skip("helper process of TestCrashResumeRowForRow")
	}
	if _, err := Run(context.Background(), emulatorConfig(orgURL, dir, crashPageSize, crashTable)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(0)
}

// killer SIGKILLs the armed child a random delay after the emulator has
// received its target-th page request for the table, so kills land while
// the child waits for a page, decodes it, writes the part or the page, or
// renames the checkpoint.
type killer struct {
	mu     sync.Mutex
	proc   *os.Process
	target int
	delay  time.Duration
	seen   int
	fired  bool
}

func (k *killer) arm(proc *os.Process, target int, delay time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.proc, k.target, k.delay, k.seen, k.fired = proc, target, delay, 0, false
}

// disarm stops further kills and says whether one was sent.
func (k *killer) disarm() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.proc = nil
	return k.fired
}

// fault is the emulator's Fault hook: it watches, never answers instead.
func (k *killer) fault(_ int64, r *http.Request) int {
	if !strings.HasSuffix(r.URL.Path, "/"+crashTable+"s") {
		return 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.proc == nil {
		return 0
	}
	k.seen++
	if k.seen == k.target {
		proc := k.proc
		time.AfterFunc(k.delay, func() {
			k.mu.Lock()
			defer k.mu.Unlock()
			if k.proc == proc && proc.Signal(syscall.SIGKILL) == nil {
				k.fired = true
			}
		})
	}
	return 0
}

// A child process snapshots one table of about 4,500 rows in pages of 100
// and is SIGKILLed at random points at least 20 times, resuming each time;
// a final run completes it. The result must equal an uninterrupted
// snapshot row for row, and its manifest must verify.
func TestCrashResumeRowForRow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 20+ child processes")
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv(envCrashSeed); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	t.Logf("seed %d (replay with %s=%d)", seed, envCrashSeed, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))

	org, err := sampleorg.New(sampleorg.Options{Seed: 5, Cases: 1500})
	if err != nil {
		t.Fatal(err)
	}
	k := &killer{}
	srv := dataversetest.NewServer(org, dataversetest.Options{Fault: k.fault})
	defer srv.Close()

	refDir := filepath.Join(t.TempDir(), "ref")
	began := time.Now()
	ref, err := Run(context.Background(), emulatorConfig(srv.URL, refDir, crashPageSize, crashTable))
	if err != nil {
		t.Fatal(err)
	}
	pages := ref.Tables[crashTable].Pages
	pageTime := time.Since(began) / time.Duration(pages)
	if pages < 2*crashKills {
		t.Fatalf("reference has %d pages; too few for %d kills", pages, crashKills)
	}

	dir := filepath.Join(t.TempDir(), "snap")
	kills, deadline := 0, time.Now().Add(45*time.Second)
	leftTemps, leftUncommitted := 0, 0 // what kills left for the resume to clear
	for attempt := 0; kills < crashKills; attempt++ {
		if time.Now().After(deadline) || attempt > 10*crashKills {
			t.Fatalf("only %d kills after %d attempts", kills, attempt)
		}
		// Mostly the first page request, so the table outlasts the kills.
		target := 1
		if rng.IntN(10) < 3 {
			target = 2
		}
		delay := time.Duration(rng.Int64N(int64(2*pageTime) + 1))
		killed, out := runChild(t, k, srv.URL, dir, target, delay)
		if !killed {
			t.Fatalf("attempt %d: child was not killed (target %d, delay %v); table done before %d kills?\n%s",
				attempt, target, delay, crashKills, out)
		}
		kills++
		checkCommitted(t, dir, kills)
		temps, uncommitted := leftovers(t, dir)
		leftTemps += temps
		leftUncommitted += uncommitted
	}
	committed := 0
	if cp, _ := loadCheckpoint(dir, crashTable); cp != nil {
		committed = cp.LastPage + 1
	}
	t.Logf("%d kills; %d of %d pages committed before the final run; kills left %d temporaries and %d uncommitted files",
		kills, committed, pages, leftTemps, leftUncommitted)

	m, err := Run(context.Background(), emulatorConfig(srv.URL, dir, crashPageSize, crashTable))
	if err != nil {
		t.Fatal(err)
	}
	a, b := ref.Tables[crashTable], m.Tables[crashTable]
	if !m.Complete || b.Status != StatusComplete || b.Rows != a.Rows || b.Pages != a.Pages || b.SourceCount != a.SourceCount {
		t.Errorf("resumed %+v\nuninterrupted %+v", b, a)
	}
	if b.Rows != int64(org.Count(crashTable)) {
		t.Errorf("rows %d, org has %d", b.Rows, org.Count(crashTable))
	}
	verifyManifest(t, dir, m)
	noTemps(t, dir)
	sameRows(t, openDuck(t), crashTable, "activityid",
		filepath.Join(refDir, "tables", crashTable, "*.parquet"), filepath.Join(dir, "tables", crashTable, "*.parquet"))
}

// runChild runs the helper until it exits or is killed.
func runChild(t *testing.T, k *killer, orgURL, dir string, target int, delay time.Duration) (bool, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSnapshotProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashURL+"="+orgURL, envCrashDir+"="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	k.arm(cmd.Process, target, delay)
	err := cmd.Wait()
	fired := k.disarm()
	var exit *exec.ExitError
	if fired && errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true, out.String()
		}
	}
	if err != nil {
		t.Fatalf("child failed on its own: %v\n%s", err, out.String())
	}
	return false, out.String()
}

// checkCommitted checks what a kill may leave: the checkpoint, if any, is
// whole and every file it lists is on disk with the listed hash, and the
// committed pages have no gap.
func checkCommitted(t *testing.T, dir string, kill int) {
	t.Helper()
	cp, err := loadCheckpoint(dir, crashTable)
	if err != nil {
		t.Fatalf("after kill %d: %v", kill, err)
	}
	if cp == nil {
		return
	}
	parts := map[string]bool{}
	for _, fe := range cp.Files {
		b, err := os.ReadFile(filepath.Join(dir, fe.Path))
		if err != nil {
			t.Fatalf("after kill %d: checkpoint lists %s: %v", kill, fe.Path, err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != fe.SHA256 || int64(len(b)) != fe.Bytes {
			t.Fatalf("after kill %d: %s does not match its checkpoint entry", kill, fe.Path)
		}
		if parts[fe.Path] {
			t.Fatalf("after kill %d: %s listed twice", kill, fe.Path)
		}
		parts[fe.Path] = true
	}
	for n := 0; n <= cp.LastPage; n++ {
		if !parts[partRel(crashTable, n)] || !parts[pageRel(crashTable, n)] {
			t.Fatalf("after kill %d: page %d committed but its files are not listed", kill, n)
		}
	}
}

// noTemps fails on any temporary left anywhere in the snapshot.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(d.Name(), ".tmp") {
			t.Errorf("temporary left behind: %s", p)
		}
		return nil
	})
}

// leftovers counts temporaries and numbered files above the checkpoint.
func leftovers(t *testing.T, dir string) (temps, uncommitted int) {
	t.Helper()
	last := -1
	if cp, _ := loadCheckpoint(dir, crashTable); cp != nil {
		last = cp.LastPage
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if strings.HasSuffix(d.Name(), ".tmp") {
			temps++
		} else if n, ok := fileNumber(d.Name()); ok && n > last {
			uncommitted++
		}
		return nil
	})
	return temps, uncommitted
}
