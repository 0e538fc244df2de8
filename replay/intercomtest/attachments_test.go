package intercomtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

func fileEntry(name string, data []byte) map[string]any {
	return map[string]any{"name": name, "content_type": "application/pdf",
		"data": base64.StdEncoding.EncodeToString(data)}
}

// TestAttachmentFilesStored: files sent inline come back with their name,
// type and decoded size, and the emulator keeps their digest, for admin
// notes and contact replies alike, under request validation.
func TestAttachmentFilesStored(t *testing.T) {
	s := newTestServer(t, Options{Validate: true})
	contact := createContact(t, s, map[string]any{"email": "a@example.com"})
	convID := createConversation(t, s, contact, 0)
	data := []byte(strings.Repeat("%PDF", 100))
	replies := []map[string]any{
		{"type": "admin", "admin_id": testAdmins[0].ID, "message_type": "note", "body": "<p>scan</p>"},
		{"type": "user", "intercom_user_id": contact, "message_type": "comment", "body": "here"},
	}
	for i, reply := range replies {
		reply["attachment_files"] = []any{fileEntry(fmt.Sprintf("scan-%d.pdf", i), data)}
		got := must(t, do(t, s, "POST", "/conversations/"+convID+"/reply", "2.14", reply), 200)
		p := got["conversation_parts"].(map[string]any)["conversation_parts"].([]any)[0].(map[string]any)
		att := p["attachments"].([]any)
		if len(att) != 1 {
			t.Fatalf("reply %d: %d attachments", i, len(att))
		}
		a := att[0].(map[string]any)
		if a["name"] != fmt.Sprintf("scan-%d.pdf", i) || a["content_type"] != "application/pdf" ||
			a["filesize"] != float64(len(data)) {
			t.Errorf("reply %d: attachment = %v", i, a)
		}
		files := s.PartFiles(convID, fmt.Sprint(p["id"]))
		sum := sha256.Sum256(data)
		if len(files) != 1 || files[0].SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("reply %d: stored files = %+v", i, files)
		}
	}
}

// TestAttachmentLimits: more than 10 files, undecodable data, empty data
// and a file over the configured cap are refused and nothing is added.
func TestAttachmentLimits(t *testing.T) {
	s := newTestServer(t, Options{MaxAttachmentBytes: 1000})
	convID := createConversation(t, s, createContact(t, s, map[string]any{"email": "a@example.com"}), 0)
	eleven := make([]any, 11)
	for i := range eleven {
		eleven[i] = fileEntry(fmt.Sprintf("f%d.pdf", i), []byte("x"))
	}
	tests := []struct {
		name   string
		files  []any
		status int
	}{
		{"eleven files", eleven, 400},
		{"not base64", []any{map[string]any{"name": "a.pdf", "content_type": "application/pdf", "data": "%%%"}}, 400},
		{"empty", []any{fileEntry("a.pdf", nil)}, 400},
		{"over the cap", []any{fileEntry("big.pdf", make([]byte, 1001))}, 413},
		{"at the cap", []any{fileEntry("ok.pdf", make([]byte, 1000))}, 200},
	}
	for _, tc := range tests {
		reply := map[string]any{"type": "admin", "admin_id": testAdmins[0].ID, "message_type": "note",
			"body": "<p>files</p>", "attachment_files": tc.files}
		if r := do(t, s, "POST", "/conversations/"+convID+"/reply", "2.14", reply); r.status != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, r.status, tc.status, r.raw)
		}
	}
	if c := s.Counts(); c["conversation_part"] != 1 {
		t.Errorf("parts = %d, want 1 (only the accepted reply)", c["conversation_part"])
	}
}
