// Package intercomtest is an in-process emulator of the Intercom REST API (2.14, plus the
// few 2.16 calls the migration needs), in the manner of net/http/httptest.
//
// It is written from docs/spec (intercom-api.md and Intercom's OpenAPI descriptions) and
// imports nothing of the replay client, so that a misunderstanding in either one shows up
// as a disagreement in a test. It reproduces what makes migrations fail: uniqueness
// conflicts (409 naming the existing id), rate-limit headers and 429s, validation errors
// (every request can be checked against the OpenAPI file of its Intercom-Version), search
// that lags writes, 5xx bursts and responses lost after the write committed. It counts
// every customer notification the real service would have sent.
//
// Notifications. The migration must message no customer, so the emulator counts what
// the real service would have delivered: an admin reply of type comment or quick_reply
// unless skip_notifications is true on a version that has it (2.15+; 2.14 only with
// Options.SkipNotificationsOn214); a close part carrying a message body; every recipient
// of POST /messages. Notes, contact replies, assignments and state changes notify no one.
// Outbound rules that a workspace may run on new contacts are not emulated.
//
// Validation. With Options.Validate, each request is checked with kin-openapi against the
// embedded description of its Intercom-Version (openapi/, 2.14 or 2.16); a mismatch is a
// 400 parameter_invalid whose message starts with "intercomtest:". Known defects of the
// published descriptions are relaxed in one place, Loosenings.
//
// Where the spec is silent (exact error texts, conflict rules, archived names) the
// emulator picks the stricter reading and says so in a comment.
//
// State lives in memory behind one mutex; read helpers (Counts, Contacts, Conversation...)
// let tests assert what the emulator holds. Use NewServer in tests, or New(...).Handler()
// to mount the emulator on a listener of your own (d2i serve intercom).
package intercomtest

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Admin is a teammate of the emulated workspace. Admins cannot be created through the API.
type Admin struct {
	ID    string // decimal string, e.g. "991267696"
	Name  string
	Email string
}

// Team is an inbox team of the emulated workspace. Teams cannot be created through the API.
type Team struct {
	ID       string // decimal string
	Name     string
	AdminIDs []string
}

// DataAttribute seeds a custom data attribute, e.g. a conversation attribute that 2.14
// cannot create.
type DataAttribute struct {
	Model    string // contact | company | conversation
	Name     string
	DataType string // string | integer | float | boolean | date | datetime | options (list)
	Options  []string
}

// LoseMode says how a response is lost after its write committed.
type LoseMode int

const (
	// LoseDrop closes the connection without writing a response.
	LoseDrop LoseMode = iota
	// LoseBadGateway answers 502 with an HTML body, as a proxy in front of Intercom would.
	LoseBadGateway
)

// Options configures a Server. The zero value is a working, unlimited, unvalidated server.
type Options struct {
	Token  string  // bearer token required on every request; empty accepts any non-empty token
	Admins []Admin // the first one is the token's admin (GET /me)
	Teams  []Team
	// DataAttributes are custom attributes present before the run.
	DataAttributes []DataAttribute

	// DefaultVersion is used when a request has no Intercom-Version header: the real
	// service then uses the version set on the app. Default "2.14".
	DefaultVersion string
	// Validate checks every request against the OpenAPI description of its version.
	Validate bool

	// RequestsPer10s is the allowance of one 10-second window; 0 is unlimited (headers
	// then report HeaderLimit and no 429 is sent).
	RequestsPer10s int
	// HeaderLimit is X-RateLimit-Limit when RequestsPer10s is 0. Default 1666
	// (10,000 calls/min split into six windows).
	HeaderLimit int
	// RateLimitHeadersOn401 adds rate-limit headers to 401 answers. The spec marks
	// their absence as unverified, so it is a switch.
	RateLimitHeadersOn401 bool

	// SearchLag is how long a write stays invisible to /contacts/search and
	// /conversations/search. The real service lags by minutes.
	SearchLag time.Duration
	// ConversationSearchCustomAttributes allows custom_attributes.<name> fields in
	// conversation search; no Intercom source documents them, so it is off by default
	// and such a query gets a 400.
	ConversationSearchCustomAttributes bool
	// SkipNotificationsOn214 makes skip_notifications effective on admin replies sent
	// with Intercom-Version 2.14 (undocumented there; by default only 2.15+ honour it).
	SkipNotificationsOn214 bool
	// MaxDataAttributes is the per-workspace cap of live custom attributes. Default 250.
	MaxDataAttributes int
	// MaxCollectionDepth caps how deep help-center collections nest; 0 is no cap. No
	// limit is documented (spec §13), so tests choose one.
	MaxCollectionDepth int
	// MaxAttachmentBytes refuses an attachment_files entry whose decoded data is
	// larger; 0 is no cap. Intercom documents no size limit (spec §16), so the
	// cap is the test's choice.
	MaxAttachmentBytes int64

	// FailEveryN answers every Nth authenticated request with a 5xx before it is
	// processed (nothing committed). 0 disables.
	FailEveryN int
	// FailStatus is the status of injected failures. Default 503.
	FailStatus int
	// LoseResponse, when set, is asked after every successful write; true commits the
	// write and then loses the response (see LoseMode). Seq counts requests from 1.
	LoseResponse func(r *http.Request, seq int) bool
	// LoseResponseAfterCommit is a probability in [0,1] used when LoseResponse is nil.
	LoseResponseAfterCommit float64
	// Seed makes LoseResponseAfterCommit reproducible.
	Seed     int64
	LoseMode LoseMode

	// Clock returns the current time. Default time.Now.
	Clock func() time.Time
	// Logger receives one line per request (method, path, status). Default discards.
	Logger *slog.Logger
}

// Server is a running emulator.
type Server struct {
	URL string

	opts    Options
	handler http.Handler
	httpSrv *httptest.Server

	mu    sync.Mutex
	st    *state
	rl    rateWindow
	seq   int
	fails int
	rnd   uint64
}

// NewServer starts an emulator on 127.0.0.1 with a random port.
func NewServer(opts Options) *Server {
	s := New(opts)
	s.Start()
	return s
}

// New builds an emulator without listening; mount Handler() yourself (d2i serve intercom).
func New(opts Options) *Server {
	if opts.DefaultVersion == "" {
		opts.DefaultVersion = "2.14"
	}
	if opts.HeaderLimit <= 0 {
		opts.HeaderLimit = 1666
	}
	if opts.MaxDataAttributes <= 0 {
		opts.MaxDataAttributes = 250
	}
	if opts.FailStatus == 0 {
		opts.FailStatus = http.StatusServiceUnavailable
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, rnd: uint64(opts.Seed)*2654435761 + 1}
	s.st = newState(opts, s.now())
	s.handler = s.middleware(s.routes())
	return s
}

// Start listens on 127.0.0.1:0 and sets URL. It panics if it cannot listen, like httptest.
func (s *Server) Start() {
	s.httpSrv = httptest.NewUnstartedServer(s.handler)
	s.httpSrv.Start()
	s.URL = s.httpSrv.URL
}

// Close stops the listener and waits for requests in flight.
func (s *Server) Close() {
	if s.httpSrv != nil {
		s.httpSrv.Close()
	}
}

// Handler serves the emulated API.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) now() time.Time { return s.opts.Clock() }
