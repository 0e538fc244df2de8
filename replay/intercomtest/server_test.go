package intercomtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestUnauthorized(t *testing.T) {
	s := newTestServer(t, Options{})
	want := fixture(t, "openapi211_error_401_unauthorized.json")
	wantErr := want["errors"].([]any)[0].(map[string]any)
	for _, auth := range []string{"", "Bearer wrong", "Basic " + testToken} {
		req, _ := http.NewRequest("GET", s.URL+"/me", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 || res.Header.Get("X-RateLimit-Limit") != "" {
			t.Errorf("auth %q: status %d, rate headers %q", auth, res.StatusCode, res.Header.Get("X-RateLimit-Limit"))
		}
	}
	// Same body as Intercom's example, request id aside.
	req, _ := http.NewRequest("GET", s.URL+"/me", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	if code, msg := errCode(r); code != wantErr["code"] || msg != wantErr["message"] ||
		r.body["type"] != "error.list" || r.body["request_id"] == nil {
		t.Errorf("401 body %s, want %v", raw, wantErr)
	}
	if s.Requests() != 0 {
		t.Errorf("unauthenticated requests counted: %d", s.Requests())
	}
}

func TestMeAdminsTeams(t *testing.T) {
	s := newTestServer(t, Options{Validate: true})
	me := must(t, do(t, s, "GET", "/me", "2.14", nil), 200)
	if me["id"] != testAdmins[0].ID || me["app"] == nil {
		t.Errorf("me = %v", me)
	}
	admins := must(t, do(t, s, "GET", "/admins", "2.14", nil), 200)["admins"].([]any)
	teams := must(t, do(t, s, "GET", "/teams", "2.14", nil), 200)["teams"].([]any)
	if len(admins) != 2 || len(teams) != 1 || teams[0].(map[string]any)["name"] != "Support" {
		t.Errorf("admins %v teams %v", admins, teams)
	}
	if r := do(t, s, "POST", "/teams", "2.14", map[string]any{"name": "x"}); r.status < 400 {
		t.Errorf("team create allowed: %d", r.status)
	}
}

func TestRateLimit(t *testing.T) {
	clock := newClock()
	s := newTestServer(t, Options{RequestsPer10s: 3, Clock: clock.Now})
	want := fixture(t, "intercomnode_error_429_rate_limit.json")
	wantErr := want["body"].(map[string]any)["errors"].([]any)[0].(map[string]any)
	reset := strconv.FormatInt(clock.Now().Unix()+10, 10)

	for i := 1; i <= 4; i++ {
		r := do(t, s, "GET", "/admins", "2.14", nil)
		h := r.header
		if h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Reset") != reset {
			t.Errorf("request %d headers: %v", i, h)
		}
		if i <= 3 {
			must(t, r, 200)
			if got := h.Get("X-RateLimit-Remaining"); got != strconv.Itoa(3-i) {
				t.Errorf("request %d remaining %s", i, got)
			}
			continue
		}
		must(t, r, 429)
		code, msg := errCode(r)
		wantMsg := strings.Replace(wantErr["message"].(string), "83", "3", 1)
		if code != wantErr["code"] || msg != wantMsg || h.Get("X-RateLimit-Remaining") != "0" {
			t.Errorf("429 = %s (remaining %s), want %q", r.raw, h.Get("X-RateLimit-Remaining"), wantMsg)
		}
	}

	clock.Advance(10 * time.Second)
	r := do(t, s, "GET", "/admins", "2.14", nil)
	must(t, r, 200)
	if r.header.Get("X-RateLimit-Remaining") != "2" ||
		r.header.Get("X-RateLimit-Reset") != strconv.FormatInt(clock.Now().Unix()+10, 10) {
		t.Errorf("next window headers: %v", r.header)
	}
}

func TestVersions(t *testing.T) {
	s := newTestServer(t, Options{Validate: true})
	if r := do(t, s, "GET", "/me", "", nil); r.status != 200 {
		t.Errorf("no version header (app default): %d", r.status)
	}
	if r := do(t, s, "GET", "/me", "2.15", nil); r.status != 400 {
		t.Errorf("version 2.15 (not emulated): %d", r.status)
	}
	if r := do(t, s, "GET", "/conversations/attributes", "2.14", nil); r.status != 404 {
		t.Errorf("2.16 endpoint under 2.14: %d", r.status)
	}
}

func TestValidation(t *testing.T) {
	s := newTestServer(t, Options{Validate: true, DataAttributes: []DataAttribute{
		{Model: "company", Name: "seats", DataType: "integer"},
		{Model: "conversation", Name: "escalated", DataType: "boolean"}}})
	cid := createContact(t, s, map[string]any{"email": "a@example.com"})
	convID := createConversation(t, s, cid, 0)
	admin := testAdmins[0].ID
	tests := []struct {
		name          string
		method, path  string
		version       string
		body          map[string]any
		wantStatus    int
		wantInMessage string
	}{
		{"body of wrong type", "POST", "/conversations", "2.14",
			map[string]any{"from": map[string]any{"type": "user", "id": cid}, "body": 42}, 400, "OpenAPI 2.14"},
		{"from.id too short", "POST", "/conversations", "2.14",
			map[string]any{"from": map[string]any{"type": "user", "id": "abc"}, "body": "x"}, 400, "OpenAPI"},
		{"valid create with 24-hex from.id (loosening)", "POST", "/conversations", "2.14",
			map[string]any{"from": map[string]any{"type": "user", "id": cid}, "body": "x"}, 200, ""},
		{"reply without admin_id", "POST", "/conversations/" + convID + "/reply", "2.14",
			map[string]any{"type": "admin", "message_type": "note", "body": "x"}, 400, "OpenAPI"},
		{"skip_notifications as string under 2.16", "POST", "/conversations/" + convID + "/reply", "2.16",
			map[string]any{"type": "admin", "admin_id": admin, "message_type": "comment", "body": "x",
				"skip_notifications": "yes"}, 400, "OpenAPI 2.16"},
		{"skip_notifications under 2.16", "POST", "/conversations/" + convID + "/reply", "2.16",
			map[string]any{"type": "admin", "admin_id": admin, "message_type": "comment", "body": "x",
				"skip_notifications": true}, 200, ""},
		{"typed company attribute (loosening)", "POST", "/companies", "2.14",
			map[string]any{"company_id": "a", "custom_attributes": map[string]any{"seats": 5}}, 200, ""},
		{"boolean conversation attribute (loosening)", "PUT", "/conversations/" + convID, "2.14",
			map[string]any{"custom_attributes": map[string]any{"escalated": true}}, 200, ""},
		{"bad search operator", "POST", "/contacts/search", "2.14",
			map[string]any{"query": map[string]any{"field": "email", "operator": "==", "value": "a"}}, 400, "OpenAPI"},
		{"data attribute with unknown model", "POST", "/data_attributes", "2.14",
			map[string]any{"name": "x", "model": "conversation", "data_type": "string"}, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, tc.method, tc.path, tc.version, tc.body)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tc.wantStatus, r.raw)
			}
			if _, msg := errCode(r); !strings.Contains(msg, tc.wantInMessage) {
				t.Errorf("message %q lacks %q", msg, tc.wantInMessage)
			}
		})
	}
}

// A required field left out is parameter_not_found, as Intercom answers it
// ("Name is a required parameter."); a wrong value stays parameter_invalid.
func TestValidationMissingRequired(t *testing.T) {
	s := newTestServer(t, Options{Validate: true})
	cid := createContact(t, s, map[string]any{"email": "a@example.com"})
	tests := []struct {
		name     string
		path     string
		body     map[string]any
		wantCode string
	}{
		{"conversation without body", "/conversations",
			map[string]any{"from": map[string]any{"type": "user", "id": cid}}, "parameter_not_found"},
		{"conversation without from.id", "/conversations",
			map[string]any{"from": map[string]any{"type": "user"}, "body": "x"}, "parameter_not_found"},
		{"data attribute without name", "/data_attributes",
			map[string]any{"model": "contact", "data_type": "string"}, "parameter_not_found"},
		{"conversation body of wrong type", "/conversations",
			map[string]any{"from": map[string]any{"type": "user", "id": cid}, "body": 42}, "parameter_invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, "POST", tc.path, "2.14", tc.body)
			code, msg := errCode(r)
			if r.status != 400 || code != tc.wantCode || !strings.Contains(msg, "OpenAPI") {
				t.Errorf("got %d %s %q, want 400 %s from the OpenAPI check", r.status, code, msg, tc.wantCode)
			}
		})
	}
}

// TestLoosenings: every entry still finds its defect in both descriptions.
func TestLoosenings(t *testing.T) {
	for _, v := range []string{"2.14", "2.16"} {
		if _, err := OpenAPI(v); err != nil {
			t.Errorf("OpenAPI(%s): %v", v, err)
		}
	}
	for _, l := range Loosenings {
		if l.Reason == "" || l.Name == "" {
			t.Errorf("loosening without name or reason: %+v", l)
		}
	}
}

func TestFaults(t *testing.T) {
	t.Run("FailEveryN", func(t *testing.T) {
		s := newTestServer(t, Options{FailEveryN: 2})
		must(t, do(t, s, "POST", "/contacts", "2.14", map[string]any{"email": "a@example.com"}), 200)
		r := do(t, s, "POST", "/contacts", "2.14", map[string]any{"email": "b@example.com"})
		if r.status != 503 || len(s.Contacts()) != 1 {
			t.Errorf("injected failure: %d, %d contacts", r.status, len(s.Contacts()))
		}
	})
	for _, mode := range []LoseMode{LoseDrop, LoseBadGateway} {
		t.Run("lose after commit "+strconv.Itoa(int(mode)), func(t *testing.T) {
			s := newTestServer(t, Options{LoseMode: mode,
				LoseResponse: func(r *http.Request, seq int) bool { return r.URL.Path == "/contacts" }})
			req, _ := http.NewRequest("POST", s.URL+"/contacts", strings.NewReader(`{"email":"a@example.com"}`))
			req.Header.Set("Authorization", "Bearer "+testToken)
			res, err := http.DefaultClient.Do(req)
			if mode == LoseDrop && err == nil {
				res.Body.Close()
				t.Fatalf("dropped response arrived: %d", res.StatusCode)
			}
			if mode == LoseBadGateway {
				if err != nil || res.StatusCode != 502 {
					t.Fatalf("502 mode: %v %v", err, res)
				}
				res.Body.Close()
			}
			if len(s.Contacts()) != 1 {
				t.Fatalf("write not committed: %d contacts", len(s.Contacts()))
			}
			// The retry sees the committed contact as a conflict naming its id.
			r := do(t, s, "POST", "/contacts", "2.14", map[string]any{"email": "a@example.com"})
			if _, msg := errCode(r); r.status != 409 || !strings.HasSuffix(msg, s.Contacts()[0].ID) {
				t.Errorf("retry: %d %s", r.status, r.raw)
			}
		})
	}
	t.Run("probability is reproducible", func(t *testing.T) {
		lost := func() int {
			s := newTestServer(t, Options{LoseResponseAfterCommit: 0.5, Seed: 7, LoseMode: LoseBadGateway})
			n := 0
			for i := range 20 {
				r := do(t, s, "POST", "/contacts", "2.14", map[string]any{"external_id": strconv.Itoa(i)})
				if r.status == 502 {
					n++
				}
			}
			if len(s.Contacts()) != 20 {
				t.Errorf("%d contacts committed, want 20", len(s.Contacts()))
			}
			return n
		}
		a, b := lost(), lost()
		if a != b || a == 0 || a == 20 {
			t.Errorf("lost %d then %d of 20", a, b)
		}
	})
}

// TestHandlerMount: New(...).Handler() serves the same API on a listener of one's own.
func TestHandlerMount(t *testing.T) {
	em := New(Options{Token: testToken, Admins: testAdmins})
	hs := httptest.NewServer(em.Handler())
	defer hs.Close()
	em.URL = hs.URL
	must(t, do(t, em, "GET", "/admins", "2.14", nil), 200)
	if em.Requests() != 1 {
		t.Errorf("Requests() = %d", em.Requests())
	}
}
