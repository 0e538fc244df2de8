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
// then closes or snoozes it. Intercom stamps these "now".
func (r *runner) conversationState(ctx context.Context, c stageConversation, convID string) error {
	r.mu.Lock()
	owner, team, actor := r.admins[c.AdminSourceID], r.teams[c.TeamSourceID], r.actor
	r.mu.Unlock()
	if owner != "" {
		actor = owner
	}
	var steps []PartRequest
	if owner != "" {
		steps = append(steps, PartRequest{MessageType: "assignment", Type: "admin", AdminID: actor, AssigneeID: owner})
	}
	if team != "" {
		steps = append(steps, PartRequest{MessageType: "assignment", Type: "team", AdminID: actor, AssigneeID: team})
	}
	switch c.State {
	case "closed":
		steps = append(steps, PartRequest{MessageType: "close", Type: "admin", AdminID: actor})
	case "snoozed":
		until := snoozeUntil(c.SnoozedUntil, time.Now())
		steps = append(steps, PartRequest{MessageType: "snoozed", AdminID: actor, SnoozedUntil: until})
	}
	for _, s := range steps {
		if s.AdminID == "" {
			r.e.fail(KindConversationState, stateKey(c.SourceID, s), "no admin to act as")
			return nil
		}
		if _, err := r.e.write(ctx, r.stateOp(c, convID, s)); err != nil {
			if isOpFailure(err) {
				return nil
			}
			return err
		}
	}
	return nil
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

func (r *runner) stateOp(c stageConversation, convID string, s PartRequest) op {
	o := op{kind: KindConversationState, sourceTable: c.SourceTable, sourceID: c.SourceID, step: stateStep(s),
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
	case s.Type == "admin":
		return string(cv.AdminAssigneeID) == s.AssigneeID
	default:
		return string(cv.TeamAssigneeID) == s.AssigneeID
	}
}
