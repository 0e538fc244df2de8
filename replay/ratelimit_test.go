package replay

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// fakeClockLimiter is a Limiter of perMinute whose clock the test moves.
func fakeClockLimiter(perMinute int, now *time.Time) *Limiter {
	l := NewLimiter(perMinute)
	l.now = func() time.Time { return *now }
	return l
}

func rateHeaders(limit, remaining int, reset time.Time) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	return h
}

// takeAll spends what the current window allows and returns how many.
func takeAll(l *Limiter) int {
	n := 0
	for l.take() == 0 {
		n++
		if n > 1_000_000 {
			panic("limiter never stops")
		}
	}
	return n
}

func TestLimiterSpendsOneWindowThenWaits(t *testing.T) {
	now := time.Unix(1_800_000_003, 0)
	l := fakeClockLimiter(600, &now) // 100 a window
	if got := takeAll(l); got != 100 {
		t.Fatalf("first window allowed %d, want 100", got)
	}
	if wait := l.take(); wait != 10*time.Second {
		t.Errorf("wait = %v, want the rest of the assumed window (10s)", wait)
	}
	now = now.Add(10 * time.Second)
	if got := takeAll(l); got != 100 {
		t.Errorf("next window allowed %d, want 100", got)
	}
}

func TestLimiterAlignsWithTheServersWindow(t *testing.T) {
	now := time.Unix(1_800_000_003, 0)
	l := fakeClockLimiter(600, &now)
	for range 3 {
		l.take()
	}
	// The server's window ends 7 s from now and has seen our first request.
	reset := time.Unix(1_800_000_010, 0)
	l.Observe(rateHeaders(100, 99, reset))
	// 2 still in flight may count in this window too: 99 - 2 left.
	if got := takeAll(l); got != 97 {
		t.Errorf("left in the server's window = %d, want 97", got)
	}
	if wait := l.take(); wait != 7*time.Second+resetMargin {
		t.Errorf("wait = %v, want until the server's reset (7s + margin)", wait)
	}
	now = reset.Add(resetMargin)
	if got := takeAll(l); got != 100 {
		t.Errorf("after the reset %d allowed, want 100", got)
	}
}

func TestLimiterYieldsToOthersSpending(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := fakeClockLimiter(600, &now)
	reset := time.Unix(1_800_000_010, 0)
	l.take()
	l.Observe(rateHeaders(100, 99, reset))
	for range 10 {
		l.take()
		l.Observe(nil) // answered without headers, or lost
	}
	// Another app of the workspace spent 60: Remaining is below our count.
	l.take()
	l.Observe(rateHeaders(100, 28, reset))
	if got := takeAll(l); got != 28 {
		t.Errorf("left = %d, want the server's 28", got)
	}
}

func TestLimiterLearnsAClockAhead(t *testing.T) {
	now := time.Unix(1_800_000_010, 500_000_000)
	l := fakeClockLimiter(600, &now)
	l.take()
	// Our clock says the window ending at ...010 is over; the server still
	// counts in it and it is spent.
	l.Observe(rateHeaders(100, 0, time.Unix(1_800_000_010, 0)))
	if l.skew != 500*time.Millisecond {
		t.Fatalf("skew = %v, want 500ms", l.skew)
	}
	if wait := l.take(); wait != resetMargin {
		t.Fatalf("wait = %v, want until the server's reset as our clock reads it (%v)", wait, resetMargin)
	}
	now = now.Add(resetMargin)
	l.take()
	reset := time.Unix(1_800_000_020, 0)
	l.Observe(rateHeaders(100, 99, reset))
	takeAll(l)
	now = reset.Add(resetMargin)
	if wait := l.take(); wait != 500*time.Millisecond {
		t.Errorf("wait at the reset = %v, want the learnt skew (500ms)", wait)
	}
}
