package replay

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/d2i/d2i/replay/intercomtest"
)

// Figures and the command that produced them are in BENCHMARKS.md ("Replay
// client overhead and budget use (issue 5)").
// The benchmarks skip unless D2I_BENCH_REPLAY=1 (make bench sets it), so that
// a plain -bench . does not spend two minutes on the budget run.

func skipUnlessReplayBench(b *testing.B) {
	if os.Getenv("D2I_BENCH_REPLAY") != "1" {
		b.Skip("set D2I_BENCH_REPLAY=1 (make bench)")
	}
}

// unpacedHeaderLimit makes the emulator announce an allowance the limiter
// never reaches, so that the limiter is effectively off: its bookkeeping
// still runs on every request, as it would in a run.
const unpacedHeaderLimit = 10_000_000

// BenchmarkClientOverhead measures what one Client costs per request against
// the emulator on loopback with the limiter off: ops/s over a mix of calls
// replay makes (see overheadState), from 8 goroutines. Validation is off: the OpenAPI check is the
// emulator's cost, not the client's (see BenchmarkClientOverheadValidated).
func BenchmarkClientOverhead(b *testing.B) {
	benchClientOverhead(b, false)
}

// BenchmarkClientOverheadValidated is the same with every request checked
// against the OpenAPI description, as in the tests.
func BenchmarkClientOverheadValidated(b *testing.B) {
	benchClientOverhead(b, true)
}

func benchClientOverhead(b *testing.B, validate bool) {
	skipUnlessReplayBench(b)
	srv := intercomtest.NewServer(intercomtest.Options{Token: secretToken, Admins: testAdmins,
		Validate: validate, HeaderLimit: unpacedHeaderLimit})
	defer srv.Close()
	c, err := NewClient(ClientOptions{BaseURL: srv.URL, Token: secretToken, Limiter: NewLimiter(unpacedHeaderLimit * 6),
		HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}})
	if err != nil {
		b.Fatal(err)
	}
	const workers = 8
	states := make([]*overheadState, workers)
	for w := range states {
		states[w] = &overheadState{c: c, worker: w}
		if err := states[w].setup(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	setupRequests := srv.Requests()
	var next, failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for _, s := range states {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := s.step(b.Context()); err != nil && failed.Add(1) == 1 {
					b.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	if got := srv.Requests() - setupRequests; got != b.N {
		b.Errorf("emulator saw %d requests, want %d", got, b.N)
	}
}

// overheadState is one worker's rotation through four calls replay makes
// often: company upsert, contact read, conversation update, admin list. The
// worker works on a fixed handful of objects, so that the emulator's state
// (and its cost per request, which grows with it) stays the same however
// long the benchmark runs: the figure is the client's, not the emulator's.
type overheadState struct {
	c         *Client
	worker, n int
	contactID string
	convID    string
}

// setup creates the contact and the conversation the rotation reads and
// updates.
func (s *overheadState) setup(ctx context.Context) error {
	email := fmt.Sprintf("bench-%d@example.com", s.worker)
	ct, err := s.c.CreateContact(ctx, ContactRequest{Role: "user", Email: email, ExternalID: email})
	if err != nil {
		return fmt.Errorf("bench setup: %w", err)
	}
	s.contactID = string(ct.ID)
	msg, err := s.c.CreateConversation(ctx, ConversationRequest{From: From{Type: "user", ID: s.contactID}, Body: "bench"})
	if err != nil {
		return fmt.Errorf("bench setup: %w", err)
	}
	s.convID = string(msg.ConversationID)
	return nil
}

func (s *overheadState) step(ctx context.Context) error {
	s.n++
	companyID := fmt.Sprintf("bench-%d-%d", s.worker, s.n%16)
	var err error
	switch s.n % 4 {
	case 1:
		_, err = s.c.UpsertCompany(ctx, CompanyRequest{CompanyID: companyID, Name: "Bench " + companyID})
	case 2:
		_, err = s.c.GetContact(ctx, s.contactID)
	case 3:
		err = s.c.UpdateConversation(ctx, s.convID, UpdateConversationRequest{Title: companyID})
	default:
		_, err = s.c.ListAdmins(ctx)
	}
	return err
}

// BenchmarkBudgetUse runs the client flat out for two minutes against an
// emulator that allows 600 requests a minute in 10-second windows (100 per
// window) and reports how much of the allowance it used and how often it
// was answered 429. The limiter starts from the plan's 600/min, as replay
// would. Only windows wholly inside the run count towards the use, since
// the first and last are cut; every answer counts towards the 429 share.
// D2I_BENCH_BUDGET_SECONDS shortens the run when checking the harness.
func BenchmarkBudgetUse(b *testing.B) {
	skipUnlessReplayBench(b)
	duration := 2 * time.Minute
	if s, err := strconv.Atoi(os.Getenv("D2I_BENCH_BUDGET_SECONDS")); err == nil && s > 0 {
		duration = time.Duration(s) * time.Second
	}
	for b.Loop() {
		res := runBudget(b, duration)
		b.ReportMetric(res.usedPercent(), "%budget-used")
		b.ReportMetric(res.throttledPercent(), "%answered-429")
		b.ReportMetric(float64(res.ok), "requests-ok")
		b.ReportMetric(float64(res.throttled), "requests-429")
		b.Logf("%d full windows, %d ok in them of %d allowed; %d answers, %d of them 429; per window %v",
			len(res.fullWindows), res.okInFull(), res.allowed(), res.ok+res.throttled, res.throttled, res.perWindow())
	}
}

const budgetPer10s = 100 // 600 requests a minute

type budgetResult struct {
	start, end  time.Time
	ok          int
	throttled   int
	okPerWindow map[int64]int // window start (unix seconds) -> answers that were not 429
	fullWindows []int64
}

func (r *budgetResult) okInFull() int {
	n := 0
	for _, w := range r.fullWindows {
		n += r.okPerWindow[w]
	}
	return n
}

func (r *budgetResult) allowed() int { return budgetPer10s * len(r.fullWindows) }

func (r *budgetResult) usedPercent() float64 {
	return 100 * float64(r.okInFull()) / float64(max(1, r.allowed()))
}

func (r *budgetResult) throttledPercent() float64 {
	return 100 * float64(r.throttled) / float64(max(1, r.ok+r.throttled))
}

func (r *budgetResult) perWindow() []int {
	out := make([]int, len(r.fullWindows))
	for i, w := range r.fullWindows {
		out[i] = r.okPerWindow[w]
	}
	return out
}

func runBudget(b *testing.B, duration time.Duration) *budgetResult {
	srv := intercomtest.NewServer(intercomtest.Options{Token: secretToken, Admins: testAdmins,
		RequestsPer10s: budgetPer10s, Validate: true})
	defer srv.Close()
	res := &budgetResult{okPerWindow: map[int64]int{}}
	var mu sync.Mutex
	counting := countingTransport(func(resp *http.Response, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if resp.StatusCode == http.StatusTooManyRequests {
			res.throttled++
			return
		}
		res.ok++
		// The window is the server's: its reset header names the window's end.
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			res.okPerWindow[reset-10]++
		}
	})
	c, err := NewClient(ClientOptions{BaseURL: srv.URL, Token: secretToken, Limiter: NewLimiter(600),
		HTTPClient: &http.Client{Transport: counting},
		Retry:      &RetryPolicy{MaxAttempts: 1 << 20, BaseDelay: 10 * time.Millisecond, MaxDelay: maxResetWait}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.Context(), duration)
	defer cancel()
	res.start = time.Now()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &overheadState{c: c, worker: w}
			if err := s.setup(ctx); err != nil {
				b.Error(err)
				return
			}
			for ctx.Err() == nil {
				if err := s.step(ctx); err != nil && ctx.Err() == nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	res.end = time.Now()
	for w := res.start.Unix() - res.start.Unix()%10 + 10; w+10 <= res.end.Unix(); w += 10 {
		res.fullWindows = append(res.fullWindows, w)
	}
	return res
}

// countingTransport reports every response the client receives.
type countingTransport func(resp *http.Response, at time.Time)

func (f countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		f(resp, time.Now())
	}
	return resp, err
}
