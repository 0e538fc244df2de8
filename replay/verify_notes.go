package replay

import (
	"context"
	"fmt"
)

// verifyNotes reads back each contact's notes once and compares every
// staged note replay wrote with the one of its id: body (by digest) and
// author when the call's owner is a matched agent. A note the write log
// names but the contact no longer lists is missing.
func (v *verifier) verifyNotes(ctx context.Context, sel *selection) error {
	return v.feed(ctx, func(submit func(task) error) error {
		var keep func(stageContactNote) bool
		if sel != nil {
			keep = func(n stageContactNote) bool { return sel.contacts[n.ContactSourceID] }
		}
		return eachContactsNotes(ctx, v.db, keep, func(notes []stageContactNote) error {
			return submit(func(ctx context.Context) []verdict { return v.contactNotes(ctx, notes) })
		})
	})
}

// contactNotes compares the staged notes of one contact.
func (v *verifier) contactNotes(ctx context.Context, staged []stageContactNote) []verdict {
	out := make([]verdict, 0, len(staged))
	contactID, ok := v.ids.contacts[staged[0].ContactSourceID]
	if !ok {
		for _, s := range staged {
			out = append(out, verdict{sym: VerifyMissing, kind: KindContactNote, sourceID: s.SourceID})
		}
		return out
	}
	got, err := v.c.ListContactNotes(ctx, contactID)
	if err != nil {
		err = fmt.Errorf("contact %s notes: %w", contactID, err)
		for _, s := range staged {
			out = append(out, failVerdict(KindContactNote, s.SourceID, v.ids.notes[s.SourceID], err))
		}
		return out
	}
	byID := make(map[string]Note, len(got))
	for _, n := range got {
		byID[string(n.ID)] = n
	}
	for _, s := range staged {
		out = append(out, v.contactNote(s, byID))
	}
	return out
}

func (v *verifier) contactNote(s stageContactNote, byID map[string]Note) verdict {
	id, ok := v.ids.notes[s.SourceID]
	if !ok {
		return verdict{sym: VerifyMissing, kind: KindContactNote, sourceID: s.SourceID}
	}
	got, ok := byID[id]
	if !ok {
		return verdict{sym: VerifyMissing, kind: KindContactNote, sourceID: s.SourceID, intercomID: id}
	}
	c := &cmp{v: v, kind: KindContactNote}
	c.eq("body", normBody(got.Body) == normBody(s.Body))
	if normBody(got.Body) != normBody(s.Body) {
		c.notes = append(c.notes, fmt.Sprintf("body=%s/%s", bodyDigest(s.Body), bodyDigest(got.Body)))
	}
	// Unowned calls went as whichever admin replay acted as; only a
	// matched owner is known here.
	if want := v.ids.admins[s.AdminSourceID]; want != "" {
		c.eq("author", string(got.Author.ID) == want)
	}
	return c.verdict(s.SourceID, id)
}
