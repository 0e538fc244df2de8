package intercomtest

import (
	"fmt"
	"testing"
)

// Notes on contacts: create (validated, with the string contact id the
// description's integer type would refuse), list newest first and paged,
// get by id; a bad contact or admin is a 404, a missing body a 400; a note
// never notifies.
func TestContactNotes(t *testing.T) {
	s := newTestServer(t, Options{Validate: true})
	id := createContact(t, s, map[string]any{"role": "user", "external_id": "c-1"})
	path := "/contacts/" + id + "/notes"
	n := must(t, do(t, s, "POST", path, "2.14", map[string]any{"body": "Call", "admin_id": "991267697"}), 200)
	if n["type"] != "note" || n["body"] != "<p>Call</p>" || n["author"].(map[string]any)["id"] != "991267697" {
		t.Fatalf("note = %v", n)
	}
	if got := must(t, do(t, s, "GET", "/notes/"+n["id"].(string), "2.14", nil), 200); got["id"] != n["id"] {
		t.Errorf("get note = %v", got)
	}
	// Without admin_id the token's admin writes it; markup is kept.
	n2 := must(t, do(t, s, "POST", path, "2.14", map[string]any{"body": "<p>Second</p>"}), 200)
	if n2["body"] != "<p>Second</p>" || n2["author"].(map[string]any)["id"] != "991267696" {
		t.Errorf("second note = %v", n2)
	}
	list := must(t, do(t, s, "GET", path, "2.14", nil), 200)
	data := list["data"].([]any)
	if len(data) != 2 || data[0].(map[string]any)["id"] != n2["id"] {
		t.Errorf("list = %v, want newest first", list)
	}
	if r := do(t, s, "POST", "/contacts/000000000000000000000000/notes", "2.14", map[string]any{"body": "x"}); r.status != 404 {
		t.Errorf("note on a missing contact: %d", r.status)
	}
	if r := do(t, s, "POST", path, "2.14", map[string]any{"body": "x", "admin_id": "1"}); r.status != 404 {
		t.Errorf("note by a missing admin: %d", r.status)
	}
	if r := do(t, s, "POST", path, "2.14", map[string]any{"admin_id": "991267696"}); r.status != 400 {
		t.Errorf("note without body: %d", r.status)
	}
	if r := do(t, s, "GET", "/contacts/"+id+"/nothing", "2.14", nil); r.status != 404 {
		t.Errorf("unknown contact sub-path: %d", r.status)
	}
	if s.Notifications() != 0 {
		t.Errorf("notes notified: %v", s.NotificationLog())
	}
}

func TestContactNotesPaged(t *testing.T) {
	s := newTestServer(t, Options{Validate: true})
	id := createContact(t, s, map[string]any{"role": "lead"})
	path := "/contacts/" + id + "/notes"
	for i := range notesPerPage + 3 {
		must(t, do(t, s, "POST", path, "2.14", map[string]any{"body": fmt.Sprint("n", i)}), 200)
	}
	p2 := must(t, do(t, s, "GET", path+"?page=2", "2.14", nil), 200)
	pages := p2["pages"].(map[string]any)
	if len(p2["data"].([]any)) != 3 || pages["total_pages"].(float64) != 2 || p2["total_count"].(float64) != notesPerPage+3 {
		t.Errorf("page 2 = %v", p2)
	}
}
