// Package dataversetest is an in-process Dataverse Web API emulator, like
// net/http/httptest, serving a generated sampleorg.Org over loopback HTTP.
//
// It is written from the spec (docs: spec/dataverse-api.md) and never imports
// the snapshot client, so the two disagree when one of them is wrong.
//
// Served: the OAuth client-credentials token endpoint
// POST /{tenant}/oauth2/v2.0/token, and under /api/data/v9.2/: the service
// document, WhoAmI, entity sets with $select, $filter (see filter.go),
// $orderby (primary key asc/desc), $top, $count, keyset paging with an opaque
// $skiptoken cookie, Prefer odata.maxpagesize and odata.include-annotations,
// single records, /$count, RetrieveTotalRecordCount, and EntityDefinitions
// with Attributes, casts and option sets. Service protection answers 429
// with Retry-After when a request budget, a concurrency cap or an
// execution-time budget is exceeded. Change tracking (changes.go), binary
// content and block downloads (binary.go) and fault injection (5xx bursts,
// dropped connections, slow pages) are optional behaviours of Options.
package dataversetest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// BasePath is where the Web API lives.
const BasePath = "/api/data/v9.2/"

// Options configures the emulator. Zero values give an unthrottled server
// that accepts any client id and secret.
type Options struct {
	TenantID     string // "" accepts any tenant in the token path
	ClientID     string // "" accepts any client id
	ClientSecret string // checked when ClientID is set
	// TokenLifetime is the expires_in of issued tokens (default 3599s).
	TokenLifetime time.Duration

	// RequestsPerWindow and Window set the "number of requests" service
	// protection limit per token (0 = unlimited; Window defaults to 300s).
	RequestsPerWindow int
	Window            time.Duration
	// MaxConcurrent answers 429 0x80072326 beyond this many in-flight
	// requests (0 = unlimited).
	MaxConcurrent int
	// ExecutionTimePerWindow answers 429 0x80072321 once the handlers' summed
	// duration in Window exceeds it (0 = unlimited).
	ExecutionTimePerWindow time.Duration
	// Fault, when set, is asked before each API request (n counts from 1);
	// a non-zero status is answered instead of the request (fault injection).
	Fault func(n int64, r *http.Request) int

	// DOPHint is the x-ms-dop-hint header value (default 4).
	DOPHint int

	// Burst answers runs of 5xx (off when Every is 0).
	Burst Burst
	// DropEvery cuts every Nth entity-set page mid-body: the connection
	// closes after part of the JSON has been sent (0 = never).
	DropEvery int64
	// SlowEvery stalls every Nth entity-set page for SlowDelay after its
	// first rows have been sent (0 = never).
	SlowEvery int64
	SlowDelay time.Duration

	// ChurnAt changes tables just before request number N (counted as in
	// Fault) is served, e.g. between a full snapshot and a delta pass.
	ChurnAt map[int64]map[string]Churn
	// PageChurn changes the listed table before each follow-up page
	// ($skiptoken) is served: rows inserted, updated and deleted between
	// the pages of one read.
	PageChurn Churn
	// DeltaTokenLifetime is how long delta tokens stay valid (default 7
	// days, the documented default of expirechangetrackingindays).
	DeltaTokenLifetime time.Duration
	// IgnoreUntrackedChanges makes odata.track-changes on a table without
	// change tracking return a plain read instead of a 400 error (the real
	// answer is unverified, spec §8.1).
	IgnoreUntrackedChanges bool
	// DeltaFromLastPage mints the delta token of a change-tracking read when
	// its last page is served instead of when its first page is, so changes
	// made during the read are lost (the open question of spec §8.2).
	DeltaFromLastPage bool

	// PageCache, when set, is a directory where list pages are kept as
	// rendered and answered from on the same request again, for benchmarks
	// of the client on a small machine (pagecache.go). Off by default; only
	// for a static org (no churn, change tracking or page faults).
	PageCache string
}

// Burst makes Length consecutive requests out of every Every answer Status
// (default 503): requests n with (n-1) mod Every >= Every-Length.
type Burst struct {
	Every, Length int64
	Status        int
}

func (b Burst) hit(n int64) int {
	if b.Every <= 0 || b.Length <= 0 || (n-1)%b.Every < b.Every-b.Length {
		return 0
	}
	if b.Status == 0 {
		return http.StatusServiceUnavailable
	}
	return b.Status
}

// Org is what the emulator serves; *sampleorg.Org implements it.
type Org interface {
	Tables() []string
	Entity(table string) *sampleorg.Entity
	Count(table string) int
	Row(table string, i int) (sampleorg.Row, error)
	ID(table string, i int) string
	IndexOf(table, id string) (int, bool)
}

// Server is a running emulator.
type Server struct {
	URL string // scheme://host:port, no trailing slash; the Web API is URL+BasePath

	org     Org
	opt     Options
	handler http.Handler
	hs      *httptest.Server

	mu       sync.Mutex
	tokens   map[string]time.Time // token -> expiry
	windows  map[string]*window   // per token
	inflight int
	requests atomic.Int64
	throttle atomic.Int64
	pages    atomic.Int64 // entity-set pages served, for DropEvery and SlowEvery
	log      []RequestInfo

	changes changeLog
}

// RequestInfo records one API request for tests.
type RequestInfo struct {
	Method, URI, Prefer string
	Status              int
}

const logCap = 10000

// NewServer starts an emulator on 127.0.0.1 with a random port.
func NewServer(org Org, opt Options) *Server {
	s := newServer(org, opt)
	s.hs = httptest.NewServer(s.handler)
	s.URL = s.hs.URL
	return s
}

// NewUnstarted builds a server whose Handler can be mounted elsewhere (e.g.
// `d2i serve dataverse --listen ADDR`); call Start or serve Handler yourself
// and set URL to the public base so that nextLinks point back at it.
func NewUnstarted(org Org, opt Options) *Server { return newServer(org, opt) }

func newServer(org Org, opt Options) *Server {
	if opt.TokenLifetime == 0 {
		opt.TokenLifetime = 3599 * time.Second
	}
	if opt.Window == 0 {
		opt.Window = 300 * time.Second
	}
	if opt.DOPHint == 0 {
		opt.DOPHint = 4
	}
	if opt.DeltaTokenLifetime == 0 {
		opt.DeltaTokenLifetime = 7 * 24 * time.Hour
	}
	s := &Server{org: org, opt: opt, tokens: map[string]time.Time{}, windows: map[string]*window{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.handleToken)
	mux.Handle(BasePath, http.HandlerFunc(s.handleAPI))
	s.handler = mux
	return s
}

// Start listens on 127.0.0.1:0 and serves; URL is set. Only for servers
// made with NewUnstarted.
func (s *Server) Start() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("dataversetest: listen: %w", err)
	}
	s.hs = &httptest.Server{Listener: l, Config: &http.Server{Handler: s.handler}}
	s.hs.Start()
	s.URL = s.hs.URL
	return nil
}

// Handler serves the token endpoint and the Web API.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops a started server.
func (s *Server) Close() {
	if s.hs != nil {
		s.hs.Close()
	}
}

// APIURL is the Web API root, e.g. http://127.0.0.1:1234/api/data/v9.2/.
func (s *Server) APIURL() string { return s.URL + BasePath }

// Requests is the number of Web API requests received (token calls excluded,
// throttled ones included).
func (s *Server) Requests() int64 { return s.requests.Load() }

// Throttled is the number of requests answered with 429.
func (s *Server) Throttled() int64 { return s.throttle.Load() }

// RequestLog returns the last (up to 10,000) API requests.
func (s *Server) RequestLog() []RequestInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RequestInfo(nil), s.log...)
}

// IssueToken mints a valid bearer token without the OAuth round trip.
func (s *Server) IssueToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := "eyJ0eXAiOiJKV1QifQ." + hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[tok] = time.Now().Add(s.opt.TokenLifetime)
	s.mu.Unlock()
	return tok
}

// handleToken implements the Entra ID v2 client-credentials grant.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: malformed form body")
		return
	}
	if s.opt.TenantID != "" && r.PathValue("tenant") != s.opt.TenantID {
		tokenError(w, http.StatusBadRequest, "invalid_tenant", "AADSTS90002: Tenant not found.")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: grant_type must be client_credentials.")
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(p)
	}
	if s.opt.ClientID != "" && (id != s.opt.ClientID || secret != s.opt.ClientSecret) {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	secs := int(s.opt.TokenLifetime / time.Second)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": s.IssueToken(),
	})
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": code, "error_description": desc})
}

// bearer returns the request's token if it is valid.
func (s *Server) bearer(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return tok, ok && time.Now().Before(exp)
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1)
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	defer func() { s.record(r, rec.status) }()
	w = rec
	h := w.Header()
	h.Set("OData-Version", "4.0")
	h.Set("x-ms-dop-hint", fmt.Sprint(s.opt.DOPHint))
	tok, ok := s.bearer(r)
	if !ok {
		h.Set("WWW-Authenticate", fmt.Sprintf("Bearer authorization_uri=%s/%s/oauth2/authorize, resource_id=%s/",
			s.URL, s.tenantOr("common"), s.URL))
		writeError(w, http.StatusUnauthorized, "0x80072243", "The user is not authenticated: a valid bearer token is required.")
		return
	}
	if s.opt.Fault != nil {
		if st := s.opt.Fault(n, r); st != 0 {
			s.injectFault(w, st, n)
			return
		}
	}
	if st := s.opt.Burst.hit(n); st != 0 {
		writeError(w, st, "", fmt.Sprintf("Injected burst fault %d on request %d.", st, n))
		return
	}
	for table, c := range s.opt.ChurnAt[n] {
		if _, err := s.Churn(table, c); err != nil {
			writeError(w, http.StatusInternalServerError, "", err.Error())
			return
		}
	}
	release, denied := s.admit(tok, w)
	if denied {
		s.throttle.Add(1)
		return
	}
	start := time.Now()
	defer func() { release(time.Since(start)) }()
	switch {
	case r.Method == http.MethodPost && s.isAction(r):
		s.action(w, r)
	case r.Method != http.MethodGet:
		writeError(w, http.StatusMethodNotAllowed, "0x80060888", "The emulator is read-only: "+r.Method+" is not supported.")
	default:
		s.route(w, r)
	}
}

func (s *Server) tenantOr(def string) string {
	if s.opt.TenantID != "" {
		return s.opt.TenantID
	}
	return def
}

func (s *Server) record(r *http.Request, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) >= logCap {
		s.log = s.log[1:]
	}
	s.log = append(s.log, RequestInfo{Method: r.Method, URI: r.URL.RequestURI(), Prefer: strings.Join(r.Header.Values("Prefer"), ", "), Status: status})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Flush lets pages reach the client before a drop or a stall.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// writeError writes the Dataverse error body {"error":{"code","message"}}.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
