package replay

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Record kinds of the help center (contracts §3). A translation is an op of
// kind article on its article's source id, step "translate-<locale>", so that
// it belongs to the article's object: deleting the article takes it back.
const (
	KindCollection = "collection"
	KindArticle    = "article"
)

const (
	stepCreate        = "create"
	stepTranslatePref = "translate-"
)

// Collection is the part of an Intercom help-center collection replay reads.
type Collection struct {
	ID          ID     `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	ParentID    ID     `json:"parent_id"`
}

// CollectionRequest is the body of POST /help_center/collections.
type CollectionRequest struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	ParentID    *string `json:"parent_id,omitempty"` // nil = top level
}

// Article is the part of an Intercom article replay reads.
type Article struct {
	ID            ID     `json:"id"`
	Title         string `json:"title"`
	State         string `json:"state"`
	ParentID      ID     `json:"parent_id"`
	DefaultLocale string `json:"default_locale"`
}

// ArticleContent is one locale's content of an article.
type ArticleContent struct {
	Type        string `json:"type"` // article_content
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Body        string `json:"body,omitempty"`
	AuthorID    int64  `json:"author_id"`
	State       string `json:"state"`
}

// ArticleRequest is the body of POST /articles. parent_id is an integer
// there (a string in PUT, which replay only uses for translations).
type ArticleRequest struct {
	Title             string         `json:"title"`
	Description       string         `json:"description,omitempty"`
	Body              string         `json:"body,omitempty"`
	AuthorID          int64          `json:"author_id"`
	State             string         `json:"state"`
	ParentID          *int64         `json:"parent_id,omitempty"`
	ParentType        string         `json:"parent_type,omitempty"`
	TranslatedContent map[string]any `json:"translated_content,omitempty"`
}

// TranslationRequest is the body of PUT /articles/{id} that adds one locale.
type TranslationRequest struct {
	TranslatedContent map[string]any `json:"translated_content"`
}

// CreateCollection calls POST /help_center/collections. It is not idempotent:
// a lost answer comes back as *UncertainError.
func (c *Client) CreateCollection(ctx context.Context, r CollectionRequest) (*Collection, error) {
	var out Collection
	err := c.do(ctx, call{method: "POST", path: "/help_center/collections", body: r}, &out)
	return &out, err
}

// ListCollections calls GET /help_center/collections page by page.
func (c *Client) ListCollections(ctx context.Context) ([]Collection, error) {
	var all []Collection
	err := c.pages(ctx, "/help_center/collections", func(data json.RawMessage) (int, error) {
		var page []Collection
		err := json.Unmarshal(data, &page)
		all = append(all, page...)
		return len(page), err
	})
	return all, err
}

// DeleteCollection calls DELETE /help_center/collections/{id}.
func (c *Client) DeleteCollection(ctx context.Context, id string) error {
	return c.do(ctx, call{method: "DELETE", path: "/help_center/collections/" + escape(id), idempotent: true}, nil)
}

// CreateArticle calls POST /articles; not idempotent.
func (c *Client) CreateArticle(ctx context.Context, r ArticleRequest) (*Article, error) {
	var out Article
	err := c.do(ctx, call{method: "POST", path: "/articles", body: r}, &out)
	return &out, err
}

// TranslateArticle calls PUT /articles/{id} with one locale's content;
// sending the same content again changes nothing, so it is retried freely.
func (c *Client) TranslateArticle(ctx context.Context, id string, r TranslationRequest) error {
	return c.do(ctx, call{method: "PUT", path: "/articles/" + escape(id), body: r, idempotent: true}, nil)
}

// ListArticles calls GET /articles page by page.
func (c *Client) ListArticles(ctx context.Context) ([]Article, error) {
	var all []Article
	err := c.pages(ctx, "/articles", func(data json.RawMessage) (int, error) {
		var page []Article
		err := json.Unmarshal(data, &page)
		all = append(all, page...)
		return len(page), err
	})
	return all, err
}

// DeleteArticle calls DELETE /articles/{id}.
func (c *Client) DeleteArticle(ctx context.Context, id string) error {
	return c.do(ctx, call{method: "DELETE", path: "/articles/" + escape(id), idempotent: true}, nil)
}

// pages walks a page-numbered list ({"data": [...], "pages": {"page",
// "total_pages"}}), handing each page's data to add.
func (c *Client) pages(ctx context.Context, path string, add func(data json.RawMessage) (int, error)) error {
	for page := 1; ; page++ {
		var out struct {
			Data  json.RawMessage `json:"data"`
			Pages struct {
				Page       int `json:"page"`
				TotalPages int `json:"total_pages"`
			} `json:"pages"`
		}
		q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {"50"}}
		if err := c.do(ctx, call{method: "GET", path: path, query: q, idempotent: true}, &out); err != nil {
			return err
		}
		n, err := add(out.Data)
		if err != nil {
			return fmt.Errorf("intercom GET %s page %d: %w", path, page, err)
		}
		if n == 0 || page >= out.Pages.TotalPages {
			return nil
		}
	}
}

type stageCollection struct {
	SourceTable, SourceID, Name, Description, ParentSourceID string
}

type stageArticle struct {
	SourceTable, SourceID, ArticleSourceID, Role, Locale, HelpCenterLocale string
	Title, Description, Body, State, AuthorSourceID, CollectionSourceID    string
}

// replayHelpCenter creates the collections, parents first, then the
// articles with their translations. A staging database built before the
// help center was staged has no such tables and is passed over.
func (r *runner) replayHelpCenter(ctx context.Context) error {
	ok, err := hasStageTable(ctx, r.db, "collections")
	if err != nil || !ok {
		return err
	}
	if err := r.replayCollections(ctx); err != nil {
		return err
	}
	return r.replayArticles(ctx)
}

func hasStageTable(ctx context.Context, db *sql.DB, table string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `select count(*) from information_schema.tables
		where table_schema = 'stage' and table_name = ?`, table).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look for stage.%s: %w", table, err)
	}
	return n > 0, nil
}

// replayCollections runs in staged order, which puts every parent before its
// children, one at a time: a child needs its parent's Intercom id.
func (r *runner) replayCollections(ctx context.Context) error {
	cols, err := readCollections(ctx, r.db)
	if err != nil {
		return err
	}
	ids := map[string]string{}
	r.collections = ids
	for i, c := range cols {
		parent := ""
		if c.ParentSourceID != "" {
			if parent = ids[c.ParentSourceID]; parent == "" {
				r.e.fail(KindCollection, KindCollection+":"+c.SourceID+":"+stepCreate,
					fmt.Sprintf("parent collection %s was not replayed", c.ParentSourceID))
				continue
			}
		}
		out, err := r.e.write(ctx, r.collectionOp(c, parent))
		if err != nil && !isOpFailure(err) {
			return err
		}
		if err == nil {
			ids[c.SourceID] = out.id
		}
		r.progress(KindCollection, i+1, len(cols))
	}
	return nil
}

func (r *runner) collectionOp(c stageCollection, parentID string) op {
	req := CollectionRequest{Name: c.Name, Description: c.Description}
	if parentID != "" {
		req.ParentID = &parentID
	}
	o := op{kind: KindCollection, sourceTable: c.SourceTable, sourceID: c.SourceID, step: stepCreate,
		method: "POST", path: "/help_center/collections", body: req}
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		col, err := r.e.c.CreateCollection(ctx, req)
		if err != nil {
			return outcome{}, fmt.Errorf("collection %s: %w", c.SourceID, err)
		}
		return outcome{id: string(col.ID)}, nil
	}
	// POST is not idempotent (spec §19): an attempt whose answer was lost is
	// found by name under the same parent, which transform keeps unique.
	o.resolve = func(ctx context.Context, _ time.Time, _ *Record) (outcome, bool, error) {
		all, err := r.e.c.ListCollections(ctx)
		if err != nil {
			return outcome{}, false, fmt.Errorf("collection %s: list collections: %w", c.SourceID, err)
		}
		for _, col := range all {
			if col.Name == c.Name && string(col.ParentID) == parentID {
				return outcome{id: string(col.ID)}, true, nil
			}
		}
		return outcome{}, false, nil
	}
	return o
}

// replayArticles creates each article from its lead row, then adds its
// translations. Articles run in parallel; one article's ops run in order.
func (r *runner) replayArticles(ctx context.Context) error {
	groups, err := readArticleGroups(ctx, r.db)
	if err != nil {
		return err
	}
	done := 0
	return pool(ctx, r.cfg.Workers, func(submit func(func(context.Context) error) error) error {
		for _, g := range groups {
			if err := submit(func(ctx context.Context) error {
				err := r.article(ctx, g)
				r.mu.Lock()
				done++
				r.progress(KindArticle, done, len(groups))
				r.mu.Unlock()
				return err
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// article replays one article: its lead row, then each translation.
func (r *runner) article(ctx context.Context, rows []stageArticle) error {
	lead := rows[0]
	o, err := r.articleOp(lead)
	if err != nil {
		r.e.fail(KindArticle, KindArticle+":"+lead.SourceID+":"+stepCreate, err.Error())
		r.skipTranslations(rows[1:], "article was not created")
		return nil
	}
	out, err := r.e.write(ctx, o)
	if err != nil {
		if !isOpFailure(err) {
			return err
		}
		r.skipTranslations(rows[1:], "article was not created")
		return nil
	}
	for i, t := range rows[1:] {
		if _, err := r.e.write(ctx, r.translationOp(t, out.id)); err != nil {
			if !isOpFailure(err) {
				return err
			}
			r.skipTranslations(rows[i+2:], "an earlier translation failed")
			return nil
		}
	}
	return nil
}

func (r *runner) skipTranslations(rows []stageArticle, why string) {
	for _, t := range rows {
		r.e.fail(KindArticle, KindArticle+":"+t.ArticleSourceID+":"+stepTranslatePref+t.Locale, why)
	}
}

// authorOf is the matched admin of the staged author, else the token's admin.
func (r *runner) authorOf(a stageArticle) (int64, error) {
	r.mu.Lock()
	id, ok := r.admins[a.AuthorSourceID]
	r.mu.Unlock()
	if !ok || id == "" {
		id = r.actor
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		if r.cfg.DryRun {
			return 0, nil
		}
		return 0, fmt.Errorf("article %s: author admin id %q is not a number", a.SourceID, id)
	}
	return n, nil
}

func (r *runner) content(a stageArticle) (ArticleContent, error) {
	author, err := r.authorOf(a)
	return ArticleContent{Type: "article_content", Title: a.Title, Description: a.Description, Body: a.Body,
		AuthorID: author, State: a.State}, err
}

// articleOp creates the article from its lead row. When that row is not in
// the help center's language, its content goes under its own locale and the
// default-language fields, which Intercom requires, hold it as a draft.
func (r *runner) articleOp(a stageArticle) (op, error) {
	c, err := r.content(a)
	if err != nil {
		return op{}, err
	}
	req := ArticleRequest{Title: c.Title, Description: c.Description, Body: c.Body, AuthorID: c.AuthorID,
		State: c.State}
	if a.Locale != a.HelpCenterLocale {
		req.State = "draft"
		req.TranslatedContent = map[string]any{"type": "article_translated_content", a.Locale: c}
	}
	if a.CollectionSourceID != "" {
		parent, err := r.collectionID(a)
		if err != nil {
			return op{}, err
		}
		req.ParentID, req.ParentType = parent, "collection"
	}
	o := op{kind: KindArticle, sourceTable: a.SourceTable, sourceID: a.SourceID, step: stepCreate,
		method: "POST", path: "/articles", body: req}
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		art, err := r.e.c.CreateArticle(ctx, req)
		if err != nil {
			return outcome{}, fmt.Errorf("article %s: %w", a.SourceID, err)
		}
		return outcome{id: string(art.ID)}, nil
	}
	o.resolve = func(ctx context.Context, _ time.Time, _ *Record) (outcome, bool, error) {
		all, err := r.e.c.ListArticles(ctx)
		if err != nil {
			return outcome{}, false, fmt.Errorf("article %s: list articles: %w", a.SourceID, err)
		}
		want := ""
		if req.ParentID != nil {
			want = strconv.FormatInt(*req.ParentID, 10)
		}
		for _, art := range all {
			if art.Title == req.Title && string(art.ParentID) == want {
				return outcome{id: string(art.ID)}, true, nil
			}
		}
		return outcome{}, false, nil
	}
	return o, nil
}

// collectionID is the Intercom id of the article's collection as POST
// /articles types it (an integer).
func (r *runner) collectionID(a stageArticle) (*int64, error) {
	r.mu.Lock()
	id, ok := r.collections[a.CollectionSourceID]
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("article %s: collection %s was not replayed", a.SourceID, a.CollectionSourceID)
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		if r.cfg.DryRun {
			return nil, nil
		}
		return nil, fmt.Errorf("article %s: collection id %q is not a number", a.SourceID, id)
	}
	return &n, nil
}

// translationOp adds one language version to the article articleID.
func (r *runner) translationOp(t stageArticle, articleID string) op {
	c, err := r.content(t)
	req := TranslationRequest{TranslatedContent: map[string]any{"type": "article_translated_content", t.Locale: c}}
	o := op{kind: KindArticle, sourceTable: t.SourceTable, sourceID: t.ArticleSourceID,
		step: stepTranslatePref + t.Locale, method: "PUT", path: "/articles/" + escape(articleID), body: req}
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		if err != nil {
			return outcome{}, err
		}
		if err := r.e.c.TranslateArticle(ctx, articleID, req); err != nil {
			return outcome{}, fmt.Errorf("article %s translation %s (%s): %w", t.ArticleSourceID, t.Locale,
				t.SourceID, err)
		}
		return outcome{id: articleID}, nil
	}
	return o
}

func readCollections(ctx context.Context, db *sql.DB) ([]stageCollection, error) {
	var out []stageCollection
	err := scanRows(ctx, db, "stage.collections",
		`select source_table, source_id, name, description, parent_source_id from stage.collections order by ord`,
		func(scan func(...any) error) error {
			var c stageCollection
			if err := scan(ns{&c.SourceTable}, ns{&c.SourceID}, ns{&c.Name}, ns{&c.Description},
				ns{&c.ParentSourceID}); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	return out, err
}

// readArticleGroups returns the staged articles grouped per Intercom
// article, the lead row first, in staged order.
func readArticleGroups(ctx context.Context, db *sql.DB) ([][]stageArticle, error) {
	var out [][]stageArticle
	err := scanRows(ctx, db, "stage.articles",
		`select source_table, source_id, article_source_id, role, locale, help_center_locale, title,
		        description, body, state, author_source_id, collection_source_id
		 from stage.articles order by ord`,
		func(scan func(...any) error) error {
			var a stageArticle
			if err := scan(ns{&a.SourceTable}, ns{&a.SourceID}, ns{&a.ArticleSourceID}, ns{&a.Role},
				ns{&a.Locale}, ns{&a.HelpCenterLocale}, ns{&a.Title}, ns{&a.Description}, ns{&a.Body},
				ns{&a.State}, ns{&a.AuthorSourceID}, ns{&a.CollectionSourceID}); err != nil {
				return err
			}
			if n := len(out); n > 0 && out[n-1][0].ArticleSourceID == a.ArticleSourceID {
				out[n-1] = append(out[n-1], a)
				return nil
			}
			if a.Role != "article" {
				return errors.New("stage.articles: translation " + a.SourceID + " precedes its article " +
					a.ArticleSourceID)
			}
			out = append(out, []stageArticle{a})
			return nil
		})
	return out, err
}
