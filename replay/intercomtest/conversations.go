package intercomtest

import (
	"maps"
	"net/http"
	"strings"
)

// maxPartsShown is how many of the most recent parts GET /conversations/{id} returns.
const maxPartsShown = 500

func (s *Server) conversation(id string) (*Conversation, *apiError) {
	cv := s.st.conversations[id]
	if cv == nil {
		return nil, notFound("Resource Not Found")
	}
	return cv, nil
}

func (s *Server) authorJSON(typ, id string) map[string]any {
	a := map[string]any{"type": typ, "id": id, "name": nil, "email": nil}
	if typ == "admin" {
		if ad, ok := s.st.admin(id); ok {
			a["name"], a["email"] = ad.Name, ad.Email
		}
	} else if ct := s.st.contacts[id]; ct != nil {
		a["name"], a["email"] = nullable(ct.Name), nullable(ct.Email)
	}
	return a
}

func (s *Server) partJSON(p Part) map[string]any {
	att := []any{}
	for i, f := range p.Files {
		att = append(att, f.json(p.ID, i+1))
	}
	var assigned any
	if p.AssignedToID != "" {
		assigned = map[string]any{"type": p.AssignedToType, "id": p.AssignedToID}
	}
	return map[string]any{"type": "conversation_part", "id": p.ID, "part_type": p.PartType,
		"body": nullable(p.Body), "created_at": p.CreatedAt, "updated_at": p.UpdatedAt,
		"notified_at": p.NotifiedAt, "assigned_to": assigned,
		"author": s.authorJSON(p.AuthorType, p.AuthorID), "attachments": att,
		"external_id": nil, "redacted": false}
}

// conversationJSON renders cv with the given parts (the reply endpoints return only the
// new one; GET returns the most recent maxPartsShown).
func (s *Server) conversationJSON(cv *Conversation, parts []Part) map[string]any {
	pj := []any{}
	for _, p := range parts {
		pj = append(pj, s.partJSON(p))
	}
	ext := ""
	if ct := s.st.contacts[cv.ContactID]; ct != nil {
		ext = ct.ExternalID
	}
	ca := maps.Clone(cv.CustomAttributes)
	if ca == nil {
		ca = map[string]any{}
	}
	delivered, author := "customer_initiated", s.authorJSON(cv.ContactRole, cv.ContactID)
	if cv.SourceAdminID != "" {
		delivered, author = "admin_initiated", s.authorJSON("admin", cv.SourceAdminID)
	}
	return map[string]any{
		"type": "conversation", "id": cv.ID, "title": nullable(cv.Title),
		"created_at": cv.CreatedAt, "updated_at": cv.UpdatedAt, "waiting_since": nil,
		"snoozed_until": nullableInt(cv.SnoozedUntil), "open": cv.State != "closed",
		"state": cv.State, "read": cv.Read, "priority": "not_priority",
		"admin_assignee_id": nullableID(cv.AdminAssigneeID), "team_assignee_id": nullableID(cv.TeamAssigneeID),
		"company": nullable(cv.CompanyID),
		"source": map[string]any{"type": "conversation", "id": cv.MessageID,
			"delivered_as": delivered, "subject": "", "body": cv.Body,
			"author": author, "attachments": []any{},
			"url": nil, "redacted": false},
		"contacts": map[string]any{"type": "contact.list", "contacts": []any{
			map[string]any{"type": "contact", "id": cv.ContactID, "external_id": nullable(ext)}}},
		"tags":              map[string]any{"type": "tag.list", "tags": []any{}},
		"custom_attributes": ca, "statistics": nil, "sla_applied": nil, "teammates": nil,
		"conversation_parts": map[string]any{"type": "conversation_part.list",
			"conversation_parts": pj, "total_count": len(parts)},
	}
}

func nullableID(id string) any {
	if id == "" {
		return nil
	}
	return intOrString(id)
}

func (s *Server) conversationFields(cv *Conversation) map[string]any {
	f := map[string]any{"id": cv.ID, "created_at": cv.CreatedAt, "updated_at": cv.UpdatedAt,
		"state": cv.State, "open": cv.State != "closed", "read": cv.Read, "title": cv.Title,
		"contact_ids": []any{cv.ContactID}, "source.body": cv.Body,
		"source.author.id": cv.ContactID, "admin_assignee_id": cv.AdminAssigneeID,
		"team_assignee_id": cv.TeamAssigneeID}
	for k, v := range cv.CustomAttributes {
		f["custom_attributes."+k] = v
	}
	return f
}

func (s *Server) indexConversation(cv *Conversation, c *call) {
	index(s.st.convIndex, cv.ID, c.now, c.now.Add(s.opts.SearchLag), s.conversationFields(cv))
}

// timestamp returns body[key] when sent (a historical time), else now.
func timestamp(c *call, key string) int64 {
	if t, ok := num(c.body, key); ok && t > 0 {
		return t
	}
	return c.now.Unix()
}

func countAttachments(b map[string]any) (int, *apiError) {
	n := 0
	for _, key := range []string{"attachment_urls", "attachment_files"} {
		list, _ := b[key].([]any)
		if len(list) > 10 {
			// TODO: the real message for more than 10 attachments is undocumented.
			return 0, invalid("%s can include at most 10 items", key)
		}
		n += len(list)
	}
	return n, nil
}

// createConversation answers POST /conversations: a contact-initiated conversation whose
// created_at may be historical. The answer is the opening message, not the conversation.
func (s *Server) createConversation(c *call) (any, *apiError) {
	from := obj(c.body, "from")
	ct := s.st.contacts[str(from, "id")]
	if ct == nil || ct.Archived {
		return nil, notFound("User Not Found")
	}
	body := str(c.body, "body")
	if body == "" {
		return nil, errf(http.StatusBadRequest, "parameter_not_found", "Body is required")
	}
	n, e := countAttachments(c.body)
	if e != nil {
		return nil, e
	}
	_ = n // TODO: keep attachments of the opening message on source.attachments.
	created := timestamp(c, "created_at")
	// updated_at is when the object was last written, now, even when created_at is
	// historical: rollback compares it with its own writes to spot later edits.
	cv := &Conversation{ID: s.st.convID(), MessageID: s.st.messageID(), State: "open",
		ContactID: ct.ID, ContactRole: ct.Role, Body: body, CreatedAt: created,
		UpdatedAt: max(created, c.now.Unix())}
	s.st.conversations[cv.ID] = cv
	s.indexConversation(cv, c)
	return map[string]any{"type": "user_message", "id": cv.MessageID, "created_at": created,
		"body": body, "message_type": "inapp", "conversation_id": cv.ID}, nil
}

func (s *Server) getConversation(c *call) (any, *apiError) {
	cv, e := s.conversation(c.r.PathValue("conversation_id"))
	if e != nil {
		return nil, e
	}
	parts := cv.Parts
	if len(parts) > maxPartsShown {
		parts = parts[len(parts)-maxPartsShown:]
	}
	return s.conversationJSON(cv, parts), nil
}

// updateConversation answers PUT /conversations/{id}: read, title, custom_attributes, company_id.
func (s *Server) updateConversation(c *call) (any, *apiError) {
	cv, e := s.conversation(c.r.PathValue("conversation_id"))
	if e != nil {
		return nil, e
	}
	ca := obj(c.body, "custom_attributes")
	if e := s.checkCustomAttributes("conversation", ca); e != nil {
		return nil, e
	}
	if has(c.body, "company_id") && c.body["company_id"] != nil {
		if s.st.companies[str(c.body, "company_id")] == nil {
			return nil, errf(http.StatusNotFound, "company_not_found", "Company Not Found")
		}
	}
	if v, ok := c.body["read"].(bool); ok {
		cv.Read = v
	}
	if has(c.body, "title") {
		cv.Title = str(c.body, "title")
	}
	if has(c.body, "company_id") {
		cv.CompanyID = str(c.body, "company_id")
	}
	if len(ca) > 0 && cv.CustomAttributes == nil {
		cv.CustomAttributes = map[string]any{}
	}
	for k, v := range ca {
		cv.CustomAttributes[k] = v
	}
	cv.UpdatedAt = max(cv.UpdatedAt, c.now.Unix())
	s.indexConversation(cv, c)
	return s.conversationJSON(cv, cv.Parts), nil
}

// deleteConversation answers DELETE /conversations/{id} (2.13+): permanent.
func (s *Server) deleteConversation(c *call) (any, *apiError) {
	cv, e := s.conversation(c.r.PathValue("conversation_id"))
	if e != nil {
		return nil, e
	}
	delete(s.st.conversations, cv.ID)
	index(s.st.convIndex, cv.ID, c.now, c.now.Add(s.opts.SearchLag), nil)
	return map[string]any{"id": cv.ID, "object": "conversation", "deleted": true}, nil
}

// addPart appends p and returns the conversation rendered with only that part.
func (s *Server) addPart(c *call, cv *Conversation, p Part) map[string]any {
	p.ID = s.st.partID()
	p.UpdatedAt = c.now.Unix()
	cv.Parts = append(cv.Parts, p)
	cv.UpdatedAt = max(cv.UpdatedAt, c.now.Unix())
	s.indexConversation(cv, c)
	return s.conversationJSON(cv, []Part{cv.Parts[len(cv.Parts)-1]})
}

// notify records a customer notification caused by this request.
func (s *Server) notify(c *call, cv *Conversation, partID, reason string) {
	s.st.notifications = append(s.st.notifications, Notification{Seq: seqOf(c.r),
		RequestID: requestIDOf(c.r), Method: c.r.Method, Path: c.r.URL.Path, Version: c.version,
		ConversationID: cv.ID, PartID: partID, ContactIDs: []string{cv.ContactID}, Reason: reason})
}

// replyConversation answers POST /conversations/{id}/reply for admins and contacts.
// TODO: the id "last" (the contact's latest conversation) is not emulated.
func (s *Server) replyConversation(c *call) (any, *apiError) {
	cv, e := s.conversation(c.r.PathValue("conversation_id"))
	if e != nil {
		return nil, e
	}
	files, e := s.attachments(c.body)
	if e != nil {
		return nil, e
	}
	if str(c.body, "type") == "admin" {
		return s.adminReply(c, cv, files)
	}
	return s.contactReply(c, cv, files)
}

func (s *Server) adminReply(c *call, cv *Conversation, files []File) (any, *apiError) {
	adminID := str(c.body, "admin_id")
	if _, ok := s.st.admin(adminID); !ok {
		return nil, notFound("Resource Not Found")
	}
	mt := str(c.body, "message_type")
	switch mt {
	case "comment", "note", "quick_reply":
	default:
		return nil, invalid("message_type must be one of comment, note, quick_reply")
	}
	body := str(c.body, "body")
	if body == "" && mt != "quick_reply" {
		return nil, errf(http.StatusBadRequest, "parameter_not_found", "Body is required")
	}
	p := Part{PartType: mt, Body: body, AuthorType: "admin", AuthorID: adminID,
		Attachments: len(files), Files: files, CreatedAt: timestamp(c, "created_at")}
	notifies := mt != "note" && !s.skipsNotifications(c)
	if notifies {
		p.NotifiedAt = c.now.Unix()
	}
	res := s.addPart(c, cv, p)
	if notifies {
		s.notify(c, cv, cv.Parts[len(cv.Parts)-1].ID, "admin "+mt+" reply without skip_notifications")
	}
	return res, nil
}

// skipsNotifications: skip_notifications exists on admin replies from 2.15 on (spec §10.2);
// under 2.14 whether it is honoured is undocumented, so it is not unless configured.
func (s *Server) skipsNotifications(c *call) bool {
	skip, _ := c.body["skip_notifications"].(bool)
	return skip && (c.version >= "2.15" || s.opts.SkipNotificationsOn214)
}

func (s *Server) contactReply(c *call, cv *Conversation, files []File) (any, *apiError) {
	var ct *Contact
	switch {
	case has(c.body, "intercom_user_id"):
		ct = s.st.contacts[str(c.body, "intercom_user_id")]
	case has(c.body, "user_id"):
		ct = s.userByExternalID(str(c.body, "user_id"))
	case has(c.body, "email"):
		ct = s.userByEmail(str(c.body, "email"))
	}
	if ct == nil {
		return nil, notFound("User Not Found")
	}
	if str(c.body, "body") == "" {
		return nil, errf(http.StatusBadRequest, "parameter_not_found", "Body is required")
	}
	if cv.State == "closed" {
		cv.State = "open" // a contact reply reopens a closed conversation
	}
	p := Part{PartType: "comment", Body: str(c.body, "body"), AuthorType: ct.Role,
		AuthorID: ct.ID, Attachments: len(files), Files: files, CreatedAt: timestamp(c, "created_at")}
	return s.addPart(c, cv, p), nil
}

func (s *Server) userByExternalID(ext string) *Contact {
	for _, ct := range s.st.contacts {
		if ext != "" && ct.ExternalID == ext {
			return ct
		}
	}
	return nil
}

func (s *Server) userByEmail(email string) *Contact {
	for _, ct := range s.st.contacts {
		if email != "" && normEmail(ct.Email) == normEmail(email) {
			return ct
		}
	}
	return nil
}

// manageConversation answers POST /conversations/{id}/parts: close, snoozed, open,
// assignment. These are stamped now; history cannot be backdated.
func (s *Server) manageConversation(c *call) (any, *apiError) {
	cv, e := s.conversation(c.r.PathValue("conversation_id"))
	if e != nil {
		return nil, e
	}
	adminID := str(c.body, "admin_id")
	if _, ok := s.st.admin(adminID); !ok {
		return nil, errf(http.StatusNotFound, "admin_not_found", "Admin not found")
	}
	p := Part{AuthorType: "admin", AuthorID: adminID, Body: str(c.body, "body"), CreatedAt: c.now.Unix()}
	switch mt := str(c.body, "message_type"); mt {
	case "close":
		cv.State, cv.SnoozedUntil, p.PartType = "closed", 0, "close"
	case "open":
		cv.State, cv.SnoozedUntil, p.PartType = "open", 0, "open"
	case "snoozed":
		until, ok := num(c.body, "snoozed_until")
		if !ok {
			return nil, errf(http.StatusBadRequest, "parameter_not_found", "snoozed_until is required")
		}
		cv.State, cv.SnoozedUntil, p.PartType = "snoozed", until, "snoozed"
	case "assignment":
		if e := s.assign(c, cv, &p); e != nil {
			return nil, e
		}
	default:
		return nil, invalid("message_type must be one of close, snoozed, open, assignment")
	}
	res := s.addPart(c, cv, p)
	if p.PartType == "close" && strings.TrimSpace(p.Body) != "" {
		// A closing message is shown to the customer like a comment.
		s.notify(c, cv, cv.Parts[len(cv.Parts)-1].ID, "close with a message body")
	}
	return res, nil
}

func (s *Server) assign(c *call, cv *Conversation, p *Part) *apiError {
	assignee := str(c.body, "assignee_id")
	p.PartType, p.AssignedToID = "assignment", assignee
	switch str(c.body, "type") {
	case "admin":
		if _, ok := s.st.admin(assignee); !ok && assignee != "0" {
			return errf(http.StatusNotFound, "assignee_not_found", "Assignee not found")
		}
		cv.AdminAssigneeID = unassigned(assignee)
	case "team":
		if _, ok := s.st.team(assignee); !ok && assignee != "0" {
			return errf(http.StatusNotFound, "team_not_found", "Team not found")
		}
		cv.TeamAssigneeID = unassigned(assignee)
	default:
		return invalid("type must be admin or team")
	}
	p.AssignedToType, p.AssignedToID = str(c.body, "type"), unassigned(assignee)
	return nil
}

// unassigned maps the assignee id "0" (unassign) to none.
func unassigned(id string) string {
	if id == "0" {
		return ""
	}
	return id
}
