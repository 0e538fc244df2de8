package intercomtest

import (
	"maps"
	"net/http"
	"slices"
	"strings"
)

func listOf(url string, data []any) map[string]any {
	return map[string]any{"type": "list", "data": data, "url": url,
		"total_count": len(data), "has_more": false}
}

func contactJSON(c *Contact) map[string]any {
	companies := []any{}
	for _, id := range c.CompanyIDs {
		companies = append(companies, map[string]any{"type": "company", "id": id, "url": "/companies/" + id})
	}
	base := "/contacts/" + c.ID
	ca := maps.Clone(c.CustomAttributes)
	if ca == nil {
		ca = map[string]any{}
	}
	return map[string]any{
		"type": "contact", "id": c.ID, "workspace_id": "intercomtest",
		"external_id": nullable(c.ExternalID), "role": c.Role, "email": nullable(c.Email),
		"phone": nullable(c.Phone), "name": nullable(c.Name), "avatar": nullable(c.Avatar),
		"owner_id": nullableInt(c.OwnerID), "unsubscribed_from_emails": c.UnsubscribedFromEmails,
		"has_hard_bounced": false, "marked_email_as_spam": false,
		"created_at": c.CreatedAt, "updated_at": c.UpdatedAt,
		"signed_up_at": nullableInt(c.SignedUpAt), "last_seen_at": nullableInt(c.LastSeenAt),
		"custom_attributes": ca,
		"tags":              listOf(base+"/tags", []any{}),
		"notes":             listOf(base+"/notes", []any{}),
		"companies":         listOf(base+"/companies", companies),
		"social_profiles":   map[string]any{"type": "list", "data": []any{}},
		"location": map[string]any{"type": "location", "country": nil, "region": nil, "city": nil,
			"country_code": nil, "continent_code": nil},
	}
}

// contactFields is what search matches a contact on.
func contactFields(c *Contact) map[string]any {
	f := map[string]any{"id": c.ID, "role": c.Role, "email": c.Email, "external_id": c.ExternalID,
		"name": c.Name, "phone": c.Phone, "created_at": c.CreatedAt, "updated_at": c.UpdatedAt,
		"signed_up_at": c.SignedUpAt, "last_seen_at": c.LastSeenAt}
	if _, dom, ok := strings.Cut(c.Email, "@"); ok {
		f["email_domain"] = strings.ToLower(dom)
	}
	for k, v := range c.CustomAttributes {
		f["custom_attributes."+k] = v
	}
	return f
}

// conflictingUser returns the user that a contact with these identifiers would clash with.
// Intercom documents no exact rule (spec §7.3); the safe model is: the same external_id,
// or, when no external_id is sent, the same email. Leads never clash.
func (s *Server) conflictingUser(selfID, externalID, email string) *Contact {
	for _, id := range slices.Sorted(maps.Keys(s.st.contacts)) {
		c := s.st.contacts[id]
		if c.ID == selfID || c.Role != "user" {
			continue
		}
		if externalID != "" && c.ExternalID == externalID {
			return c
		}
		if externalID == "" && email != "" && normEmail(c.Email) == normEmail(email) {
			return c
		}
	}
	return nil
}

func conflict(c *Contact) *apiError {
	if c.Archived {
		return errf(http.StatusConflict, "conflict",
			"An archived contact matching those details already exists with id=%s", c.ID)
	}
	return errf(http.StatusConflict, "conflict",
		"A contact matching those details already exists with id=%s", c.ID)
}

// createContact answers POST /contacts.
func (s *Server) createContact(c *call) (any, *apiError) {
	role := str(c.body, "role")
	if role == "" {
		role = "user" // the documented default
	}
	if role != "user" && role != "lead" {
		return nil, invalid("role must be either user or lead")
	}
	ct := &Contact{Role: role, CreatedAt: c.now.Unix(), UpdatedAt: c.now.Unix()}
	if e := s.applyContactFields(c, ct); e != nil {
		return nil, e
	}
	if role == "user" && ct.Email == "" && ct.ExternalID == "" {
		// TODO: the real message is undocumented (C21 only says one of the two is needed).
		return nil, invalid("A user requires an email or an external_id")
	}
	if role == "user" {
		if other := s.conflictingUser("", ct.ExternalID, ct.Email); other != nil {
			return nil, conflict(other)
		}
	}
	ct.ID = s.st.hexID(c.now)
	s.st.contacts[ct.ID] = ct
	s.indexContact(ct, c)
	return contactJSON(ct), nil
}

// applyContactFields copies the writable fields present in the body onto ct.
func (s *Server) applyContactFields(c *call, ct *Contact) *apiError {
	b := c.body
	if ca := obj(b, "custom_attributes"); ca != nil {
		if e := s.checkCustomAttributes("contact", ca); e != nil {
			return e
		}
		if ct.CustomAttributes == nil {
			ct.CustomAttributes = map[string]any{}
		}
		for k, v := range ca {
			if v == nil {
				delete(ct.CustomAttributes, k)
			} else {
				ct.CustomAttributes[k] = v
			}
		}
	}
	if has(b, "owner_id") && b["owner_id"] != nil {
		id, _ := num(b, "owner_id")
		if _, ok := s.st.admin(formatInt(id)); !ok {
			return invalid("The owner specified is not a member of the workspace")
		}
		ct.OwnerID = id
	}
	for key, dst := range map[string]*string{"external_id": &ct.ExternalID, "email": &ct.Email,
		"name": &ct.Name, "phone": &ct.Phone, "avatar": &ct.Avatar} {
		if has(b, key) {
			*dst = strings.TrimSpace(str(b, key))
		}
	}
	for key, dst := range map[string]*int64{"signed_up_at": &ct.SignedUpAt, "last_seen_at": &ct.LastSeenAt} {
		if has(b, key) {
			*dst, _ = num(b, key)
		}
	}
	if v, ok := b["unsubscribed_from_emails"].(bool); ok {
		ct.UnsubscribedFromEmails = v
	}
	return nil
}

// indexContact makes the contact's current fields visible to search after the lag.
func (s *Server) indexContact(ct *Contact, c *call) {
	index(s.st.contactIndex, ct.ID, c.now, c.now.Add(s.opts.SearchLag), contactFields(ct))
}

func (s *Server) contact(id string) (*Contact, *apiError) {
	ct := s.st.contacts[id]
	if ct == nil {
		return nil, notFound("User Not Found")
	}
	return ct, nil
}

func (s *Server) getContact(c *call) (any, *apiError) {
	ct, e := s.contact(c.r.PathValue("contact_id"))
	if e != nil {
		return nil, e
	}
	return contactJSON(ct), nil
}

// findContactByExternalID answers GET /contacts/find_by_external_id/{id}: users only.
func (s *Server) findContactByExternalID(c *call) (any, *apiError) {
	ext := c.r.PathValue("external_id")
	for _, id := range slices.Sorted(maps.Keys(s.st.contacts)) {
		if ct := s.st.contacts[id]; ct.Role == "user" && ct.ExternalID == ext && ext != "" {
			return contactJSON(ct), nil
		}
	}
	return nil, notFound("User Not Found")
}

// updateContact answers PUT /contacts/{id}: partial; a lead may become a user, never back.
func (s *Server) updateContact(c *call) (any, *apiError) {
	ct, e := s.contact(c.r.PathValue("contact_id"))
	if e != nil {
		return nil, e
	}
	next := *ct
	next.CustomAttributes = maps.Clone(ct.CustomAttributes)
	if role := str(c.body, "role"); role != "" {
		if ct.Role == "user" && role == "lead" {
			// TODO: the real error for user -> lead is undocumented (HC-new says impossible).
			return nil, invalid("A user cannot be converted to a lead")
		}
		next.Role = role
	}
	if e := s.applyContactFields(c, &next); e != nil {
		return nil, e
	}
	if next.Role == "user" {
		if other := s.conflictingUser(ct.ID, next.ExternalID, next.Email); other != nil &&
			(next.ExternalID != ct.ExternalID || normEmail(next.Email) != normEmail(ct.Email)) {
			return nil, conflict(other)
		}
	}
	next.UpdatedAt = c.now.Unix()
	*ct = next
	s.indexContact(ct, c)
	return contactJSON(ct), nil
}

// deleteContact answers DELETE /contacts/{id}; archived contacts can be deleted directly.
func (s *Server) deleteContact(c *call) (any, *apiError) {
	ct, e := s.contact(c.r.PathValue("contact_id"))
	if e != nil {
		return nil, e
	}
	delete(s.st.contacts, ct.ID)
	index(s.st.contactIndex, ct.ID, c.now, c.now.Add(s.opts.SearchLag), nil)
	return map[string]any{"type": "contact", "id": ct.ID, "external_id": nullable(ct.ExternalID),
		"deleted": true}, nil
}

func (s *Server) archiveContact(archived bool) apiFunc {
	return func(c *call) (any, *apiError) {
		ct, e := s.contact(c.r.PathValue("contact_id"))
		if e != nil {
			return nil, e
		}
		ct.Archived, ct.UpdatedAt = archived, c.now.Unix()
		if archived {
			index(s.st.contactIndex, ct.ID, c.now, c.now.Add(s.opts.SearchLag), nil)
		} else {
			s.indexContact(ct, c)
		}
		return map[string]any{"type": "contact", "id": ct.ID, "external_id": nullable(ct.ExternalID),
			"archived": archived}, nil
	}
}

// attachCompany answers POST /contacts/{id}/companies {"id": <Intercom company id>}.
func (s *Server) attachCompany(c *call) (any, *apiError) {
	ct, e := s.contact(c.r.PathValue("contact_id"))
	if e != nil {
		return nil, e
	}
	id := str(c.body, "id")
	if id == "" {
		return nil, errf(http.StatusBadRequest, "parameter_not_found", "company not specified")
	}
	co := s.st.companies[id]
	if co == nil {
		return nil, errf(http.StatusNotFound, "company_not_found", "Company Not Found")
	}
	if !slices.Contains(ct.CompanyIDs, id) {
		if len(ct.CompanyIDs) >= 1000 {
			return nil, errf(http.StatusBadRequest, "contact_company_limit_exceeded",
				"Contact has reached the maximum of 1000 company associations")
		}
		ct.CompanyIDs = append(ct.CompanyIDs, id)
	}
	return s.companyJSON(co), nil
}

// detachCompany answers DELETE /contacts/{id}/companies/{company_id}.
func (s *Server) detachCompany(c *call) (any, *apiError) {
	ct, e := s.contact(c.r.PathValue("contact_id"))
	if e != nil {
		return nil, e
	}
	id := c.r.PathValue("company_id")
	co := s.st.companies[id]
	if co == nil || !slices.Contains(ct.CompanyIDs, id) {
		return nil, errf(http.StatusNotFound, "company_not_found", "Company Not Found")
	}
	ct.CompanyIDs = slices.DeleteFunc(ct.CompanyIDs, func(x string) bool { return x == id })
	return s.companyJSON(co), nil
}
