package intercomtest

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// Tag is a workspace tag as the emulator holds it.
type Tag struct {
	ID, Name string
}

// Tagged lists the live objects a tag is applied to, each sorted.
type Tagged struct {
	Conversations []string // conversation ids
	Contacts      []string // contact ids
	Companies     []string // company ids (Intercom's, not company_id)
}

// tagStore holds tags and where they are applied. Its maps are made on first
// use, so the zero value is ready.
type tagStore struct {
	byID    map[string]*Tag
	applied map[string]map[string]bool // tag id -> "conversation:<id>" | "contact:<id>" | "company:<id>"
	next    int64
}

func (ts *tagStore) init() {
	if ts.byID == nil {
		ts.byID, ts.applied, ts.next = map[string]*Tag{}, map[string]map[string]bool{}, 80
	}
}

// byName finds a tag case-insensitively, as Intercom compares tag names.
func (ts *tagStore) byName(name string) *Tag {
	ts.init()
	for _, t := range ts.byID {
		if strings.EqualFold(t.Name, name) {
			return t
		}
	}
	return nil
}

// findOrCreate is POST /tags {name}: an existing tag is returned as it is.
func (ts *tagStore) findOrCreate(name string) *Tag {
	if t := ts.byName(name); t != nil {
		return t
	}
	ts.next++
	t := &Tag{ID: fmt.Sprint(ts.next), Name: name}
	ts.byID[t.ID] = t
	ts.applied[t.ID] = map[string]bool{}
	return t
}

func (ts *tagStore) get(id string) (*Tag, *apiError) {
	ts.init()
	t := ts.byID[id]
	if t == nil {
		return nil, errf(http.StatusNotFound, "tag_not_found", "Tag not found")
	}
	return t, nil
}

// set applies (on) or removes the tag from one object; both are idempotent.
func (ts *tagStore) set(t *Tag, object string, on bool) {
	if on {
		ts.applied[t.ID][object] = true
	} else {
		delete(ts.applied[t.ID], object)
	}
}

func tagJSON(t *Tag) map[string]any { return map[string]any{"type": "tag", "id": t.ID, "name": t.Name} }

func (s *Server) listTags(*call) (any, *apiError) {
	s.st.tags.init()
	data := []any{}
	for _, id := range slices.SortedFunc(maps.Keys(s.st.tags.byID), byNumber) {
		data = append(data, tagJSON(s.st.tags.byID[id]))
	}
	return map[string]any{"type": "list", "data": data}, nil
}

func (s *Server) getTag(c *call) (any, *apiError) {
	t, e := s.st.tags.get(c.r.PathValue("tag_id"))
	if e != nil {
		return nil, e
	}
	return tagJSON(t), nil
}

// deleteTag answers DELETE /tags/{tag_id}; its applications go with it.
func (s *Server) deleteTag(c *call) (any, *apiError) {
	t, e := s.st.tags.get(c.r.PathValue("tag_id"))
	if e != nil {
		return nil, e
	}
	delete(s.st.tags.byID, t.ID)
	delete(s.st.tags.applied, t.ID)
	return map[string]any{}, nil
}

// postTags answers POST /tags, which does five things chosen by the body's
// shape (spec §15): create or find {name}, rename {id,name}, tag or untag
// companies {name,companies}, tag contacts {name,users}.
func (s *Server) postTags(c *call) (any, *apiError) {
	name := strings.TrimSpace(str(c.body, "name"))
	if name == "" {
		return nil, invalid("invalid tag parameters")
	}
	switch {
	case has(c.body, "companies"):
		return s.tagCompanies(c, name)
	case has(c.body, "users"):
		return s.tagUsers(c, name)
	case has(c.body, "id"):
		t, e := s.st.tags.get(str(c.body, "id"))
		if e != nil {
			return nil, e
		}
		t.Name = name
		return tagJSON(t), nil
	}
	return tagJSON(s.st.tags.findOrCreate(name)), nil
}

// tagCompanies tags or untags companies named by id or company_id; the tag is
// created if absent. Every company is checked before any is changed.
func (s *Server) tagCompanies(c *call, name string) (any, *apiError) {
	items, _ := c.body["companies"].([]any)
	var targets []*Company
	var untag []bool
	for _, it := range items {
		m, _ := it.(map[string]any)
		co := s.st.companies[str(m, "id")]
		if co == nil {
			co = s.companyByKey(str(m, "company_id"))
		}
		if co == nil {
			return nil, errf(http.StatusNotFound, "company_not_found", "Company Not Found")
		}
		targets = append(targets, co)
		u, _ := m["untag"].(bool)
		untag = append(untag, u)
	}
	t := s.st.tags.findOrCreate(name)
	for i, co := range targets {
		s.st.tags.set(t, "company:"+co.ID, !untag[i])
	}
	return tagJSON(t), nil
}

func (s *Server) tagUsers(c *call, name string) (any, *apiError) {
	items, _ := c.body["users"].([]any)
	var ids []string
	for _, it := range items {
		m, _ := it.(map[string]any)
		ct, e := s.contact(str(m, "id"))
		if e != nil {
			return nil, e
		}
		ids = append(ids, ct.ID)
	}
	t := s.st.tags.findOrCreate(name)
	for _, id := range ids {
		s.st.tags.set(t, "contact:"+id, true)
	}
	return tagJSON(t), nil
}

// tagContact answers POST /contacts/{contact_id}/tags {id} and its DELETE.
func (s *Server) tagContact(on bool) apiFunc {
	return func(c *call) (any, *apiError) {
		ct, e := s.contact(c.r.PathValue("contact_id"))
		if e != nil {
			return nil, e
		}
		tagID := c.r.PathValue("tag_id")
		if on {
			tagID = str(c.body, "id")
		}
		t, e := s.st.tags.get(tagID)
		if e != nil {
			return nil, e
		}
		s.st.tags.set(t, "contact:"+ct.ID, on)
		return tagJSON(t), nil
	}
}

// tagConversation answers POST /conversations/{id}/tags {id,admin_id} and its
// DELETE {admin_id}: both act as a teammate, who must exist.
func (s *Server) tagConversation(on bool) apiFunc {
	return func(c *call) (any, *apiError) {
		cv, e := s.conversation(c.r.PathValue("conversation_id"))
		if e != nil {
			return nil, e
		}
		adminID := str(c.body, "admin_id")
		if _, ok := s.st.admin(adminID); !ok {
			return nil, errf(http.StatusNotFound, "admin_not_found", "Admin not found")
		}
		tagID := c.r.PathValue("tag_id")
		if on {
			tagID = str(c.body, "id")
		}
		t, e := s.st.tags.get(tagID)
		if e != nil {
			return nil, e
		}
		s.st.tags.set(t, "conversation:"+cv.ID, on)
		out := tagJSON(t)
		if on {
			out["applied_at"] = c.now.Unix()
			out["applied_by"] = map[string]any{"type": "admin", "id": adminID}
		}
		return out, nil
	}
}

// ---- read helpers for tests ----

// Tags returns every tag, ordered by id.
func (s *Server) Tags() []Tag {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.tags.init()
	var out []Tag
	for _, id := range slices.SortedFunc(maps.Keys(s.st.tags.byID), byNumber) {
		out = append(out, *s.st.tags.byID[id])
	}
	return out
}

// TaggedWith lists the live objects carrying the tag named name (compared
// case-insensitively); objects deleted since they were tagged are left out.
func (s *Server) TaggedWith(name string) Tagged {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out Tagged
	t := s.st.tags.byName(name)
	if t == nil {
		return out
	}
	for _, obj := range slices.Sorted(maps.Keys(s.st.tags.applied[t.ID])) {
		kind, id, _ := strings.Cut(obj, ":")
		switch {
		case kind == "conversation" && s.st.conversations[id] != nil:
			out.Conversations = append(out.Conversations, id)
		case kind == "contact" && s.st.contacts[id] != nil:
			out.Contacts = append(out.Contacts, id)
		case kind == "company" && s.st.companies[id] != nil:
			out.Companies = append(out.Companies, id)
		}
	}
	return out
}
