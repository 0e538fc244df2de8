package intercomtest

import (
	"strings"
	"testing"
)

func TestCollectionsNestAndDeleteBottomUp(t *testing.T) {
	s := newTestServer(t, Options{Validate: true, MaxCollectionDepth: 2})
	top := must(t, do(t, s, "POST", "/help_center/collections", "2.14", map[string]any{"name": "Billing"}), 200)
	topID := top["id"].(string)
	child := must(t, do(t, s, "POST", "/help_center/collections", "2.14",
		map[string]any{"name": "Invoices", "description": "d", "parent_id": topID}), 200)
	if child["parent_id"] != topID {
		t.Errorf("parent_id = %v, want %s", child["parent_id"], topID)
	}
	tests := []struct {
		name       string
		body       map[string]any
		code, text string
	}{
		{"too deep", map[string]any{"name": "Deep", "parent_id": child["id"]}, "parameter_invalid", "at most 2 levels"},
		{"unknown parent", map[string]any{"name": "Lost", "parent_id": "999"}, "parameter_invalid", "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, "POST", "/help_center/collections", "2.14", tt.body)
			code, msg := errCode(r)
			if r.status != 400 || code != tt.code || !strings.Contains(msg, tt.text) {
				t.Errorf("got %d %s %q, want 400 %s containing %q", r.status, code, msg, tt.code, tt.text)
			}
		})
	}
	// the schema requires name, so only an unvalidated server shows the handler's own answer
	r := do(t, newTestServer(t, Options{}), "POST", "/help_center/collections", "2.14", map[string]any{"description": "x"})
	if code, msg := errCode(r); r.status != 400 || code != "parameter_not_found" || msg != "Name is a required parameter." {
		t.Errorf("missing name: %d %s %q", r.status, code, msg)
	}
	if r := do(t, s, "DELETE", "/help_center/collections/"+topID, "2.14", nil); r.status != 400 {
		t.Errorf("deleting a collection with a child: status %d, want 400", r.status)
	}
	must(t, do(t, s, "DELETE", "/help_center/collections/"+child["id"].(string), "2.14", nil), 200)
	del := must(t, do(t, s, "DELETE", "/help_center/collections/"+topID, "2.14", nil), 200)
	if del["deleted"] != true || del["object"] != "collection" {
		t.Errorf("delete answer = %v", del)
	}
	if n := len(s.Collections()); n != 0 {
		t.Errorf("%d collections left, want 0", n)
	}
}

func TestArticlesCreateTranslateDelete(t *testing.T) {
	s := newTestServer(t, Options{Validate: true})
	author := testAdmins[0].ID
	col := must(t, do(t, s, "POST", "/help_center/collections", "2.14", map[string]any{"name": "Billing"}), 200)
	colID := col["id"].(string)
	art := must(t, do(t, s, "POST", "/articles", "2.14", map[string]any{"title": "Reset", "author_id": mustInt(t, author),
		"body": "<h3>Steps</h3><p>x</p><script>bad()</script>", "state": "published",
		"parent_id": mustInt(t, colID), "parent_type": "collection"}), 200)
	id := art["id"].(string)
	if art["body"] != "<h2>Steps</h2><p>x</p>" || art["state"] != "published" || art["parent_type"] != "collection" {
		t.Errorf("created article = %v", art)
	}
	must(t, do(t, s, "PUT", "/articles/"+id, "2.14", map[string]any{"translated_content": map[string]any{
		"type": "article_translated_content",
		"de":   map[string]any{"type": "article_content", "title": "Zurücksetzen", "body": "<p>y</p>", "author_id": mustInt(t, author), "state": "draft"},
	}}), 200)
	got := s.Articles()
	if len(got) != 1 || got[0].State != "published" || got[0].Translations["de"].Title != "Zurücksetzen" {
		t.Fatalf("articles = %+v", got)
	}

	errs := []struct {
		name       string
		body       map[string]any
		status     int
		code, text string
	}{
		{"no author", map[string]any{"title": "T"}, 400, "parameter_not_found", "author_id"}, // OpenAPI: required
		{"author not a teammate", map[string]any{"title": "T", "author_id": 12345}, 400, "parameter_invalid", "teammate"},
		{"nested list", map[string]any{"title": "T", "author_id": mustInt(t, author),
			"body": "<ul><li>a<ul><li>b</li></ul></li></ul>"}, 400, "parameter_invalid", "Nested lists"},
		{"empty list", map[string]any{"title": "T", "author_id": mustInt(t, author), "body": "<ul><li> </li></ul>"},
			400, "parameter_invalid", "non-empty item"},
		{"data image", map[string]any{"title": "T", "author_id": mustInt(t, author),
			"body": `<p><img src="data:image/png;base64,AA"></p>`}, 400, "parameter_invalid", "could not be fetched"},
		{"foreign iframe", map[string]any{"title": "T", "author_id": mustInt(t, author),
			"body": `<iframe src="https://evil.example/x"></iframe>`}, 400, "parameter_invalid", "iframe"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, "POST", "/articles", "2.14", tt.body)
			code, msg := errCode(r)
			if r.status != tt.status || code != tt.code || !strings.Contains(msg, tt.text) {
				t.Errorf("got %d %s %q, want %d %s containing %q", r.status, code, msg, tt.status, tt.code, tt.text)
			}
		})
	}
	// without request validation the handler's own message shows
	s2 := newTestServer(t, Options{})
	r := do(t, s2, "POST", "/articles", "2.14", map[string]any{"title": "T"})
	if code, msg := errCode(r); r.status != 400 || code != "parameter_not_found" || !strings.Contains(msg, "author_id must be") {
		t.Errorf("no author without validation: %d %s %q", r.status, code, msg)
	}

	del := must(t, do(t, s, "DELETE", "/articles/"+id, "2.14", nil), 200)
	if del["deleted"] != true || del["object"] != "article" {
		t.Errorf("delete answer = %v", del)
	}
	if r := do(t, s, "GET", "/articles/"+id, "2.14", nil); r.status != 404 {
		t.Errorf("GET after delete: %d, want 404", r.status)
	}
	if len(s.Articles()) != 0 || len(s.Collections()) != 1 {
		t.Errorf("left: %d articles, %d collections", len(s.Articles()), len(s.Collections()))
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	for _, r := range s {
		if r < '0' || r > '9' {
			t.Fatalf("%q is not a decimal id", s)
		}
		n = n*10 + int64(r-'0')
	}
	return n
}
