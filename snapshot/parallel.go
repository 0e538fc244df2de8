package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/oauth2"
)

// Concurrency bounds. The service's concurrency limit is 52 per user per
// server (spec §7.1); staying well under it leaves room for other clients
// of the same application user.
const (
	maxWorkers      = 32
	fallbackWorkers = 4 // when the server sends no x-ms-dop-hint
	// recoverAfter is how many clean answers in a row raise a lowered limit
	// by one: recovery is deliberately slower than the drop.
	recoverAfter = 25
)

// workerCount is how many tables are read at once: the server's hint,
// capped by the configured concurrency and the number of tables.
func workerCount(hint, configured, tables int) int {
	n := hint
	if n <= 0 {
		n = fallbackWorkers
	}
	if configured > 0 && configured < n {
		n = configured
	}
	return max(1, min(n, maxWorkers, tables))
}

// parseDOPHint reads x-ms-dop-hint; 0 when absent or unusable.
func parseDOPHint(h http.Header) int {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get("x-ms-dop-hint")))
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// flow is the client's transport: it counts every Web API request against
// the gate (page reads, metadata, counts and file downloads alike) from
// sending to the body's Close, and notes the server's x-ms-dop-hint.
type flow struct {
	base http.RoundTripper
	gate atomic.Pointer[gate] // nil until Run sizes it: requests pass freely
	hint atomic.Int64
}

func (f *flow) RoundTrip(r *http.Request) (*http.Response, error) {
	g := f.gate.Load()
	if err := g.acquire(r.Context()); err != nil {
		return nil, err
	}
	resp, err := f.base.RoundTrip(r)
	if err != nil {
		g.done(outcomeOther)
		return nil, err
	}
	if h := parseDOPHint(resp.Header); h > 0 {
		f.hint.Store(int64(h))
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		// The limit behind a 429 is in its small JSON body: read it here and
		// hand the caller an identical one.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		out := outcomeOther
		if parseAPIError(resp.StatusCode, body, reqTag{}).Code == codeConcurrencyLimit {
			out = outcomeConcurrencyLimit
		}
		g.done(out)
		return resp, nil
	}
	out := outcomeOther
	if resp.StatusCode/100 == 2 {
		out = outcomeClean
	}
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: func() { g.done(out) }}
	return resp, nil
}

// releaseBody frees the request's slot when the caller closes the body.
type releaseBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// outcome is how a request ended, as far as the gate cares.
type outcome int

const (
	outcomeClean outcome = iota
	outcomeConcurrencyLimit
	outcomeOther
)

// gate bounds the requests in flight across all tables. The bound drops by
// one on every concurrency-limit 429 (0x80072326) and climbs back one step
// after recoverAfter clean answers, up to the starting size.
type gate struct {
	mu       sync.Mutex
	limit    int
	max      int
	floor    int
	inflight int
	clean    int
	wake     chan struct{} // closed and replaced when a slot may have freed
	log      *slog.Logger
}

func newGate(size int, log *slog.Logger) *gate {
	// A floor of two keeps one slow request from holding the only slot
	// while every other table waits behind it.
	return &gate{limit: size, max: size, floor: min(2, size), wake: make(chan struct{}), log: log}
}

// acquire waits for a free slot. A nil gate admits everything.
func (g *gate) acquire(ctx context.Context) error {
	if g == nil {
		return nil
	}
	for {
		g.mu.Lock()
		if g.inflight < g.limit {
			g.inflight++
			g.mu.Unlock()
			return nil
		}
		wake := g.wake
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

// done frees the slot and adapts the limit to how the request ended.
func (g *gate) done(out outcome) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inflight--
	switch out {
	case outcomeConcurrencyLimit:
		g.clean = 0
		if g.limit > g.floor {
			g.limit--
			g.log.Warn("dataverse concurrency lowered", "limit", g.limit, "max", g.max)
		}
	case outcomeClean:
		g.clean++
		if g.clean >= recoverAfter && g.limit < g.max {
			g.clean = 0
			g.limit++
			g.log.Info("dataverse concurrency raised", "limit", g.limit, "max", g.max)
		}
	}
	close(g.wake)
	g.wake = make(chan struct{})
}

// current is the limit now in force.
func (g *gate) current() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit
}

// whoAmI checks the sign-in and returns the server's recommended degree of
// parallelism (0 when it gave none or the call failed: reading goes on, and
// a real sign-in problem fails every table with its own error).
//
// A sign-in that cannot succeed (credentials refused, an authority or org
// host that does not resolve, access denied) stops the run here, once,
// instead of failing every table after its own retries.
func (c *client) whoAmI(ctx context.Context) (int, error) {
	if _, err := c.get(ctx, c.base+"WhoAmI", false, reqTag{"WhoAmI", "dop hint"}); err != nil {
		if signInFailed(err) {
			return 0, fmt.Errorf("sign in to %s: %w", c.base, err)
		}
		c.log.Warn("dataverse WhoAmI failed; using the default concurrency", "err", err)
		return 0, nil
	}
	return int(c.flow.hint.Load()), nil
}

func signInFailed(err error) bool {
	var re *oauth2.RetrieveError
	var apiErr *APIError
	return errors.As(err, &re) || unknownHost(err) ||
		(errors.As(err, &apiErr) && (apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden))
}

// runTables snapshots the tables from src, cfg.workers at a time (one when
// unset), in the order given; failed lists the tables that failed. A slow
// or failing table holds only its own worker.
func runTables(ctx context.Context, cfg Config, src source, orgURL string) (*Manifest, []string) {
	clearStaleTemps(cfg.OutDir, cfg.Tables)
	m := &Manifest{
		ToolVersion: cfg.ToolVersion,
		OrgURL:      orgURL,
		StartedAt:   nowSecond(),
		Tables:      map[string]*TableManifest{},
	}
	cfg.Progress = serialProgress(cfg.Progress)
	jobs := make(chan string)
	var (
		mu     sync.Mutex
		failed []string
		wg     sync.WaitGroup
	)
	for range max(1, cfg.workers) {
		wg.Go(func() {
			for table := range jobs {
				tm := snapshotTable(ctx, cfg, src, table)
				mu.Lock()
				m.Tables[table] = tm
				if tm.Status == StatusFailed {
					failed = append(failed, table)
				}
				mu.Unlock()
			}
		})
	}
	for _, table := range cfg.Tables {
		if ctx.Err() != nil {
			break
		}
		select {
		case jobs <- table:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	return m, failed
}

// serialProgress makes the caller's callback safe to call from several
// workers: callers write to one terminal.
func serialProgress(fn func(table string, rows, pages int)) func(table string, rows, pages int) {
	if fn == nil {
		return nil
	}
	var mu sync.Mutex
	return func(table string, rows, pages int) {
		mu.Lock()
		defer mu.Unlock()
		fn(table, rows, pages)
	}
}
