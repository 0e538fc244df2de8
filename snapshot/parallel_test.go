package snapshot

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

var omnichannel = []string{"msdyn_ocliveworkitem", "msdyn_ocsession", "msdyn_transcript", "msdyn_ocrecording"}

func newSampleOrg(t *testing.T, cases int) *sampleorg.Org {
	t.Helper()
	org, err := sampleorg.New(sampleorg.Options{Seed: 7, Cases: cases})
	if err != nil {
		t.Fatal(err)
	}
	return org
}

// inflightTransport counts the Web API requests in flight at once.
type inflightTransport struct {
	now, peak atomic.Int64
}

func (tr *inflightTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.Contains(r.URL.Path, dataversetest.BasePath) {
		return http.DefaultTransport.RoundTrip(r)
	}
	n := tr.now.Add(1)
	defer tr.now.Add(-1)
	for p := tr.peak.Load(); n > p && !tr.peak.CompareAndSwap(p, n); p = tr.peak.Load() {
	}
	// The body is read after RoundTrip returns; counting the headers phase
	// is enough to see requests overlap.
	return http.DefaultTransport.RoundTrip(r)
}

// checkRows fails unless every listed table is complete with the org's rows.
func checkRows(t *testing.T, m *Manifest, org *sampleorg.Org, tables []string) {
	t.Helper()
	for _, table := range tables {
		tm := m.Tables[table]
		if tm == nil || tm.Status != StatusComplete || tm.Rows != int64(org.Count(table)) {
			t.Errorf("%s: %+v, org has %d rows", table, tm, org.Count(table))
		}
	}
}

// With no table list, Run reads the default set plus the org's custom
// table, in parallel up to the server's x-ms-dop-hint; the Omnichannel
// tables the sample org lacks are absent, and custom columns of standard
// tables reach Parquet.
func TestDefaultTablesAgainstEmulator(t *testing.T) {
	org := newSampleOrg(t, 300)
	srv := dataversetest.NewServer(org, dataversetest.Options{DOPHint: 3})
	defer srv.Close()
	tr := &inflightTransport{}
	dir := t.TempDir()
	cfg := emulatorConfig(srv.URL, dir, 500)
	cfg.HTTPClient = &http.Client{Transport: tr}
	m, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Complete || len(m.Tables) != len(DefaultTables())+1 {
		t.Fatalf("complete=%v, %d tables, want %d", m.Complete, len(m.Tables), len(DefaultTables())+1)
	}
	for _, table := range omnichannel {
		if tm := m.Tables[table]; tm == nil || tm.Status != StatusAbsent {
			t.Errorf("%s: %+v, want absent", table, tm)
		}
	}
	checkRows(t, m, org, org.Tables()) // includes new_warrantyclaim, found by discovery
	if p := tr.peak.Load(); p < 2 || p > 3 {
		t.Errorf("peak requests in flight %d, want 2..3 (dop hint 3)", p)
	}
	checkCustomColumns(t, dir)
}

func checkCustomColumns(t *testing.T, dir string) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"select count(new_productserial) from '%s/tables/incident/*.parquet'",
		"select count(new_loyaltytier__label) from '%s/tables/contact/*.parquet'",
		"select count(new_claimstatus__label) + count(_new_incidentid_value) from '%s/tables/new_warrantyclaim/*.parquet'",
	} {
		var n int64
		if err := db.QueryRow(fmt.Sprintf(q, dir)).Scan(&n); err != nil || n == 0 {
			t.Errorf("%s: %d values, %v", q, n, err)
		}
	}
}

// One table whose second page hangs until every other table has finished:
// the others must all complete meanwhile (a sequential reader would never
// get there), under a server concurrency cap below the worker count.
func TestSlowTableDoesNotStallOthers(t *testing.T) {
	org := newSampleOrg(t, 300)
	const slow = "incident"
	release := make(chan struct{})
	var stalled atomic.Bool
	srv := dataversetest.NewServer(org, dataversetest.Options{
		DOPHint: 4, MaxConcurrent: 2,
		Fault: func(_ int64, r *http.Request) int {
			if strings.HasSuffix(r.URL.Path, "/incidents") && r.URL.Query().Has("$skiptoken") {
				select {
				case <-release:
				case <-time.After(60 * time.Second):
					stalled.Store(true)
				}
			}
			return 0
		},
	})
	defer srv.Close()

	var (
		mu       sync.Mutex
		finished []string
		closed   bool
	)
	cfg := emulatorConfig(srv.URL, t.TempDir(), 100, org.Tables()...)
	cfg.Progress = func(table string, rows, _ int) {
		mu.Lock()
		defer mu.Unlock()
		if rows == org.Count(table) && !slices.Contains(finished, table) {
			finished = append(finished, table)
		}
		if len(finished) == len(org.Tables())-1 && !slices.Contains(finished, slow) && !closed {
			closed = true
			close(release)
		}
	}
	m, err := Run(context.Background(), cfg)
	if err != nil || stalled.Load() {
		t.Fatalf("err=%v stalled=%v", err, stalled.Load())
	}
	checkRows(t, m, org, org.Tables())
	if len(finished) != len(org.Tables()) || finished[len(finished)-1] != slow {
		t.Errorf("finish order %v: want %s last", finished, slow)
	}
	t.Logf("requests %d, throttled %d", srv.Requests(), srv.Throttled())
}

// More workers than the server's concurrency cap: the 429 0x80072326
// answers lower the gate, and the run completes without hammering.
func TestConcurrencyLimitLowersConcurrency(t *testing.T) {
	org := newSampleOrg(t, 200)
	// Every page stalls a little, so that requests overlap however fast the
	// machine is: without the stall a quiet machine can serve each page before
	// the next worker asks, and the cap is never reached.
	srv := dataversetest.NewServer(org, dataversetest.Options{DOPHint: 8, MaxConcurrent: 2,
		SlowEvery: 1, SlowDelay: 20 * time.Millisecond})
	defer srv.Close()
	var logs syncBuffer
	var waits waitLog
	tables := []string{"account", "contact", "incident", "email", "activityparty", "annotation", "queue", "systemuser"}
	cfg := emulatorConfig(srv.URL, t.TempDir(), 50, tables...)
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Retry.sleep = waits.sleep
	m, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, m, org, tables)
	lowered := strings.Count(logs.String(), "dataverse concurrency lowered")
	if srv.Throttled() == 0 || lowered == 0 {
		t.Fatalf("throttled %d, lowered %d times", srv.Throttled(), lowered)
	}
	// Without the gate, 8 workers against a cap of 2 would see most requests refused.
	if srv.Throttled()*5 > srv.Requests() {
		t.Errorf("throttled %d of %d requests", srv.Throttled(), srv.Requests())
	}
	if short := waits.under(time.Second); short > 0 {
		t.Errorf("%d waits after a 429 were shorter than its Retry-After", short)
	}
	t.Logf("requests %d, throttled %d, lowered %d", srv.Requests(), srv.Throttled(), lowered)
}

// The request-count and execution-time 429s are waited out for at least
// Retry-After (really slept here, so the emulator's window moves on) and the
// same request is sent again.
func TestServiceProtectionWaitsRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name string
		code string
		opt  dataversetest.Options
	}{
		{"execution time", codeExecutionTime, dataversetest.Options{ExecutionTimePerWindow: 5 * time.Millisecond, Window: time.Second}},
		{"request count", codeRequestLimit, dataversetest.Options{RequestsPerWindow: 5, Window: 2 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org := newSampleOrg(t, 100)
			srv := dataversetest.NewServer(org, tc.opt)
			defer srv.Close()
			var waits waitLog
			waits.real = true
			tables := []string{"account", "queue"}
			cfg := emulatorConfig(srv.URL, t.TempDir(), 40, tables...)
			cfg.Concurrency = 1 // one request at a time, so the log shows each retry right after its 429
			cfg.Retry.sleep = waits.sleep
			m, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, m, org, tables)
			log := srv.RequestLog()
			seen := 0
			for i, r := range log {
				if r.Status != http.StatusTooManyRequests {
					continue
				}
				seen++
				if i+1 >= len(log) || log[i+1].URI != r.URI {
					t.Errorf("after the 429 on %s came %v", r.URI, log[min(i+1, len(log)-1)].URI)
				}
			}
			if seen == 0 {
				t.Fatalf("no %s 429 was served", tc.code)
			}
			if short := waits.under(time.Second); short > 0 || waits.count() < seen {
				t.Errorf("%d 429s, %d waits, %d shorter than Retry-After", seen, waits.count(), short)
			}
		})
	}
}

// Rows added after RetrieveTotalRecordCount's figure was taken: the count
// note explains the difference and the table is still complete.
func TestCountNoteOnMismatch(t *testing.T) {
	org := newSampleOrg(t, 100)
	srv := dataversetest.NewServer(org, dataversetest.Options{})
	defer srv.Close()
	if _, err := srv.Churn("contact", dataversetest.Churn{Inserts: 7}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m, err := Run(context.Background(), emulatorConfig(srv.URL, dir, 100, "contact", "account"))
	if err != nil {
		t.Fatal(err)
	}
	c, a := m.Tables["contact"], m.Tables["account"]
	want := int64(org.Count("contact") + 7)
	if c.Status != StatusComplete || c.Rows != want || c.SourceCount != want {
		t.Fatalf("contact %+v, want %d rows", c, want)
	}
	if !strings.Contains(c.CountNote, "RetrieveTotalRecordCount is refreshed periodically") ||
		!strings.Contains(c.CountNote, "differs by 7") {
		t.Errorf("contact count note %q", c.CountNote)
	}
	if a.CountNote != "" {
		t.Errorf("account count note %q, want none", a.CountNote)
	}
	// The note survives a rerun that finds the table complete.
	m2, err := Run(context.Background(), emulatorConfig(srv.URL, dir, 100, "contact", "account"))
	if err != nil || m2.Tables["contact"].CountNote != c.CountNote {
		t.Errorf("rerun note %q, %v", m2.Tables["contact"].CountNote, err)
	}
}

func TestCountNote(t *testing.T) {
	for _, tc := range []struct {
		rows, odata, total int64
		want               []string
	}{
		{100, 100, 100, nil},
		{100, -1, -1, nil},
		{100, -1, 93, []string{"RetrieveTotalRecordCount is refreshed periodically", "it said 93", "differs by 7: 7 fewer"}},
		{100, 102, 100, []string{"@odata.count was 102", "differs by 2: 2 more"}},
		{100, 98, 90, []string{"@odata.count was 98", "RetrieveTotalRecordCount", "differs by 10"}},
	} {
		got := countNote(tc.rows, tc.odata, tc.total)
		if (got == "") != (tc.want == nil) {
			t.Errorf("countNote(%d, %d, %d) = %q", tc.rows, tc.odata, tc.total, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("countNote(%d, %d, %d) = %q, lacks %q", tc.rows, tc.odata, tc.total, got, w)
			}
		}
	}
}

func TestWorkerCount(t *testing.T) {
	for _, tc := range []struct{ hint, configured, tables, want int }{
		{0, 0, 30, fallbackWorkers},
		{8, 0, 30, 8},
		{8, 3, 30, 3},
		{2, 6, 30, 2},
		{8, 0, 2, 2},
		{500, 0, 100, maxWorkers},
		{4, 0, 0, 1},
	} {
		if got := workerCount(tc.hint, tc.configured, tc.tables); got != tc.want {
			t.Errorf("workerCount(%d, %d, %d) = %d, want %d", tc.hint, tc.configured, tc.tables, got, tc.want)
		}
	}
	for v, want := range map[string]int{"": 0, "4": 4, " 12 ": 12, "0": 0, "-3": 0, "many": 0} {
		h := http.Header{}
		if v != "" {
			h.Set("x-ms-dop-hint", v)
		}
		if got := parseDOPHint(h); got != want {
			t.Errorf("parseDOPHint(%q) = %d, want %d", v, got, want)
		}
	}
}

func TestGateLowersAndRecovers(t *testing.T) {
	g := newGate(4, captureLog(&bytes.Buffer{}))
	conc, other := outcomeConcurrencyLimit, outcomeOther
	use := func(f outcome) {
		if err := g.acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
		g.done(f)
	}
	use(conc)
	use(other) // the other limits leave concurrency alone
	if g.current() != 3 {
		t.Fatalf("limit %d after one concurrency 429, want 3", g.current())
	}
	for range 5 {
		use(conc)
	}
	if g.current() != 2 {
		t.Fatalf("limit %d, want the floor 2", g.current())
	}
	for range recoverAfter - 1 {
		use(outcomeClean)
	}
	if g.current() != 2 {
		t.Fatalf("limit rose after %d clean answers", recoverAfter-1)
	}
	use(outcomeClean)
	if g.current() != 3 {
		t.Fatalf("limit %d after %d clean answers, want 3", g.current(), recoverAfter)
	}
}

func TestGateBlocksWhenFull(t *testing.T) {
	g := newGate(2, captureLog(&bytes.Buffer{}))
	ctx := context.Background()
	g.acquire(ctx)
	g.acquire(ctx)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := g.acquire(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third acquire on a full gate: %v", err)
	}
	got := make(chan error, 1)
	go func() { got <- g.acquire(ctx) }()
	time.Sleep(10 * time.Millisecond)
	g.done(outcomeClean)
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a freed slot did not wake the waiter")
	}
}

// Discovery keeps org-made custom tables and drops first-party ones and
// tables already listed.
func TestWithCustomTables(t *testing.T) {
	var query string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		fmt.Fprint(w, `{"value":[{"LogicalName":"new_b","IsCustomEntity":true},
		  {"LogicalName":"msdyn_ocsession","IsCustomEntity":true},{"LogicalName":"adx_webpage","IsCustomEntity":true},
		  {"LogicalName":"cr123_a","IsCustomEntity":true},{"LogicalName":"incident","IsCustomEntity":true},
		  {"LogicalName":"account","IsCustomEntity":false},{"LogicalName":"Bad-Name","IsCustomEntity":true}]}`)
	}))
	defer hs.Close()
	c := &client{http: hs.Client(), base: hs.URL + apiPath, retry: RetryPolicy{}.withDefaults(), log: captureLog(&bytes.Buffer{})}
	got, err := withCustomTables(context.Background(), c, []string{"incident", "contact"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"incident", "contact", "cr123_a", "new_b"}; !slices.Equal(got, want) {
		t.Errorf("tables %v, want %v", got, want)
	}
	if !strings.Contains(query, "$filter=IsCustomEntity%20eq%20true") {
		t.Errorf("query %q", query)
	}
}

// syncBuffer is a log sink several workers write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLog records the retry waits; real makes it sleep them too.
type waitLog struct {
	mu    sync.Mutex
	waits []time.Duration
	real  bool
}

func (w *waitLog) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.waits = append(w.waits, d)
	w.mu.Unlock()
	if w.real {
		return sleepCtx(ctx, d)
	}
	return ctx.Err()
}

// under counts waits shorter than d; the emulator's Retry-After is at
// least one second, and backoffs in these tests are milliseconds.
func (w *waitLog) under(d time.Duration) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, x := range w.waits {
		if x < d {
			n++
		}
	}
	return n
}

func (w *waitLog) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.waits)
}
