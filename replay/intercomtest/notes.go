package intercomtest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Note is the emulator's record of a note on a contact (spec §12). Notes
// cannot be updated or deleted; they go only with their contact. A note
// never notifies anyone.
type Note struct {
	ID, ContactID, AuthorID, Body string
	CreatedAt                     int64
}

// noteStore holds notes by contact in creation order.
type noteStore struct {
	next      int64
	byContact map[string][]*Note
}

func (ns *noteStore) add(n *Note) {
	if ns.byContact == nil {
		ns.byContact = map[string][]*Note{}
	}
	ns.next++
	n.ID = strconv.FormatInt(ns.next, 10)
	ns.byContact[n.ContactID] = append(ns.byContact[n.ContactID], n)
}

func (s *Server) noteJSON(n *Note) map[string]any {
	author := map[string]any{"type": "admin", "id": n.AuthorID}
	if a, ok := s.st.admin(n.AuthorID); ok {
		author = adminJSON(a, s.st.teams)
	}
	return map[string]any{"type": "note", "id": n.ID, "created_at": n.CreatedAt,
		"contact": map[string]any{"type": "contact", "id": n.ContactID}, "author": author, "body": n.Body}
}

// wrapNote stores plain text as a paragraph, as Intercom does; markup is kept.
func wrapNote(body string) string {
	if strings.HasPrefix(strings.TrimSpace(body), "<") {
		return body
	}
	return "<p>" + body + "</p>"
}

// createNote answers POST /contacts/{contact_id}/notes. Without admin_id the
// note is the token's admin's (the first admin, as GET /me answers).
func (s *Server) createNote(c *call) (any, *apiError) {
	ct, e := s.contact(c.r.PathValue("contact_id"))
	if e != nil {
		return nil, e
	}
	body := str(c.body, "body")
	if body == "" {
		return nil, errf(http.StatusBadRequest, "parameter_not_found", "body is a required parameter.")
	}
	author := str(c.body, "admin_id")
	if author == "" && len(s.st.admins) > 0 {
		author = s.st.admins[0].ID
	}
	if _, ok := s.st.admin(author); !ok {
		return nil, notFound("Resource Not Found")
	}
	n := &Note{ContactID: ct.ID, AuthorID: author, Body: wrapNote(body), CreatedAt: c.now.Unix()}
	s.st.notes.add(n)
	return s.noteJSON(n), nil
}

// notesPerPage is the list's page size (the description's example says 50).
const notesPerPage = 50

// listNotes answers GET /contacts/{contact_id}/notes, newest first as the
// description's example, paged by ?page= (spec §5: paging unverified).
func (s *Server) listNotes(c *call) (any, *apiError) {
	ct, e := s.contact(c.r.PathValue("contact_id"))
	if e != nil {
		return nil, e
	}
	all := s.st.notes.byContact[ct.ID]
	page, _ := strconv.Atoi(c.r.URL.Query().Get("page"))
	page = max(page, 1)
	total := max((len(all)+notesPerPage-1)/notesPerPage, 1)
	data := []any{}
	for i := (page - 1) * notesPerPage; i < min(page*notesPerPage, len(all)); i++ {
		data = append(data, s.noteJSON(all[len(all)-1-i]))
	}
	var next any
	if page < total {
		next = fmt.Sprint(page + 1)
	}
	return map[string]any{"type": "list", "data": data, "total_count": len(all),
		"pages": map[string]any{"type": "pages", "next": next, "page": page, "per_page": notesPerPage,
			"total_pages": total}}, nil
}

// getNote answers GET /notes/{note_id}.
func (s *Server) getNote(c *call) (any, *apiError) {
	id := c.r.PathValue("note_id")
	for contact, notes := range s.st.notes.byContact {
		if s.st.contacts[contact] == nil {
			continue // a note goes with its contact
		}
		for _, n := range notes {
			if n.ID == id {
				return s.noteJSON(n), nil
			}
		}
	}
	return nil, notFound("Resource Not Found")
}

// Notes returns copies of a contact's notes in creation order.
func (s *Server) Notes(contactID string) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Note
	for _, n := range s.st.notes.byContact[contactID] {
		out = append(out, *n)
	}
	return out
}

// NoteCount is how many notes the emulator holds on live contacts.
func (s *Server) NoteCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, notes := range s.st.notes.byContact {
		if s.st.contacts[id] != nil {
			n += len(notes)
		}
	}
	return n
}
