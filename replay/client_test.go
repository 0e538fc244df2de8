package replay

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var fastRetry = &RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

const secretToken = "tok-SECRET-123"

func newTestClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := NewClient(ClientOptions{BaseURL: srv.URL, Token: secretToken, Retry: fastRetry,
		Limiter: NewLimiter(600000)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fixture is a recorded HTTP answer under testdata/.
type fixture struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

func loadFixture(t *testing.T, name string) fixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestClientSendsHeaders(t *testing.T) {
	tests := []struct {
		name        string
		call        func(c *Client) error
		wantVersion string
		wantPath    string
	}{
		{"admins with 2.14", func(c *Client) error { _, err := c.ListAdmins(context.Background()); return err },
			"2.14", "/admins"},
		{"conversation attribute with 2.16", func(c *Client) error {
			_, err := c.CreateConversationAttribute(context.Background(),
				ConversationAttributeRequest{Name: "x", DataType: "string"})
			return err
		}, "2.16", "/conversations/attributes"},
		{"admin comment with skip_notifications on 2.16", func(c *Client) error {
			skip := true
			_, err := c.Reply(context.Background(), "7", ReplyRequest{Type: "admin", AdminID: "1",
				MessageType: "comment", Body: "b", SkipNotifications: &skip}, Version216)
			return err
		}, "2.16", "/conversations/7/reply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *http.Request
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				got = r
				io.WriteString(w, `{"type":"list","data":[]}`)
			})
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			if v := got.Header.Get("Intercom-Version"); v != tt.wantVersion {
				t.Errorf("Intercom-Version = %q, want %q", v, tt.wantVersion)
			}
			if a := got.Header.Get("Authorization"); a != "Bearer "+secretToken {
				t.Errorf("Authorization = %q", a)
			}
			if got.Header.Get("Accept") != "application/json" {
				t.Errorf("no Accept header")
			}
			if got.URL.Path != tt.wantPath {
				t.Errorf("path = %q, want %q", got.URL.Path, tt.wantPath)
			}
		})
	}
}

func TestClientTypedErrors(t *testing.T) {
	br03 := loadFixtureExchange(t)
	br02 := loadFixture(t, "br02_intercom_409_multiple_users.json")
	tests := []struct {
		name   string
		status int
		body   string
		check  func(t *testing.T, err error)
	}{
		{"409 with existing id (BR03)", 409, br03, func(t *testing.T, err error) {
			var cf *Conflict
			if !errors.As(err, &cf) || cf.ExistingID != "5ff2b0a47543cba3058e8b79" {
				t.Fatalf("want Conflict with id, got %#v", err)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != 409 || ae.Code != "conflict" {
				t.Errorf("Conflict does not unwrap to APIError: %v", err)
			}
		}},
		{"409 without id, email redacted (BR02)", 409, string(br02.Body), func(t *testing.T, err error) {
			var cf *Conflict
			if !errors.As(err, &cf) || cf.ExistingID != "" {
				t.Fatalf("want Conflict without id, got %#v", err)
			}
			if strings.Contains(err.Error(), "jane.sample@example.com") {
				t.Errorf("error carries an e-mail address: %v", err)
			}
		}},
		{"409 archived", 409, `{"type":"error.list","errors":[{"code":"conflict",
			"message":"An archived contact matching those details already exists with id=6762f0dd1bb69f9f2193bb83"}]}`,
			func(t *testing.T, err error) {
				var cf *Conflict
				if !errors.As(err, &cf) || !cf.Archived || cf.ExistingID != "6762f0dd1bb69f9f2193bb83" {
					t.Fatalf("want archived Conflict, got %#v", err)
				}
			}},
		{"404", 404, `{"type":"error.list","request_id":"r1","errors":[{"code":"not_found","message":"User Not Found"}]}`,
			func(t *testing.T, err error) {
				var nf *NotFound
				if !errors.As(err, &nf) || nf.RequestID != "r1" {
					t.Fatalf("want NotFound, got %#v", err)
				}
			}},
		{"400 plain APIError", 400, `{"type":"error.list","errors":[{"code":"parameter_invalid","message":"bad"}]}`,
			func(t *testing.T, err error) {
				var ae *APIError
				var nf *NotFound
				if !errors.As(err, &ae) || ae.Code != "parameter_invalid" || errors.As(err, &nf) {
					t.Fatalf("want APIError, got %#v", err)
				}
			}},
		{"huge HTML body is cut", 400, "<html>" + strings.Repeat("x", 10*maxErrorBody), func(t *testing.T, err error) {
			if len(err.Error()) > 500 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			_, err := c.GetContact(context.Background(), "abc")
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), secretToken) {
				t.Errorf("error carries the token: %v", err)
			}
			tt.check(t, err)
		})
	}
}

// loadFixtureExchange returns the 409 body of BR03's last exchange.
func loadFixtureExchange(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/br03_intercom_409_conflict_race.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Exchanges []struct {
			Response struct {
				Status int             `json:"status"`
				Body   json.RawMessage `json:"body"`
			} `json:"response"`
		} `json:"exchanges"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	last := f.Exchanges[len(f.Exchanges)-1].Response
	if last.Status != 409 {
		t.Fatalf("fixture's last exchange is %d", last.Status)
	}
	return string(last.Body)
}

func TestClientRetries(t *testing.T) {
	rl := loadFixture(t, "intercomnode_error_429_rate_limit.json")
	tests := []struct {
		name       string
		fail       int // answers before success
		status     int
		idempotent bool
		wantCalls  int32
		wantErr    func(error) bool
	}{
		{"429 then success", 2, 429, false, 3, nil},
		{"429 forever", 9, 429, true, 3, func(err error) bool { var r *RateLimited; return errors.As(err, &r) }},
		{"503 on idempotent retried", 2, 503, true, 3, nil},
		{"502 on create is uncertain, not resent", 1, 502, false, 1,
			func(err error) bool { var u *UncertainError; return errors.As(err, &u) }},
		{"400 not retried", 5, 400, true, 1, func(err error) bool { var a *APIError; return errors.As(err, &a) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				if int(n) <= tt.fail {
					if tt.status == 429 {
						for k, v := range rl.Headers {
							w.Header().Set(k, v)
						}
						w.WriteHeader(429)
						w.Write(rl.Body)
						return
					}
					w.WriteHeader(tt.status)
					io.WriteString(w, "<html>bad gateway</html>")
					return
				}
				io.WriteString(w, `{"type":"contact","id":"6762f0dd1bb69f9f2193bb83"}`)
			})
			var err error
			if tt.idempotent {
				_, err = c.GetContact(context.Background(), "x")
			} else {
				_, err = c.CreateContact(context.Background(), ContactRequest{Role: "user", Email: "a@b.c"})
			}
			if calls.Load() != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls.Load(), tt.wantCalls)
			}
			if tt.wantErr == nil && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.wantErr != nil && !tt.wantErr(err) {
				t.Fatalf("wrong error %#v", err)
			}
		})
	}
}

func TestLimiterFollowsHeaders(t *testing.T) {
	tests := []struct {
		name      string
		headers   map[string]string
		wantRate  float64
		wantPause bool
	}{
		{"no headers keep the configured pace", nil, 100, false},
		{"limit per window sets the pace", map[string]string{"X-RateLimit-Limit": "83",
			"X-RateLimit-Remaining": "50"}, 8.3, false},
		{"spent window pauses until reset", map[string]string{"X-RateLimit-Limit": "166",
			"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "RESET"}, 16.6, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLimiter(6000)
			h := http.Header{}
			for k, v := range tt.headers {
				if v == "RESET" {
					v = strconv.FormatInt(time.Now().Add(2*time.Second).Unix(), 10)
				}
				h.Set(k, v)
			}
			l.Observe(h)
			if got := l.Rate(); got < tt.wantRate-0.01 || got > tt.wantRate+0.01 {
				t.Errorf("rate = %v, want %v", got, tt.wantRate)
			}
			if paused := l.take() > 0; paused != tt.wantPause {
				t.Errorf("paused = %v, want %v", paused, tt.wantPause)
			}
		})
	}
}

func TestTokenFromEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tok")
	os.WriteFile(file, []byte("from-file\n"), 0o600)
	tests := []struct{ env, file, want string }{
		{"from-env", "", "from-env"},
		{"", file, "from-file"},
		{"", "", ""},
	}
	for _, tt := range tests {
		t.Setenv("D2I_INTERCOM_TOKEN", tt.env)
		t.Setenv("D2I_INTERCOM_TOKEN_FILE", tt.file)
		got, err := TokenFromEnv()
		if got != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("TokenFromEnv() = %q, %v; want %q", got, err, tt.want)
		}
	}
}

func TestBaseURLs(t *testing.T) {
	for _, u := range []string{BaseURLUS, BaseURLEU, BaseURLAU, "http://127.0.0.1:9"} {
		if _, err := NewClient(ClientOptions{BaseURL: u, Token: "t"}); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	if _, err := NewClient(ClientOptions{BaseURL: "not a url", Token: "t"}); err == nil {
		t.Error("bad URL accepted")
	}
}
