package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultTag is the tag d2i replay puts on migrated objects unless told
// otherwise, so that a workspace admin can find, filter and exclude them.
const DefaultTag = "Migrated from Dynamics"

// Write-log kinds of tagging (contracts §3): creating the run's tag, and
// applying it to one conversation, contact or company.
const (
	KindTag             = "tag"
	KindConversationTag = "conversation_tag"
	KindContactTag      = "contact_tag"
	KindCompanyTag      = "company_tag"
)

const stepTag = "tag"

// Tag is an Intercom tag.
type Tag struct {
	ID   ID     `json:"id"`
	Name string `json:"name"`
}

// ListTags calls GET /tags (unpaginated).
func (c *Client) ListTags(ctx context.Context) ([]Tag, error) {
	var out struct {
		Data []Tag `json:"data"`
	}
	err := c.do(ctx, call{method: "GET", path: "/tags", idempotent: true}, &out)
	return out.Data, err
}

// CreateTag calls POST /tags {name}, which returns the tag of that name
// (compared case-insensitively) if there is one, so a resend is harmless.
func (c *Client) CreateTag(ctx context.Context, name string) (*Tag, error) {
	var out Tag
	err := c.do(ctx, call{method: "POST", path: "/tags", body: tagName{name}, idempotent: true}, &out)
	return &out, err
}

// DeleteTag calls DELETE /tags/{id}; it fails while a segment or rule uses the tag.
func (c *Client) DeleteTag(ctx context.Context, id string) error {
	return c.do(ctx, call{method: "DELETE", path: "/tags/" + escape(id), idempotent: true}, nil)
}

// TagConversation calls POST /conversations/{id}/tags as adminID.
func (c *Client) TagConversation(ctx context.Context, convID, tagID, adminID string) error {
	return c.do(ctx, call{method: "POST", path: conversationTagsPath(convID), body: tagOnConversation{tagID, adminID},
		idempotent: true}, nil)
}

// UntagConversation calls DELETE /conversations/{id}/tags/{tag_id} as adminID.
func (c *Client) UntagConversation(ctx context.Context, convID, tagID, adminID string) error {
	return c.do(ctx, call{method: "DELETE", path: conversationTagsPath(convID) + "/" + escape(tagID),
		body: adminOnly{adminID}, idempotent: true}, nil)
}

// TagContact calls POST /contacts/{id}/tags.
func (c *Client) TagContact(ctx context.Context, contactID, tagID string) error {
	return c.do(ctx, call{method: "POST", path: contactTagsPath(contactID), body: tagRef{tagID}, idempotent: true}, nil)
}

// UntagContact calls DELETE /contacts/{id}/tags/{tag_id}.
func (c *Client) UntagContact(ctx context.Context, contactID, tagID string) error {
	return c.do(ctx, call{method: "DELETE", path: contactTagsPath(contactID) + "/" + escape(tagID), idempotent: true}, nil)
}

// TagCompany calls POST /tags {name, companies:[{id}]} (untag: the same with
// untag set), the only way to tag a company.
func (c *Client) TagCompany(ctx context.Context, tagName, companyID string, untag bool) error {
	return c.do(ctx, call{method: "POST", path: "/tags", body: companyTagRequest(tagName, companyID, untag),
		idempotent: true}, nil)
}

type tagName struct {
	Name string `json:"name"`
}

type tagRef struct {
	ID string `json:"id"`
}

type adminOnly struct {
	AdminID string `json:"admin_id"`
}

type tagOnConversation struct {
	ID      string `json:"id"`
	AdminID string `json:"admin_id"`
}

type taggedCompany struct {
	ID    string `json:"id"`
	Untag bool   `json:"untag,omitempty"`
}

type companyTagBody struct {
	Name      string          `json:"name"`
	Companies []taggedCompany `json:"companies"`
}

func companyTagRequest(tagName, companyID string, untag bool) companyTagBody {
	return companyTagBody{Name: tagName, Companies: []taggedCompany{{ID: companyID, Untag: untag}}}
}

func conversationTagsPath(id string) string { return "/conversations/" + escape(id) + "/tags" }
func contactTagsPath(id string) string      { return "/contacts/" + escape(id) + "/tags" }

// runTag is the tag this run puts on what it writes: a sample run's own, so
// that a sample can be reviewed (and told from a full migration) by tag,
// otherwise the configured one; "" tags nothing.
func (c Config) runTag() string {
	if c.Sample > 0 {
		return SampleTag(c.Seed)
	}
	return strings.TrimSpace(c.Tag)
}

// SampleTag is the tag of a sample run with the given seed.
func SampleTag(seed int64) string { return fmt.Sprintf("d2i-sample-%d", seed) }

// prepareTag finds or creates the run's tag before any conversation is
// written, and remembers its id. A tag that was in the workspace before the
// migration is used as it is and never deleted by rollback.
func (r *runner) prepareTag(ctx context.Context) error {
	name := r.cfg.runTag()
	if name == "" {
		return nil
	}
	o := r.createTagOp(name)
	st := r.e.prior[o.key()]
	ours := st != nil && !st.undone && (st.done || st.intent != nil)
	if !ours {
		found, err := r.findTag(ctx, name)
		if err != nil {
			return err
		}
		if found != "" {
			r.tagID = found
			r.e.count(KindTag, resultExisting)
			return nil
		}
	}
	out, err := r.e.write(ctx, o)
	if err != nil {
		return fmt.Errorf("tag %q: %w", name, err)
	}
	r.tagID = out.id
	return nil
}

// findTag returns the id of the tag named name, or "".
func (r *runner) findTag(ctx context.Context, name string) (string, error) {
	tags, err := r.e.c.ListTags(ctx)
	if err != nil {
		return "", fmt.Errorf("list tags: %w", err)
	}
	for _, t := range tags {
		if strings.EqualFold(strings.TrimSpace(t.Name), name) {
			return string(t.ID), nil
		}
	}
	return "", nil
}

func (r *runner) createTagOp(name string) op {
	o := op{kind: KindTag, sourceID: name, step: "create", method: "POST", path: "/tags", body: tagName{name}}
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		t, err := r.e.c.CreateTag(ctx, name)
		return outcome{id: string(t.ID)}, err
	}
	// After a crash the name tells whether the earlier attempt landed.
	o.resolve = func(ctx context.Context, _ time.Time, _ *Record) (outcome, bool, error) {
		id, err := r.findTag(ctx, name)
		return outcome{id: id}, id != "", err
	}
	return o
}

// tagConversation applies the run's tag to one written conversation, as the
// admin replay acts as.
func (r *runner) tagConversation(ctx context.Context, c stageConversation, convID string) error {
	if r.tagID == "" {
		return nil
	}
	r.mu.Lock()
	actor := r.actor
	r.mu.Unlock()
	if actor == "" {
		r.e.fail(KindConversationTag, KindConversationTag+":"+c.SourceID+":"+stepTag, "no admin to act as")
		return nil
	}
	tagID := r.tagID
	o := op{kind: KindConversationTag, sourceTable: c.SourceTable, sourceID: c.SourceID, step: stepTag,
		method: "POST", path: conversationTagsPath(convID), body: tagOnConversation{tagID, actor}}
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		return outcome{id: tagID}, r.e.c.TagConversation(ctx, convID, tagID, actor)
	}
	return ignoreOpFailure(r.e.write(ctx, withResend(o)))
}

// tagPeople applies the run's tag to every contact and company the run has
// written (or found written by an earlier run), after the conversations.
func (r *runner) tagPeople(ctx context.Context) error {
	if r.tagID == "" {
		return nil
	}
	err := pool(ctx, r.cfg.Workers, func(submit func(func(context.Context) error) error) error {
		return eachCompany(ctx, r.db, func(c stageCompany) error {
			r.mu.Lock()
			id, ok := r.companies[c.SourceID]
			r.mu.Unlock()
			if !ok {
				return nil
			}
			return submit(func(ctx context.Context) error {
				return ignoreOpFailure(r.e.write(ctx, r.companyTagOp(c, id)))
			})
		})
	})
	if err != nil {
		return err
	}
	return pool(ctx, r.cfg.Workers, func(submit func(func(context.Context) error) error) error {
		return eachContact(ctx, r.db, func(c stageContact) error {
			r.mu.Lock()
			ref, ok := r.contacts[c.SourceID]
			r.mu.Unlock()
			if !ok {
				return nil
			}
			return submit(func(ctx context.Context) error {
				return ignoreOpFailure(r.e.write(ctx, r.contactTagOp(c, ref.id)))
			})
		})
	})
}

func (r *runner) contactTagOp(c stageContact, contactID string) op {
	tagID := r.tagID
	o := op{kind: KindContactTag, sourceTable: c.SourceTable, sourceID: c.SourceID, step: stepTag,
		method: "POST", path: contactTagsPath(contactID), body: tagRef{tagID}}
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		return outcome{id: tagID}, r.e.c.TagContact(ctx, contactID, tagID)
	}
	return withResend(o)
}

// companyTagOp tags a company by tag name (POST /tags can do nothing else for
// companies). Its outcome's intercom_id is the company's id; the untag needs
// the tag's name as well, so the op keeps a before-image: the company
// without this tag.
func (r *runner) companyTagOp(c stageCompany, companyID string) op {
	name, tagID := r.cfg.runTag(), r.tagID
	o := op{kind: KindCompanyTag, sourceTable: c.SourceTable, sourceID: c.SourceID, step: stepTag,
		method: "POST", path: "/tags", body: companyTagRequest(name, companyID, false)}
	o.prepare = func(context.Context) (json.RawMessage, error) {
		return json.Marshal(untagged{Tag: Tag{ID: ID(tagID), Name: name}})
	}
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		return outcome{id: companyID}, r.e.c.TagCompany(ctx, name, companyID, false)
	}
	return withResend(o)
}

// untagged is the before-image of a tag application: the object without it.
type untagged struct {
	Tag    Tag  `json:"tag"`
	Tagged bool `json:"tagged"`
}

// withResend lets the executor resend a tagging after a lost answer without
// a lookup: applying a tag twice leaves it applied once.
func withResend(o op) op {
	o.resolve = func(context.Context, time.Time, *Record) (outcome, bool, error) { return outcome{}, false, nil }
	return o
}

// ignoreOpFailure keeps a failed tagging from stopping the run (it is in the
// summary and the log); other errors pass.
func ignoreOpFailure(_ outcome, err error) error {
	if isOpFailure(err) {
		return nil
	}
	return err
}

// undoTagOp builds the undo of a tagging op, for Rollback: a tag this run
// created is deleted, an application removed. ok is false for other kinds.
func undoTagOp(c *Client, o op, in, out Record) (op, bool) {
	id := out.IntercomID
	var do func(ctx context.Context) error
	switch in.Kind {
	case KindTag:
		o.method, o.path = "DELETE", "/tags/"+escape(id)
		do = func(ctx context.Context) error { return c.DeleteTag(ctx, id) }
	case KindContactTag:
		contactID := strings.TrimSuffix(strings.TrimPrefix(in.Path, "/contacts/"), "/tags")
		o.method, o.path = "DELETE", contactTagsPath(contactID)+"/"+escape(id)
		do = func(ctx context.Context) error { return c.UntagContact(ctx, contactID, id) }
	case KindConversationTag:
		convID := convIDOf(in.Path)
		o.method, o.path = "DELETE", conversationTagsPath(convID)+"/"+escape(id)
		do = func(ctx context.Context) error {
			admin, err := c.actingAdmin(ctx)
			if err != nil {
				return err
			}
			return c.UntagConversation(ctx, convID, id, admin)
		}
	case KindCompanyTag:
		var before untagged
		if err := json.Unmarshal(out.Before, &before); err != nil || before.Tag.Name == "" {
			return o, false // no tag name to untag by: listed as residue
		}
		o.method, o.path, o.body = "POST", "/tags", companyTagRequest(before.Tag.Name, id, true)
		do = func(ctx context.Context) error { return c.TagCompany(ctx, before.Tag.Name, id, true) }
	default:
		return o, false
	}
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		err := do(ctx)
		var nf *NotFound
		if errors.As(err, &nf) {
			return outcome{status: http.StatusNotFound, id: id}, nil // the object or tag is gone
		}
		return outcome{id: id}, err
	}
	return o, true
}

// actingAdmins remembers, per client, the admin GET /me names: removing a
// conversation tag must name an admin, and the token's own is the one a
// rollback acts as.
var actingAdmins sync.Map // *Client -> string

func (c *Client) actingAdmin(ctx context.Context) (string, error) {
	if id, ok := actingAdmins.Load(c); ok {
		return id.(string), nil
	}
	var me Admin
	if err := c.do(ctx, call{method: "GET", path: "/me", idempotent: true}, &me); err != nil {
		return "", fmt.Errorf("read the token's admin (GET /me): %w", err)
	}
	if me.ID == "" {
		return "", errors.New("GET /me named no admin")
	}
	actingAdmins.Store(c, string(me.ID))
	return string(me.ID), nil
}
