package replay

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// sourceAttr is the contact attribute that carries the Dataverse contactid.
const sourceAttr = "dynamics_contact_id"

// replayContacts creates users and leads.
func (r *runner) replayContacts(ctx context.Context) error {
	total, done := countRows(ctx, r.db, "stage.contacts"), 0
	return pool(ctx, r.cfg.Workers, func(submit func(func(context.Context) error) error) error {
		return eachContact(ctx, r.db, func(c stageContact) error {
			return submit(func(ctx context.Context) error {
				out, err := r.e.write(ctx, r.contactOp(c))
				if err == nil {
					r.mu.Lock()
					r.contacts[c.SourceID] = contactRef{id: out.id, role: c.Role}
					done++
					n := done
					r.mu.Unlock()
					r.progress(KindContact, n, total)
				}
				return err
			})
		})
	})
}

func (r *runner) contactOp(c stageContact) op {
	req := ContactRequest{Role: c.Role, ExternalID: c.ExternalID, Email: c.Email, Name: c.Name,
		Phone: c.Phone, SignedUpAt: c.SignedUpAt, Unsubscribed: c.Unsubscribed, CustomAttributes: c.CustomAttributes}
	if req.Role == "" {
		req.Role = "user"
	}
	o := op{kind: KindContact, sourceTable: c.SourceTable, sourceID: c.SourceID, step: "create",
		method: "POST", path: "/contacts", body: req, revise: r.contactRevision(c, req)}
	// firstTry is when the earliest unanswered attempt was sent (resolve is
	// told before any resend); see conflictOutcome.
	var firstTry time.Time
	o.send = func(ctx context.Context, uncertain bool) (outcome, error) {
		ct, err := r.e.c.CreateContact(ctx, req)
		var cf *Conflict
		if errors.As(err, &cf) {
			return r.conflictOutcome(ctx, c, cf, uncertain, firstTry)
		}
		if err != nil {
			return outcome{}, err
		}
		return outcome{id: string(ct.ID)}, nil
	}
	if req.Role == "lead" {
		// Leads have no unique key: only search on the source attribute finds
		// an uncertain create, and only once the index has caught up.
		o.resolve = func(ctx context.Context, at time.Time, _ *Record) (outcome, bool, error) {
			return r.searchContact(ctx, c.SourceID, at)
		}
	}
	if req.Role != "lead" {
		// Users need no lookup: a resend gets a 409 naming the contact.
		o.resolve = func(_ context.Context, at time.Time, _ *Record) (outcome, bool, error) {
			if firstTry.IsZero() || at.Before(firstTry) {
				firstTry = at
			}
			return outcome{}, false, nil
		}
	}
	return o
}

// conflictOutcome decides what a 409 on create means: our own contact
// (its dynamics_contact_id matches) or a genuine duplicate, which fails.
func (r *runner) conflictOutcome(ctx context.Context, c stageContact, cf *Conflict,
	uncertain bool, firstTry time.Time) (outcome, error) {
	if cf.ExistingID == "" {
		return outcome{}, fmt.Errorf("contact %s: conflict names no existing contact: %w", c.SourceID, cf)
	}
	// TODO: unarchive an archived match before using it.
	existing, err := r.e.c.GetContact(ctx, cf.ExistingID)
	if err != nil {
		return outcome{}, fmt.Errorf("contact %s: read conflicting contact %s: %w", c.SourceID, cf.ExistingID, err)
	}
	if fmt.Sprint(existing.CustomAttributes[sourceAttr]) != c.SourceID {
		return outcome{}, fmt.Errorf("contact %s: duplicate of Intercom contact %s (its %s is %v): %w",
			c.SourceID, cf.ExistingID, sourceAttr, existing.CustomAttributes[sourceAttr], cf)
	}
	// After a lost answer the earlier attempt may have created it; unless it
	// is older than that attempt, it was there before (e.g. migrated by
	// hand), and rollback must leave it alone. created_at is whole seconds.
	ours := uncertain && !firstTry.IsZero() && existing.CreatedAt >= firstTry.Unix()-1
	return outcome{status: cf.Status, id: cf.ExistingID, existing: !ours}, nil
}

func (r *runner) searchContact(ctx context.Context, sourceID string, at time.Time) (outcome, bool, error) {
	q := SearchQuery{Field: "custom_attributes." + sourceAttr, Operator: "=", Value: sourceID}
	for waited := false; ; waited = true {
		found, err := r.e.c.SearchContacts(ctx, q)
		if err != nil {
			return outcome{}, false, fmt.Errorf("contact %s: search: %w", sourceID, err)
		}
		for _, ct := range found {
			if fmt.Sprint(ct.CustomAttributes[sourceAttr]) == sourceID {
				return outcome{id: string(ct.ID)}, true, nil
			}
		}
		if waited {
			return outcome{}, false, nil
		}
		if err := waitLag(ctx, r.logger, KindContact+":"+sourceID+":create", at, r.cfg.SearchLag); err != nil {
			return outcome{}, false, err
		}
	}
}

// replayLinks attaches contacts to their companies; attaching is idempotent.
func (r *runner) replayLinks(ctx context.Context) error {
	done := 0
	return pool(ctx, r.cfg.Workers, func(submit func(func(context.Context) error) error) error {
		return eachContact(ctx, r.db, func(c stageContact) error {
			if c.CompanySourceID == "" {
				return nil
			}
			return submit(func(ctx context.Context) error {
				err := r.linkOne(ctx, c)
				r.mu.Lock()
				done++
				r.progress(KindContactCompany, done, -1)
				r.mu.Unlock()
				return err
			})
		})
	})
}

func (r *runner) linkOne(ctx context.Context, c stageContact) error {
	r.mu.Lock()
	contact, okC := r.contacts[c.SourceID]
	company, okCo := r.companies[c.CompanySourceID]
	r.mu.Unlock()
	key := KindContactCompany + ":" + c.SourceID + ":link"
	if !okC || !okCo {
		r.e.fail(KindContactCompany, key, fmt.Sprintf("contact %s or company %s was not replayed",
			c.SourceID, c.CompanySourceID))
		return nil
	}
	o := op{kind: KindContactCompany, sourceTable: c.SourceTable, sourceID: c.SourceID, step: "link",
		method: "POST", path: attachPath(contact.id), body: map[string]string{"id": company}}
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		return outcome{id: company}, r.e.c.AttachCompany(ctx, contact.id, company)
	}
	_, err := r.e.write(ctx, o)
	return err
}
