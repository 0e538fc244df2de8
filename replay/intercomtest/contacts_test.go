package intercomtest

import (
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

var conflictID = regexp.MustCompile(`already exists with id=([0-9a-f]{24})$`)

// TestConflictRaceBR03 replays bug report BR03: two searches find nothing, the first
// create succeeds, the second gets a 409 that names the first contact's id.
func TestConflictRaceBR03(t *testing.T) {
	s := newTestServer(t, Options{Validate: true})
	fx := fixture(t, "br03_intercom_409_conflict_race.json")
	var firstID string
	for i, ex := range fx["exchanges"].([]any) {
		ex := ex.(map[string]any)
		req, want := ex["request"].(map[string]any), ex["response"].(map[string]any)
		r := do(t, s, req["method"].(string), req["path"].(string), "2.14", req["body"])
		if r.status != int(want["status"].(float64)) {
			t.Fatalf("exchange %d: status %d, want %v: %s", i, r.status, want["status"], r.raw)
		}
		switch {
		case r.status == 200 && req["path"] == "/contacts":
			firstID = r.body["id"].(string)
		case r.status == 409:
			wantBody := want["body"].(map[string]any)
			wantErr := wantBody["errors"].([]any)[0].(map[string]any)
			code, msg := errCode(r)
			wantMsg := strings.Replace(wantErr["message"].(string), "5ff2b0a47543cba3058e8b79", firstID, 1)
			if code != wantErr["code"] || msg != wantMsg || r.body["type"] != wantBody["type"] {
				t.Errorf("409 body = %s, want code %v message %q", r.raw, wantErr["code"], wantMsg)
			}
		}
	}
	if n := len(s.Contacts()); n != 1 {
		t.Errorf("emulator holds %d contacts, want 1", n)
	}
}

func TestContactConflicts(t *testing.T) {
	tests := []struct {
		name     string
		first    map[string]any
		second   map[string]any
		archive  bool
		want     int
		wantText string
	}{
		{"same external_id", map[string]any{"external_id": "c-1", "email": "a@example.com"},
			map[string]any{"external_id": "c-1", "email": "other@example.com"}, false, 409,
			"A contact matching"},
		{"same email, trimmed and case-insensitive, no external_id",
			map[string]any{"email": "jane.sample@example.com"},
			map[string]any{"email": " Jane.Sample@Example.com "}, false, 409, "A contact matching"},
		{"same email, different external_ids (allowed for users)",
			map[string]any{"external_id": "c-1", "email": "jane@example.com"},
			map[string]any{"external_id": "c-2", "email": "jane@example.com"}, false, 200, ""},
		{"leads never clash on email", map[string]any{"role": "lead", "email": "l@example.com"},
			map[string]any{"role": "lead", "email": "l@example.com"}, false, 200, ""},
		{"archived match", map[string]any{"external_id": "c-9"}, map[string]any{"external_id": "c-9"},
			true, 409, "An archived contact matching"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, Options{Validate: true})
			id := createContact(t, s, tc.first)
			if tc.archive {
				must(t, do(t, s, "POST", "/contacts/"+id+"/archive", "2.14", nil), 200)
			}
			r := do(t, s, "POST", "/contacts", "2.14", tc.second)
			if r.status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.status, tc.want, r.raw)
			}
			if tc.want != 409 {
				return
			}
			code, msg := errCode(r)
			m := conflictID.FindStringSubmatch(msg)
			if code != "conflict" || !strings.HasPrefix(msg, tc.wantText) || m == nil || m[1] != id {
				t.Errorf("409 = %s, want conflict naming %s", r.raw, id)
			}
		})
	}
}

func TestContactLifecycle(t *testing.T) {
	s := newTestServer(t, Options{Validate: true, DataAttributes: []DataAttribute{
		{Model: "contact", Name: "dynamics_contact_id", DataType: "string"}}})
	fx := fixture(t, "openapi211_contact_create_200.json")
	id := createContact(t, s, map[string]any{"role": "user", "external_id": "c-1",
		"email": "ana@example.com", "name": "Ana", "signed_up_at": 1577836800,
		"custom_attributes": map[string]any{"dynamics_contact_id": "c-1"}})
	got := must(t, do(t, s, "GET", "/contacts/"+id, "2.14", nil), 200)
	for k := range fx { // every field of Intercom's own example is present
		if _, ok := got[k]; !ok && !strings.HasPrefix(k, "android") && !strings.HasPrefix(k, "ios") &&
			!slices.Contains(optionalContactKeys, k) {
			t.Errorf("contact lacks %q", k)
		}
	}
	if got["signed_up_at"].(float64) != 1577836800 || got["external_id"] != "c-1" {
		t.Errorf("contact = %v", got)
	}
	if len(id) != 24 {
		t.Errorf("id %q is not 24 hex", id)
	}

	r := do(t, s, "POST", "/contacts", "2.14", map[string]any{"email": "x@example.com",
		"custom_attributes": map[string]any{"not_created": "x"}})
	if code, _ := errCode(r); r.status != 400 || code != "parameter_invalid" {
		t.Errorf("unknown custom attribute: %d %s", r.status, r.raw)
	}
	r = do(t, s, "POST", "/contacts", "2.14", map[string]any{"email": "x@example.com",
		"custom_attributes": map[string]any{"dynamics_contact_id": 5}})
	if r.status != 400 {
		t.Errorf("wrong attribute type: %d %s", r.status, r.raw)
	}

	must(t, do(t, s, "GET", "/contacts/find_by_external_id/c-1", "2.14", nil), 200)
	del := must(t, do(t, s, "DELETE", "/contacts/"+id, "2.14", nil), 200)
	if del["deleted"] != true || del["id"] != id {
		t.Errorf("delete = %v", del)
	}
	if r := do(t, s, "GET", "/contacts/"+id, "2.14", nil); r.status != 404 {
		t.Errorf("GET after delete = %d", r.status)
	}
	if n := s.Counts()["contact"]; n != 0 {
		t.Errorf("contacts after delete = %d", n)
	}
}

// Fields of the 2.11 example that this emulator does not render (device and tracking data).
var optionalContactKeys = []string{"last_replied_at", "last_contacted_at", "last_email_opened_at",
	"last_email_clicked_at", "language_override", "browser", "browser_version", "browser_language",
	"os", "opted_out_subscription_types", "opted_in_subscription_types", "utm_campaign",
	"utm_content", "utm_medium", "utm_source", "utm_term", "referrer"}

func TestCompanies(t *testing.T) {
	s := newTestServer(t, Options{Validate: true, DataAttributes: []DataAttribute{
		{Model: "company", Name: "tier", DataType: "string"},
		{Model: "company", Name: "seats", DataType: "integer"}}})
	body := map[string]any{"company_id": "acc-42", "name": "ACME", "industry": "Retail",
		"remote_created_at": 1374138000, "custom_attributes": map[string]any{"tier": "A", "seats": 12}}
	first := must(t, do(t, s, "POST", "/companies", "2.14", body), 200)
	body["name"] = "ACME Ltd"
	second := must(t, do(t, s, "POST", "/companies", "2.14", body), 200)
	if first["id"] != second["id"] || second["name"] != "ACME Ltd" || len(s.Companies()) != 1 {
		t.Fatalf("upsert made %d companies: %v / %v", len(s.Companies()), first, second)
	}
	list := must(t, do(t, s, "GET", "/companies?company_id=acc-42", "2.14", nil), 200)
	if data := list["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != first["id"] {
		t.Errorf("GET ?company_id = %v", list)
	}
	if r := do(t, s, "POST", "/companies", "2.14", map[string]any{"company_id": "x", "test": "invalid"}); r.status != 400 {
		t.Errorf("unknown key: %d %s", r.status, r.raw)
	} else if code, msg := errCode(r); code != "bad_request" || msg != "bad 'test' parameter" {
		t.Errorf("unknown key error = %s", r.raw)
	}

	cid := createContact(t, s, map[string]any{"email": "a@example.com"})
	co := must(t, do(t, s, "POST", "/contacts/"+cid+"/companies", "2.14", map[string]any{"id": first["id"]}), 200)
	if co["user_count"].(float64) != 1 || s.Counts()["contact_company"] != 1 {
		t.Errorf("attach: %v", co)
	}
	must(t, do(t, s, "DELETE", "/contacts/"+cid+"/companies/"+first["id"].(string), "2.14", nil), 200)
	if s.Counts()["contact_company"] != 0 {
		t.Error("detach left the link")
	}
	del := must(t, do(t, s, "DELETE", "/companies/"+first["id"].(string), "2.14", nil), 200)
	if del["deleted"] != true || del["object"] != "company" || s.Counts()["company"] != 0 {
		t.Errorf("delete = %v", del)
	}
	if r := do(t, s, "GET", "/companies?company_id=acc-42", "2.14", nil); r.status != 404 {
		t.Errorf("GET after delete = %d", r.status)
	}
}

// TestConcurrentCreates: parallel creates of one person leave one contact; the others
// get 409s naming it.
func TestConcurrentCreates(t *testing.T) {
	s := newTestServer(t, Options{Validate: true})
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			r := do(t, s, "POST", "/contacts", "2.14", map[string]any{"external_id": "same", "email": "s@example.com"})
			statuses <- r.status
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for st := range statuses {
		count[st]++
	}
	if count[200] != 1 || count[409] != n-1 || len(s.Contacts()) != 1 {
		t.Errorf("statuses %v, %d contacts", count, len(s.Contacts()))
	}
}
