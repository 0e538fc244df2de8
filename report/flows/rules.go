package flows

import (
	"strings"
)

// caseTables are the Dataverse tables whose automation is help-desk work
// that Intercom takes over, with why each counts.
var caseTables = map[string]string{
	"incident":                 "the case table",
	"incidentresolution":       "case resolutions",
	"queueitem":                "cases waiting in queues",
	"slakpiinstance":           "SLA timers on cases",
	"sla":                      "SLA definitions",
	"slaitem":                  "SLA definitions",
	"msdyn_slakpi":             "SLA definitions",
	"entitlement":              "entitlements that cap case support",
	"entitlementchannel":       "entitlements that cap case support",
	"knowledgearticleincident": "articles linked to cases",
	"msdyn_ocliveworkitem":     "omnichannel conversations",
	"msdyn_ocsession":          "omnichannel sessions",
}

// slaTables are the case tables that are about service levels.
var slaTables = map[string]bool{
	"slakpiinstance": true, "sla": true, "slaitem": true, "msdyn_slakpi": true,
	"entitlement": true, "entitlementchannel": true,
}

// activityTables hold rows that are case work only when regarding a case.
var activityTables = map[string]bool{
	"email": true, "task": true, "phonecall": true, "appointment": true,
	"activitypointer": true, "annotation": true, "letter": true,
}

// logicalName turns an entity set name (incidents) or a logical name into
// the logical name used by the tables above.
func logicalName(table string) string {
	t := strings.ToLower(strings.TrimSpace(table))
	if _, ok := caseTables[t]; ok || activityTables[t] {
		return t
	}
	if s := strings.TrimSuffix(t, "s"); s != t {
		if _, ok := caseTables[s]; ok || activityTables[s] {
			return s
		}
	}
	return t
}

// incidentTypeCode is the object type code of incident, which filters on
// activities use to keep only rows regarding cases.
const incidentTypeCode = "112"

// markCases sets TouchesCases and says why.
func markCases(e *Entry) {
	add := func(r string) { e.CaseReasons = append(e.CaseReasons, r) }
	trig := logicalName(e.Trigger.Table)
	if why, ok := caseTables[trig]; ok {
		add("triggers on " + trig + " (" + why + ")")
	} else if activityTables[trig] && regardsCases(e.Trigger.FilterExpression) {
		add("triggers on " + trig + " rows regarding cases")
	}
	if t := logicalName(e.Table); t != trig {
		if why, ok := caseTables[t]; ok {
			add("primary table " + t + " (" + why + ")")
		}
	}
	for _, a := range e.Actions {
		if !a.Writes {
			continue
		}
		t := logicalName(a.Table)
		if _, ok := caseTables[t]; ok {
			add("step " + a.Name + " writes " + t)
		} else if a.Regarding == "incident" {
			add("step " + a.Name + " writes " + t + " regarding a case")
		}
	}
	e.TouchesCases = len(e.CaseReasons) > 0
}

func regardsCases(filter string) bool {
	f := strings.ToLower(filter)
	return strings.Contains(f, "incident") ||
		(strings.Contains(f, "regardingobjecttypecode") && strings.Contains(f, incidentTypeCode))
}

// Rule is one line of the recommendation table: the first rule whose Match
// returns true gives an entry its Recommendation and Why.
type Rule struct {
	ID        string
	When      string // the condition, in words
	Match     func(e *Entry) bool
	Recommend string
	Why       string
}

// Rules is the recommendation table, read top to bottom. Markdown prints it
// so the admin can see why each process got its recommendation.
var Rules = []Rule{
	{
		ID: "desktop", When: "desktop (RPA) or AI flow",
		Match: func(e *Entry) bool {
			return e.Category == CategoryDesktopFlow || e.Category == CategoryAIFlow
		},
		Recommend: "No equivalent: keep it in Power Automate",
		Why: "Intercom runs no desktop automation; the flow does not depend on the " +
			"help desk moving.",
	},
	{
		ID: "no-cases", When: "neither triggers on nor writes to a case-related table",
		Match:     func(e *Entry) bool { return !e.TouchesCases },
		Recommend: "Nothing to rebuild in Intercom: keep it in Power Automate or retire it",
		Why: "Only the help desk moves to Intercom; automation on other tables and " +
			"services is unaffected by the migration.",
	},
	{
		ID: "bpf", When: "business process flow on a case table",
		Match:     func(e *Entry) bool { return e.Category == CategoryBPF },
		Recommend: "No equivalent: model the stages as Intercom ticket states",
		Why: "Intercom has no guided stage bar; a ticket type's states carry the " +
			"progress an agent records.",
	},
	{
		ID: "business-rule", When: "business rule on a case table",
		Match: func(e *Entry) bool { return e.Category == CategoryBusinessRule },
		Recommend: "Partly: ticket or conversation attribute settings (required, visible to " +
			"customers)",
		Why: "Business rules lock, hide, require or default fields on Dynamics forms; " +
			"Intercom attributes can be required but have no conditional form logic.",
	},
	{
		ID: "dialog", When: "dialog on a case table",
		Match:     func(e *Entry) bool { return e.Category == CategoryDialog },
		Recommend: "Intercom macro",
		Why: "A dialog scripts what an agent does on a case; a macro bundles a reply " +
			"and conversation actions for one click.",
	},
	{
		ID: "sla", When: "triggers on or writes SLA or entitlement tables",
		Match:     touchesSLA,
		Recommend: "Intercom SLA policy, applied by a workflow's Apply SLA step",
		Why: "Intercom measures first response and next response or time to close with " +
			"SLA policies instead of SLA KPI rows.",
	},
	{
		ID: "assignment", When: "assigns a case or puts it in a queue",
		Match:     assigns,
		Recommend: "Intercom workflow with an Assign step (team or teammate), or assignment rules",
		Why: "Owner and queue changes on cases become assignment of the conversation " +
			"to a team inbox or teammate.",
	},
	{
		ID: "case-created", When: "starts when a case is created",
		Match:     func(e *Entry) bool { return onCase(e) && hasMessage(e, "create") },
		Recommend: "Intercom workflow, trigger: Customer sends their first message",
		Why:       "A new Intercom conversation starts where a new Dynamics case did.",
	},
	{
		ID: "case-state", When: "starts when a case's status changes",
		Match:     func(e *Entry) bool { return onCase(e) && hasMessage(e, "update") && watchesState(e) },
		Recommend: "Intercom workflow, trigger: Teammate changes the conversation state",
		Why: "Case status (active, resolved, cancelled) maps to conversation state " +
			"(open, snoozed, closed).",
	},
	{
		ID: "case-updated", When: "starts when other case columns change",
		Match: func(e *Entry) bool { return onCase(e) && hasMessage(e, "update") },
		Recommend: "Custom action or webhook: subscribe to Intercom conversation webhooks " +
			"and run the logic in your service",
		Why: "Intercom workflows do not start on attribute changes; webhooks deliver " +
			"conversation events to code you host.",
	},
	{
		ID: "case-deleted", When: "starts when a case is deleted",
		Match:     func(e *Entry) bool { return onCase(e) && hasMessage(e, "delete") },
		Recommend: "No equivalent",
		Why:       "Intercom workflows do not start when a conversation is deleted.",
	},
	{
		ID: "case-activity", When: "starts on an e-mail, task, note or other activity regarding a case",
		Match: func(e *Entry) bool {
			return activityTables[logicalName(e.Trigger.Table)] && regardsCases(e.Trigger.FilterExpression)
		},
		Recommend: "Intercom workflow, trigger: Customer sends any message (or Teammate " +
			"sends any message)",
		Why: "Activities on a case become messages and notes in the Intercom conversation.",
	},
	{
		ID: "schedule", When: "runs on a schedule",
		Match: func(e *Entry) bool { return e.Trigger.Kind == TriggerRecurrence },
		Recommend: "No equivalent in Intercom workflows: run a scheduled job against the " +
			"Intercom REST API",
		Why: "Intercom workflows start on conversation events, not on a clock.",
	},
	{
		ID: "called", When: "started by a person, an app, an HTTP call, or is a custom action",
		Match: func(e *Entry) bool {
			k := e.Trigger.Kind
			return k == TriggerManual || k == TriggerHTTP || k == TriggerCalled || k == TriggerOnDemand
		},
		Recommend: "Intercom custom action: a workflow or Fin step calls your HTTP endpoint",
		Why: "Logic started on request moves behind an endpoint that Intercom calls " +
			"with conversation data.",
	},
	{
		ID: "review", When: "anything else that touches cases",
		Match:     func(*Entry) bool { return true },
		Recommend: "Review by hand",
		Why: "No rule above describes this process; read its steps before choosing an " +
			"Intercom feature.",
	},
}

func applyRules(e *Entry) {
	for _, r := range Rules {
		if r.Match(e) {
			e.RuleID, e.Recommendation, e.Why = r.ID, r.Recommend, r.Why
			return
		}
	}
}

func onCase(e *Entry) bool {
	return logicalName(e.Trigger.Table) == "incident" &&
		(e.Trigger.Kind == TriggerDataverse || e.Trigger.Kind == TriggerClassicEvent)
}

func hasMessage(e *Entry, m string) bool {
	return strings.Contains(e.Trigger.Message, m)
}

func watchesState(e *Entry) bool {
	for _, c := range e.Trigger.FilteringAttributes {
		if c == "statecode" || c == "statuscode" {
			return true
		}
	}
	return false
}

func touchesSLA(e *Entry) bool {
	if slaTables[logicalName(e.Trigger.Table)] || slaTables[logicalName(e.Table)] {
		return true
	}
	for _, a := range e.Actions {
		if a.Writes && slaTables[logicalName(a.Table)] {
			return true
		}
	}
	return false
}

func assigns(e *Entry) bool {
	for _, a := range e.Actions {
		if !a.Assigns {
			continue
		}
		t := logicalName(a.Table)
		if t == "incident" || t == "queueitem" || (t == "" && onCase(e)) {
			return true
		}
	}
	return false
}
