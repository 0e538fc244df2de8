package replay

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/d2i/d2i/replay/intercomtest"
)

const helperEnv = "D2I_REPLAY_HELPER"

// TestHelperReplayProcess is not a test: the crash test runs the test binary
// again with this test selected to get a replay it can SIGKILL.
func TestHelperReplayProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestCrashResume")
	}
	cfg := Config{DBPath: os.Getenv("D2I_TEST_DB"), BaseURL: os.Getenv("D2I_TEST_URL"), Token: secretToken,
		LogDir: os.Getenv("D2I_TEST_LOGDIR"), Workers: 3, RatePerMinute: 600000, Retry: fastRetry,
		SearchLag: 50 * time.Millisecond}
	if _, err := Run(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
}

// slowHandler spaces requests out so that a kill lands mid-run.
func slowHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		h.ServeHTTP(w, r)
	})
}

func emulatorOptions() intercomtest.Options {
	return intercomtest.Options{Token: secretToken, Admins: testAdmins, Teams: testTeams, Validate: true,
		SearchLag: 20 * time.Millisecond}
}

func TestCrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	db := writeStage(t, stageRows)

	// The uninterrupted run everything is compared with.
	base := intercomtest.NewServer(emulatorOptions())
	defer base.Close()
	baseLogs := t.TempDir()
	if _, err := Run(t.Context(), testConfig(t, base.URL, db, baseLogs)); err != nil {
		t.Fatal(err)
	}
	want := fingerprint(base)
	total := countLines(t, baseLogs)
	if n := base.Notifications(); n != 0 {
		t.Fatalf("the clean run notified customers %d times", n)
	}

	seed := time.Now().UnixNano()
	t.Logf("seed %d, %d log lines in a clean run", seed, total)
	rnd := rand.New(rand.NewPCG(uint64(seed), 0))
	for i := range 6 {
		// Even rounds kill after a random number of log lines; odd rounds kill
		// inside the emulator right after a write committed, so the child
		// never sees the answer: an intent without outcome, object present.
		killAt := 1 + rnd.IntN(total-1)
		killOnWrite := 0
		if i%2 == 1 {
			killAt, killOnWrite = total+1, 1+rnd.IntN(total/2)
		}
		t.Run("kill", func(t *testing.T) {
			var child atomic.Pointer[os.Process]
			var writes atomic.Int32
			opts := emulatorOptions()
			opts.LoseResponse = func(r *http.Request, seq int) bool {
				if int(writes.Add(1)) != killOnWrite {
					return false
				}
				if p := child.Load(); p != nil {
					_ = p.Kill()
				}
				return true
			}
			em := intercomtest.New(opts)
			hs := httptest.NewServer(slowHandler(em.Handler()))
			defer hs.Close()
			logDir := t.TempDir()
			lines := crashChild(t, db, hs.URL, logDir, killAt, &child)
			t.Logf("round %d: killed after %d lines (aimed at line %d / write %d)", i, lines, killAt, killOnWrite)

			cfg := testConfig(t, hs.URL, db, logDir)
			sum, err := Run(t.Context(), cfg)
			if err != nil || len(sum.Failures) > 0 {
				t.Fatalf("resume: %v %+v", err, sum.Failures)
			}
			if got := fingerprint(em); got != want {
				t.Errorf("after crash and resume:\n%s\nwant\n%s", got, want)
			}
			if n := em.Notifications(); n != 0 {
				t.Errorf("notifications = %d", n)
			}
		})
	}
}

// crashChild runs replay in a child process and SIGKILLs it once the write
// logs hold killAt lines (or it ends). It returns the lines seen at the kill.
func crashChild(t *testing.T, db, url, logDir string, killAt int, child *atomic.Pointer[os.Process]) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperReplayProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "D2I_TEST_DB="+db, "D2I_TEST_URL="+url,
		"D2I_TEST_LOGDIR="+logDir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child.Store(cmd.Process)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case err := <-done:
			if cmd.ProcessState.Success() {
				t.Logf("child finished before the kill")
			} else if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("child failed: %v\n%s", err, out.String())
			}
			return countLines(t, logDir)
		default:
		}
		if n := countLines(t, logDir); n >= killAt {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
			return n
		}
		time.Sleep(200 * time.Microsecond)
	}
}

func countLines(t *testing.T, dir string) int {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	n := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		n += bytes.Count(b, []byte("\n"))
	}
	return n
}
