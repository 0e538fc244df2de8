package replay

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// typeHoldBack is the record of an object a rollback left alone because it
// changed in Intercom after our write (contracts §3).
const typeHoldBack = "hold_back"

// DefaultHoldBackTolerance is how much later than our last write an
// object's updated_at may be before rollback takes it for a human's edit:
// it absorbs clock skew and Intercom's own bookkeeping right after a write.
const DefaultHoldBackTolerance = 2 * time.Minute

// objectPaths names, per kind, the collection an object is read from and
// named by in request paths. Kinds not listed are not checked for changes:
// data attributes are schema, and they are held back with the objects that
// hold their values instead.
var objectPaths = map[string]string{
	KindContact:       "/contacts/",
	KindContactUpdate: "/contacts/",
	KindCompany:       "/companies/",
	KindCompanyUpdate: "/companies/",
	KindConversation:  "/conversations/",
	KindCollection:    "/help_center/collections/",
	KindArticle:       "/articles/",
}

// holdBackCheck finds the objects a rollback must not touch.
type holdBackCheck struct {
	c         *Client
	tolerance time.Duration
	last      map[string]time.Time // "/contacts/<id>" -> our latest record touching it
}

// lastWriteIndex maps each object to the time of the latest live record
// that wrote to it, in any run, undos included: a rollback resumed after a
// crash must not take its own earlier detach for a human's edit. Records
// are added in log order.
type lastWriteIndex struct {
	last    map[string]time.Time
	intents map[string]Record // run + op -> latest intent
}

func newLastWrites() *lastWriteIndex {
	return &lastWriteIndex{last: map[string]time.Time{}, intents: map[string]Record{}}
}

func (lw *lastWriteIndex) add(r Record) {
	if r.DryRun || (r.Type != "intent" && r.Type != "outcome") {
		return
	}
	at, err := time.Parse(time.RFC3339Nano, r.Time)
	if err != nil {
		return
	}
	in := r
	if r.Type == "intent" {
		lw.intents[r.Run+" "+r.Op] = r
	} else {
		in = lw.intents[r.Run+" "+r.Op]
	}
	for _, key := range touched(in.Kind, in.Path, r.IntercomID) {
		if at.After(lw.last[key]) {
			lw.last[key] = at
		}
	}
}

// touched names the objects a request wrote to: those in its path
// (/contacts/X/companies/Y names both) and the object its outcome names.
func touched(kind, path, intercomID string) []string {
	var keys []string
	prefix, rest := "", strings.Trim(path, "/")
	if r, ok := strings.CutPrefix(rest, "help_center/"); ok {
		prefix, rest = "/help_center", r
	}
	segs := strings.Split(rest, "/")
	for i := 0; i+1 < len(segs); i += 2 {
		if id, err := url.PathUnescape(segs[i+1]); err == nil {
			keys = append(keys, prefix+"/"+segs[i]+"/"+id)
		}
	}
	if intercomID == "" {
		return keys
	}
	if kind == KindContactCompany {
		kind = KindCompany // the outcome of an attach names the company
	}
	if p, ok := objectPaths[kind]; ok {
		keys = append(keys, p+intercomID)
	}
	return keys
}

// stamp is what a hold-back check reads of an object.
type stamp struct {
	UpdatedAt int64 `json:"updated_at"`
	Contacts  struct {
		Contacts []struct {
			ID ID `json:"id"`
		} `json:"contacts"`
	} `json:"contacts"` // conversations only
}

// changed reads the object and tells why it must be held back, or "". A
// missing object is not held back (its undo finds it gone). One that
// cannot be read is: rollback touches nothing it could not check.
func (h *holdBackCheck) changed(ctx context.Context, kind, id string) (string, *stamp, error) {
	key := objectPaths[kind] + id
	var st stamp
	err := h.c.do(ctx, call{method: "GET", path: objectPaths[kind] + escape(id), idempotent: true}, &st)
	var nf *NotFound
	switch {
	case errors.As(err, &nf):
		return "", nil, nil
	case ctx.Err() != nil:
		return "", nil, ctx.Err()
	case err != nil:
		return fmt.Sprintf("could not check it for changes: %v", err), nil, nil
	}
	ours := h.last[key]
	if st.UpdatedAt <= ours.Unix()+int64(h.tolerance/time.Second) {
		return "", &st, nil
	}
	return fmt.Sprintf("changed in Intercom at %s, after our last write at %s",
		time.Unix(st.UpdatedAt, 0).UTC().Format(time.RFC3339), ours.UTC().Format(time.RFC3339)), &st, nil
}

// apply marks the steps to hold back: objects changed after our write, and
// what touching them would touch too. A held-back conversation keeps its
// parts, state and attributes and its contact; a held-back contact keeps
// its company links and the companies they link; data attributes whose
// values a held-back object holds are not archived.
func (h *holdBackCheck) apply(ctx context.Context, steps []undoStep) error {
	held := map[string]string{} // "/contacts/<id>" -> reason
	if err := h.checkKind(ctx, steps, KindConversation, held); err != nil {
		return err
	}
	holdChildren(steps, held)
	if err := h.checkKind(ctx, steps, KindContact, held); err != nil {
		return err
	}
	holdLinkedCompanies(steps, held)
	holdNotes(steps, held)
	if err := h.checkKind(ctx, steps, KindCompany, held); err != nil {
		return err
	}
	for kind := range objectPaths {
		if kind != KindConversation && kind != KindContact && kind != KindCompany {
			if err := h.checkKind(ctx, steps, kind, held); err != nil {
				return err
			}
		}
	}
	holdLinks(steps, held)
	holdAttributes(steps)
	return nil
}

// checkKind reads every object of kind the rollback would write to and
// holds back those changed (or already held for another reason).
func (h *holdBackCheck) checkKind(ctx context.Context, steps []undoStep, kind string, held map[string]string) error {
	for i := range steps {
		s := &steps[i]
		if s.kind() != kind || !s.sends() {
			continue
		}
		key := objectPaths[kind] + s.id()
		if reason, ok := held[key]; ok {
			s.holdBack(reason)
			continue
		}
		reason, st, err := h.changed(ctx, kind, s.id())
		if err != nil {
			return fmt.Errorf("hold-back check of %s %s: %w", kind, s.id(), err)
		}
		if reason == "" {
			continue
		}
		s.holdBack(reason)
		held[key] = reason
		if kind == KindConversation && st != nil {
			for _, c := range st.Contacts.Contacts {
				held[objectPaths[KindContact]+string(c.ID)] = "contact of held-back conversation " + s.id()
			}
		}
	}
	return nil
}

// holdChildren keeps the parts, state and attributes of a held-back
// conversation: they were to go with it.
func holdChildren(steps []undoStep, held map[string]string) {
	for i := range steps {
		s := &steps[i]
		conv := convIDOf(s.w.intent.Path)
		if isConversationChild(s.kind()) && s.action == UndoRemoved {
			if _, ok := held[objectPaths[KindConversation]+conv]; ok {
				s.holdBack("its conversation " + conv + " is held back")
			}
		}
	}
}

// linkEnds names the contact and the company a contact_company op linked.
func linkEnds(s *undoStep) (contact, company string) {
	contact = strings.TrimSuffix(strings.TrimPrefix(s.w.intent.Path, "/contacts/"), "/companies")
	if c, err := url.PathUnescape(contact); err == nil {
		contact = c
	}
	return contact, s.id()
}

// holdLinkedCompanies keeps the companies linked to a held-back contact:
// deleting one would detach the contact.
func holdLinkedCompanies(steps []undoStep, held map[string]string) {
	for i := range steps {
		s := &steps[i]
		if s.kind() != KindContactCompany {
			continue
		}
		contact, company := linkEnds(s)
		if _, ok := held[objectPaths[KindContact]+contact]; ok {
			key := objectPaths[KindCompany] + company
			if _, done := held[key]; !done {
				held[key] = "linked to held-back contact " + contact
			}
		}
	}
}

// holdLinks keeps the links of a held-back contact or company.
func holdLinks(steps []undoStep, held map[string]string) {
	for i := range steps {
		s := &steps[i]
		if s.kind() != KindContactCompany || !s.sends() {
			continue
		}
		contact, company := linkEnds(s)
		if _, ok := held[objectPaths[KindContact]+contact]; ok {
			s.holdBack("its contact " + contact + " is held back")
		} else if _, ok := held[objectPaths[KindCompany]+company]; ok {
			s.holdBack("its company " + company + " is held back")
		}
	}
}

// holdAttributes keeps the data attributes of a model while a held-back
// object of that model, one of ours, may hold values in them.
func holdAttributes(steps []undoStep) {
	models := map[string]string{} // model -> a held-back object of it
	for _, s := range steps {
		if _, ok := objectPaths[s.kind()]; ok && s.action == UndoHoldBack {
			models[s.kind()] = s.id()
		}
	}
	for i := range steps {
		s := &steps[i]
		if s.kind() != KindDataAttribute || !s.sends() {
			continue
		}
		model, _, _ := strings.Cut(s.w.intent.SourceID, ".") // attrSourceID: "model.name"
		if id, ok := models[model]; ok {
			s.holdBack("held-back " + model + " " + id + " may hold its values")
		}
	}
}

// addHoldBack lists a held-back op in the summary and, unless this is a dry
// run, in the write log.
func addHoldBack(e *executor, rs *RollbackSummary, s undoStep) error {
	in, out := s.w.intent, s.w.outcome
	rs.HeldBack = append(rs.HeldBack, HeldBack{Op: out.Op, Kind: in.Kind, IntercomID: out.IntercomID,
		Reason: s.reason})
	if e.dry {
		return nil
	}
	return e.log.write(Record{Type: typeHoldBack, Op: out.Op, Kind: in.Kind, SourceTable: in.SourceTable,
		SourceID: in.SourceID, Step: stepUndo, IntercomID: out.IntercomID, Error: s.reason})
}
