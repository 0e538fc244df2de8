package intercomtest

import (
	"net/http"
	"strconv"
	"time"
)

// rateWindow counts requests in the current 10-second window. Intercom splits its
// per-minute allowance into six such windows and resets the counter at each boundary.
// TODO: separate per-app and per-workspace counters (one token is emulated).
type rateWindow struct {
	start int64 // unix seconds, a multiple of 10
	used  int
}

func (w *rateWindow) roll(now time.Time) {
	start := now.Unix() - now.Unix()%10
	if start != w.start {
		w.start, w.used = start, 0
	}
}

// take counts one request and says whether it fits in the allowance (0 = unlimited).
func (w *rateWindow) take(now time.Time, allowance int) bool {
	w.roll(now)
	if allowance > 0 && w.used >= allowance {
		return false
	}
	w.used++
	return true
}

func (w *rateWindow) headers(h http.Header, now time.Time, limit int) {
	w.roll(now)
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(limit-w.used, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(w.start+10, 10))
}
