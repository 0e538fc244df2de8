package intercomtest

import (
	"fmt"
	"testing"
)

// TestConversationHistoryBR01 sends the BR01 request: created_at on POST /conversations
// is the historical time, and the parts keep their own created_at in order.
func TestConversationHistoryBR01(t *testing.T) {
	s := newTestServer(t, Options{Validate: true})
	fx := fixture(t, "br01_intercom_create_conversation_created_at.json")
	req := fx["expected_request"].(map[string]any)
	body := req["body"].(map[string]any)
	cid := createContact(t, s, map[string]any{"external_id": "7ddd0b31", "email": "jane@example.com"})
	body["from"].(map[string]any)["id"] = cid // the fixture's id belongs to another workspace

	// The fixture names 2.11, which the emulator does not serve: it is sent as 2.14.
	msg := must(t, do(t, s, "POST", "/conversations", "2.14", body), 200)
	want := fixture(t, "openapi211_conversation_create_200.json")
	for k := range want {
		if _, ok := msg[k]; !ok {
			t.Errorf("create answer lacks %q: %v", k, msg)
		}
	}
	if msg["type"] != "user_message" || msg["created_at"].(float64) != 1557400822 {
		t.Fatalf("create answer = %v", msg)
	}
	convID := msg["conversation_id"].(string)

	steps := []map[string]any{
		{"type": "user", "intercom_user_id": cid, "message_type": "comment", "body": "any news?", "created_at": 1557404422},
		{"type": "admin", "admin_id": testAdmins[0].ID, "message_type": "note", "body": "<p>Called</p>", "created_at": 1557408022},
		{"type": "admin", "admin_id": testAdmins[1].ID, "message_type": "note", "body": "<p>Fixed</p>", "created_at": 1557411622},
	}
	shape := fixture(t, "openapi211_conversation_reply_admin_note_200.json")
	for i, st := range steps {
		r := must(t, do(t, s, "POST", "/conversations/"+convID+"/reply", "2.14", st), 200)
		for k := range shape {
			if _, ok := r[k]; !ok && k != "first_contact_reply" && k != "conversation_rating" &&
				k != "topics" && k != "ticket" && k != "linked_objects" && k != "ai_agent" &&
				k != "ai_agent_participated" {
				t.Errorf("reply %d answer lacks %q", i, k)
			}
		}
		parts := r["conversation_parts"].(map[string]any)["conversation_parts"].([]any)
		if len(parts) != 1 {
			t.Fatalf("reply %d returned %d parts, want only the new one", i, len(parts))
		}
	}
	must(t, do(t, s, "POST", "/conversations/"+convID+"/parts", "2.14", map[string]any{
		"message_type": "close", "type": "admin", "admin_id": testAdmins[0].ID}), 200)

	got := must(t, do(t, s, "GET", "/conversations/"+convID, "2.14", nil), 200)
	if got["created_at"].(float64) != 1557400822 || got["state"] != "closed" {
		t.Errorf("conversation = created_at %v state %v", got["created_at"], got["state"])
	}
	parts := got["conversation_parts"].(map[string]any)["conversation_parts"].([]any)
	wantTypes := []string{"comment", "note", "note", "close"}
	if len(parts) != len(wantTypes) {
		t.Fatalf("%d parts, want %d", len(parts), len(wantTypes))
	}
	for i, p := range parts {
		p := p.(map[string]any)
		if p["part_type"] != wantTypes[i] {
			t.Errorf("part %d type %v, want %s", i, p["part_type"], wantTypes[i])
		}
		if i < 3 && int(p["created_at"].(float64)) != steps[i]["created_at"].(int) {
			t.Errorf("part %d created_at %v, want %v", i, p["created_at"], steps[i]["created_at"])
		}
	}
	author := parts[1].(map[string]any)["author"].(map[string]any)
	if author["type"] != "admin" || author["id"] != testAdmins[0].ID || author["email"] != testAdmins[0].Email {
		t.Errorf("note author = %v", author)
	}
	cv, _ := s.Conversation(convID)
	if len(cv.Parts) != 4 || cv.Parts[0].AuthorID != cid {
		t.Errorf("Conversation() = %+v", cv)
	}
}

func TestConversationStateAndDelete(t *testing.T) {
	s := newTestServer(t, Options{Validate: true, DataAttributes: []DataAttribute{
		{Model: "conversation", Name: "dynamics_case_number", DataType: "string"},
		{Model: "conversation", Name: "dynamics_priority", DataType: "options", Options: []string{"High", "Low"}},
	}})
	convID := createConversation(t, s, createContact(t, s, map[string]any{"email": "a@example.com"}), 1609459200)
	path := "/conversations/" + convID
	admin := testAdmins[0].ID

	upd := must(t, do(t, s, "PUT", path, "2.14", map[string]any{"title": "Case CAS-1",
		"custom_attributes": map[string]any{"dynamics_case_number": "CAS-1", "dynamics_priority": "High"}}), 200)
	if upd["title"] != "Case CAS-1" {
		t.Errorf("title = %v", upd["title"])
	}
	r := do(t, s, "PUT", path, "2.14", map[string]any{"custom_attributes": map[string]any{"nope": "x"}})
	if _, msg := errCode(r); r.status != 400 || msg != "Conversation attribute 'nope' does not exist" {
		t.Errorf("unknown conversation attribute: %d %s", r.status, r.raw)
	}

	steps := []struct {
		body  map[string]any
		state string
	}{
		{map[string]any{"message_type": "assignment", "type": "team", "admin_id": admin, "assignee_id": testTeams[0].ID}, "open"},
		{map[string]any{"message_type": "assignment", "type": "admin", "admin_id": admin, "assignee_id": admin}, "open"},
		{map[string]any{"message_type": "snoozed", "admin_id": admin, "snoozed_until": 1893456000}, "snoozed"},
		{map[string]any{"message_type": "open", "admin_id": admin}, "open"},
		{map[string]any{"message_type": "close", "type": "admin", "admin_id": admin}, "closed"},
	}
	for i, st := range steps {
		got := must(t, do(t, s, "POST", path+"/parts", "2.14", st.body), 200)
		if got["state"] != st.state {
			t.Errorf("step %d: state %v, want %s", i, got["state"], st.state)
		}
	}
	cv, _ := s.Conversation(convID)
	if cv.TeamAssigneeID != testTeams[0].ID || cv.AdminAssigneeID != admin {
		t.Errorf("assignees = %q %q", cv.TeamAssigneeID, cv.AdminAssigneeID)
	}

	del := must(t, do(t, s, "DELETE", path, "2.14", nil), 200)
	if del["deleted"] != true || del["object"] != "conversation" {
		t.Errorf("delete = %v", del)
	}
	if r := do(t, s, "GET", path, "2.14", nil); r.status != 404 {
		t.Errorf("GET after delete = %d", r.status)
	}
	if c := s.Counts(); c["conversation"] != 0 || c["conversation_part"] != 0 {
		t.Errorf("counts after delete = %v", c)
	}
}

// TestAttachmentCapBR06: a reply with the 12 attachments of BR06 is refused; 10 pass.
func TestAttachmentCapBR06(t *testing.T) {
	fx := fixture(t, "br06_email_with_12_attachments.json")
	rows := fx["activitymimeattachments"].(map[string]any)["value"].([]any)
	files := func(n int) []any {
		var out []any
		for _, r := range rows[:n] {
			r := r.(map[string]any)
			out = append(out, map[string]any{"name": r["filename"], "content_type": r["mimetype"], "data": "aGVsbG8="})
		}
		return out
	}
	for _, validate := range []bool{false, true} {
		t.Run(fmt.Sprint("validate=", validate), func(t *testing.T) {
			s := newTestServer(t, Options{Validate: validate})
			convID := createConversation(t, s, createContact(t, s, map[string]any{"email": "a@example.com"}), 0)
			reply := map[string]any{"type": "admin", "admin_id": testAdmins[0].ID, "message_type": "note",
				"body": "<p>Photos</p>", "attachment_files": files(len(rows))}
			if r := do(t, s, "POST", "/conversations/"+convID+"/reply", "2.14", reply); r.status != 400 {
				t.Errorf("12 attachments: %d %s", r.status, r.raw)
			}
			reply["attachment_files"] = files(10)
			got := must(t, do(t, s, "POST", "/conversations/"+convID+"/reply", "2.14", reply), 200)
			p := got["conversation_parts"].(map[string]any)["conversation_parts"].([]any)[0].(map[string]any)
			if n := len(p["attachments"].([]any)); n != 10 {
				t.Errorf("part has %d attachments, want 10", n)
			}
		})
	}
}

func TestNotifications(t *testing.T) {
	admin := testAdmins[0].ID
	tests := []struct {
		name    string
		version string
		body    map[string]any
		want    int
	}{
		{"admin comment, 2.14", "2.14", map[string]any{"message_type": "comment"}, 1},
		{"admin comment, 2.16 with skip_notifications", "2.16", map[string]any{"message_type": "comment", "skip_notifications": true}, 0},
		{"admin comment, 2.16 skip_notifications false", "2.16", map[string]any{"message_type": "comment", "skip_notifications": false}, 1},
		{"admin comment, 2.14 with skip_notifications (not honoured)", "2.14", map[string]any{"message_type": "comment", "skip_notifications": true}, 1},
		{"admin note", "2.14", map[string]any{"message_type": "note"}, 0},
		{"contact reply", "2.14", map[string]any{"type": "user", "message_type": "comment"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, Options{Validate: true})
			cid := createContact(t, s, map[string]any{"email": "a@example.com"})
			convID := createConversation(t, s, cid, 1609459200)
			body := map[string]any{"type": "admin", "admin_id": admin, "body": "<p>Hello</p>", "created_at": 1609462800}
			for k, v := range tc.body {
				body[k] = v
			}
			if body["type"] == "user" {
				delete(body, "admin_id")
				body["intercom_user_id"] = cid
			}
			must(t, do(t, s, "POST", "/conversations/"+convID+"/reply", tc.version, body), 200)
			if got := s.Notifications(); got != tc.want {
				t.Fatalf("Notifications() = %d, want %d", got, tc.want)
			}
			if tc.want == 1 {
				n := s.NotificationLog()[0]
				if n.ConversationID != convID || n.Path != "/conversations/"+convID+"/reply" || n.ContactIDs[0] != cid {
					t.Errorf("notification = %+v", n)
				}
			}
		})
	}
}

func TestNotificationsOutsideReplies(t *testing.T) {
	admin := testAdmins[0].ID
	s := newTestServer(t, Options{Validate: true})
	cid := createContact(t, s, map[string]any{"email": "a@example.com"})
	convID := createConversation(t, s, cid, 1609459200)

	must(t, do(t, s, "POST", "/conversations/"+convID+"/parts", "2.14", map[string]any{
		"message_type": "close", "type": "admin", "admin_id": admin}), 200)
	if n := s.Notifications(); n != 0 {
		t.Fatalf("silent close notified %d", n)
	}
	must(t, do(t, s, "POST", "/conversations/"+convID+"/parts", "2.14", map[string]any{
		"message_type": "close", "type": "admin", "admin_id": admin, "body": "Goodbye"}), 200)
	if n := s.Notifications(); n != 1 {
		t.Fatalf("close with a message notified %d, want 1", n)
	}

	msg := must(t, do(t, s, "POST", "/messages", "2.14", map[string]any{"message_type": "in_app",
		"body": "hello", "from": map[string]any{"type": "admin", "id": 991267696},
		"to": map[string]any{"type": "user", "id": cid}, "create_conversation_without_contact_reply": true}), 200)
	if n := s.Notifications(); n != 2 || msg["conversation_id"] == nil {
		t.Errorf("outbound message: %d notifications, answer %v", n, msg)
	}
	log := s.NotificationLog()
	if log[1].Path != "/messages" || log[0].Path != "/conversations/"+convID+"/parts" {
		t.Errorf("notification log = %+v", log)
	}
}
