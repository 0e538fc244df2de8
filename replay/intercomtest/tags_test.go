package intercomtest

import (
	"slices"
	"testing"
)

func TestTagsFindOrCreateIsCaseInsensitive(t *testing.T) {
	s := newTestServer(t, Options{Validate: true})
	first := must(t, do(t, s, "POST", "/tags", "2.14", map[string]any{"name": "Migrated from Dynamics"}), 200)
	again := must(t, do(t, s, "POST", "/tags", "2.14", map[string]any{"name": "migrated FROM dynamics"}), 200)
	if first["id"] != again["id"] || again["name"] != "Migrated from Dynamics" {
		t.Errorf("second create = %v, want the first tag %v", again, first)
	}
	list := must(t, do(t, s, "GET", "/tags", "2.14", nil), 200)
	if data, _ := list["data"].([]any); len(data) != 1 || list["type"] != "list" {
		t.Errorf("GET /tags = %v, want one tag in a list", list)
	}
}

func TestTagsApplyAndRemove(t *testing.T) {
	s := newTestServer(t, Options{Validate: true})
	contact := createContact(t, s, map[string]any{"email": "a@example.com", "external_id": "c1"})
	conv := createConversation(t, s, contact, 1600000000)
	company := must(t, do(t, s, "POST", "/companies", "2.14", map[string]any{"company_id": "acc1", "name": "Acme"}), 200)["id"].(string)
	tag := must(t, do(t, s, "POST", "/tags", "2.14", map[string]any{"name": "T"}), 200)["id"].(string)

	must(t, do(t, s, "POST", "/contacts/"+contact+"/tags", "2.14", map[string]any{"id": tag}), 200)
	applied := must(t, do(t, s, "POST", "/conversations/"+conv+"/tags", "2.14",
		map[string]any{"id": tag, "admin_id": testAdmins[0].ID}), 200)
	if applied["applied_by"] == nil {
		t.Errorf("conversation tag answer lacks applied_by: %v", applied)
	}
	must(t, do(t, s, "POST", "/tags", "2.14", map[string]any{"name": "T", "companies": []any{map[string]any{"id": company}}}), 200)
	got := s.TaggedWith("t")
	want := Tagged{Conversations: []string{conv}, Contacts: []string{contact}, Companies: []string{company}}
	if !slices.Equal(got.Conversations, want.Conversations) || !slices.Equal(got.Contacts, want.Contacts) ||
		!slices.Equal(got.Companies, want.Companies) {
		t.Fatalf("tagged = %+v, want %+v", got, want)
	}

	must(t, do(t, s, "DELETE", "/contacts/"+contact+"/tags/"+tag, "2.14", nil), 200)
	must(t, do(t, s, "DELETE", "/conversations/"+conv+"/tags/"+tag, "2.14",
		map[string]any{"admin_id": testAdmins[0].ID}), 200)
	must(t, do(t, s, "POST", "/tags", "2.14",
		map[string]any{"name": "T", "companies": []any{map[string]any{"id": company, "untag": true}}}), 200)
	if got := s.TaggedWith("T"); len(got.Conversations)+len(got.Contacts)+len(got.Companies) != 0 {
		t.Errorf("after untagging: %+v", got)
	}
	must(t, do(t, s, "DELETE", "/tags/"+tag, "2.14", nil), 200)
	if tags := s.Tags(); len(tags) != 0 {
		t.Errorf("after delete: %v", tags)
	}
}

func TestTagsErrors(t *testing.T) {
	s := newTestServer(t, Options{Validate: true})
	contact := createContact(t, s, map[string]any{"email": "a@example.com", "external_id": "c1"})
	conv := createConversation(t, s, contact, 1600000000)
	tag := must(t, do(t, s, "POST", "/tags", "2.14", map[string]any{"name": "T"}), 200)["id"].(string)
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"unknown tag on contact", "POST", "/contacts/" + contact + "/tags", map[string]any{"id": "9999"}, 404, "tag_not_found"},
		{"unknown contact", "POST", "/contacts/6762f0cd1bb69f9f2193bb7c/tags", map[string]any{"id": tag}, 404, "not_found"},
		{"conversation tag without admin", "POST", "/conversations/" + conv + "/tags", map[string]any{"id": tag}, 400, "parameter_not_found"},
		{"conversation tag by unknown admin", "POST", "/conversations/" + conv + "/tags",
			map[string]any{"id": tag, "admin_id": "1"}, 404, "admin_not_found"},
		{"unknown company", "POST", "/tags", map[string]any{"name": "T", "companies": []any{map[string]any{"company_id": "nope"}}},
			404, "company_not_found"},
		{"no name", "POST", "/tags", map[string]any{"name": ""}, 400, "parameter_invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, tc.method, tc.path, "2.14", tc.body)
			if code, msg := errCode(r); r.status != tc.status || code != tc.code {
				t.Errorf("%d %s %q, want %d %s", r.status, code, msg, tc.status, tc.code)
			}
		})
	}
}
