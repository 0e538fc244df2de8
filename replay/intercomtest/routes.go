package intercomtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// call is one request as a route handler sees it. Handlers run with s.mu held.
type call struct {
	r       *http.Request
	version string
	body    map[string]any
	now     time.Time
}

type apiFunc func(c *call) (any, *apiError)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	add := func(pattern string, fn apiFunc) { s.route(mux, pattern, "", fn) }

	add("GET /me", s.getMe)
	add("GET /admins", s.listAdmins)
	add("GET /admins/{admin_id}", s.getAdmin)
	add("GET /teams", s.listTeams)
	add("GET /teams/{team_id}", s.getTeam)

	add("POST /contacts", s.createContact)
	add("GET /contacts/{contact_id}", s.getContact)
	add("PUT /contacts/{contact_id}", s.updateContact)
	add("DELETE /contacts/{contact_id}", s.deleteContact)
	add("GET /contacts/find_by_external_id/{external_id}", s.findContactByExternalID)
	add("POST /contacts/{contact_id}/archive", s.archiveContact(true))
	add("POST /contacts/{contact_id}/unarchive", s.archiveContact(false))
	add("POST /contacts/search", s.searchContacts)
	add("POST /contacts/{contact_id}/companies", s.attachCompany)
	add("DELETE /contacts/{contact_id}/companies/{company_id}", s.detachCompany)
	add("POST /contacts/{contact_id}/notes", s.createNote)
	// ServeMux finds GET /contacts/{contact_id}/notes and
	// /contacts/find_by_external_id/{external_id} equally specific, so the
	// list goes through a mux of its own behind a wildcard the other beats.
	notes := http.NewServeMux()
	s.route(notes, "GET /contacts/{contact_id}/notes", "", s.listNotes)
	notes.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, requestIDOf(r), notFound("Resource Not Found"))
	})
	mux.Handle("GET /contacts/{contact_id}/{sub}", notes)
	add("GET /notes/{note_id}", s.getNote)

	add("POST /companies", s.upsertCompany)
	add("GET /companies", s.findCompanies)
	add("GET /companies/{company_id}", s.getCompany)
	add("DELETE /companies/{company_id}", s.deleteCompany)

	add("POST /conversations", s.createConversation)
	add("GET /conversations/{conversation_id}", s.getConversation)
	add("PUT /conversations/{conversation_id}", s.updateConversation)
	add("DELETE /conversations/{conversation_id}", s.deleteConversation)
	add("POST /conversations/{conversation_id}/reply", s.replyConversation)
	add("POST /conversations/{conversation_id}/parts", s.manageConversation)
	add("POST /conversations/search", s.searchConversations)

	add("POST /messages", s.createMessage)

	add("GET /tags", s.listTags)
	add("POST /tags", s.postTags)
	add("GET /tags/{tag_id}", s.getTag)
	add("DELETE /tags/{tag_id}", s.deleteTag)
	add("POST /contacts/{contact_id}/tags", s.tagContact(true))
	add("DELETE /contacts/{contact_id}/tags/{tag_id}", s.tagContact(false))
	add("POST /conversations/{conversation_id}/tags", s.tagConversation(true))
	add("DELETE /conversations/{conversation_id}/tags/{tag_id}", s.tagConversation(false))

	add("GET /help_center/collections", s.listCollections)
	add("POST /help_center/collections", s.createCollection)
	add("GET /help_center/collections/{collection_id}", s.getCollection)
	add("PUT /help_center/collections/{collection_id}", s.updateCollection)
	add("DELETE /help_center/collections/{collection_id}", s.deleteCollection)
	add("GET /articles", s.listArticles)
	add("POST /articles", s.createArticle)
	add("GET /articles/{article_id}", s.getArticle)
	add("PUT /articles/{article_id}", s.updateArticle)
	add("DELETE /articles/{article_id}", s.deleteArticle)

	add("GET /data_attributes", s.listDataAttributes)
	add("POST /data_attributes", s.createDataAttribute)
	add("PUT /data_attributes/{data_attribute_id}", s.updateDataAttribute)
	s.route(mux, "GET /conversations/attributes", "2.16", s.listConversationAttributes)
	s.route(mux, "POST /conversations/attributes", "2.16", s.createConversationAttribute)
	s.route(mux, "DELETE /conversations/attributes/{id}", "2.16", s.archiveConversationAttribute)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, requestIDOf(r), notFound("Resource Not Found"))
	})
	return mux
}

// route registers fn under an OpenAPI-style pattern ("GET /contacts/{contact_id}"), which
// is also the key of the operation requests are validated against. since is the first
// emulated version that has the endpoint ("" = all).
func (s *Server) route(mux *http.ServeMux, pattern, since string, fn apiFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		reqID := requestIDOf(r)
		version := versionOf(r)
		if since != "" && version < since {
			writeError(w, reqID, notFound("Resource Not Found"))
			return
		}
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, reqID, errf(http.StatusBadRequest, "bad_request", "cannot read body: %v", err))
			return
		}
		if s.opts.Validate {
			r.Body = io.NopCloser(bytes.NewReader(raw))
			if e := validateRequest(r, version, method, path); e != nil {
				writeError(w, reqID, e)
				return
			}
		}
		c := &call{r: r, version: version}
		if len(bytes.TrimSpace(raw)) > 0 && method != http.MethodGet {
			if err := json.Unmarshal(raw, &c.body); err != nil {
				// TODO: the real answer to a non-JSON body is undocumented (spec §2).
				writeError(w, reqID, errf(http.StatusBadRequest, "bad_request", "Invalid JSON: %v", err))
				return
			}
		}
		if c.body == nil {
			c.body = map[string]any{}
		}
		s.mu.Lock()
		c.now = s.now()
		res, e := fn(c)
		s.mu.Unlock()
		if e != nil {
			writeError(w, reqID, e)
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
}

// ---- body access helpers; JSON numbers arrive as float64 ----

func str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case float64:
		return formatNumber(v)
	}
	return ""
}

func num(m map[string]any, k string) (int64, bool) {
	switch v := m[k].(type) {
	case float64:
		return int64(v), true
	case string:
		var n json.Number = json.Number(v)
		if i, err := n.Int64(); err == nil {
			return i, true
		}
	}
	return 0, false
}

func has(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func obj(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

func formatNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// nullable renders "" as JSON null, as Intercom does for unset strings.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullableInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

// intOrString renders a decimal id as a JSON number where Intercom types it so
// (admin_assignee_id, team ids), and anything else as a string.
func intOrString(id string) any {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		return n
	}
	return id
}
