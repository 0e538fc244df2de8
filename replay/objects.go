package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// dataAttributes creates the staged custom attributes that do not exist yet:
// contact and company ones with 2.14, conversation ones with 2.16. An
// archived contact or company attribute (e.g. archived by a rollback) is
// unarchived, since values cannot be written to it; an archived conversation
// attribute cannot be unarchived by API and stops the run before any write.
func (r *runner) dataAttributes(ctx context.Context) error {
	attrs, err := readAttrs(ctx, r.db)
	if err != nil {
		return err
	}
	existing := map[string]map[string]DataAttribute{} // model -> lower(name) -> attribute
	for _, a := range attrs {
		if existing[a.Model] != nil {
			continue
		}
		names, err := r.listAttrs(ctx, a.Model)
		if err != nil {
			return err
		}
		existing[a.Model] = names
	}
	if err := archivedConversationAttrs(attrs, existing); err != nil {
		return err
	}
	if err := attrTypeMismatches(attrs, existing); err != nil {
		return err
	}
	for i, a := range attrs {
		d, ok := existing[a.Model][strings.ToLower(a.Name)]
		switch {
		case ok && d.Archived:
			if _, err := r.e.write(ctx, r.unarchiveOp(a, d)); err != nil && !isOpFailure(err) {
				return err
			}
		case ok && r.attrCreateUncertain(a):
			// Our create committed but its answer was lost (a crash): settle
			// it by lookup, so that the log, and so rollback, owns it.
			if _, err := r.e.write(ctx, r.attrOp(a)); err != nil && !isOpFailure(err) {
				return err
			}
		case ok:
			r.e.count(KindDataAttribute, r.attrResult(a))
		default:
			if _, err := r.e.write(ctx, r.attrOp(a)); err != nil && !isOpFailure(err) {
				return err
			}
		}
		r.progress(KindDataAttribute, i+1, len(attrs))
	}
	return nil
}

// ArchivedAttributesError stops replay before it writes anything: these
// staged conversation attributes exist in Intercom but are archived, and the
// 2.16 API can archive them but not unarchive them. An Intercom admin must
// unarchive them in the workspace settings, then replay is rerun.
type ArchivedAttributesError struct {
	Names []string // "name (id 12)"
}

func (e *ArchivedAttributesError) Error() string {
	return fmt.Sprintf("replay stopped before writing: %d conversation attributes are archived in Intercom "+
		"and the API cannot unarchive them [%s]; unarchive them in Intercom settings (conversation data) "+
		"and rerun", len(e.Names), strings.Join(e.Names, "; "))
}

func archivedConversationAttrs(attrs []stageAttr, existing map[string]map[string]DataAttribute) error {
	var names []string
	for _, a := range attrs {
		if d, ok := existing[a.Model][strings.ToLower(a.Name)]; ok && d.Archived && a.Model == "conversation" {
			names = append(names, fmt.Sprintf("%s (id %s)", d.Name, d.ID))
		}
	}
	if len(names) > 0 {
		return &ArchivedAttributesError{Names: names}
	}
	return nil
}

// AttributeTypeError stops replay before it writes anything: these staged
// attributes exist in Intercom with another data type, so the values
// replay would write do not fit them. Rename the attribute in the mapping
// file (or the workspace's one) and run again.
type AttributeTypeError struct {
	Mismatches []string // "contact.tier: staged string, Intercom integer"
}

func (e *AttributeTypeError) Error() string {
	return fmt.Sprintf("replay stopped before writing: %d data attributes exist in Intercom with another type [%s]; "+
		"rename them in the mapping file or in Intercom and rerun", len(e.Mismatches), strings.Join(e.Mismatches, "; "))
}

func attrTypeMismatches(attrs []stageAttr, existing map[string]map[string]DataAttribute) error {
	var out []string
	for _, a := range attrs {
		d, ok := existing[a.Model][strings.ToLower(a.Name)]
		if !ok || d.DataType == "" {
			continue
		}
		want := a.DataType
		if m, ok := conversationTypes[want]; ok && a.Model == "conversation" {
			want = m
		}
		if !strings.EqualFold(d.DataType, want) && !listTakesString(a, d) {
			out = append(out, fmt.Sprintf("%s.%s: staged %s, Intercom %s", a.Model, a.Name, want, d.DataType))
		}
	}
	if len(out) > 0 {
		return &AttributeTypeError{Mismatches: out}
	}
	return nil
}

// listTakesString: a conversation list attribute takes one of its option
// labels as a string, which is what the mapping stages an option set as; a
// label that is not an option fails its own conversation, not the run.
func listTakesString(a stageAttr, d DataAttribute) bool {
	return a.Model == "conversation" && a.DataType == "string" && strings.EqualFold(d.DataType, "list")
}

// listAttrs lists a model's attributes, archived ones included, by lower(name).
func (r *runner) listAttrs(ctx context.Context, model string) (map[string]DataAttribute, error) {
	var list []DataAttribute
	var err error
	switch model {
	case "contact", "company":
		list, err = r.e.c.ListDataAttributes(ctx, model)
	case "conversation":
		list, err = r.e.c.ListConversationAttributes(ctx)
	default:
		return nil, fmt.Errorf("stage.data_attributes: unknown model %q", model)
	}
	if err != nil {
		return nil, fmt.Errorf("list %s attributes: %w", model, err)
	}
	names := map[string]DataAttribute{}
	for _, d := range list {
		names[strings.ToLower(d.Name)] = d
	}
	return names, nil
}

// attrResult tells an attribute an earlier run created or unarchived
// (skipped) from one that was there before (existing).
func (r *runner) attrResult(a stageAttr) result {
	for _, step := range []string{"create", "unarchive"} {
		key := KindDataAttribute + ":" + attrSourceID(a) + ":" + step
		if st := r.e.prior[key]; st != nil && st.done {
			return resultSkipped
		}
	}
	return resultExisting
}

// attrCreateUncertain says an earlier run sent the create of a and never
// learnt its outcome.
func (r *runner) attrCreateUncertain(a stageAttr) bool {
	st := r.e.prior[KindDataAttribute+":"+attrSourceID(a)+":create"]
	return st != nil && st.intent != nil && !st.done
}

func attrSourceID(a stageAttr) string { return a.Model + "." + a.Name }

// unarchiveOp brings back an archived contact or company attribute. Its
// before-image (archived) makes rollback archive it again.
func (r *runner) unarchiveOp(a stageAttr, d DataAttribute) op {
	id := string(d.ID)
	o := op{kind: KindDataAttribute, sourceTable: a.SourceTable, sourceID: attrSourceID(a), step: "unarchive",
		method: "PUT", path: "/data_attributes/" + escape(id), body: map[string]bool{"archived": false}}
	o.prepare = func(context.Context) (json.RawMessage, error) {
		b, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("data attribute %s: before-image: %w", o.sourceID, err)
		}
		return b, nil
	}
	// PUT is idempotent: after a lost answer it is simply sent again.
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		return outcome{id: id, existing: true}, r.e.c.UnarchiveDataAttribute(ctx, id)
	}
	return o
}

// conversationTypes maps staged types onto the 2.16 conversation attribute types.
var conversationTypes = map[string]string{"float": "decimal", "date": "datetime"}

func (r *runner) attrOp(a stageAttr) op {
	o := op{kind: KindDataAttribute, sourceTable: a.SourceTable, sourceID: attrSourceID(a),
		step: "create", method: "POST"}
	var create func(ctx context.Context) (*DataAttribute, error)
	if a.Model == "conversation" {
		dt := a.DataType
		if m, ok := conversationTypes[dt]; ok {
			dt = m
		}
		req := ConversationAttributeRequest{Name: a.Name, DataType: dt, Description: a.Description}
		o.path, o.body = "/conversations/attributes", req
		create = func(ctx context.Context) (*DataAttribute, error) { return r.e.c.CreateConversationAttribute(ctx, req) }
	} else {
		req := DataAttributeRequest{Name: a.Name, Model: a.Model, DataType: a.DataType, Description: a.Description}
		o.path, o.body = "/data_attributes", req
		create = func(ctx context.Context) (*DataAttribute, error) { return r.e.c.CreateDataAttribute(ctx, req) }
	}
	lookup := func(ctx context.Context) (outcome, bool, error) {
		names, err := r.listAttrs(ctx, a.Model)
		if d, ok := names[strings.ToLower(a.Name)]; ok {
			return outcome{id: string(d.ID)}, true, nil
		}
		return outcome{}, false, err
	}
	o.resolve = func(ctx context.Context, _ time.Time, _ *Record) (outcome, bool, error) { return lookup(ctx) }
	o.send = func(ctx context.Context, uncertain bool) (outcome, error) {
		d, err := create(ctx)
		var ae *APIError
		if err != nil && errors.As(err, &ae) && ae.Status == 400 {
			// A name clash is a 400; after a lost answer the clash is our own.
			if out, found, lerr := lookup(ctx); lerr == nil && found {
				out.status, out.existing = ae.Status, !uncertain
				return out, nil
			}
		}
		if err != nil {
			return outcome{}, err
		}
		return outcome{id: string(d.ID)}, nil
	}
	return o
}

// matchPeople matches staged admins by lower(email) and teams by name to the
// workspace's; what conversations reference but cannot be matched is kept
// to stop the run before conversations.
func (r *runner) matchPeople(ctx context.Context) error {
	sAdmins, err := readAdmins(ctx, r.db)
	if err != nil {
		return err
	}
	sTeams, err := readTeams(ctx, r.db)
	if err != nil {
		return err
	}
	admins, err := r.e.c.ListAdmins(ctx)
	if err != nil {
		return fmt.Errorf("list admins: %w", err)
	}
	teams, err := r.e.c.ListTeams(ctx)
	if err != nil {
		return fmt.Errorf("list teams: %w", err)
	}
	byEmail := map[string]string{}
	for _, a := range admins {
		byEmail[strings.ToLower(strings.TrimSpace(a.Email))] = string(a.ID)
	}
	byName := map[string]string{}
	for _, t := range teams {
		byName[strings.TrimSpace(t.Name)] = string(t.ID)
	}
	labels := map[string]string{}
	for _, a := range sAdmins {
		labels["a"+a.SourceID] = a.SourceID + " <" + a.Email + ">"
		if id, ok := byEmail[strings.ToLower(strings.TrimSpace(a.Email))]; ok && a.Email != "" {
			r.admins[a.SourceID] = id
		}
	}
	for _, t := range sTeams {
		labels["t"+t.SourceID] = t.SourceID + " <" + t.Name + ">"
		if id, ok := byName[strings.TrimSpace(t.Name)]; ok {
			r.teams[t.SourceID] = id
		}
	}
	r.actor = r.cfg.ActorAdminID
	if r.actor == "" && len(admins) > 0 {
		ids := make([]string, 0, len(admins))
		for _, a := range admins {
			ids = append(ids, string(a.ID))
		}
		r.actor = slices.Min(ids)
	}
	return r.findUnmatched(ctx, labels)
}

func (r *runner) findUnmatched(ctx context.Context, labels map[string]string) error {
	refAdmins, refTeams, err := referencedPeople(ctx, r.db)
	if err != nil {
		return err
	}
	u := &UnmatchedError{}
	for _, id := range refAdmins {
		if _, ok := r.admins[id]; !ok {
			u.Admins = append(u.Admins, labelOr(labels, "a"+id, id))
		}
	}
	for _, id := range refTeams {
		if _, ok := r.teams[id]; !ok {
			u.Teams = append(u.Teams, labelOr(labels, "t"+id, id))
		}
	}
	if len(u.Admins)+len(u.Teams) > 0 {
		r.unmatched = u
		r.logger.Warn("replay: unmatched admins or teams; conversations will not be replayed",
			"admins", len(u.Admins), "teams", len(u.Teams))
	}
	r.logger.Info("replay: matched", "admins", len(r.admins), "teams", len(r.teams))
	return r.logMatches(refAdmins, refTeams)
}

// logMatches records the run's matches in the write log for the routing
// report; ids only.
func (r *runner) logMatches(refAdmins, refTeams []string) error {
	m := &RunMatches{Admins: maps.Clone(r.admins), Teams: maps.Clone(r.teams), Actor: r.actor}
	for _, id := range refAdmins {
		if _, ok := r.admins[id]; !ok {
			m.UnmatchedAdmins = append(m.UnmatchedAdmins, id)
		}
	}
	for _, id := range refTeams {
		if _, ok := r.teams[id]; !ok {
			m.UnmatchedTeams = append(m.UnmatchedTeams, id)
		}
	}
	return r.e.log.write(Record{Type: "matches", Op: "matches", DryRun: r.cfg.DryRun, Matches: m})
}

func labelOr(m map[string]string, k, def string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return def + " <not in stage>"
}

// replayCompanies upserts companies on company_id, keeping a before-image of
// companies that already existed.
func (r *runner) replayCompanies(ctx context.Context) error {
	total, done := countRows(ctx, r.db, "stage.companies"), 0
	return pool(ctx, r.cfg.Workers, func(submit func(func(context.Context) error) error) error {
		return eachCompany(ctx, r.db, func(c stageCompany) error {
			return submit(func(ctx context.Context) error {
				out, err := r.e.write(ctx, r.companyOp(c))
				if err == nil {
					r.mu.Lock()
					r.companies[c.SourceID] = out.id
					done++
					n := done
					r.mu.Unlock()
					r.progress(KindCompany, n, total)
				}
				return err
			})
		})
	})
}

func (r *runner) companyOp(c stageCompany) op {
	req := CompanyRequest{CompanyID: c.CompanyID, Name: c.Name, Website: c.Website, Industry: c.Industry,
		Size: c.Size, RemoteCreatedAt: c.RemoteCreatedAt, CustomAttributes: c.CustomAttributes}
	o := op{kind: KindCompany, sourceTable: c.SourceTable, sourceID: c.SourceID, step: "upsert",
		method: "POST", path: "/companies", body: req, revise: r.companyRevision(c, req)}
	o.prepare = func(ctx context.Context) (json.RawMessage, error) {
		co, err := r.e.c.FindCompany(ctx, c.CompanyID)
		var nf *NotFound
		if errors.As(err, &nf) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("company %s: read before-image: %w", c.SourceID, err)
		}
		return json.Marshal(co)
	}
	o.resolve = func(ctx context.Context, _ time.Time, prior *Record) (outcome, bool, error) {
		co, err := r.e.c.FindCompany(ctx, c.CompanyID)
		var nf *NotFound
		if errors.As(err, &nf) {
			return outcome{}, false, nil
		}
		if err != nil || prior == nil {
			// In-run the upsert is simply resent: it is idempotent.
			return outcome{}, false, err
		}
		return outcome{id: string(co.ID), existing: prior.Before != nil, before: prior.Before}, true, nil
	}
	o.send = r.upsertCompany(req)
	return o
}

// upsertCompany sends the upsert on company_id; resending it is harmless.
func (r *runner) upsertCompany(req CompanyRequest) func(context.Context, bool) (outcome, error) {
	return func(ctx context.Context, _ bool) (outcome, error) {
		co, err := r.e.c.UpsertCompany(ctx, req)
		if err != nil {
			return outcome{}, err
		}
		return outcome{id: string(co.ID)}, nil
	}
}
