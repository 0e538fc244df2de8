package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"
)

// RollbackConfig configures Rollback.
type RollbackConfig struct {
	BaseURL string
	Token   string // default TokenFromEnv()
	LogDir  string
	RunID   string // undo this run only; empty = every run in LogDir
	DryRun  bool
	Logger  *slog.Logger

	// Preview plans the rollback, reading Intercom to find what changed
	// after our write, and then stops: nothing is sent, nothing logged.
	Preview bool
	// Kinds limits the rollback to these kinds (CheckRollbackKinds); empty
	// means every kind.
	Kinds []string
	// Sample > 0 rolls back only that many conversations, with their parts,
	// state and attributes, picked as replay --sample picks them with Seed.
	Sample int
	Seed   int64
	// HoldBackTolerance: an object whose updated_at is later than our last
	// write to it by more than this was changed by someone else and is held
	// back. Zero means DefaultHoldBackTolerance.
	HoldBackTolerance time.Duration

	Retry      *RetryPolicy
	HTTPClient *http.Client
}

// Residue is something a replay wrote that the API cannot take back.
type Residue struct {
	Op         string
	Kind       string
	IntercomID string
	Reason     string
}

// RollbackSummary is what a rollback did.
type RollbackSummary struct {
	RunID    string // the rollback's own run id (its write log)
	LogPath  string // empty when the rollback wrote nothing
	DryRun   bool
	Preview  bool
	Plan     RollbackPlan   // what the rollback does (or would do), per kind and action
	Undone   map[string]int // per kind
	Skipped  map[string]int // undone by an earlier rollback
	Removed  map[string]int // gone with their conversation (parts, attributes, state)
	Residue  []Residue
	HeldBack []HeldBack
	Failures []Failure
}

// written is one successful replay op, as the logs tell it.
type written struct {
	intent  Record
	outcome Record
	undone  bool // an earlier rollback took it back
}

// Rollback reads the write logs newest first and undoes what they created:
// conversations, contacts and companies are deleted, links detached, data
// attributes archived and before-images restored. What the API cannot undo
// is listed as residue; what changed in Intercom after our write is held
// back (listed, not touched). The rollback is itself logged (step "undo")
// and can be rerun: an undo that already succeeded is skipped.
func Rollback(ctx context.Context, cfg RollbackConfig) (*RollbackSummary, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("rollback: %w", err)
	}
	if cfg.Token == "" {
		t, err := TokenFromEnv()
		if err != nil {
			return nil, fmt.Errorf("rollback: %w", err)
		}
		cfg.Token = t
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	lock, err := lockDir(cfg.LogDir)
	if err != nil {
		return nil, fmt.Errorf("rollback: %w", err)
	}
	defer lock.release()
	c, err := NewClient(ClientOptions{BaseURL: cfg.BaseURL, Token: cfg.Token, HTTPClient: cfg.HTTPClient,
		Retry: cfg.Retry, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("rollback: %w", err)
	}
	steps, prior, err := planRollback(ctx, cfg, c)
	if err != nil {
		return nil, fmt.Errorf("rollback: %w", err)
	}
	run := newRunID()
	if cfg.Preview {
		logger.Info("rollback: preview only, nothing sent", "steps", len(steps))
		return &RollbackSummary{RunID: run, Preview: true, Plan: planOf(steps)}, nil
	}
	lw, err := openLog(cfg.LogDir, run)
	if err != nil {
		return nil, fmt.Errorf("rollback: %w", err)
	}
	e := &executor{c: c, log: lw, prior: prior, dry: cfg.DryRun, logger: logger,
		sum: &Summary{Kinds: map[string]*KindCounts{}}}
	rs := &RollbackSummary{RunID: run, LogPath: lw.path, DryRun: cfg.DryRun, Plan: planOf(steps),
		Undone: map[string]int{}, Skipped: map[string]int{}, Removed: map[string]int{}}
	runErr := undoAll(ctx, e, steps, rs)
	if err := lw.Close(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if !lw.created() {
		rs.LogPath = ""
	}
	for kind, kc := range e.sum.Kinds {
		rs.Undone[kind] += kc.Created + kc.Existing
		rs.Skipped[kind] += kc.Skipped
	}
	rs.Failures = e.sum.Failures
	logger.Info("rollback: finished", "run", run, "residue", len(rs.Residue), "held_back", len(rs.HeldBack),
		"failures", len(rs.Failures))
	return rs, runErr
}

func (cfg *RollbackConfig) check() error {
	switch {
	case cfg.LogDir == "":
		return errors.New("LogDir is required")
	case cfg.Sample < 0:
		return fmt.Errorf("sample %d: want 0 (everything) or more", cfg.Sample)
	case cfg.Sample > 0 && len(cfg.Kinds) > 0:
		return &KindsError{"--sample rolls back conversations only; it cannot be combined with --kind"}
	case cfg.Preview && cfg.DryRun:
		return errors.New("preview and dry run exclude each other: a preview logs nothing")
	}
	return CheckRollbackKinds(cfg.Kinds)
}

// planRollback reads the logs, keeps the ops cfg selects and decides each
// one's undo, holding back what changed in Intercom since our write.
func planRollback(ctx context.Context, cfg RollbackConfig, c *Client) ([]undoStep, priorState, error) {
	// One pass over the logs feeds both the op states and the hold-back
	// check's last writes: the logs of a large migration take seconds to read.
	l, lw := newStateLoader(), newLastWrites()
	err := readAll(cfg.LogDir, func(r Record) { l.add(r); lw.add(r) })
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	ops, prior := successfulOps(l, cfg.RunID)
	ops = selectKinds(ops, cfg.Kinds)
	if cfg.Sample > 0 {
		ops = selectSample(ops, cfg.Sample, cfg.Seed)
	}
	steps := planUndo(c, ops)
	holdRevisedAgain(steps, prior)
	tolerance := cfg.HoldBackTolerance
	if tolerance == 0 {
		tolerance = DefaultHoldBackTolerance
	}
	h := &holdBackCheck{c: c, tolerance: tolerance, last: lw.last}
	return steps, prior, h.apply(ctx, steps)
}

// successfulOps returns the ops of the selected run(s) whose latest live
// outcome succeeded, in log order, and the state of every op: an op a
// rollback already took back is marked undone (and is skipped).
func successfulOps(l *stateLoader, runID string) ([]written, priorState) {
	type ordered struct {
		w     written
		order int64
	}
	var list []ordered
	for key, st := range l.ps {
		if isUndo(key) || st.success == nil || (runID != "" && st.success.Run != runID) {
			continue
		}
		in := Record{Op: key, Kind: kindOfOp(key)}
		if st.successIntent != nil {
			in = *st.successIntent
		}
		// TODO: an attempt begun after a rollback and never answered (killed)
		// is not undone: its object, if any, has no known id.
		list = append(list, ordered{written{intent: in, outcome: *st.success, undone: st.takenBack}, st.order})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].order < list[j].order })
	ops := make([]written, len(list))
	for i, o := range list {
		ops[i] = o.w
	}
	return ops, l.ps
}

// undoAll runs the steps newest first. A cancelled context ends it with
// the context's error, so that a caller cannot take a rollback cut short
// for a finished one; a rerun resumes it.
func undoAll(ctx context.Context, e *executor, steps []undoStep, rs *RollbackSummary) error {
	for i := len(steps) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("rollback interrupted with %d of %d steps left: %w", i+1, len(steps), err)
		}
		if err := undoOne(ctx, e, steps[i], rs); err != nil && !isOpFailure(err) {
			return err
		}
	}
	return nil
}

func undoOne(ctx context.Context, e *executor, s undoStep, rs *RollbackSummary) error {
	in, out := s.w.intent, s.w.outcome
	switch s.action {
	case UndoEarlier:
		e.count(in.Kind, resultSkipped)
		return nil
	case UndoRemoved:
		rs.Removed[in.Kind]++
		return nil
	case UndoResidue:
		return addResidue(e, rs, in, Residue{Op: out.Op, Kind: in.Kind, IntercomID: out.IntercomID, Reason: s.reason})
	case UndoHoldBack:
		return addHoldBack(e, rs, s)
	}
	if _, err := e.write(ctx, s.undo); err != nil {
		return err
	}
	if s.residueAfter != "" {
		return addResidue(e, rs, in, Residue{Op: out.Op, Kind: in.Kind, IntercomID: out.IntercomID,
			Reason: s.residueAfter})
	}
	return nil
}

// addResidue lists res in the summary and, unless this is a dry run (which
// left nothing behind), in the write log, so an audit of the log alone sees
// what the rollback could not take back.
func addResidue(e *executor, rs *RollbackSummary, in Record, res Residue) error {
	rs.Residue = append(rs.Residue, res)
	if e.dry {
		return nil
	}
	return e.log.write(Record{Type: typeResidue, Op: res.Op, Kind: res.Kind, SourceTable: in.SourceTable,
		SourceID: in.SourceID, Step: stepUndo, IntercomID: res.IntercomID, Error: res.Reason})
}

func residueReason(kind string) string {
	switch kind {
	case KindConversationPart:
		return "a single conversation part cannot be deleted by API"
	case KindConversationState:
		return "close, snooze and assignment times cannot be undone by API"
	case KindContactNote:
		return "a note on a contact cannot be deleted by API; it goes only with its contact"
	case KindDeletion:
		return "deleted in Intercom by a delta replay; the API cannot bring it back " +
			"(replay a staging that holds it to create it again)"
	default:
		return "conversation attribute values are not restored (conversation was not deleted)"
	}
}

// convIDOf takes the conversation id out of /conversations/{id}/...
func convIDOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/conversations/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// undoOp builds the undo request of one written op.
func undoOp(c *Client, in, out Record) (op, bool) {
	id := out.IntercomID
	o := op{kind: in.Kind, sourceTable: in.SourceTable, sourceID: in.SourceID, step: stepUndo}
	if revisionBase[in.Kind] != "" {
		o.step = in.Step + ":" + stepUndo // each revision has its own undo (writelog.go objectKey)
	}
	var do func(ctx context.Context) error
	switch in.Kind {
	case KindConversation:
		o.method, o.path = "DELETE", "/conversations/"+escape(id)
		do = func(ctx context.Context) error { return c.DeleteConversation(ctx, id) }
	case KindContact:
		o.method, o.path = "DELETE", "/contacts/"+escape(id)
		do = func(ctx context.Context) error { return c.DeleteContact(ctx, id) }
	case KindContactCompany:
		contactID := strings.TrimSuffix(strings.TrimPrefix(in.Path, "/contacts/"), "/companies")
		o.method, o.path = "DELETE", attachPath(contactID)+"/"+escape(id)
		do = func(ctx context.Context) error { return c.DetachCompany(ctx, contactID, id) }
	case KindContactUpdate:
		return restoreContactOp(c, o, id, out.Before)
	case KindCompanyUpdate:
		return restoreCompanyOp(c, o, id, out.Before)
	case KindDeletion:
		// Only an archive is undone (planOne lists the rest as residue).
		o.method, o.path = "POST", "/contacts/"+escape(id)+"/unarchive"
		do = func(ctx context.Context) error { return c.ArchiveContact(ctx, id, false) }
	case KindCompany:
		if out.Before != nil {
			return restoreCompanyOp(c, o, id, out.Before)
		}
		o.method, o.path = "DELETE", "/companies/"+escape(id)
		do = func(ctx context.Context) error { return c.DeleteCompany(ctx, id) }
	case KindDataAttribute:
		if strings.HasPrefix(in.SourceID, "conversation.") {
			o.method, o.path = "DELETE", "/conversations/attributes/"+escape(id)
			do = func(ctx context.Context) error { return c.ArchiveConversationAttribute(ctx, id) }
		} else {
			o.method, o.path, o.body = "PUT", "/data_attributes/"+escape(id), map[string]bool{"archived": true}
			do = func(ctx context.Context) error { return c.ArchiveDataAttribute(ctx, id) }
		}
	case KindCollection:
		o.method, o.path = "DELETE", "/help_center/collections/"+escape(id)
		do = func(ctx context.Context) error { return c.DeleteCollection(ctx, id) }
	case KindArticle:
		// A translation cannot be removed alone (spec §20): its undo deletes
		// the article, whose own undo then finds it gone (articles.go).
		o.method, o.path = "DELETE", "/articles/"+escape(id)
		do = func(ctx context.Context) error { return c.DeleteArticle(ctx, id) }
	default:
		return undoTagOp(c, o, in, out) // tags.go
	}
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		err := do(ctx)
		var nf *NotFound
		if errors.As(err, &nf) {
			return outcome{status: http.StatusNotFound, id: id}, nil // already gone
		}
		return outcome{id: id}, err
	}
	return o, true
}

func restoreContactOp(c *Client, o op, id string, before json.RawMessage) (op, bool) {
	var prev struct {
		Contact
		Name         string `json:"name"`
		Phone        string `json:"phone"`
		SignedUpAt   int64  `json:"signed_up_at"`
		Unsubscribed bool   `json:"unsubscribed_from_emails"`
	}
	if before == nil || json.Unmarshal(before, &prev) != nil {
		return o, false
	}
	// TODO: fields that were empty before and set by the revision are not cleared.
	attrs, err := json.Marshal(prev.CustomAttributes)
	if err != nil || len(prev.CustomAttributes) == 0 {
		attrs = nil
	}
	req := ContactRequest{Role: prev.Role, ExternalID: prev.ExternalID, Email: prev.Email, Name: prev.Name,
		Phone: prev.Phone, SignedUpAt: prev.SignedUpAt, Unsubscribed: prev.Unsubscribed, CustomAttributes: attrs}
	o.method, o.path, o.body = "PUT", "/contacts/"+escape(id), req
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		err := c.UpdateContact(ctx, id, req)
		var nf *NotFound
		if errors.As(err, &nf) {
			return outcome{status: http.StatusNotFound, id: id}, nil // deleted since: nothing to restore
		}
		return outcome{id: id}, err
	}
	return o, true
}

func restoreCompanyOp(c *Client, o op, id string, before json.RawMessage) (op, bool) {
	var prev Company
	if err := json.Unmarshal(before, &prev); err != nil {
		return o, false
	}
	// The upsert on company_id writes the old values back.
	// TODO: fields that were empty before and set by replay are not cleared.
	req := CompanyRequest{CompanyID: prev.CompanyID, Name: prev.Name, Website: prev.Website,
		Industry: prev.Industry, Size: prev.Size, RemoteCreatedAt: prev.RemoteCreatedAt,
		CustomAttributes: prev.CustomAttributes}
	o.method, o.path, o.body = "POST", "/companies", req
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		_, err := c.UpsertCompany(ctx, req)
		return outcome{id: id}, err
	}
	return o, true
}
