package intercomtest

import (
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HelpCenterCollection is a help-center collection as the emulator holds it.
type HelpCenterCollection struct {
	ID, Name, Description, ParentID string // ParentID "" = top level
	Order                           int
	CreatedAt, UpdatedAt            int64
}

// HelpCenterArticle is an article as the emulator holds it, with its
// translations by locale.
type HelpCenterArticle struct {
	ID, Title, Description, Body, State string
	AuthorID                            int64
	ParentID                            string // collection id, "" = stands alone
	Translations                        map[string]ArticleTranslation
	CreatedAt, UpdatedAt                int64
}

// ArticleTranslation is one locale's content of an article.
type ArticleTranslation struct {
	Title, Description, Body, State string
	AuthorID                        int64
}

// helpCenterStore holds collections and articles; maps are made on first use.
type helpCenterStore struct {
	collections map[string]*HelpCenterCollection
	articles    map[string]*HelpCenterArticle
	nextID      int64
}

// defaultLocale is the emulated help center's language.
const defaultLocale = "en"

const helpCenterID = 81

func (h *helpCenterStore) init() {
	if h.collections == nil {
		h.collections, h.articles, h.nextID = map[string]*HelpCenterCollection{},
			map[string]*HelpCenterArticle{}, 160
	}
}

func (h *helpCenterStore) id() string { h.nextID++; return strconv.FormatInt(h.nextID, 10) }

// depth is how many levels the collection id sits at (1 = top level).
func (h *helpCenterStore) depth(id string) int {
	d := 0
	for ; id != ""; d++ {
		id = h.collections[id].ParentID
	}
	return d
}

// ---- collections ----

func (s *Server) createCollection(c *call) (any, *apiError) {
	h := &s.st.help
	h.init()
	name := strings.TrimSpace(str(c.body, "name"))
	if name == "" {
		return nil, errf(http.StatusBadRequest, "parameter_not_found", "Name is a required parameter.")
	}
	parent := str(c.body, "parent_id")
	if e := s.checkParent(parent); e != nil {
		return nil, e
	}
	col := &HelpCenterCollection{ID: h.id(), Name: name, Description: str(c.body, "description"),
		ParentID: parent, CreatedAt: c.now.Unix(), UpdatedAt: c.now.Unix()}
	col.Order = 1 + len(h.collections)
	h.collections[col.ID] = col
	return collectionJSON(col), nil
}

// checkParent accepts "" (top level) or an existing collection with room
// below it under MaxCollectionDepth. The real errors are undocumented; the
// emulator answers 400 parameter_invalid.
func (s *Server) checkParent(parent string) *apiError {
	h := &s.st.help
	if parent == "" {
		return nil
	}
	if _, ok := h.collections[parent]; !ok {
		return invalid("Parent collection %s not found", parent)
	}
	if limit := s.opts.MaxCollectionDepth; limit > 0 && h.depth(parent)+1 > limit {
		return invalid("Collections can be nested at most %d levels deep", limit)
	}
	return nil
}

func (s *Server) getCollection(c *call) (any, *apiError) {
	col, e := s.collection(c)
	if e != nil {
		return nil, e
	}
	return collectionJSON(col), nil
}

func (s *Server) updateCollection(c *call) (any, *apiError) {
	col, e := s.collection(c)
	if e != nil {
		return nil, e
	}
	if has(c.body, "name") {
		if col.Name = strings.TrimSpace(str(c.body, "name")); col.Name == "" {
			return nil, errf(http.StatusBadRequest, "parameter_not_found", "Name is a required parameter.")
		}
	}
	if has(c.body, "description") {
		col.Description = str(c.body, "description")
	}
	if has(c.body, "parent_id") {
		parent := str(c.body, "parent_id")
		if e := s.checkParent(parent); e != nil {
			return nil, e
		}
		col.ParentID = parent
	}
	col.UpdatedAt = c.now.Unix()
	return collectionJSON(col), nil
}

// deleteCollection refuses a collection that still holds collections or
// articles: what Intercom does to them is undocumented (spec §13), so the
// emulator makes the migrator delete bottom-up.
func (s *Server) deleteCollection(c *call) (any, *apiError) {
	col, e := s.collection(c)
	if e != nil {
		return nil, e
	}
	h := &s.st.help
	for _, other := range h.collections {
		if other.ParentID == col.ID {
			return nil, invalid("Collection %s still holds collection %s", col.ID, other.ID)
		}
	}
	for _, a := range h.articles {
		if a.ParentID == col.ID {
			return nil, invalid("Collection %s still holds article %s", col.ID, a.ID)
		}
	}
	delete(h.collections, col.ID)
	return map[string]any{"id": col.ID, "object": "collection", "deleted": true}, nil
}

func (s *Server) listCollections(c *call) (any, *apiError) {
	h := &s.st.help
	h.init()
	all := slices.Collect(maps.Values(h.collections))
	slices.SortFunc(all, func(a, b *HelpCenterCollection) int {
		if a.UpdatedAt != b.UpdatedAt {
			return int(b.UpdatedAt - a.UpdatedAt)
		}
		return byNumber(b.ID, a.ID)
	})
	return pageOf(c, all, func(col *HelpCenterCollection) any { return collectionJSON(col) }), nil
}

func (s *Server) collection(c *call) (*HelpCenterCollection, *apiError) {
	h := &s.st.help
	h.init()
	col, ok := h.collections[c.r.PathValue("collection_id")]
	if !ok {
		return nil, notFound("Resource Not Found")
	}
	return col, nil
}

func collectionJSON(col *HelpCenterCollection) map[string]any {
	return map[string]any{"id": col.ID, "workspace_id": "intercomtest", "name": col.Name,
		"description": nullable(col.Description), "url": nil, "icon": "book-bookmark", "order": col.Order,
		"parent_id": nullable(col.ParentID), "help_center_id": helpCenterID, "default_locale": defaultLocale,
		"translated_content": nil, "created_at": col.CreatedAt, "updated_at": col.UpdatedAt}
}

// pageOf answers a page-numbered list (page, per_page query; per_page <= 150).
func pageOf[T any](c *call, all []T, render func(T) any) map[string]any {
	page, _ := strconv.Atoi(c.r.URL.Query().Get("page"))
	per, _ := strconv.Atoi(c.r.URL.Query().Get("per_page"))
	page, per = max(page, 1), min(max(per, 1), 150)
	if c.r.URL.Query().Get("per_page") == "" {
		per = 20
	}
	data := []any{}
	for i := (page - 1) * per; i < len(all) && i < page*per; i++ {
		data = append(data, render(all[i]))
	}
	return map[string]any{"type": "list", "data": data, "total_count": len(all),
		"pages": map[string]any{"type": "pages", "page": page, "per_page": per,
			"total_pages": max(1, (len(all)+per-1)/per)}}
}

// ---- articles ----

func (s *Server) createArticle(c *call) (any, *apiError) {
	h := &s.st.help
	h.init()
	if strings.TrimSpace(str(c.body, "title")) == "" {
		return nil, errf(http.StatusBadRequest, "parameter_not_found", "title is a required parameter.")
	}
	if !has(c.body, "author_id") {
		return nil, errf(http.StatusBadRequest, "parameter_not_found",
			"author_id must be in the main body or default locale translated_content object")
	}
	a := &HelpCenterArticle{ID: h.id(), State: "draft", Translations: map[string]ArticleTranslation{},
		CreatedAt: c.now.Unix()}
	if e := s.applyArticle(a, c); e != nil {
		h.nextID-- // nothing was created
		return nil, e
	}
	h.articles[a.ID] = a
	return articleJSON(a), nil
}

func (s *Server) updateArticle(c *call) (any, *apiError) {
	a, e := s.article(c)
	if e != nil {
		return nil, e
	}
	draft := *a
	draft.Translations = maps.Clone(a.Translations)
	if e := s.applyArticle(&draft, c); e != nil {
		return nil, e
	}
	*a = draft
	return articleJSON(a), nil
}

// applyArticle sets the fields the body has, checking each before any is kept.
func (s *Server) applyArticle(a *HelpCenterArticle, c *call) *apiError {
	b := c.body
	if has(b, "title") {
		a.Title = strings.TrimSpace(str(b, "title"))
	}
	if has(b, "description") {
		a.Description = str(b, "description")
	}
	if has(b, "body") {
		body, e := articleBody(str(b, "body"))
		if e != nil {
			return e
		}
		a.Body = body
	}
	if has(b, "author_id") {
		id, e := s.author(b)
		if e != nil {
			return e
		}
		a.AuthorID = id
	}
	if st := str(b, "state"); st != "" {
		a.State = st // omitted: unchanged (a draft stays a draft)
	}
	if has(b, "parent_id") {
		parent := str(b, "parent_id")
		if _, ok := s.st.help.collections[parent]; parent != "" && !ok {
			return invalid("Parent collection %s not found", parent)
		}
		a.ParentID = parent
	}
	if e := s.applyTranslations(a, obj(b, "translated_content")); e != nil {
		return e
	}
	a.UpdatedAt = c.now.Unix()
	return nil
}

func (s *Server) applyTranslations(a *HelpCenterArticle, tc map[string]any) *apiError {
	for _, locale := range slices.Sorted(maps.Keys(tc)) {
		content, ok := tc[locale].(map[string]any)
		if locale == "type" || !ok {
			continue
		}
		t := a.Translations[locale]
		t.Title, t.Description, t.State = str(content, "title"), str(content, "description"), str(content, "state")
		if t.State == "" {
			t.State = "draft"
		}
		body, e := articleBody(str(content, "body"))
		if e != nil {
			return e
		}
		t.Body = body
		if has(content, "author_id") {
			id, e := s.author(content)
			if e != nil {
				return e
			}
			t.AuthorID = id
		}
		a.Translations[locale] = t
	}
	return nil
}

// author checks that author_id names a teammate (spec §13).
func (s *Server) author(m map[string]any) (int64, *apiError) {
	id, ok := num(m, "author_id")
	if !ok {
		return 0, invalid("author_id must be an integer")
	}
	if _, found := s.st.admin(strconv.FormatInt(id, 10)); !found {
		return 0, invalid("author_id %d must be a teammate of the workspace", id)
	}
	return id, nil
}

func (s *Server) getArticle(c *call) (any, *apiError) {
	a, e := s.article(c)
	if e != nil {
		return nil, e
	}
	return articleJSON(a), nil
}

func (s *Server) deleteArticle(c *call) (any, *apiError) {
	a, e := s.article(c)
	if e != nil {
		return nil, e
	}
	delete(s.st.help.articles, a.ID)
	return map[string]any{"id": a.ID, "object": "article", "deleted": true}, nil
}

func (s *Server) listArticles(c *call) (any, *apiError) {
	h := &s.st.help
	h.init()
	all := slices.Collect(maps.Values(h.articles))
	slices.SortFunc(all, func(a, b *HelpCenterArticle) int {
		if a.UpdatedAt != b.UpdatedAt {
			return int(b.UpdatedAt - a.UpdatedAt)
		}
		return byNumber(b.ID, a.ID)
	})
	return pageOf(c, all, func(a *HelpCenterArticle) any { return articleJSON(a) }), nil
}

func (s *Server) article(c *call) (*HelpCenterArticle, *apiError) {
	h := &s.st.help
	h.init()
	a, ok := h.articles[c.r.PathValue("article_id")]
	if !ok {
		return nil, notFound("Resource Not Found")
	}
	return a, nil
}

func articleJSON(a *HelpCenterArticle) map[string]any {
	var parent any
	if n, err := strconv.ParseInt(a.ParentID, 10, 64); err == nil {
		parent = n
	}
	tc := map[string]any{"type": "article_translated_content"}
	for locale, t := range a.Translations {
		tc[locale] = map[string]any{"type": "article_content", "title": t.Title, "description": t.Description,
			"body": t.Body, "author_id": t.AuthorID, "state": t.State, "created_at": a.CreatedAt,
			"updated_at": a.UpdatedAt, "url": nil}
	}
	out := map[string]any{"type": "article", "id": a.ID, "workspace_id": "intercomtest", "title": a.Title,
		"description": a.Description, "body": a.Body, "author_id": a.AuthorID, "state": a.State,
		"parent_id": parent, "parent_ids": []any{}, "parent_type": nil, "default_locale": defaultLocale,
		"translated_content": tc, "created_at": a.CreatedAt, "updated_at": a.UpdatedAt, "url": nil,
		"tags": map[string]any{"type": "tag.list", "tags": []any{}}}
	if parent != nil {
		out["parent_type"] = "collection"
		out["parent_ids"] = []any{parent}
	}
	return out
}

// ---- article body ----

var videoHost = regexp.MustCompile(`(?i)^https://(?:www\.)?(?:youtube\.com|youtube-nocookie\.com|player\.vimeo\.com|` +
	`fast\.wistia\.(?:net|com)|(?:www\.)?loom\.com|play\.vidyard\.com|embed\.streamio\.com)/`)

// articleBody applies spec §13's body rules: the hard 400s (a nested list
// or table, a list without a non-empty item, a table without a cell, dl, an
// unsupported iframe, an image that cannot be fetched: any src but http(s))
// and the rewrites the tests may see (h3-h6 to h2; script, form, input and
// textarea removed).
func articleBody(body string) (string, *apiError) {
	if strings.TrimSpace(body) == "" {
		return "", nil
	}
	root := &html.Node{Type: html.ElementNode, DataAtom: atom.Body, Data: "body"}
	nodes, err := html.ParseFragment(strings.NewReader(body), root)
	if err != nil {
		return "", invalid("body is not HTML: %v", err)
	}
	for _, n := range nodes {
		root.AppendChild(n)
	}
	if e := checkBody(root); e != nil {
		return "", e
	}
	var b strings.Builder
	for n := root.FirstChild; n != nil; n = n.NextSibling {
		if err := html.Render(&b, n); err != nil {
			return "", invalid("body cannot be rendered: %v", err)
		}
	}
	return b.String(), nil
}

func checkBody(n *html.Node) *apiError {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode {
			switch c.DataAtom {
			case atom.Script, atom.Form, atom.Input, atom.Textarea:
				n.RemoveChild(c)
				c = next
				continue
			case atom.H3, atom.H4, atom.H5, atom.H6:
				c.DataAtom, c.Data = atom.H2, "h2"
			}
			if e := checkElement(c); e != nil {
				return e
			}
			if e := checkBody(c); e != nil {
				return e
			}
		}
		c = next
	}
	return nil
}

func checkElement(n *html.Node) *apiError {
	switch n.DataAtom {
	case atom.Dl:
		return invalid("Unsupported element dl in article body")
	case atom.Ul, atom.Ol:
		if within(n, atom.Ul) || within(n, atom.Ol) {
			return invalid("Nested lists are not supported in article body")
		}
		if !hasNonEmptyItem(n) {
			return invalid("A list must have at least one non-empty item")
		}
	case atom.Table:
		if within(n, atom.Table) {
			return invalid("Nested tables are not supported in article body")
		}
		if !strings.Contains(renderText(n, true), "<td") && !strings.Contains(renderText(n, true), "<th") {
			return invalid("A table must have at least one row and cell")
		}
	case atom.Iframe:
		if !videoHost.MatchString(attrOf(n, "src")) {
			return invalid("Unsupported iframe source %q", attrOf(n, "src"))
		}
	case atom.Img:
		if src := attrOf(n, "src"); !strings.HasPrefix(src, "https://") && !strings.HasPrefix(src, "http://") {
			return invalid("Image %q could not be fetched", src)
		}
	}
	for _, a := range n.Attr {
		if strings.HasPrefix(strings.ToLower(a.Key), "on") {
			return invalid("Event handler attribute %s is not allowed in article body", a.Key)
		}
	}
	return nil
}

func within(n *html.Node, a atom.Atom) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.DataAtom == a {
			return true
		}
	}
	return false
}

func hasNonEmptyItem(list *html.Node) bool {
	for c := list.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == atom.Li && strings.TrimSpace(renderText(c, false)) != "" {
			return true
		}
	}
	return false
}

// renderText renders n as HTML (markup true) or as its text only.
func renderText(n *html.Node, markup bool) string {
	var b strings.Builder
	if markup {
		_ = html.Render(&b, n)
		return b.String()
	}
	var walk func(*html.Node)
	walk = func(x *html.Node) {
		if x.Type == html.TextNode {
			b.WriteString(x.Data)
		}
		for c := x.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// ---- read helpers for tests ----

// Collections returns copies of all collections, ordered by id.
func (s *Server) Collections() []HelpCenterCollection {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []HelpCenterCollection
	for _, id := range slices.SortedFunc(maps.Keys(s.st.help.collections), byNumber) {
		out = append(out, *s.st.help.collections[id])
	}
	return out
}

// Articles returns copies of all articles with their translations, ordered by id.
func (s *Server) Articles() []HelpCenterArticle {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []HelpCenterArticle
	for _, id := range slices.SortedFunc(maps.Keys(s.st.help.articles), byNumber) {
		a := *s.st.help.articles[id]
		a.Translations = maps.Clone(a.Translations)
		out = append(out, a)
	}
	return out
}
