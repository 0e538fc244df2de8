package replay

import (
	"context"
	"encoding/json"
	"fmt"
)

func (v *verifier) conversations(ctx context.Context, sel *selection) error {
	return v.feed(ctx, func(submit func(task) error) error {
		return eachConversation(ctx, v.db, func(s stageConversation) error {
			if sel != nil && !sel.conversations[s.SourceID] {
				return nil
			}
			return submit(func(ctx context.Context) []verdict { return v.conversation(ctx, s) })
		})
	})
}

// conversation compares one conversation and then each of its migrated
// parts; the conversation's line comes first.
func (v *verifier) conversation(ctx context.Context, s stageConversation) []verdict {
	parts, err := v.parts.read(ctx, s.SourceID)
	if err != nil {
		return []verdict{{sym: VerifyError, kind: KindConversation, sourceID: s.SourceID,
			intercomID: v.ids.conversations[s.SourceID], notes: []string{errorNote(err)}}}
	}
	id, ok := v.ids.conversations[s.SourceID]
	if !ok {
		return append([]verdict{{sym: VerifyMissing, kind: KindConversation, sourceID: s.SourceID}},
			v.partsAbsent(parts, VerifyMissing, nil)...)
	}
	var got vConversation
	if err := v.get(ctx, "/conversations/"+escape(id), &got); err != nil {
		head := failVerdict(KindConversation, s.SourceID, id, err)
		// Parts cannot exist without their conversation, and cannot be
		// read when it cannot.
		return append([]verdict{head}, v.partsAbsent(parts, head.sym, head.notes)...)
	}
	c := &cmp{v: v, kind: KindConversation}
	v.conversationFields(c, s, &got)
	lines := v.compareParts(c, s, parts, &got)
	return append([]verdict{c.verdict(s.SourceID, id)}, lines...)
}

func (v *verifier) partsAbsent(parts []stagePart, sym string, notes []string) []verdict {
	out := make([]verdict, 0, len(parts))
	for _, p := range parts {
		out = append(out, verdict{sym: sym, kind: KindConversationPart, sourceID: p.SourceID,
			intercomID: v.ids.parts[p.SourceID], notes: notes})
	}
	return out
}

// conversationFields compares what replay sets on a conversation. Assignees
// and company are compared only when staging names one: workspace rules
// may assign a new conversation, which is not a migration difference.
func (v *verifier) conversationFields(c *cmp, s stageConversation, got *vConversation) {
	c.eq("created_at", got.CreatedAt == s.CreatedAt)
	c.eq("title", got.Title == s.Title)
	c.eq("state", got.State == s.State)
	c.attrs(s.CustomAttributes, got.CustomAttributes)
	want := openingText(s)
	same := normBody(got.Source.Body) == normBody(want)
	c.eq("body", same)
	if !same {
		c.notes = append(c.notes, "body="+bodyDigest(want)+"/"+bodyDigest(got.Source.Body))
	}
	contact := v.ids.contacts[s.ContactSourceID]
	found := false
	for _, ct := range got.Contacts.Contacts {
		found = found || (contact != "" && string(ct.ID) == contact)
	}
	c.eq("contact", found)
	if s.AdminSourceID != "" {
		want := v.ids.admins[s.AdminSourceID]
		c.eq("admin_assignee", want != "" && string(got.AdminAssigneeID) == want)
	}
	if s.TeamSourceID != "" {
		want := v.ids.teams[s.TeamSourceID]
		c.eq("team_assignee", want != "" && string(got.TeamAssigneeID) == want)
	}
	if s.CompanySourceID != "" {
		want := v.ids.companies[s.CompanySourceID]
		c.eq("company", want != "" && companyRef(got.Company) == want)
	}
}

// openingText is the first message as replay sends it: plain text of the
// staged body, else the title.
func openingText(s stageConversation) string {
	body := htmlToText(s.Body)
	if body == "" {
		body = s.Title
	}
	if body == "" {
		body = "(no text)"
	}
	return body
}

// companyRef reads a conversation's company, sent as an id or an object.
func companyRef(raw json.RawMessage) string {
	var id ID
	if json.Unmarshal(raw, &id) == nil {
		return string(id)
	}
	var obj struct {
		ID ID `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return string(obj.ID)
	}
	return ""
}

// migratedPart says whether a part is a message (what replay sends as
// replies) rather than an assignment, state change or other event.
func migratedPart(p Part) bool { return p.PartType == "comment" || p.PartType == "note" }

// compareParts checks count and order of the migrated parts on the
// conversation (c) and returns one line per staged part. A part is found by
// the id its write-log outcome names, else by its position.
func (v *verifier) compareParts(c *cmp, s stageConversation, staged []stagePart,
	got *vConversation) []verdict {
	var migrated []Part
	pos := map[string]int{}
	for _, p := range got.Parts.Parts {
		if migratedPart(p) {
			pos[string(p.ID)] = len(migrated)
			migrated = append(migrated, p)
		}
	}
	// TODO: GET shows the latest 500 parts only; longer conversations are
	// compared on those.
	c.eq("part_count", len(migrated) == len(staged))
	out := make([]verdict, 0, len(staged))
	last, ordered, seen := -1, true, 0
	for i, sp := range staged {
		id := v.ids.parts[sp.SourceID]
		at, ok := pos[id]
		if id == "" && i < len(migrated) {
			at, ok, id = i, true, string(migrated[i].ID)
		}
		if !ok {
			out = append(out, verdict{sym: VerifyMissing, kind: KindConversationPart, sourceID: sp.SourceID,
				intercomID: id})
			continue
		}
		seen++
		ordered = ordered && at > last
		last = at
		out = append(out, v.part(sp, migrated[at], s.ContactSourceID, id))
	}
	if seen > 0 {
		c.eq("part_order", ordered)
	}
	return out
}

// part compares one migrated part. The author is the matched admin, or the
// contact who wrote it (the conversation's contact when that one is unknown).
func (v *verifier) part(sp stagePart, got Part, starter, id string) verdict {
	c := &cmp{v: v, kind: KindConversationPart}
	c.eq("created_at", got.CreatedAt == sp.CreatedAt)
	isAdmin := got.Author.Type == "admin"
	c.eq("author_type", isAdmin == (sp.AuthorType == "admin"))
	want := v.ids.admins[sp.AdminSourceID]
	if sp.AuthorType != "admin" {
		want = v.ids.contacts[sp.ContactSourceID]
		if want == "" {
			want = v.ids.contacts[starter]
		}
	}
	c.eq("author", want != "" && string(got.Author.ID) == want)
	same := normBody(got.Body) == normBody(sp.Body)
	c.eq("body", same)
	if !same {
		c.notes = append(c.notes, fmt.Sprintf("body=%s/%s", bodyDigest(sp.Body), bodyDigest(got.Body)))
	}
	c.attachments(sp.Attachments, got.Attachments)
	return c.verdict(sp.SourceID, id)
}
