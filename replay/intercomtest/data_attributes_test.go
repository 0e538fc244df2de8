package intercomtest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDataAttributes(t *testing.T) {
	s := newTestServer(t, Options{Validate: true})
	create := func(body map[string]any) resp { return do(t, s, "POST", "/data_attributes", "2.14", body) }

	a := must(t, create(map[string]any{"name": "dynamics_contact_id", "model": "contact", "data_type": "string"}), 200)
	if a["full_name"] != "custom_attributes.dynamics_contact_id" || a["custom"] != true {
		t.Errorf("created = %v", a)
	}
	list := must(t, create(map[string]any{"name": "Tier", "model": "company", "data_type": "options",
		"options": []any{map[string]any{"value": "A"}, map[string]any{"value": "B"}}}), 200)
	if list["data_type"] != "string" || fmt.Sprint(list["options"]) != "[A B]" {
		t.Errorf("list attribute answered as %v / %v, want string + plain options", list["data_type"], list["options"])
	}

	tests := []struct {
		name    string
		body    map[string]any
		wantMsg string
	}{
		{"clash in the same model", map[string]any{"name": "dynamics_contact_id", "model": "contact", "data_type": "string"},
			"You already have 'dynamics_contact_id' in your people data"},
		{"clash across models", map[string]any{"name": "Tier", "model": "contact", "data_type": "string"},
			"You already have 'Tier' in your company data. To save this as new people data"},
		{"bad characters", map[string]any{"name": "a.b", "model": "contact", "data_type": "string"}, "must only contain"},
		{"conversation model in 2.14", map[string]any{"name": "x", "model": "conversation", "data_type": "string"}, ""},
		{"bad type", map[string]any{"name": "y", "model": "contact", "data_type": "money"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := create(tc.body)
			code, msg := errCode(r)
			if r.status != 400 || code != "parameter_invalid" || !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("%d %s, want 400 parameter_invalid %q", r.status, r.raw, tc.wantMsg)
			}
		})
	}

	id := fmt.Sprint(a["id"])
	arch := must(t, do(t, s, "PUT", "/data_attributes/"+id, "2.14", map[string]any{"archived": true}), 200)
	if arch["archived"] != true {
		t.Errorf("archive = %v", arch)
	}
	live := must(t, do(t, s, "GET", "/data_attributes?model=contact", "2.14", nil), 200)["data"].([]any)
	all := must(t, do(t, s, "GET", "/data_attributes?model=contact&include_archived=true", "2.14", nil), 200)["data"].([]any)
	if len(live) != 0 || len(all) != 1 {
		t.Errorf("after archive: %d live, %d with archived", len(live), len(all))
	}
	r := do(t, s, "POST", "/contacts", "2.14", map[string]any{"email": "a@example.com",
		"custom_attributes": map[string]any{"dynamics_contact_id": "x"}})
	if r.status != 400 {
		t.Errorf("write to archived attribute: %d", r.status)
	}
	if r := do(t, s, "PUT", "/data_attributes/999999", "2.14", map[string]any{"archived": true}); r.status != 404 {
		t.Errorf("archive unknown: %d", r.status)
	}
}

func TestDataAttributeCap(t *testing.T) {
	s := newTestServer(t, Options{MaxDataAttributes: 3})
	for i := range 4 {
		r := do(t, s, "POST", "/data_attributes", "2.14",
			map[string]any{"name": fmt.Sprintf("a%d", i), "model": "contact", "data_type": "integer"})
		if want := map[bool]int{true: 200, false: 400}[i < 3]; r.status != want {
			t.Errorf("attribute %d: %d, want %d", i, r.status, want)
		}
	}
	must(t, do(t, s, "PUT", "/data_attributes/"+fmt.Sprint(s.DataAttributes()[0].ID), "2.14",
		map[string]any{"archived": true}), 200)
	must(t, do(t, s, "POST", "/data_attributes", "2.14",
		map[string]any{"name": "after_archive", "model": "company", "data_type": "integer"}), 200)
}

func TestConversationAttributes216(t *testing.T) {
	s := newTestServer(t, Options{Validate: true})
	created := must(t, do(t, s, "POST", "/conversations/attributes", "2.16", map[string]any{
		"name": "dynamics_priority", "data_type": "list",
		"options": []any{map[string]any{"label": "High"}, map[string]any{"label": "Low"}}}), 200)
	if created["type"] != "conversation_attribute" {
		t.Fatalf("created = %v", created)
	}
	// The 2.16 description drops the value from its enum, so validation refuses it first;
	// without validation the server answers as documented, 422.
	if r := do(t, s, "GET", "/data_attributes?model=conversation", "2.16", nil); r.status != 400 {
		t.Errorf("model=conversation under 2.16, validated: %d", r.status)
	}
	plain := newTestServer(t, Options{})
	if r := do(t, plain, "GET", "/data_attributes?model=conversation", "2.16", nil); r.status != 422 {
		t.Errorf("model=conversation under 2.16: %d", r.status)
	}
	old := must(t, do(t, s, "GET", "/data_attributes?model=conversation", "2.14", nil), 200)["data"].([]any)
	if len(old) != 1 {
		t.Errorf("2.14 lists %d conversation attributes, want 1", len(old))
	}
	convID := createConversation(t, s, createContact(t, s, map[string]any{"email": "a@example.com"}), 0)
	must(t, do(t, s, "PUT", "/conversations/"+convID, "2.14",
		map[string]any{"custom_attributes": map[string]any{"dynamics_priority": "High"}}), 200)
	if r := do(t, s, "PUT", "/conversations/"+convID, "2.14",
		map[string]any{"custom_attributes": map[string]any{"dynamics_priority": "Urgent"}}); r.status != 400 {
		t.Errorf("value outside the list: %d", r.status)
	}
	must(t, do(t, s, "DELETE", "/conversations/attributes/"+fmt.Sprint(created["id"]), "2.16", nil), 200)
	live := must(t, do(t, s, "GET", "/conversations/attributes", "2.16", nil), 200)["data"].([]any)
	if len(live) != 0 {
		t.Errorf("%d live conversation attributes after archive", len(live))
	}
}

func TestSearchLag(t *testing.T) {
	clock := newClock()
	s := newTestServer(t, Options{Validate: true, Clock: clock.Now, SearchLag: 2 * time.Minute,
		DataAttributes: []DataAttribute{{Model: "contact", Name: "dynamics_contact_id", DataType: "string"}}})
	id := createContact(t, s, map[string]any{"role": "lead", "email": "Lead@Example.com",
		"custom_attributes": map[string]any{"dynamics_contact_id": "dv-1"}})
	createContact(t, s, map[string]any{"role": "user", "external_id": "u-1", "email": "user@example.com"})

	queries := []struct {
		name  string
		query map[string]any
		want  int
	}{
		{"email", map[string]any{"field": "email", "operator": "=", "value": "lead@example.com"}, 1},
		{"custom attribute", map[string]any{"field": "custom_attributes.dynamics_contact_id", "operator": "=", "value": "dv-1"}, 1},
		{"AND role", map[string]any{"operator": "AND", "value": []any{
			map[string]any{"field": "role", "operator": "=", "value": "lead"},
			map[string]any{"field": "email", "operator": "=", "value": "lead@example.com"}}}, 1},
		{"OR", map[string]any{"operator": "OR", "value": []any{
			map[string]any{"field": "external_id", "operator": "=", "value": "u-1"},
			map[string]any{"field": "email", "operator": "=", "value": "lead@example.com"}}}, 2},
		{"nested groups", map[string]any{"operator": "AND", "value": []any{
			map[string]any{"operator": "OR", "value": []any{
				map[string]any{"field": "role", "operator": "=", "value": "user"},
				map[string]any{"field": "role", "operator": "=", "value": "lead"}}},
			map[string]any{"operator": "OR", "value": []any{
				map[string]any{"field": "external_id", "operator": "=", "value": "u-1"}}}}}, 1},
	}
	search := func(q map[string]any) int {
		b := must(t, do(t, s, "POST", "/contacts/search", "2.14", map[string]any{"query": q}), 200)
		return int(b["total_count"].(float64))
	}
	for _, q := range queries {
		if n := search(q.query); n != 0 {
			t.Errorf("%s: %d hits before the lag passed", q.name, n)
		}
	}
	clock.Advance(2 * time.Minute)
	for _, q := range queries {
		if n := search(q.query); n != q.want {
			t.Errorf("%s: %d hits, want %d", q.name, n, q.want)
		}
	}

	// Deleted: GET is 404 at once, search still shows it until the lag passes.
	must(t, do(t, s, "DELETE", "/contacts/"+id, "2.14", nil), 200)
	if n := search(queries[0].query); n != 1 {
		t.Errorf("deleted contact vanished from search before the lag: %d", n)
	}
	clock.Advance(2 * time.Minute)
	if n := search(queries[0].query); n != 0 {
		t.Errorf("deleted contact still searchable after the lag: %d", n)
	}
}

func TestConversationSearch(t *testing.T) {
	clock := newClock()
	s := newTestServer(t, Options{Clock: clock.Now, SearchLag: time.Minute, DataAttributes: []DataAttribute{
		{Model: "conversation", Name: "dynamics_case_id", DataType: "string"}}})
	cid := createContact(t, s, map[string]any{"email": "a@example.com"})
	convID := createConversation(t, s, cid, 1609459200)
	must(t, do(t, s, "PUT", "/conversations/"+convID, "2.14",
		map[string]any{"custom_attributes": map[string]any{"dynamics_case_id": "case-1"}}), 200)
	byContact := map[string]any{"query": map[string]any{"operator": "AND", "value": []any{
		map[string]any{"field": "contact_ids", "operator": "=", "value": cid},
		map[string]any{"field": "created_at", "operator": "=", "value": 1609459200}}}}
	byAttr := map[string]any{"query": map[string]any{"field": "custom_attributes.dynamics_case_id",
		"operator": "=", "value": "case-1"}}

	count := func(body map[string]any) int {
		b := must(t, do(t, s, "POST", "/conversations/search", "2.14", body), 200)
		return int(b["total_count"].(float64))
	}
	if n := count(byContact); n != 0 {
		t.Errorf("%d hits before the lag", n)
	}
	clock.Advance(time.Minute)
	if n := count(byContact); n != 1 {
		t.Errorf("%d hits by contact and created_at, want 1", n)
	}
	if r := do(t, s, "POST", "/conversations/search", "2.14", byAttr); r.status != 400 {
		t.Errorf("custom attribute search (undocumented) allowed by default: %d", r.status)
	}
	s.opts.ConversationSearchCustomAttributes = true
	if n := count(byAttr); n != 1 {
		t.Errorf("%d hits by custom attribute, want 1", n)
	}
}

func TestSearchPagination(t *testing.T) {
	s := newTestServer(t, Options{})
	for i := range 5 {
		createContact(t, s, map[string]any{"role": "lead", "name": fmt.Sprint("lead ", i)})
	}
	q := map[string]any{"field": "role", "operator": "=", "value": "lead"}
	seen := map[string]bool{}
	body := map[string]any{"query": q, "pagination": map[string]any{"per_page": 2}}
	for range 3 {
		b := must(t, do(t, s, "POST", "/contacts/search", "2.14", body), 200)
		for _, c := range b["data"].([]any) {
			seen[c.(map[string]any)["id"].(string)] = true
		}
		next, _ := b["pages"].(map[string]any)["next"].(map[string]any)
		if next == nil {
			break
		}
		body["pagination"] = map[string]any{"per_page": 2, "starting_after": next["starting_after"]}
	}
	if len(seen) != 5 {
		t.Errorf("paged through %d contacts, want 5", len(seen))
	}
}
