package dataversetest

import (
	"fmt"
	"math"
	"net/http"
	"time"
)

// window is one user's sliding service-protection window.
type window struct {
	starts []time.Time // request times, oldest first (at most RequestsPerWindow)
	execs  []execSpan  // handler durations, oldest first
}

type execSpan struct {
	at time.Time
	d  time.Duration
}

// admit applies the three service-protection limits (spec §7). On denial it
// has written the 429; otherwise release must be called with the handler's
// duration.
func (s *Server) admit(tok string, w http.ResponseWriter) (release func(time.Duration), denied bool) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	win := s.windows[tok]
	if win == nil {
		win = &window{}
		s.windows[tok] = win
	}
	cut := now.Add(-s.opt.Window)
	for len(win.starts) > 0 && !win.starts[0].After(cut) {
		win.starts = win.starts[1:]
	}
	for len(win.execs) > 0 && !win.execs[0].at.After(cut) {
		win.execs = win.execs[1:]
	}
	if s.opt.MaxConcurrent > 0 && s.inflight >= s.opt.MaxConcurrent {
		tooMany(w, 1, "0x80072326", fmt.Sprintf("Number of concurrent requests exceeded the limit of %d.", s.opt.MaxConcurrent))
		return nil, true
	}
	if n := s.opt.RequestsPerWindow; n > 0 && len(win.starts) >= n {
		wait := win.starts[0].Add(s.opt.Window).Sub(now)
		tooMany(w, wait, "0x80072322", fmt.Sprintf("Number of requests exceeded the limit of %d over time window of %d seconds.",
			n, int(s.opt.Window/time.Second)))
		return nil, true
	}
	if b := s.opt.ExecutionTimePerWindow; b > 0 {
		var sum time.Duration
		for _, e := range win.execs {
			sum += e.d
		}
		if sum > b {
			wait := win.execs[0].at.Add(s.opt.Window).Sub(now)
			tooMany(w, wait, "0x80072321", fmt.Sprintf("Combined execution time of incoming requests exceeded limit of %s  milliseconds over time window of %d seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.",
				groupDigits(b.Milliseconds()), int(s.opt.Window/time.Second)))
			return nil, true
		}
	}
	if s.opt.RequestsPerWindow > 0 {
		win.starts = append(win.starts, now)
	}
	s.inflight++
	return func(d time.Duration) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.inflight--
		if s.opt.ExecutionTimePerWindow > 0 {
			win.execs = append(win.execs, execSpan{at: time.Now(), d: d})
		}
	}, false
}

func tooMany(w http.ResponseWriter, wait time.Duration, code, msg string) {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	writeError(w, http.StatusTooManyRequests, code, msg)
}

// groupDigits writes 1200000 as 1,200,000, as the real message does.
func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	out := ""
	for len(s) > 3 {
		out = "," + s[len(s)-3:] + out
		s = s[:len(s)-3]
	}
	return s + out
}

// injectFault answers an injected status; an injected 429 is the request-count
// service-protection error with a one-second Retry-After, so a test can drive
// the throttling path at a fixed request instead of racing a time window.
func (s *Server) injectFault(w http.ResponseWriter, status int, n int64) {
	if status == http.StatusTooManyRequests {
		s.throttle.Add(1)
		tooMany(w, time.Second, "0x80072322", fmt.Sprintf("Injected: number of requests exceeded the limit on request %d.", n))
		return
	}
	writeError(w, status, "", fmt.Sprintf("Injected fault %d on request %d.", status, n))
}
