package intercomtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// versions the emulator can serve; each has an OpenAPI file under openapi/.
var emulatedVersions = map[string]bool{"2.14": true, "2.16": true}

type ctxKey int

const (
	keyVersion ctxKey = iota
	keyRequestID
	keySeq
)

// middleware runs, in order: auth, version, rate limit, injected 5xx, then the route,
// whose answer is buffered so that it can be lost after commit.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := newRequestID()
		w.Header().Set("X-Request-Id", reqID)
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		seq, lose := s.serve(rec, r, reqID, next)
		s.opts.Logger.Debug("intercomtest request", "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "seq", seq)
		if lose {
			s.loseResponse(w)
			return
		}
		rec.flush(w)
	})
}

// serve fills rec and says whether the committed response must be lost.
func (s *Server) serve(rec *recorder, r *http.Request, reqID string, next http.Handler) (int, bool) {
	if !s.authorized(r) {
		if s.opts.RateLimitHeadersOn401 {
			s.mu.Lock()
			s.rl.headers(rec.header, s.now(), s.limit())
			s.mu.Unlock()
		}
		writeError(rec, reqID, &apiError{http.StatusUnauthorized, "unauthorized", "Access Token Invalid"})
		return 0, false
	}

	version := strings.TrimSpace(r.Header.Get("Intercom-Version"))
	if version == "" {
		version = s.opts.DefaultVersion
	}

	s.mu.Lock()
	s.seq++
	seq := s.seq
	allowed := s.rl.take(s.now(), s.opts.RequestsPer10s)
	s.rl.headers(rec.header, s.now(), s.limit())
	fail := s.opts.FailEveryN > 0 && seq%s.opts.FailEveryN == 0
	s.mu.Unlock()

	switch {
	case !allowed:
		writeError(rec, reqID, &apiError{http.StatusTooManyRequests, "rate_limit_exceeded",
			fmt.Sprintf("Exceeded rate limit of %d in 10_seconds", s.opts.RequestsPer10s)})
		return seq, false
	case !emulatedVersions[version]:
		// TODO: emulate 2.15 (only skip_notifications differs from 2.14 for our calls).
		writeError(rec, reqID, &apiError{http.StatusBadRequest, "bad_request",
			fmt.Sprintf("intercomtest emulates Intercom-Version 2.14 and 2.16, not %q", version)})
		return seq, false
	case fail:
		rec.header.Set("Content-Type", "text/html")
		rec.status = s.opts.FailStatus
		fmt.Fprintf(&rec.body, "<html><body><h1>%d %s</h1></body></html>\n",
			s.opts.FailStatus, http.StatusText(s.opts.FailStatus))
		return seq, false
	}

	ctx := context.WithValue(r.Context(), keyVersion, version)
	ctx = context.WithValue(ctx, keyRequestID, reqID)
	ctx = context.WithValue(ctx, keySeq, seq)
	next.ServeHTTP(rec, r.WithContext(ctx))
	return seq, s.shouldLose(r, seq, rec.status)
}

func (s *Server) authorized(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || token == "" {
		return false
	}
	return s.opts.Token == "" || token == s.opts.Token
}

func (s *Server) limit() int {
	if s.opts.RequestsPer10s > 0 {
		return s.opts.RequestsPer10s
	}
	return s.opts.HeaderLimit
}

// shouldLose decides, for a write that succeeded, whether its response is lost.
func (s *Server) shouldLose(r *http.Request, seq, status int) bool {
	if r.Method == http.MethodGet || status >= 300 {
		return false
	}
	if s.opts.LoseResponse != nil {
		return s.opts.LoseResponse(r, seq)
	}
	if s.opts.LoseResponseAfterCommit <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextFloat() < s.opts.LoseResponseAfterCommit
}

// nextFloat is a small xorshift generator so that runs with the same Seed lose the same
// responses. Callers hold s.mu.
func (s *Server) nextFloat() float64 {
	s.rnd ^= s.rnd << 13
	s.rnd ^= s.rnd >> 7
	s.rnd ^= s.rnd << 17
	return float64(s.rnd>>11) / float64(math.MaxUint64>>11)
}

func (s *Server) loseResponse(w http.ResponseWriter) {
	if s.opts.LoseMode == LoseBadGateway {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>\n")
		return
	}
	// Aborting the handler makes net/http close the connection without a response.
	panic(http.ErrAbortHandler)
}

// recorder buffers a response so that the middleware can still drop it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.status = code }

func (r *recorder) flush(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(r.body.Len()))
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func versionOf(r *http.Request) string {
	v, _ := r.Context().Value(keyVersion).(string)
	return v
}

func requestIDOf(r *http.Request) string {
	v, _ := r.Context().Value(keyRequestID).(string)
	return v
}

func seqOf(r *http.Request) int {
	v, _ := r.Context().Value(keySeq).(int)
	return v
}
