package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

const apiPath = "/api/data/v9.2/"

// Service-protection error codes (spec §7.1). All three are retried after
// Retry-After here; lowering concurrency on the third is the caller's job.
const (
	codeRequestLimit     = "0x80072322"
	codeExecutionTime    = "0x80072321"
	codeConcurrencyLimit = "0x80072326"
)

// APIError is a Dataverse error answer that was not (or no longer) retried.
type APIError struct {
	Table   string // logical name the request was for
	What    string // e.g. "metadata", "page 3"
	Status  int
	Code    string // Dataverse hex code, may be empty
	Message string // server message, truncated
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("dataverse %s %s: HTTP %d", e.Table, e.What, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// client performs GETs against one org's Web API.
type client struct {
	http     *http.Client
	base     string // https://org/api/data/v9.2/
	pageSize int
	retry    RetryPolicy
	log      *slog.Logger
	// flow bounds the requests in flight and notes the DOP hint (parallel.go).
	flow *flow
}

func newClient(ctx context.Context, cfg Config, org *url.URL) (*client, error) {
	hc, err := authClient(ctx, cfg, org)
	if err != nil {
		return nil, err
	}
	fl := &flow{base: hc.Transport}
	hc.Transport = fl
	return &client{
		http:     hc,
		base:     org.String() + apiPath,
		pageSize: cfg.MaxPageSize,
		retry:    cfg.Retry,
		log:      cfg.Logger,
		flow:     fl,
	}, nil
}

// reqTag names a request in logs and errors without its URL.
type reqTag struct{ table, what string }

// get fetches rawURL, unchanged, until it succeeds or the policy gives up.
// annotated adds the annotation and page-size preferences of list calls.
func (c *client) get(ctx context.Context, rawURL string, annotated bool, tag reqTag) ([]byte, error) {
	var body []byte
	err := c.stream(ctx, rawURL, annotated, tag, func(r io.Reader, size int64) error {
		var err error
		body, err = readBody(r, size)
		return err
	})
	return body, err
}

// stream is get handing a successful body to consume as it arrives instead
// of reading it first. A body cut off in transit is retried like a failed
// request: consume is then called again and must start over. Any other
// error of consume ends the request and is returned as is.
func (c *client) stream(ctx context.Context, rawURL string, annotated bool, tag reqTag, consume func(body io.Reader, size int64) error) error {
	for attempt := 1; ; attempt++ {
		f := c.try(ctx, rawURL, annotated, tag, consume)
		if f == nil {
			return nil
		}
		if f.consumer {
			return f.err
		}
		if !f.retry || attempt >= c.retry.MaxAttempts {
			return f.final(tag, attempt)
		}
		wait := c.retry.backoff(attempt)
		if f.hasRetryAfter {
			wait = f.retryAfter // at least what the server asked, never less
		}
		c.log.Warn("dataverse request retried", "table", tag.table, "what", tag.what,
			"attempt", attempt, "wait_ms", wait.Milliseconds(), "reason", retryReason(f.err))
		if err := c.retry.sleep(ctx, wait); err != nil {
			return fmt.Errorf("dataverse %s %s: %w", tag.table, tag.what, err)
		}
	}
}

// failure is one failed attempt and what the policy makes of it.
type failure struct {
	err           error
	retry         bool
	retryAfter    time.Duration
	hasRetryAfter bool
	consumer      bool // the body's consumer refused it: not a transport fault
}

func (f *failure) final(tag reqTag, attempts int) error {
	var apiErr *APIError
	if errors.As(f.err, &apiErr) {
		if f.retry {
			return fmt.Errorf("gave up after %d attempts: %w", attempts, f.err)
		}
		return f.err
	}
	if f.retry {
		return fmt.Errorf("dataverse %s %s: gave up after %d attempts: %w", tag.table, tag.what, attempts, f.err)
	}
	return fmt.Errorf("dataverse %s %s: %w", tag.table, tag.what, f.err)
}

// try makes one attempt; a 2xx body goes to consume.
func (c *client) try(ctx context.Context, rawURL string, annotated bool, tag reqTag, consume func(io.Reader, int64) error) *failure {
	actx, cancel := context.WithTimeout(ctx, c.retry.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, rawURL, nil)
	if err != nil {
		return &failure{err: fmt.Errorf("build request: %w", err)}
	}
	c.setHeaders(req, annotated)
	resp, err := c.http.Do(req)
	if err != nil {
		return &failure{err: redactURLError(err), retry: retryableErr(ctx, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		body := &transportReader{r: resp.Body}
		if err := consume(body, resp.ContentLength); err != nil {
			if body.err != nil {
				// A connection dropped mid-body is as transient as one dropped before.
				return &failure{err: fmt.Errorf("read body: %w", body.err), retry: ctx.Err() == nil}
			}
			return &failure{err: err, consumer: true}
		}
		return nil
	}
	body, err := readBody(resp.Body, resp.ContentLength)
	if err != nil {
		return &failure{err: fmt.Errorf("read body: %w", err), retry: ctx.Err() == nil}
	}
	defer putBody(body)
	f := &failure{err: parseAPIError(resp.StatusCode, body, tag), retry: retryableStatus(resp.StatusCode)}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		f.retryAfter, f.hasRetryAfter = retryAfter(resp.Header)
	}
	return f
}

// transportReader remembers the read error of a response body, so that a
// consumer's failure can be told apart from the connection's.
type transportReader struct {
	r   io.Reader
	err error
}

func (t *transportReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

func (c *client) setHeaders(req *http.Request, annotated bool) {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("OData-Version", "4.0")
	req.Header.Set("If-None-Match", "null")
	if annotated {
		prefer := fmt.Sprintf(`odata.include-annotations="*",odata.maxpagesize=%d`, c.pageSize)
		if tracking(req.Context()) {
			prefer += ",odata.track-changes"
		}
		req.Header.Set("Prefer", prefer)
	}
}

func retryReason(err error) string {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return "transport error"
	}
	reason := fmt.Sprintf("HTTP %d", apiErr.Status)
	if apiErr.Code != "" {
		reason += " " + apiErr.Code
	}
	if limit, ok := protectionLimits[apiErr.Code]; ok {
		reason += " (" + limit + " limit)"
	}
	return reason
}

// protectionLimits names the service-protection limit behind each code.
var protectionLimits = map[string]string{
	codeRequestLimit:     "request count",
	codeExecutionTime:    "execution time",
	codeConcurrencyLimit: "concurrency",
}

// redactURLError drops the URL from a transport error: next links are long
// and the reader's logs keep to ids and counts.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s request: %w", ue.Op, ue.Err)
	}
	return err
}

func parseAPIError(status int, body []byte, tag reqTag) *APIError {
	e := &APIError{Table: tag.table, What: tag.what, Status: status}
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(bytes.TrimSpace(body), &env) == nil {
		e.Code = env.Error.Code
		e.Message = truncate(env.Error.Message, 300)
	}
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// bodyPool keeps page-sized buffers between pages: a 34 MB page read with
// io.ReadAll regrew its slice up to twice the page, and a fresh one per page
// left the last page's garbage for the collector (BENCHMARKS.md).
var bodyPool sync.Pool

// readBody reads r to the end into a pooled buffer, sized up front when the
// server sent a Content-Length. The caller may hand it back with putBody.
func readBody(r io.Reader, size int64) ([]byte, error) {
	b, _ := bodyPool.Get().([]byte)
	b = b[:0]
	if size > 0 && int64(cap(b)) < size+1 {
		b = make([]byte, 0, size+1) // +1 so the final Read sees EOF without growing
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// putBody returns a body from readBody for reuse; nothing may hold it after.
func putBody(b []byte) {
	if cap(b) > 0 {
		bodyPool.Put(b[:0]) // a slice header per Put is cheap next to the page
	}
}
