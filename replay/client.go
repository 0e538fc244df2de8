package replay

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
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Base URLs of Intercom's three regions.
const (
	BaseURLUS = "https://api.intercom.io"
	BaseURLEU = "https://api.eu.intercom.io"
	BaseURLAU = "https://api.au.intercom.io"
)

// API versions sent in the Intercom-Version header.
const (
	Version = "2.14"
	// Version216 is used for conversation attributes and for admin replies
	// with skip_notifications (introduced in 2.15).
	Version216 = "2.16"
)

// TokenFromEnv returns the Intercom token from D2I_INTERCOM_TOKEN or the file
// named by D2I_INTERCOM_TOKEN_FILE.
func TokenFromEnv() (string, error) {
	if t := strings.TrimSpace(os.Getenv("D2I_INTERCOM_TOKEN")); t != "" {
		return t, nil
	}
	path := os.Getenv("D2I_INTERCOM_TOKEN_FILE")
	if path == "" {
		return "", errors.New("intercom token: set D2I_INTERCOM_TOKEN or D2I_INTERCOM_TOKEN_FILE")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("intercom token file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("intercom token file %s is empty", path)
	}
	return t, nil
}

// ClientOptions configures a Client.
type ClientOptions struct {
	BaseURL    string       // default BaseURLUS
	Token      string       // bearer token; required
	HTTPClient *http.Client // default: 60 s timeout
	Limiter    *Limiter     // shared per workspace; default NewLimiter(0)
	Retry      *RetryPolicy // default DefaultRetryPolicy
	Logger     *slog.Logger // retries are logged at Warn; default discards
}

// Client calls the Intercom REST API. It is safe for concurrent use.
type Client struct {
	base  string
	token string
	hc    *http.Client
	lim   *Limiter
	retry RetryPolicy
	log   *slog.Logger
}

// NewClient checks the options and returns a client.
func NewClient(o ClientOptions) (*Client, error) {
	if o.Token == "" {
		return nil, errors.New("intercom client: no token")
	}
	base := o.BaseURL
	if base == "" {
		base = BaseURLUS
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("intercom client: bad base URL %q", base)
	}
	c := &Client{base: strings.TrimRight(base, "/"), token: o.Token, hc: o.HTTPClient,
		lim: o.Limiter, retry: DefaultRetryPolicy}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 60 * time.Second}
	}
	if c.lim == nil {
		c.lim = NewLimiter(0)
	}
	if o.Retry != nil {
		c.retry = *o.Retry
	}
	c.retry.MaxAttempts = max(1, c.retry.MaxAttempts)
	c.log = o.Logger
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// call describes one request. idempotent says whether resending after a lost
// answer is harmless; when false, a transport error or 5xx is returned as an
// *UncertainError instead of being retried.
type call struct {
	method     string
	path       string
	query      url.Values
	body       any
	version    string
	idempotent bool
}

// do sends c with pacing and retries and decodes a 2xx body into out.
func (c *Client) do(ctx context.Context, cl call, out any) error {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return fmt.Errorf("intercom %s %s: encode body: %w", cl.method, cl.path, err)
		}
	}
	cost := costOf(ctx)
	for attempt := 1; ; attempt++ {
		if err := cost.timeWait(func() error { return c.lim.Wait(ctx) }); err != nil {
			return err
		}
		cost.sent(cl)
		resp, err := c.send(ctx, cl, payload)
		if err != nil {
			c.lim.Observe(nil) // no answer: the request no longer counts as in flight
			if ctx.Err() != nil {
				return ctx.Err()
			}
			err = fmt.Errorf("intercom %s %s: %w", cl.method, cl.path, err)
			if !cl.idempotent {
				return &UncertainError{Err: err}
			}
			if attempt >= c.retry.MaxAttempts {
				return err
			}
			wait := c.retry.delay(attempt, time.Time{})
			c.logRetry(ctx, cl, attempt, wait, err)
			if err := cost.timeWait(func() error { return sleep(ctx, wait) }); err != nil {
				return err
			}
			continue
		}
		c.lim.Observe(resp.Header)
		retry, err := c.finish(ctx, cl, resp, out, attempt)
		if !retry {
			return err
		}
	}
}

// finish consumes resp; it reports whether to retry (after having slept).
func (c *Client) finish(ctx context.Context, cl call, resp *http.Response, out any, attempt int) (bool, error) {
	defer resp.Body.Close()
	if resp.StatusCode < 300 {
		if out == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			return false, nil
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil && !errors.Is(err, io.EOF) {
			return false, fmt.Errorf("intercom %s %s: decode: %w", cl.method, cl.path, err)
		}
		return false, nil
	}
	apiErr := newAPIError(cl.method, cl.path, resp)
	var reset time.Time
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		costOf(ctx).throttle()
		reset = parseReset(resp.Header) // refused before processing: always safe to resend
	case retryable5xx(resp.StatusCode):
		if !cl.idempotent {
			return false, &UncertainError{Err: apiErr}
		}
	default:
		return false, apiErr
	}
	if attempt >= c.retry.MaxAttempts {
		return false, apiErr
	}
	wait := c.retry.delay(attempt, reset)
	c.logRetry(ctx, cl, attempt, wait, apiErr)
	if err := costOf(ctx).timeWait(func() error { return sleep(ctx, wait) }); err != nil {
		return false, err
	}
	return true, nil
}

// opCost is what one op cost in HTTP terms; the executor puts a fresh one in
// the context of each op and writes it to the op's outcome record. Each
// worker's op has its own, so nothing is shared between workers; the
// counters are atomic only because a lookup may run beside the write.
type opCost struct {
	attempts  atomic.Int64 // sends of the op's own mutating request, resends included
	lookups   atomic.Int64 // reads sent on its behalf (before-image, lookup, conflict check)
	throttled atomic.Int64 // of all those, answered 429
	waited    atomic.Int64 // nanoseconds paced by the limiter or slept before a resend
}

type costCtxKey struct{}

func withCost(ctx context.Context, c *opCost) context.Context {
	return context.WithValue(ctx, costCtxKey{}, c)
}

// costOf is the op's cost counter, or nil outside an op (listing attributes,
// admins, teams), whose methods then count nothing.
func costOf(ctx context.Context) *opCost {
	c, _ := ctx.Value(costCtxKey{}).(*opCost)
	return c
}

// sent counts one request: a read (GET or search) or the op's write.
func (c *opCost) sent(cl call) {
	if c == nil {
		return
	}
	if cl.method == http.MethodGet || strings.HasSuffix(cl.path, "/search") {
		c.lookups.Add(1)
		return
	}
	c.attempts.Add(1)
}

// throttle counts a 429 answer.
func (c *opCost) throttle() {
	if c != nil {
		c.throttled.Add(1)
	}
}

// timeWait runs wait (a limiter wait or a backoff sleep) and adds its
// duration to the op's waiting time.
func (c *opCost) timeWait(wait func() error) error {
	if c == nil {
		return wait()
	}
	start := time.Now()
	err := wait()
	c.waited.Add(int64(time.Since(start)))
	return err
}

// logRetry says a request failed and will be sent again, so that a run
// against an unreachable or struggling workspace is not silent. The cause
// names method, path and status, never the token.
func (c *Client) logRetry(ctx context.Context, cl call, attempt int, wait time.Duration, cause error) {
	op := opOf(ctx)
	if op == "" {
		op = cl.method + " " + cl.path
	}
	c.log.Warn("intercom request retried", "op", op, "method", cl.method, "path", cl.path,
		"attempt", attempt, "max_attempts", c.retry.MaxAttempts, "wait", wait.Round(time.Millisecond),
		"cause", cause.Error())
}

func retryable5xx(code int) bool {
	return code == 500 || code == 502 || code == 503 || code == 504
}

func (c *Client) send(ctx context.Context, cl call, payload []byte) (*http.Response, error) {
	u := c.base + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	v := cl.version
	if v == "" {
		v = Version
	}
	req.Header.Set("Intercom-Version", v)
	resp, err := c.hc.Do(req)
	if err != nil {
		// url.Error carries the URL, which holds no token; unwrap to the cause
		// so the message stays short.
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, ue.Err
		}
		return nil, err
	}
	return resp, nil
}

// ID decodes an Intercom id sent either as a JSON string or a number.
type ID string

// UnmarshalJSON accepts "123", 123 and null.
func (id *ID) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*id = ""
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*id = ID(v)
		return nil
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return fmt.Errorf("id: %s is neither string nor number", s)
	}
	*id = ID(s)
	return nil
}

func escape(s string) string { return url.PathEscape(s) }
