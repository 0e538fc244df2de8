package replay

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultRatePerMinute is Intercom's documented default per-app allowance.
const DefaultRatePerMinute = 10000

// maxResetWait caps how long a Reset header can make us wait, so a skewed
// clock cannot stall a run; Intercom windows are 10 seconds long.
const maxResetWait = 15 * time.Second

// Limiter paces requests to one workspace. Share one between all workers.
type Limiter struct {
	mu         sync.Mutex
	lim        *rate.Limiter
	pauseUntil time.Time
}

// NewLimiter starts from perMinute (<= 0 means DefaultRatePerMinute); the
// server's headers correct it from the first response on.
func NewLimiter(perMinute int) *Limiter {
	if perMinute <= 0 {
		perMinute = DefaultRatePerMinute
	}
	window := max(1, perMinute/6) // Intercom splits the minute into six windows
	return &Limiter{lim: rate.NewLimiter(rate.Limit(float64(perMinute)/60), window)}
}

// Wait blocks until a request may be sent.
func (l *Limiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	pause := time.Until(l.pauseUntil)
	l.mu.Unlock()
	if pause > 0 {
		if err := sleep(ctx, pause); err != nil {
			return err
		}
	}
	return l.lim.Wait(ctx)
}

// Observe corrects the pace from a response's rate-limit headers. Absent
// headers mean "unknown", never "zero".
func (l *Limiter) Observe(h http.Header) {
	limit, errL := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	remaining, errR := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	reset := parseReset(h)
	l.mu.Lock()
	defer l.mu.Unlock()
	if errL == nil && limit > 0 {
		// The header is the allowance of one 10-second window.
		l.lim.SetLimit(rate.Limit(float64(limit) / 10))
		l.lim.SetBurst(limit)
	}
	if errR == nil && remaining <= 0 && !reset.IsZero() {
		until := min(time.Until(reset), maxResetWait)
		if p := time.Now().Add(until); p.After(l.pauseUntil) {
			l.pauseUntil = p
		}
	}
}

// Rate reports the current pace in requests per second (for tests and logs).
func (l *Limiter) Rate() float64 { return float64(l.lim.Limit()) }

// RetryPolicy decides how often and how long to retry 429 and 5xx answers.
type RetryPolicy struct {
	MaxAttempts int           // total attempts including the first
	BaseDelay   time.Duration // first backoff for 5xx and transport errors
	MaxDelay    time.Duration // cap for any single wait
}

// DefaultRetryPolicy is used when a Config leaves Retry nil.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 6, BaseDelay: 500 * time.Millisecond, MaxDelay: maxResetWait}

// delay returns the wait before attempt n+1 after a failed attempt n. A known
// reset time wins over exponential backoff.
func (p RetryPolicy) delay(n int, reset time.Time) time.Duration {
	var d time.Duration
	if !reset.IsZero() {
		d = time.Until(reset) + time.Duration(rand.Int64N(int64(p.BaseDelay)+1))
	} else {
		d = p.BaseDelay << min(n-1, 16)
		d += time.Duration(rand.Int64N(int64(d)/2 + 1))
	}
	return max(0, min(d, p.MaxDelay))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
