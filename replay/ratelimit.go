package replay

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultRatePerMinute is Intercom's documented default per-app allowance.
const DefaultRatePerMinute = 10000

// maxResetWait caps how long a Reset header can make us wait, so a skewed
// clock cannot stall a run; Intercom windows are 10 seconds long.
const maxResetWait = 15 * time.Second

// limitWindow is Intercom's rate-limit window: the per-minute allowance is split
// into six of them and the counter resets at each boundary.
const limitWindow = 10 * time.Second

// resetMargin is waited past a window's reset before its successor is
// spent, for the request in flight across the boundary; clock skew seen in
// the headers is added to it.
const (
	resetMargin = 50 * time.Millisecond
	maxSkew     = 2 * time.Second
)

// Limiter spends one workspace's allowance window by window, the way
// Intercom counts it: at most the window's allowance is sent before the
// window's reset, then sending waits for the next window. The server's
// X-RateLimit-Reset aligns our windows with its own, and -Remaining lowers
// what is left when others share the workspace. A token bucket cannot do
// this: refilling while a fixed window is spent overruns the window (429s),
// and pacing evenly strands what a window has left when the run starts
// part-way through it. Share one Limiter between all workers.
type Limiter struct {
	mu        sync.Mutex
	perWindow int       // allowance of one window
	windowEnd time.Time // end of the window being spent (margin included); zero until the first Wait
	confirmed bool      // windowEnd comes from the server's Reset, not our guess
	left      int       // requests that may still be sent before windowEnd
	inFlight  int       // sent and not yet answered
	skew      time.Duration
	now       func() time.Time
}

// NewLimiter starts from perMinute (<= 0 means DefaultRatePerMinute); the
// server's headers correct it from the first response on.
func NewLimiter(perMinute int) *Limiter {
	if perMinute <= 0 {
		perMinute = DefaultRatePerMinute
	}
	perWindow := max(1, perMinute/6)
	return &Limiter{perWindow: perWindow, left: perWindow, now: time.Now}
}

// Wait blocks until a request may be sent. Every Wait that returns nil must
// be followed by one Observe, with the answer's headers or nil.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		wait := l.take()
		if wait <= 0 {
			return nil
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// take spends one request of the current window, or says how long to wait
// for the next one.
func (l *Limiter) take() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.windowEnd.IsZero() {
		// Before any answer the server's windows are unknown: assume one
		// starts now; the first answer realigns.
		l.windowEnd = now.Add(limitWindow)
	}
	if !now.Before(l.windowEnd) {
		steps := now.Sub(l.windowEnd)/limitWindow + 1
		l.windowEnd = l.windowEnd.Add(steps * limitWindow)
		l.left = l.perWindow
	}
	if l.left > 0 {
		l.left--
		l.inFlight++
		return 0
	}
	return l.windowEnd.Sub(now)
}

// Observe corrects the window from an answer's rate-limit headers; h is nil
// when the request got no answer. Absent headers mean "unknown", never "zero".
func (l *Limiter) Observe(h http.Header) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight = max(0, l.inFlight-1)
	if h == nil {
		return
	}
	if limit, err := strconv.Atoi(h.Get("X-RateLimit-Limit")); err == nil && limit > 0 {
		// The header is the allowance of one 10-second window.
		l.left = max(0, l.left+limit-l.perWindow)
		l.perWindow = limit
	}
	reset := parseReset(h)
	if reset.IsZero() {
		return
	}
	remaining, errR := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if late := l.now().Sub(reset); late > 0 && errR == nil && remaining <= 0 {
		// A window we took for over is still spent at the server: our clock
		// is ahead of Intercom's by about late (or the answer was slow).
		l.skew = min(max(l.skew, late), maxSkew)
	}
	end := reset.Add(resetMargin + l.skew)
	switch {
	case !l.confirmed || end.After(l.windowEnd):
		// Our guess, or a window newer than we thought: take the server's,
		// minus what we have in flight that may yet count in it.
		l.windowEnd, l.confirmed = end, true
		if errR == nil {
			l.left = min(l.left, max(0, remaining-l.inFlight))
		}
	case errR == nil && end.Equal(l.windowEnd):
		// Alone in the workspace, Remaining never falls below our own count;
		// when it does, someone else spends the allowance too.
		l.left = min(l.left, max(0, remaining))
	}
}

// Rate reports the allowance in requests per second (for tests and logs).
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return float64(l.perWindow) / limitWindow.Seconds()
}

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
