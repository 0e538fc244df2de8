package intercomtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const testToken = "tok-test"

var (
	testAdmins = []Admin{{ID: "991267696", Name: "Ana Admin", Email: "ana@example.com"},
		{ID: "991267697", Name: "Bo Admin", Email: "bo@example.com"}}
	testTeams = []Team{{ID: "5017691", Name: "Support", AdminIDs: []string{"991267696"}}}
)

// fakeClock is a settable clock shared by the server and the test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1764763200, 0)} } // a :00 boundary

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newTestServer(t *testing.T, opts Options) *Server {
	t.Helper()
	opts.Token = testToken
	if opts.Admins == nil {
		opts.Admins = testAdmins
	}
	if opts.Teams == nil {
		opts.Teams = testTeams
	}
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// do sends one request with the usual headers; version "" omits Intercom-Version.
func do(t *testing.T, s *Server, method, path, version string, body any) resp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("marshal body of %s %s: %v", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if version != "" {
		req.Header.Set("Intercom-Version", version)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, raw: raw}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// must asserts a status and returns the body.
func must(t *testing.T, r resp, status int) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r.body
}

func errCode(r resp) (string, string) {
	errs, _ := r.body["errors"].([]any)
	if len(errs) == 0 {
		return "", ""
	}
	e, _ := errs[0].(map[string]any)
	code, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	return code, msg
}

func fixture(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return m
}

func createContact(t *testing.T, s *Server, body map[string]any) string {
	t.Helper()
	return must(t, do(t, s, "POST", "/contacts", "2.14", body), 200)["id"].(string)
}

func createConversation(t *testing.T, s *Server, contactID string, createdAt int64) string {
	t.Helper()
	b := must(t, do(t, s, "POST", "/conversations", "2.14", map[string]any{
		"from": map[string]any{"type": "user", "id": contactID}, "body": "Printer on fire",
		"created_at": createdAt}), 200)
	return b["conversation_id"].(string)
}
