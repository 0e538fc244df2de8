package replay

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/d2i/d2i/replay/intercomtest"
)

// TestOutcomeRecordsCost: the upsert of company acc1 is answered 503, then
// 429, then goes through; its outcome shows the three sends, the 429 and
// the backoff. Everything else is undisturbed and sent once.
func TestOutcomeRecordsCost(t *testing.T) {
	em := intercomtest.New(emulatorOptions())
	expectNoNotifications(t, em)
	var mu sync.Mutex
	refusals := []int{http.StatusServiceUnavailable, http.StatusTooManyRequests}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/companies" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			mu.Lock()
			var status int
			if strings.Contains(string(body), `"company_id":"acc1"`) && len(refusals) > 0 {
				status, refusals = refusals[0], refusals[1:]
			}
			mu.Unlock()
			if status != 0 {
				w.WriteHeader(status)
				io.WriteString(w, `{"type":"error.list","errors":[{"code":"injected","message":"try again"}]}`)
				return
			}
		}
		em.Handler().ServeHTTP(w, r)
	}))
	defer hs.Close()
	cfg := testConfig(t, hs.URL, writeStage(t, stageRows), t.TempDir())
	// Backoff of at least 5 ms, so that the wait shows in whole milliseconds.
	cfg.Retry = &RetryPolicy{MaxAttempts: 4, BaseDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond}

	sum, err := Run(t.Context(), cfg)
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("%v %+v", err, sum.Failures)
	}
	outcomes := map[string]Record{}
	for _, r := range readRecords(t, sum.LogPath) {
		if r.Type == "outcome" {
			outcomes[r.Op] = r
		}
	}
	tests := []struct {
		op                          string
		attempts, lookups, throttle int64
	}{
		{"company:acc1:upsert", 3, 1, 1}, // the before-image read, then 503, 429, 200
		{"company:acc2:upsert", 1, 1, 0},
		{"contact:c1:create", 1, 0, 0},
		{"conversation_part:p1:create", 1, 0, 0},
	}
	for _, tc := range tests {
		r, ok := outcomes[tc.op]
		if !ok {
			t.Fatalf("no outcome for %s", tc.op)
		}
		if r.Attempts != tc.attempts || r.Lookups != tc.lookups || r.Throttled != tc.throttle {
			t.Errorf("%s: attempts %d lookups %d throttled %d, want %d %d %d", tc.op, r.Attempts, r.Lookups,
				r.Throttled, tc.attempts, tc.lookups, tc.throttle)
		}
	}
	// Two backoffs of at least BaseDelay and 2*BaseDelay were slept.
	if w := outcomes["company:acc1:upsert"].WaitedMS; w < 15 {
		t.Errorf("company:acc1:upsert waited %d ms, want at least 15", w)
	}
}

func TestDryRunOutcomesCostNothing(t *testing.T) {
	srv := newEmulator(t, nil)
	cfg := testConfig(t, srv.URL, writeStage(t, stageRows), t.TempDir())
	cfg.DryRun = true
	sum, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range readRecords(t, sum.LogPath) {
		if r.Type != "outcome" {
			continue
		}
		n++
		if r.Attempts != 0 || r.Throttled != 0 {
			t.Errorf("dry-run outcome %s: attempts %d throttled %d", r.Op, r.Attempts, r.Throttled)
		}
	}
	if n != 28 {
		t.Errorf("dry run logged %d outcomes, want 28", n)
	}
}
