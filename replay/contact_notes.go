package replay

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// KindContactNote is a note on a contact (contracts §3): a phone call that
// concerns no case, staged in stage.contact_notes.
const KindContactNote = "contact_note"

// NoteRequest is the body of POST /contacts/{id}/notes.
type NoteRequest struct {
	Body    string `json:"body"`
	AdminID string `json:"admin_id,omitempty"`
}

// Note is the part of an Intercom contact note replay reads.
type Note struct {
	ID        ID     `json:"id"`
	CreatedAt int64  `json:"created_at"`
	Body      string `json:"body"`
	Contact   struct {
		ID ID `json:"id"`
	} `json:"contact"`
	Author struct {
		ID ID `json:"id"`
	} `json:"author"`
}

func contactNotesPath(contactID string) string { return "/contacts/" + escape(contactID) + "/notes" }

// CreateContactNote calls POST /contacts/{id}/notes. Notes have no natural
// key, so a lost answer is resolved by ListContactNotes, never by a resend.
func (c *Client) CreateContactNote(ctx context.Context, contactID string, r NoteRequest) (*Note, error) {
	var out Note
	err := c.do(ctx, call{method: "POST", path: contactNotesPath(contactID), body: r}, &out)
	return &out, err
}

// ListContactNotes calls GET /contacts/{id}/notes, following page numbers
// while the answer says there are more pages.
func (c *Client) ListContactNotes(ctx context.Context, contactID string) ([]Note, error) {
	var all []Note
	for page := 1; ; page++ {
		var out struct {
			Data  []Note `json:"data"`
			Pages struct {
				Page       int `json:"page"`
				TotalPages int `json:"total_pages"`
			} `json:"pages"`
		}
		cl := call{method: "GET", path: contactNotesPath(contactID), idempotent: true}
		if page > 1 {
			cl.query = map[string][]string{"page": {fmt.Sprint(page)}}
		}
		if err := c.do(ctx, cl, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Data...)
		if out.Pages.TotalPages <= page || len(out.Data) == 0 {
			return all, nil
		}
	}
}

type stageContactNote struct {
	SourceTable, SourceID, ContactSourceID, AdminSourceID, Body string
	CreatedAt                                                   int64
}

// eachContactNote reads stage.contact_notes in staged order (contact, then
// time); a staging database built before the table existed has none.
func eachContactNote(ctx context.Context, db *sql.DB, fn func(stageContactNote) error) error {
	ok, err := hasStageTable(ctx, db, "contact_notes")
	if err != nil || !ok {
		return err
	}
	return scanRows(ctx, db, "stage.contact_notes",
		`select source_table, source_id, contact_source_id, admin_source_id, body, created_at
		   from stage.contact_notes order by ord, created_at, source_id`,
		func(scan func(...any) error) error {
			var n stageContactNote
			if err := scan(ns{&n.SourceTable}, ns{&n.SourceID}, ns{&n.ContactSourceID}, ns{&n.AdminSourceID},
				ns{&n.Body}, ni{&n.CreatedAt}); err != nil {
				return err
			}
			return fn(n)
		})
}

// replayContactNotes writes the notes of each contact in order, one contact
// per task: matching an uncertain create against the contact's notes must
// not race another create on the same contact.
func (r *runner) replayContactNotes(ctx context.Context) error {
	claimed := r.claimedNotes()
	done := 0
	return pool(ctx, r.cfg.Workers, func(submit func(func(context.Context) error) error) error {
		return eachContactsNotes(ctx, r.db, nil, func(notes []stageContactNote) error {
			return submit(func(ctx context.Context) error {
				for _, n := range notes {
					if err := r.noteOne(ctx, n, claimed); err != nil && !isOpFailure(err) {
						return err
					}
					r.mu.Lock()
					done++
					r.progress(KindContactNote, done, -1)
					r.mu.Unlock()
				}
				return nil
			})
		})
	})
}

// eachContactsNotes calls fn with the staged notes of one contact at a time
// (those keep takes, or all), in staged order.
func eachContactsNotes(ctx context.Context, db *sql.DB, keep func(stageContactNote) bool,
	fn func([]stageContactNote) error) error {
	var batch []stageContactNote
	err := eachContactNote(ctx, db, func(n stageContactNote) error {
		if keep != nil && !keep(n) {
			return nil
		}
		if len(batch) > 0 && batch[0].ContactSourceID != n.ContactSourceID {
			if err := fn(batch); err != nil {
				return err
			}
			batch = nil
		}
		batch = append(batch, n)
		return nil
	})
	if err != nil || len(batch) == 0 {
		return err
	}
	return fn(batch)
}

// noteClaims is the set of note ids the write log already holds for some
// note op: a lookup must not take another op's note for its own.
type noteClaims struct {
	ids map[string]bool
}

// claimedNotes collects the note ids earlier runs recorded.
func (r *runner) claimedNotes() *noteClaims {
	c := &noteClaims{ids: map[string]bool{}}
	for key, st := range r.e.prior {
		if kindOfOp(key) == KindContactNote && st.done && st.intercomID != "" {
			c.ids[st.intercomID] = true
		}
	}
	return c
}

func (c *noteClaims) has(id string) bool {
	return c.ids[id]
}

func (c *noteClaims) add(id string) {
	if id != "" {
		c.ids[id] = true
	}
}

func (r *runner) noteOne(ctx context.Context, n stageContactNote, claimed *noteClaims) error {
	r.mu.Lock()
	contact, ok := r.contacts[n.ContactSourceID]
	admin := r.admins[n.AdminSourceID]
	if admin == "" {
		admin = r.actor // no migrated owner: the admin replay acts as elsewhere
	}
	r.mu.Unlock()
	o := r.noteOp(n, contact.id, admin, claimed)
	if !ok {
		r.e.fail(KindContactNote, o.key(), fmt.Sprintf("contact %s was not replayed", n.ContactSourceID))
		return nil
	}
	out, err := r.e.write(ctx, o)
	if err == nil {
		r.mu.Lock()
		claimed.add(out.id)
		r.mu.Unlock()
	}
	return err
}

func (r *runner) noteOp(n stageContactNote, contactID, adminID string, claimed *noteClaims) op {
	req := NoteRequest{Body: n.Body, AdminID: adminID}
	o := op{kind: KindContactNote, sourceTable: n.SourceTable, sourceID: n.SourceID, step: "create",
		method: "POST", path: contactNotesPath(contactID), body: req}
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		note, err := r.e.c.CreateContactNote(ctx, contactID, req)
		if err != nil {
			return outcome{}, err
		}
		return outcome{id: string(note.ID)}, nil
	}
	// The notes list is read directly, not searched, so it has no lag.
	o.resolve = func(ctx context.Context, _ time.Time, _ *Record) (outcome, bool, error) {
		return r.findNote(ctx, contactID, req, claimed)
	}
	return o
}

// findNote looks among the contact's notes for one with the same author and
// text that no other op of the write log owns.
func (r *runner) findNote(ctx context.Context, contactID string, req NoteRequest,
	claimed *noteClaims) (outcome, bool, error) {
	notes, err := r.e.c.ListContactNotes(ctx, contactID)
	if err != nil {
		return outcome{}, false, fmt.Errorf("contact %s: read notes: %w", contactID, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range notes {
		id := string(n.ID)
		if claimed.has(id) || !sameText(n.Body, req.Body) {
			continue
		}
		if req.AdminID != "" && n.Author.ID != "" && string(n.Author.ID) != req.AdminID {
			continue
		}
		return outcome{id: id}, true, nil
	}
	return outcome{}, false, nil
}

// contactParent is the children key of a contact (conversations are keyed
// by their bare numeric id, so the prefix keeps the two apart).
func contactParent(contactID string) string { return "contact:" + contactID }

// childParent names the object an op was sent to whose deletion takes the
// op's effect with it: a conversation for its parts, attributes, state and
// tags, a contact for its notes; "" for other ops.
func childParent(r Record) string {
	switch {
	case isConversationChild(r.Kind):
		return convIDOf(r.Path)
	case r.Kind == KindContactNote:
		rest, ok := strings.CutPrefix(r.Path, "/contacts/")
		id, _, _ := strings.Cut(rest, "/")
		if !ok || id == "" {
			return ""
		}
		return contactParent(id)
	}
	return ""
}

// parentOf is the children key of the object an undo deletes, or "".
func parentOf(undo Record) string {
	switch undo.Kind {
	case KindConversation:
		return convIDOf(undo.Path)
	case KindContact:
		if id, ok := strings.CutPrefix(undo.Path, "/contacts/"); ok && undo.Method == "DELETE" {
			return contactParent(id)
		}
	}
	return ""
}

// holdNotes keeps the notes of a held-back contact: they were to go with it
// (rollback_holdback.go).
func holdNotes(steps []undoStep, held map[string]string) {
	for i := range steps {
		s := &steps[i]
		if s.kind() != KindContactNote || s.action != UndoRemoved {
			continue
		}
		contact := strings.TrimPrefix(childParent(s.w.intent), contactParent(""))
		if _, ok := held[objectPaths[KindContact]+contact]; ok {
			s.holdBack("its contact " + contact + " is held back")
		}
	}
}
