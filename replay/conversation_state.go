package replay

import (
	"context"
	"fmt"
	"time"
)

// conversationAttributes sets title, custom attributes and company with one
// PUT; resending it is harmless.
func (r *runner) conversationAttributes(ctx context.Context, c stageConversation, convID string) error {
	req := UpdateConversationRequest{Title: c.Title, CustomAttributes: c.CustomAttributes}
	if c.CompanySourceID != "" {
		r.mu.Lock()
		req.CompanyID = r.companies[c.CompanySourceID]
		r.mu.Unlock()
	}
	if req.Title == "" && len(req.CustomAttributes) == 0 && req.CompanyID == "" {
		return nil
	}
	o := op{kind: KindConversationAttributes, sourceTable: c.SourceTable, sourceID: c.SourceID,
		step: "update", method: "PUT", path: "/conversations/" + escape(convID), body: req}
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		return outcome{id: convID}, r.e.c.UpdateConversation(ctx, convID, req)
	}
	// Changed staged values are put again under a new step: the PUT is the
	// same request, so the earlier one's outcome would otherwise skip it.
	o.revise = func(id string, n int) op {
		rev := o
		rev.step, rev.revise = "update-"+revisionStep(n), nil
		return rev
	}
	_, err := r.e.write(ctx, o)
	return err
}

// conversationState assigns the conversation to its matched admin and team,
// then closes or snoozes it. Intercom stamps these "now". After a delta an
// assignment that changed is sent again, and a conversation whose state
// changed is moved to it (reopened too) by a numbered state step.
func (r *runner) conversationState(ctx context.Context, c stageConversation, convID string) error {
	r.mu.Lock()
	owner, team, actor := r.admins[c.AdminSourceID], r.teams[c.TeamSourceID], r.actor
	r.mu.Unlock()
	if owner != "" {
		actor = owner
	}
	var ops []op
	if owner != "" {
		ops = append(ops, r.assignOp(c, convID,
			PartRequest{MessageType: "assignment", Type: "admin", AdminID: actor, AssigneeID: owner}))
	}
	if team != "" {
		// Assigned by the run's acting admin, not the owner, so that a new
		// owner alone does not look like a new team assignment to a delta.
		teamActor := r.actor
		if teamActor == "" {
			teamActor = actor
		}
		ops = append(ops, r.assignOp(c, convID,
			PartRequest{MessageType: "assignment", Type: "team", AdminID: teamActor, AssigneeID: team}))
	}
	if s, step, ok := r.stateChange(c, actor); ok {
		ops = append(ops, r.stateOp(c, convID, s, step))
	} else if c.State == "closed" || c.State == "snoozed" {
		r.e.count(KindConversationState, resultSkipped) // an earlier run put it there
	}
	for _, o := range ops {
		if o.body.(PartRequest).AdminID == "" {
			r.e.fail(KindConversationState, o.key(), "no admin to act as")
			return nil
		}
		if _, err := r.e.write(ctx, o); err != nil {
			if isOpFailure(err) {
				return nil
			}
			return err
		}
	}
	return nil
}

// assignOp assigns the conversation; a later assignee is a revision.
func (r *runner) assignOp(c stageConversation, convID string, s PartRequest) op {
	o := r.stateOp(c, convID, s, stateStep(s))
	o.revise = func(_ string, n int) op { return r.stateOp(c, convID, s, o.step+"-"+revisionStep(n)) }
	return o
}

// stateChange is the close, snooze or reopen the staged state needs. The
// first run closes or snoozes (steps "close", "snoozed"); after that the
// state Intercom was last moved to is compared, and a change is sent as step
// "state-<n>-<message type>". A snooze is not sent again for a new date.
func (r *runner) stateChange(c stageConversation, actor string) (PartRequest, string, bool) {
	want := map[string]string{"closed": "close", "snoozed": "snoozed"}[c.State]
	if want == "" {
		want = "open"
	}
	current, n := r.standingState(c.SourceID)
	if current == want {
		return PartRequest{}, "", false
	}
	s := PartRequest{MessageType: want, Type: "admin", AdminID: actor}
	if want == "snoozed" {
		s.Type, s.SnoozedUntil = "", snoozeUntil(c.SnoozedUntil, time.Now())
	}
	step := stateStep(s)
	if n > 0 || current != "open" {
		step = fmt.Sprintf("state-%d-%s", n+1, want)
	}
	return s, step, true
}

// standingState is the state the logs last moved the conversation to
// ("open" when none did) and how many state steps stand.
func (r *runner) standingState(sourceID string) (string, int) {
	done := func(step string) bool {
		st := r.e.prior[KindConversationState+":"+sourceID+":"+step]
		return st != nil && st.done && !st.undone
	}
	state := "open"
	switch {
	case done("close"):
		state = "close"
	case done("snoozed"):
		state = "snoozed"
	}
	n := 0
	for ; ; n++ {
		found := false
		for _, t := range []string{"open", "close", "snoozed"} {
			if done(fmt.Sprintf("state-%d-%s", n+1, t)) {
				state, found = t, true
			}
		}
		if !found {
			return state, n
		}
	}
}

// defaultSnooze is how long a case on hold with no follow-up date, or one
// already past, stays snoozed: long enough to survive the cutover weekend,
// short enough that an agent sees it again on the first working day.
const defaultSnooze = 72 * time.Hour

// snoozeUntil keeps a follow-up date still ahead and replaces a missing or
// past one, since a snooze must end in the future to mean anything.
func snoozeUntil(followUp int64, now time.Time) int64 {
	if followUp > now.Unix() {
		return followUp
	}
	return now.Add(defaultSnooze).Unix()
}

func stateStep(s PartRequest) string {
	if s.MessageType == "assignment" {
		return "assign_" + s.Type
	}
	return s.MessageType
}

func stateKey(sourceID string, s PartRequest) string {
	return KindConversationState + ":" + sourceID + ":" + stateStep(s)
}

func (r *runner) stateOp(c stageConversation, convID string, s PartRequest, step string) op {
	o := op{kind: KindConversationState, sourceTable: c.SourceTable, sourceID: c.SourceID, step: step,
		method: "POST", path: partsPath(convID), body: s}
	o.send = func(ctx context.Context, _ bool) (outcome, error) {
		_, err := r.e.c.ManageConversation(ctx, convID, s)
		return outcome{id: convID}, err
	}
	// Each of these adds a part, so a lost answer is checked, not resent blindly.
	o.resolve = func(ctx context.Context, _ time.Time, _ *Record) (outcome, bool, error) {
		cv, err := r.e.c.GetConversation(ctx, convID)
		if err != nil {
			return outcome{}, false, fmt.Errorf("conversation %s: read state: %w", convID, err)
		}
		return outcome{id: convID}, stateReached(cv, s), nil
	}
	return o
}

func stateReached(cv *Conversation, s PartRequest) bool {
	switch {
	case s.MessageType == "close":
		return cv.State == "closed"
	case s.MessageType == "snoozed":
		return cv.State == "snoozed"
	case s.MessageType == "open":
		return cv.State == "open"
	case s.Type == "admin":
		return string(cv.AdminAssigneeID) == s.AssigneeID
	default:
		return string(cv.TeamAssigneeID) == s.AssigneeID
	}
}
