package replay

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// rollbackKinds are the kinds --kind accepts. The conversation children
// are not among them: a part, the state or the attributes of a conversation
// go only with the conversation.
var rollbackKinds = []string{KindDataAttribute, KindCompany, KindContact, KindContactCompany, KindConversation,
	KindCollection, KindArticle, KindTag, KindContactTag, KindCompanyTag, KindConversationTag, KindDeletion}

// goesWith names what a chosen kind brings along: what deleting its objects
// removes anyway (parts, state, attributes, the tags applied to them).
var goesWith = map[string][]string{
	KindConversation: {KindConversationPart, KindConversationState, KindConversationAttributes, KindConversationTag},
	KindContact:      {KindContactTag, KindContactNote, KindContactUpdate},
	KindCompany:      {KindCompanyTag, KindCompanyUpdate},
}

// rollbackDependents names, per kind, what is left broken if that kind is
// rolled back alone: the kinds whose written objects refer to it. A contact
// deleted under its conversations orphans them; a company deleted while its
// links and the conversations naming it stay makes a later replay re-create
// the company and skip the links (they are done), so the new company is
// never linked; an archived attribute still holds values and cannot be
// unarchived when a replay needs it again.
var rollbackDependents = map[string][]string{
	KindDataAttribute: {KindCompany, KindContact, KindConversation},
	KindCompany:       {KindContactCompany, KindConversation},
	KindContact:       {KindContactCompany, KindConversation},
	KindCollection:    {KindArticle},
	KindTag:           {KindContactTag, KindCompanyTag, KindConversationTag},
}

// KindsError is a --kind selection rollback refuses: an unknown kind, or a
// kind whose dependents were left out.
type KindsError struct{ msg string }

func (e *KindsError) Error() string { return e.msg }

// CheckRollbackKinds accepts a --kind list that leaves no orphans: every
// kind's dependents must be chosen too. nil or empty means every kind.
func CheckRollbackKinds(kinds []string) error {
	chosen := map[string]bool{}
	for _, k := range kinds {
		switch {
		case isConversationChild(k):
			return &KindsError{fmt.Sprintf("kind %s cannot be rolled back on its own: it goes with its "+
				"conversation (--kind %s)", k, KindConversation)}
		case !slices.Contains(rollbackKinds, k):
			return &KindsError{fmt.Sprintf("unknown kind %q; want one of %s", k, strings.Join(rollbackKinds, ", "))}
		}
		chosen[k] = true
	}
	var missing []string
	for k := range chosen {
		for _, d := range rollbackDependents[k] {
			if !chosen[d] && !slices.Contains(missing, d) {
				missing = append(missing, d)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	named := slices.Sorted(maps.Keys(chosen))
	all := slices.Sorted(slices.Values(append(slices.Clone(named), missing...)))
	return &KindsError{fmt.Sprintf("rolling back %s without %s would leave them pointing at what is gone; "+
		"use --kind %s", strings.Join(named, ","), strings.Join(missing, ", "), strings.Join(all, ","))}
}

// selectKinds keeps the ops of the chosen kinds and of what goes with them.
func selectKinds(ops []written, kinds []string) []written {
	if len(kinds) == 0 {
		return ops
	}
	keep := map[string]bool{}
	for _, k := range kinds {
		keep[k] = true
		for _, g := range goesWith[k] {
			keep[g] = true
		}
	}
	return slices.DeleteFunc(slices.Clone(ops), func(w written) bool { return !keep[w.intent.Kind] })
}

// selectSample keeps n conversations and what was sent to them: those
// whose sampleRank(seed, source_id) is smallest, as replay --sample and
// verify --sample pick them. The pick ranks every conversation the logs
// hold, undone ones too, so that it does not shift as a rollback proceeds:
// on the log of a replay --sample run with the same n and seed it is that
// run's conversations, on a full run the ones replay --sample would pick.
func selectSample(ops []written, n int, seed int64) []written {
	var convs []ranked
	for _, w := range ops {
		if w.intent.Kind == KindConversation {
			convs = append(convs, ranked{sampleRank(seed, w.intent.SourceID), w.intent.SourceID})
		}
	}
	sort.Slice(convs, func(i, j int) bool {
		if convs[i].rank != convs[j].rank {
			return convs[i].rank < convs[j].rank
		}
		return convs[i].id < convs[j].id
	})
	chosen, ids := map[string]bool{}, map[string]bool{}
	for _, c := range convs[:min(n, len(convs))] {
		chosen[c.id] = true
	}
	for _, w := range ops {
		if w.intent.Kind == KindConversation && chosen[w.intent.SourceID] && w.outcome.IntercomID != "" {
			ids[w.outcome.IntercomID] = true
		}
	}
	// What was sent to a conversation (parts, state, attributes, tags)
	// names it by Intercom id in its path.
	return slices.DeleteFunc(slices.Clone(ops), func(w written) bool {
		if w.intent.Kind == KindConversation {
			return !chosen[w.intent.SourceID]
		}
		return !ids[convIDOf(w.intent.Path)]
	})
}

// UndoAction is what a rollback does with one op a replay wrote.
type UndoAction string

const (
	UndoDelete   UndoAction = "delete"
	UndoRestore  UndoAction = "restore"   // the before-image is written back
	UndoArchive  UndoAction = "archive"   // data attributes cannot be deleted
	UndoDetach   UndoAction = "detach"    // a link between two objects
	UndoRemoved  UndoAction = "removed"   // goes with the conversation this rollback deletes
	UndoResidue  UndoAction = "residue"   // the API cannot take it back
	UndoHoldBack UndoAction = "hold_back" // changed in Intercom after our write: not touched
	UndoEarlier  UndoAction = "earlier"   // an earlier rollback took it back
)

// UndoActions is the order in which summaries show the actions.
var UndoActions = []UndoAction{UndoDelete, UndoRestore, UndoArchive, UndoDetach, UndoRemoved, UndoResidue,
	UndoHoldBack, UndoEarlier}

// planExamples is how many ids a plan keeps per kind and action.
const planExamples = 3

// RollbackPlan is what a rollback does (or, previewed, would do) per kind.
// A company delete counts under residue too: Intercom only archives it.
type RollbackPlan struct {
	Counts   map[string]map[UndoAction]int
	Examples map[string]map[UndoAction][]string // the first few Intercom ids, newest first
}

func (p *RollbackPlan) add(kind string, a UndoAction, id string) {
	if p.Counts[kind] == nil {
		p.Counts[kind], p.Examples[kind] = map[UndoAction]int{}, map[UndoAction][]string{}
	}
	p.Counts[kind][a]++
	if len(p.Examples[kind][a]) < planExamples && id != "" {
		p.Examples[kind][a] = append(p.Examples[kind][a], id)
	}
}

// HeldBack is an object a rollback left alone because it changed in
// Intercom after our write (or depends on one that did).
type HeldBack struct {
	Op         string
	Kind       string
	IntercomID string
	Reason     string
}

// undoStep is one written op and what the rollback does with it.
type undoStep struct {
	w      written
	action UndoAction
	reason string // why it is residue or held back
	undo   op     // the request of delete, restore, archive and detach
	// residueAfter, when set, is residue left by a successful undo (a
	// company that Intercom archives instead of deleting).
	residueAfter string
}

func (s *undoStep) kind() string { return s.w.intent.Kind }
func (s *undoStep) id() string   { return s.w.outcome.IntercomID }

func (s *undoStep) holdBack(reason string) {
	s.action, s.reason, s.residueAfter = UndoHoldBack, reason, ""
}

// sends reports whether the step sends a mutating request.
func (s *undoStep) sends() bool {
	switch s.action {
	case UndoDelete, UndoRestore, UndoArchive, UndoDetach:
		return true
	}
	return false
}

// planUndo decides each op's undo, in log order. Objects that were there
// before replay and left alone are not ours and have no step.
func planUndo(c *Client, ops []written) []undoStep {
	deleted := map[string]bool{} // conversation ids this rollback deletes
	for _, w := range ops {
		if w.intent.Kind == KindConversation && !w.outcome.Existing && !w.undone {
			deleted[w.outcome.IntercomID] = true
		}
		if w.intent.Kind == KindContact && !w.outcome.Existing && !w.undone {
			deleted[contactParent(w.outcome.IntercomID)] = true // its notes go with it
		}
	}
	created := createdObjects(ops)
	var steps []undoStep
	for _, w := range ops {
		if w.outcome.Existing && w.outcome.Before == nil {
			continue
		}
		s := planOne(c, w, deleted)
		// A revision is undone by writing back its own before-image, newest
		// first; none is needed when the object itself is deleted.
		if base, ok := revisionBase[w.intent.Kind]; ok && s.action != UndoEarlier && created[base+":"+w.intent.SourceID] {
			s.action, s.undo = UndoRemoved, op{}
		}
		steps = append(steps, s)
	}
	return steps
}

// revisionBase pairs the kinds a delta replay revises objects with with the
// kind that wrote the object.
var revisionBase = map[string]string{KindContactUpdate: KindContact, KindCompanyUpdate: KindCompany}

// holdRevisedAgain holds back the undo of a revision that a later revision
// of the same object, not part of this rollback, still stands on: its
// before-image would also take back the later run's values, which changed
// the object after our write. A rollback of the later run first frees it.
func holdRevisedAgain(steps []undoStep, ps priorState) {
	inScope := map[string]bool{}
	for _, s := range steps {
		inScope[s.w.outcome.Op] = true
	}
	for i := range steps {
		s := &steps[i]
		n, err := strconv.Atoi(strings.TrimPrefix(s.w.intent.Step, "rev-"))
		if revisionBase[s.kind()] == "" || s.action != UndoRestore || err != nil {
			continue
		}
		for m := n + 1; ; m++ {
			key := s.kind() + ":" + s.w.intent.SourceID + ":" + revisionStep(m)
			st := ps[key]
			if st == nil {
				break
			}
			if st.done && !st.undone && !inScope[key] {
				s.holdBack("revised again by a later run (" + key + "); roll that run back first")
				break
			}
		}
	}
}

// createdObjects finds, among ops, the contacts and companies this rollback
// deletes ("kind:source_id" of a create it takes back).
func createdObjects(ops []written) map[string]bool {
	created := map[string]bool{}
	for _, w := range ops {
		in, out := w.intent, w.outcome
		if !w.undone && (in.Kind == KindContact || in.Kind == KindCompany) && !out.Existing && out.Before == nil {
			created[in.Kind+":"+in.SourceID] = true
		}
	}
	return created
}

func planOne(c *Client, w written, deleted map[string]bool) undoStep {
	in, out := w.intent, w.outcome
	s := undoStep{w: w}
	switch {
	case w.undone:
		s.action = UndoEarlier
		return s
	case isConversationChild(in.Kind) && deleted[convIDOf(in.Path)]:
		s.action = UndoRemoved
		return s
	case isConversationChild(in.Kind):
		s.action, s.reason = UndoResidue, residueReason(in.Kind)
		return s
	case in.Kind == KindContactNote && deleted[childParent(in)]:
		s.action = UndoRemoved
		return s
	case in.Kind == KindContactNote:
		s.action, s.reason = UndoResidue, residueReason(in.Kind)
		return s
	case in.Kind == KindDeletion && !strings.HasSuffix(in.Step, "-"+stepArchive):
		s.action, s.reason = UndoResidue, residueReason(in.Kind)
		return s
	}
	o, ok := undoOp(c, in, out)
	if !ok {
		s.action, s.reason = UndoResidue, "no undo known for this kind"
		return s
	}
	s.undo, s.action = o, undoActionOf(in, out)
	if in.Kind == KindCompany && out.Before == nil {
		s.residueAfter = "company delete archives asynchronously; it is not a hard delete"
	}
	return s
}

// linkKinds are ops that joined two objects; their undo takes the link
// away and leaves both objects.
var linkKinds = map[string]bool{KindContactCompany: true, KindContactTag: true, KindCompanyTag: true,
	KindConversationTag: true}

func undoActionOf(in, out Record) UndoAction {
	switch {
	case in.Kind == KindDataAttribute:
		return UndoArchive
	case linkKinds[in.Kind]:
		return UndoDetach
	case out.Before != nil, in.Kind == KindDeletion:
		return UndoRestore // a deletion's undo is an unarchive
	}
	return UndoDelete
}

// planOf counts the steps, newest first as they run.
func planOf(steps []undoStep) RollbackPlan {
	p := RollbackPlan{Counts: map[string]map[UndoAction]int{}, Examples: map[string]map[UndoAction][]string{}}
	for i := len(steps) - 1; i >= 0; i-- {
		s := &steps[i]
		p.add(s.kind(), s.action, s.id())
		if s.residueAfter != "" {
			p.add(s.kind(), UndoResidue, s.id())
		}
	}
	return p
}
