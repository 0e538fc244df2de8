package replay

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/d2i/d2i/replay/intercomtest"
)

// conversationOf finds the conversation replayed from a staged incident.
func conversationOf(t *testing.T, srv *intercomtest.Server, caseID string) intercomtest.Conversation {
	t.Helper()
	for _, cv := range srv.Conversations() {
		if cv.CustomAttributes["dynamics_case_id"] == caseID {
			return cv
		}
	}
	t.Fatalf("no conversation for %s", caseID)
	return intercomtest.Conversation{}
}

// An agent edits conversation inc2's title and company acc2's name after
// the replay. Edited later than the tolerance, both are held back with what
// touching them would touch; within it, everything is undone.
func TestRollbackHoldsBackChangedObjects(t *testing.T) {
	tests := []struct {
		name     string
		editedAt time.Duration // after the replay
		held     map[string]int
		left     map[string]int // what the emulator holds after the rollback
	}{
		{"edited an hour later", time.Hour,
			map[string]int{KindConversation: 1, KindConversationPart: 2, KindConversationAttributes: 1,
				KindContact: 1, KindCompany: 1, KindContactCompany: 1, KindDataAttribute: 4},
			map[string]int{"conversation": 1, "contact": 1, "company": 1, "contact_company": 0,
				"data_attribute": 4}},
		{"edited within the tolerance", time.Minute, nil,
			map[string]int{"conversation": 0, "contact": 0, "company": 0, "contact_company": 0,
				"data_attribute": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var offset atomic.Int64
			srv := newEmulator(t, func(o *intercomtest.Options) {
				o.Clock = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
			})
			_, logDir := replayedInto(t, srv)
			offset.Store(int64(tt.editedAt))
			inc2 := conversationOf(t, srv, "inc2")
			apiCall(t, srv.URL, "PUT", "/conversations/"+inc2.ID, map[string]any{"title": "Edited by an agent"})
			apiCall(t, srv.URL, "POST", "/companies", map[string]any{"company_id": "acc2", "name": "Fabrikam Ltd"})

			rs, err := Rollback(t.Context(), rollbackCfg(t, srv.URL, logDir))
			if err != nil || len(rs.Failures) > 0 {
				t.Fatalf("rollback: %v %+v", err, rs.Failures)
			}
			held := map[string]int{}
			for _, h := range rs.HeldBack {
				held[h.Kind]++
			}
			for kind, n := range rs.Plan.Counts {
				if n[UndoHoldBack] != held[kind] {
					t.Errorf("plan holds back %d %s, summary lists %d", n[UndoHoldBack], kind, held[kind])
				}
			}
			for _, kind := range logKinds {
				if held[kind] != tt.held[kind] {
					t.Errorf("held back %d %s, want %d: %+v", held[kind], kind, tt.held[kind], rs.HeldBack)
				}
			}
			for k, n := range tt.left {
				if got := srv.Counts()[k]; got != n {
					t.Errorf("emulator holds %d %s, want %d", got, k, n)
				}
			}
			if tt.held == nil {
				return
			}
			checkHeldBack(t, srv, rs, logDir, inc2.ID)
		})
	}
}

var logKinds = []string{KindDataAttribute, KindCompany, KindContact, KindContactCompany, KindConversation,
	KindConversationPart, KindConversationAttributes, KindConversationState}

// checkHeldBack: the edited objects are untouched and named with the
// reason, the write log holds one hold_back record per held-back op, and a
// second rollback holds back the same and sends nothing.
func checkHeldBack(t *testing.T, srv *intercomtest.Server, rs *RollbackSummary, logDir, convID string) {
	t.Helper()
	cv, ok := srv.Conversation(convID)
	if !ok || cv.Title != "Edited by an agent" || len(cv.Parts) != 2 {
		t.Errorf("held-back conversation %s: found %v, %+v", convID, ok, cv)
	}
	if cos := srv.Companies(); len(cos) != 1 || cos[0].Name != "Fabrikam Ltd" {
		t.Errorf("companies left %+v, want the edited acc2", cos)
	}
	if cts := srv.Contacts(); len(cts) != 1 || cts[0].Role != "lead" {
		t.Errorf("contacts left %+v, want the lead of inc2", cts)
	}
	found := false
	for _, h := range rs.HeldBack {
		if h.Kind == KindConversation && h.IntercomID == convID && strings.HasPrefix(h.Reason, "changed in Intercom at ") {
			found = true
		}
	}
	if !found {
		t.Errorf("conversation %s not held back as changed: %+v", convID, rs.HeldBack)
	}
	n := 0
	for _, r := range readAllRecords(t, logDir) {
		if r.Type == typeHoldBack && r.Run == rs.RunID {
			n++
			if r.Error == "" || r.Step != stepUndo {
				t.Errorf("hold_back record %+v", r)
			}
		}
	}
	if n != len(rs.HeldBack) {
		t.Errorf("write log holds %d hold_back records, summary %d", n, len(rs.HeldBack))
	}
	again, err := Rollback(t.Context(), rollbackCfg(t, srv.URL, logDir))
	if err != nil || len(again.HeldBack) != len(rs.HeldBack) {
		t.Fatalf("second rollback: %v, held back %d, want %d", err, len(again.HeldBack), len(rs.HeldBack))
	}
	for kind, n := range again.Undone {
		if n != 0 {
			t.Errorf("second rollback undid %d %s", n, kind)
		}
	}
}

const rollbackHelperEnv = "D2I_ROLLBACK_HELPER"

// TestHelperRollbackProcess is not a test: the crash test runs the test
// binary again with this test selected to get a rollback it can SIGKILL.
func TestHelperRollbackProcess(t *testing.T) {
	if os.Getenv(rollbackHelperEnv) != "1" {
		t.Skip("helper process for TestRollbackCrashResume")
	}
	_, err := Rollback(t.Context(), RollbackConfig{BaseURL: os.Getenv("D2I_TEST_URL"), Token: secretToken,
		LogDir: os.Getenv("D2I_TEST_LOGDIR"), Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
}

// A rollback killed mid-run (after some log lines, or right after Intercom
// committed a delete whose answer it never saw) resumes: the rerun finishes
// the undo, holds nothing back and leaves none of our objects.
func TestRollbackCrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	rounds := []struct{ killAtLine, killOnDelete int }{{2, 0}, {9, 0}, {0, 2}, {0, 6}}
	for _, r := range rounds {
		t.Run("kill", func(t *testing.T) {
			var child atomic.Pointer[os.Process]
			var armed atomic.Bool
			var deletes atomic.Int32
			opts := emulatorOptions()
			opts.LoseResponse = func(req *http.Request, _ int) bool {
				if !armed.Load() || req.Method != http.MethodDelete || int(deletes.Add(1)) != r.killOnDelete {
					return false
				}
				if p := child.Load(); p != nil {
					_ = p.Kill()
				}
				return true
			}
			em := intercomtest.New(opts)
			expectNoNotifications(t, em)
			hs := httptest.NewServer(slowHandler(em.Handler()))
			defer hs.Close()
			db, logDir := writeStage(t, stageRows), t.TempDir()
			if sum, err := Run(t.Context(), testConfig(t, hs.URL, db, logDir)); err != nil || len(sum.Failures) > 0 {
				t.Fatalf("replay: %v", err)
			}
			armed.Store(true)
			killAt := countLines(t, logDir) + r.killAtLine
			if r.killAtLine == 0 {
				killAt = 1 << 30
			}
			rollbackCrashChild(t, hs.URL, logDir, killAt, &child)

			rs, err := Rollback(t.Context(), rollbackCfg(t, hs.URL, logDir))
			if err != nil || len(rs.Failures) > 0 || len(rs.HeldBack) > 0 {
				t.Fatalf("resumed rollback: %v failures %+v held back %+v", err, rs.Failures, rs.HeldBack)
			}
			if n := rs.Undone[KindConversation] + rs.Skipped[KindConversation]; n != 3 {
				t.Errorf("conversations undone now %d + earlier %d, want 3 in all", rs.Undone[KindConversation],
					rs.Skipped[KindConversation])
			}
			for _, k := range []string{"contact", "company", "conversation", "contact_company", "data_attribute"} {
				if n := em.Counts()[k]; n != 0 {
					t.Errorf("after crash and resume the emulator holds %d %s", n, k)
				}
			}
		})
	}
}

// rollbackCrashChild runs a rollback in a child process and SIGKILLs it
// once the write logs hold killAt lines; the emulator may kill it first.
func rollbackCrashChild(t *testing.T, url, logDir string, killAt int, child *atomic.Pointer[os.Process]) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRollbackProcess$")
	cmd.Env = append(os.Environ(), rollbackHelperEnv+"=1", "D2I_TEST_URL="+url, "D2I_TEST_LOGDIR="+logDir)
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
			ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if !ok || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("rollback child was not killed (%v):\n%s", err, out.String())
			}
			return
		default:
		}
		if countLines(t, logDir) >= killAt {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
			return
		}
		time.Sleep(200 * time.Microsecond)
	}
}
