package snapshot

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/oauth2"
)

// RetryPolicy is the one place that decides whether a failed request is
// retried and how long to wait first.
type RetryPolicy struct {
	// MaxAttempts counts the first try; default 8.
	MaxAttempts int
	// BaseDelay is the first backoff step; default 1s. It doubles per attempt.
	BaseDelay time.Duration
	// MaxDelay caps one backoff step; default 2m. A server's Retry-After is
	// always honoured in full, even above this cap.
	MaxDelay time.Duration
	// AttemptTimeout bounds one request including its body; default 5m. A
	// request that runs out of it is retried like a dropped connection.
	AttemptTimeout time.Duration

	// sleep is swapped in tests to observe waits without spending them.
	sleep func(ctx context.Context, d time.Duration) error
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 8
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 2 * time.Minute
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = 5 * time.Minute
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	if p.sleep == nil {
		p.sleep = sleepCtx
	}
	return p
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff is the wait before attempt n+1 (n counts from 1): exponential,
// capped, with full jitter on the upper half so parallel readers spread out.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	if d > p.MaxDelay {
		d = p.MaxDelay
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// retryAfter reads a Retry-After header given in seconds (what Dataverse
// sends) or as an HTTP date.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// retryableStatus: 429 and the transient 5xx answers. 501 and 505 will not
// change on a retry.
func retryableStatus(code int) bool {
	if code == http.StatusTooManyRequests {
		return true
	}
	return code >= 500 && code != http.StatusNotImplemented && code != http.StatusHTTPVersionNotSupported
}

// retryableErr: timeouts, resets and connections dropped mid-response. A
// rejected token request (bad secret, unknown tenant) is final.
func retryableErr(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.Response != nil && retryableStatus(re.Response.StatusCode)
	}
	if unknownHost(err) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, context.DeadlineExceeded) ||
		isOpError(err)
}

// unknownHost is a name that does not resolve: a typo in a URL, which no
// retry fixes.
func unknownHost(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

func isOpError(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe)
}
