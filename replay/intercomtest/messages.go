package intercomtest

import "net/http"

// createMessage answers POST /messages, an admin-initiated outbound message. It always
// reaches a customer, so every recipient (to, cc, bcc) counts as a notification; with
// create_conversation_without_contact_reply it also opens a conversation at once.
func (s *Server) createMessage(c *call) (any, *apiError) {
	from := obj(c.body, "from")
	adminID := str(from, "id")
	if _, ok := s.st.admin(adminID); !ok || str(from, "type") != "admin" {
		return nil, errf(http.StatusNotFound, "admin_not_found", "Admin not found")
	}
	mt, body := str(c.body, "message_type"), str(c.body, "body")
	if body == "" {
		return nil, errf(http.StatusBadRequest, "parameter_not_found", "Body is required")
	}
	if mt == "email" && str(c.body, "subject") == "" {
		return nil, errf(http.StatusUnprocessableEntity, "parameter_invalid",
			"No subject supplied for email message")
	}
	var to []*Contact
	for _, key := range []string{"to", "cc", "bcc"} {
		for _, rc := range recipients(c.body[key]) {
			ct := s.st.contacts[str(rc, "id")]
			if ct == nil {
				return nil, notFound("User Not Found")
			}
			to = append(to, ct)
		}
	}
	if len(to) == 0 {
		return nil, errf(http.StatusBadRequest, "parameter_not_found", "No recipient specified")
	}

	created := timestamp(c, "created_at")
	res := map[string]any{"type": "admin_message", "id": s.st.messageID(), "created_at": created,
		"subject": str(c.body, "subject"), "body": body, "message_type": mt,
		"owner": s.authorJSON("admin", adminID)}
	cv := &Conversation{ID: s.st.convID(), MessageID: res["id"].(string), State: "open",
		ContactID: to[0].ID, ContactRole: to[0].Role, SourceAdminID: adminID, Body: body,
		CreatedAt: created, UpdatedAt: max(created, c.now.Unix())}
	if v, _ := c.body["create_conversation_without_contact_reply"].(bool); v {
		s.st.conversations[cv.ID] = cv
		s.indexConversation(cv, c)
		res["conversation_id"] = cv.ID
	}
	for _, ct := range to {
		s.st.notifications = append(s.st.notifications, Notification{Seq: seqOf(c.r),
			RequestID: requestIDOf(c.r), Method: c.r.Method, Path: c.r.URL.Path, Version: c.version,
			ConversationID: str(res, "conversation_id"), ContactIDs: []string{ct.ID},
			Reason: "admin-initiated " + mt + " message"})
	}
	return res, nil
}

// recipients reads a recipient object or a list of them.
func recipients(v any) []map[string]any {
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}
	case []any:
		var out []map[string]any
		for _, r := range v {
			if m, ok := r.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}
