package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// A delta replay is a replay of a staging database built from a delta
// snapshot (or any later transform) into the log directory of the replay
// it follows. What the earlier runs wrote with the same request body is
// skipped as before; an object whose staged body changed gets a revision,
// an update of the object in place with its before-image kept for rollback;
// and stage.deletions is carried out as the mapping's delete policy says.

// Kinds a delta replay writes.
const (
	KindContactUpdate = "contact_update" // PUT /contacts/{id} of a changed contact
	KindCompanyUpdate = "company_update" // the company upsert, resent with changed values
	KindDeletion      = "deletion"       // an object deleted in the source, as stage.deletions says
)

// revision returns the update to send when an earlier run wrote the object
// of o (its outcome is st) with a body other than o's. Revisions of one
// object are numbered; each compares with the latest one that stands, so a
// value changed back is sent back too. ok is false when nothing changed.
func (e *executor) revision(o op, st *opState) (op, bool) {
	if o.revise == nil || st.successIntent == nil || st.intercomID == "" {
		return op{}, false
	}
	sent := st.successIntent.BodySHA256
	var next op
	for n := 1; ; n++ {
		next = o.revise(st.intercomID, n)
		rs := e.prior[next.key()]
		if rs == nil || rs.undone {
			break
		}
		if !rs.done || rs.successIntent == nil {
			return next, true // an attempt without an outcome: write settles it
		}
		sent = rs.successIntent.BodySHA256
	}
	if sent == digest(o.body) {
		return op{}, false
	}
	return next, true
}

// stepArchive ends the step of a deletion that archived a contact, the one
// deletion rollback can undo.
const stepArchive = "archive"

// stepDelete ends the step of a deletion that removed the object.
const stepDelete = "delete"

func revisionStep(n int) string { return "rev-" + strconv.Itoa(n) }

// contactRevision updates a contact in place with the staged values; the
// body is the create's, which PUT /contacts/{id} accepts field for field.
func (r *runner) contactRevision(c stageContact, req ContactRequest) func(id string, n int) op {
	return func(id string, n int) op {
		o := op{kind: KindContactUpdate, sourceTable: c.SourceTable, sourceID: c.SourceID, step: revisionStep(n),
			method: "PUT", path: "/contacts/" + escape(id), body: req}
		o.prepare = func(ctx context.Context) (json.RawMessage, error) {
			return r.beforeImage(ctx, "/contacts/"+escape(id))
		}
		o.send = func(ctx context.Context, _ bool) (outcome, error) {
			return outcome{id: id}, r.e.c.UpdateContact(ctx, id, req)
		}
		return o
	}
}

// companyRevision resends the upsert on company_id with the staged values.
func (r *runner) companyRevision(c stageCompany, req CompanyRequest) func(id string, n int) op {
	return func(id string, n int) op {
		o := op{kind: KindCompanyUpdate, sourceTable: c.SourceTable, sourceID: c.SourceID, step: revisionStep(n),
			method: "POST", path: "/companies", body: req}
		o.prepare = func(ctx context.Context) (json.RawMessage, error) {
			return r.beforeImage(ctx, "/companies/"+escape(id))
		}
		o.send = r.upsertCompany(req)
		return o
	}
}

// beforeImage reads an object as it is, whole, for rollback to restore.
func (r *runner) beforeImage(ctx context.Context, path string) (json.RawMessage, error) {
	var raw json.RawMessage
	if err := r.e.c.do(ctx, call{method: "GET", path: path, idempotent: true}, &raw); err != nil {
		return nil, fmt.Errorf("read before-image of %s: %w", path, err)
	}
	return raw, nil
}

// UpdateContact calls PUT /contacts/{id}; sending it twice is harmless.
func (c *Client) UpdateContact(ctx context.Context, id string, r ContactRequest) error {
	return c.do(ctx, call{method: "PUT", path: "/contacts/" + escape(id), body: r, idempotent: true}, nil)
}

// ArchiveContact calls POST /contacts/{id}/archive, or .../unarchive.
func (c *Client) ArchiveContact(ctx context.Context, id string, archive bool) error {
	action := "/archive"
	if !archive {
		action = "/unarchive"
	}
	return c.do(ctx, call{method: "POST", path: "/contacts/" + escape(id) + action, idempotent: true}, nil)
}

// stageDeletion is one row of stage.deletions.
type stageDeletion struct {
	Kind, SourceTable, SourceID, Action string
}

// deletionTargets maps stage.deletions' kinds onto the op that wrote the
// object, whose outcome names it in Intercom.
var deletionTargets = map[string]struct{ opKind, step string }{
	"contacts":      {KindContact, "create"},
	"companies":     {KindCompany, "upsert"},
	"conversations": {KindConversation, "create"},
	"articles":      {KindArticle, "create"},
}

// replayDeletions carries out stage.deletions: an object an earlier run
// created is archived or deleted as the row's action says; one that was
// already in Intercom (matched), one never written, and every "keep" is
// left alone and counted.
func (r *runner) replayDeletions(ctx context.Context) error {
	dels, err := readDeletions(ctx, r)
	if err != nil {
		return err
	}
	for i, d := range dels {
		if err := r.deleteOne(ctx, d); err != nil && !isOpFailure(err) {
			return err
		}
		r.progress(KindDeletion, i+1, len(dels))
	}
	return nil
}

func (r *runner) deleteOne(ctx context.Context, d stageDeletion) error {
	t, ok := deletionTargets[d.Kind]
	if !ok {
		r.e.fail(KindDeletion, KindDeletion+":"+d.SourceID, fmt.Sprintf("stage.deletions: unknown kind %q", d.Kind))
		return nil
	}
	st := r.e.prior[t.opKind+":"+d.SourceID+":"+t.step]
	switch {
	case d.Action == "keep" || d.Action == "":
		r.e.count(KindDeletion, resultExisting)
		return nil
	case st == nil || !st.done || st.undone || st.intercomID == "":
		r.e.count(KindDeletion, resultSkipped) // never written, or taken back already
		return nil
	case st.existing:
		// Matched, not created by us: replay never deletes what it found.
		r.e.count(KindDeletion, resultExisting)
		return nil
	}
	o, err := deletionOp(r.e.c, d, st.intercomID)
	if err != nil {
		r.e.fail(KindDeletion, KindDeletion+":"+d.SourceID, err.Error())
		return nil
	}
	_, err = r.e.write(ctx, o)
	return err
}

// deletionOp builds the request of one deletion. A 404 means it is gone
// already (deleted by hand, or by this op before a lost answer).
func deletionOp(c *Client, d stageDeletion, id string) (op, error) {
	o := op{kind: KindDeletion, sourceTable: d.SourceTable, sourceID: d.SourceID, step: d.Kind + "-" + d.Action}
	var do func(ctx context.Context) error
	switch {
	case d.Kind == "contacts" && d.Action == "archive":
		o.method, o.path = "POST", "/contacts/"+escape(id)+"/archive"
		do = func(ctx context.Context) error { return c.ArchiveContact(ctx, id, true) }
	case d.Kind == "contacts" && d.Action == "delete":
		o.method, o.path = "DELETE", "/contacts/"+escape(id)
		do = func(ctx context.Context) error { return c.DeleteContact(ctx, id) }
	case d.Kind == "companies" && d.Action == "delete":
		o.method, o.path = "DELETE", "/companies/"+escape(id)
		do = func(ctx context.Context) error { return c.DeleteCompany(ctx, id) }
	case d.Kind == "conversations" && d.Action == "delete":
		o.method, o.path = "DELETE", "/conversations/"+escape(id)
		do = func(ctx context.Context) error { return c.DeleteConversation(ctx, id) }
	case d.Kind == "articles" && d.Action == "delete":
		o.method, o.path = "DELETE", "/articles/"+escape(id)
		do = func(ctx context.Context) error { return c.DeleteArticle(ctx, id) }
	default:
		return op{}, fmt.Errorf("deletion of %s %s: action %q is not supported", d.Kind, d.SourceID, d.Action)
	}
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		err := do(ctx)
		var nf *NotFound
		if errors.As(err, &nf) {
			return outcome{status: http.StatusNotFound, id: id}, nil
		}
		return outcome{id: id}, err
	}
	return o, nil
}

// readDeletions reads stage.deletions in staged order; a staging database
// built before deltas existed has none.
func readDeletions(ctx context.Context, r *runner) ([]stageDeletion, error) {
	ok, err := hasStageTable(ctx, r.db, "deletions")
	if err != nil || !ok {
		return nil, err
	}
	var out []stageDeletion
	err = scanRows(ctx, r.db, "stage.deletions",
		`select kind, source_table, source_id, action from stage.deletions order by ord`,
		func(scan func(...any) error) error {
			var d stageDeletion
			if err := scan(ns{&d.Kind}, ns{&d.SourceTable}, ns{&d.SourceID}, ns{&d.Action}); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	return out, err
}
