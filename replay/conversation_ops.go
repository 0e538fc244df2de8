package replay

import (
	"context"
	"errors"
	"fmt"
	"html"
	"regexp"
	"strings"
	"time"
)

// replayConversations creates each conversation, then its parts in order,
// its attributes and its state. Conversations run in parallel.
func (r *runner) replayConversations(ctx context.Context) error {
	if r.unmatched != nil {
		return r.unmatched
	}
	total, done := countRows(ctx, r.db, "stage.conversations"), 0
	return pool(ctx, r.cfg.Workers, func(submit func(func(context.Context) error) error) error {
		return eachConversation(ctx, r.db, func(c stageConversation) error {
			return submit(func(ctx context.Context) error {
				err := r.conversation(ctx, c)
				r.mu.Lock()
				done++
				r.progress(KindConversation, done, total)
				r.mu.Unlock()
				return err
			})
		})
	})
}

// conversation replays one conversation; a failure stops its later steps.
func (r *runner) conversation(ctx context.Context, c stageConversation) error {
	parts, err := r.parts.read(ctx, c.SourceID)
	if err != nil {
		return err
	}
	r.mu.Lock()
	contact, ok := r.contacts[c.ContactSourceID]
	r.mu.Unlock()
	if !ok {
		r.e.fail(KindConversation, KindConversation+":"+c.SourceID+":create",
			fmt.Sprintf("contact %s was not replayed", c.ContactSourceID))
		return nil
	}
	out, err := r.e.write(ctx, r.createConversationOp(c, contact))
	if err != nil {
		return r.skipRest(err, c, parts, "conversation was not created")
	}
	convID := out.id
	for i, p := range parts {
		if _, err := r.e.write(ctx, r.partOp(c, p, convID, contact)); err != nil {
			return r.skipRest(err, c, parts[i+1:], "an earlier part failed")
		}
	}
	if err := r.conversationAttributes(ctx, c, convID); err != nil {
		return r.skipRest(err, c, nil, "attributes failed")
	}
	if err := r.conversationState(ctx, c, convID); err != nil {
		return err
	}
	return r.tagConversation(ctx, c, convID)
}

// skipRest records the steps left undone after err; fatal errors pass through.
func (r *runner) skipRest(err error, c stageConversation, rest []stagePart, why string) error {
	if !isOpFailure(err) {
		return err
	}
	for _, p := range rest {
		r.e.fail(KindConversationPart, KindConversationPart+":"+p.SourceID+":create", why)
	}
	return nil
}

func (r *runner) createConversationOp(c stageConversation, contact contactRef) op {
	from := From{Type: "user", ID: contact.id}
	if contact.role == "lead" {
		from.Type = "lead"
	}
	body := htmlToText(c.Body)
	if body == "" {
		body = c.Title
	}
	if body == "" {
		body = "(no text)"
	}
	req := ConversationRequest{From: from, Body: body, CreatedAt: c.CreatedAt}
	o := op{kind: KindConversation, sourceTable: c.SourceTable, sourceID: c.SourceID, step: "create",
		method: "POST", path: "/conversations", body: req}
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		m, err := r.e.c.CreateConversation(ctx, req)
		if err != nil {
			return outcome{}, err
		}
		return outcome{id: string(m.ConversationID)}, nil
	}
	o.resolve = func(ctx context.Context, at time.Time, _ *Record) (outcome, bool, error) {
		return r.searchConversation(ctx, c.SourceID, contact.id, req, at)
	}
	return o
}

// searchConversation finds a conversation of the contact with the same
// created_at and opening text; an empty answer is trusted only after the lag.
func (r *runner) searchConversation(ctx context.Context, sourceID, contactID string, req ConversationRequest,
	at time.Time) (outcome, bool, error) {
	q := SearchQuery{Field: "contact_ids", Operator: "=", Value: contactID}
	for waited := false; ; waited = true {
		found, err := r.e.c.SearchConversations(ctx, q)
		if err != nil {
			return outcome{}, false, fmt.Errorf("conversation %s: search: %w", sourceID, err)
		}
		for _, cv := range found {
			if cv.CreatedAt == req.CreatedAt && sameText(cv.Source.Body, req.Body) {
				return outcome{id: string(cv.ID)}, true, nil
			}
		}
		if waited {
			return outcome{}, false, nil
		}
		if err := waitLag(ctx, r.logger, KindConversation+":"+sourceID+":create", at, r.cfg.SearchLag); err != nil {
			return outcome{}, false, err
		}
	}
}

// partOp sends one part. Admin comments go with skip_notifications (2.16) so
// that no customer is messaged; notes never notify.
func (r *runner) partOp(c stageConversation, p stagePart, convID string, starter contactRef) op {
	req := ReplyRequest{Body: p.Body, CreatedAt: p.CreatedAt, MessageType: "comment"}
	version := Version
	if p.AuthorType == "admin" {
		r.mu.Lock()
		req.AdminID = r.admins[p.AdminSourceID]
		if req.AdminID == "" {
			req.AdminID = r.actor // an unmatched owner let through by UnassignedOK
		}
		r.mu.Unlock()
		req.Type = "admin"
		if p.MessageType == "note" || r.cfg.RepliesAsNotes {
			req.MessageType = "note"
		} else {
			skip := true
			req.SkipNotifications, version = &skip, Version216
		}
	} else {
		req.Type = "user"
		req.IntercomUserID = starter.id
		if p.ContactSourceID != "" {
			r.mu.Lock()
			if ct, ok := r.contacts[p.ContactSourceID]; ok {
				req.IntercomUserID = ct.id
			}
			r.mu.Unlock()
		}
	}
	o := op{kind: KindConversationPart, sourceTable: p.SourceTable, sourceID: p.SourceID, step: "create",
		method: "POST", path: replyPath(convID), body: req}
	withAttachments(&o, p, &req, r.cfg.DryRun)
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		cv, err := r.e.c.Reply(ctx, convID, req, version)
		if err != nil && req.SkipNotifications != nil && rejectsSkip(err) {
			// skip_notifications cannot be sent: a note never notifies.
			note := req
			note.MessageType, note.SkipNotifications = "note", nil
			fallback := o
			fallback.body = note
			if lerr := r.e.intent(fallback, fallback.key(), nil); lerr != nil {
				return outcome{}, lerr
			}
			cv, err = r.e.c.Reply(ctx, convID, note, Version)
			req = note
		}
		if err != nil {
			return outcome{}, err
		}
		return outcome{id: newPartID(cv, req)}, nil
	}
	o.resolve = func(ctx context.Context, _ time.Time, _ *Record) (outcome, bool, error) {
		return r.findPart(ctx, convID, req)
	}
	return o
}

// rejectsSkip tells a refusal of the 2.16 header or of skip_notifications
// (a 400 naming either) from other errors.
func rejectsSkip(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 {
		return false
	}
	m := strings.ToLower(ae.Code + " " + ae.Message)
	return strings.Contains(m, "skip_notifications") || strings.Contains(m, "version")
}

// newPartID takes the id of the part just added from the reply's answer.
func newPartID(cv *Conversation, req ReplyRequest) string {
	for i := len(cv.Parts.Parts) - 1; i >= 0; i-- {
		if partMatches(cv.Parts.Parts[i], req) {
			return string(cv.Parts.Parts[i].ID)
		}
	}
	if n := len(cv.Parts.Parts); n > 0 {
		return string(cv.Parts.Parts[n-1].ID)
	}
	return ""
}

// findPart reads the conversation (parts are not searchable) and looks for a
// part with the same author kind, created_at and text.
func (r *runner) findPart(ctx context.Context, convID string, req ReplyRequest) (outcome, bool, error) {
	cv, err := r.e.c.GetConversation(ctx, convID)
	if err != nil {
		return outcome{}, false, fmt.Errorf("conversation %s: read parts: %w", convID, err)
	}
	// TODO: conversations with more than 500 parts cannot be checked this way.
	for _, p := range cv.Parts.Parts {
		if partMatches(p, req) {
			return outcome{id: string(p.ID)}, true, nil
		}
	}
	return outcome{}, false, nil
}

func partMatches(p Part, req ReplyRequest) bool {
	author := p.Author.Type
	if req.Type == "user" && author != "user" && author != "lead" && author != "contact" {
		return false
	}
	if req.Type == "admin" && author != "admin" {
		return false
	}
	return p.CreatedAt == req.CreatedAt && sameText(p.Body, req.Body)
}

var (
	tagRe   = regexp.MustCompile(`(?s)<[^>]*>`)
	blockRe = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/li|/h[1-6])\s*/?>`)
	spaceRe = regexp.MustCompile(`[ \t]+`)
	linesRe = regexp.MustCompile(`\n\s*\n+`)
)

// htmlToText turns sanitised HTML into the plain text POST /conversations
// wants, keeping line breaks at block ends.
func htmlToText(s string) string {
	s = blockRe.ReplaceAllString(s, "\n")
	s = tagRe.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = spaceRe.ReplaceAllString(s, " ")
	s = linesRe.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s)
}

// sameText compares bodies ignoring markup and whitespace, since Intercom
// may wrap or normalise what it stores.
func sameText(a, b string) bool {
	norm := func(s string) string { return strings.Join(strings.Fields(htmlToText(s)), " ") }
	return norm(a) == norm(b)
}
