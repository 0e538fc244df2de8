package flows

import (
	"encoding/json"
	"strings"
	"testing"
)

// dataverseFlow builds clientdata for a flow on the Dataverse row trigger.
func dataverseFlow(message int, table, columns, filter, actions string) string {
	params := map[string]any{
		"subscriptionRequest/message":    message,
		"subscriptionRequest/entityname": table,
		"subscriptionRequest/scope":      4,
	}
	if columns != "" {
		params["subscriptionRequest/filteringattributes"] = columns
	}
	if filter != "" {
		params["subscriptionRequest/filterexpression"] = filter
	}
	trig := map[string]any{"type": "OpenApiConnectionWebhook", "inputs": map[string]any{
		"host":       map[string]any{"connectionName": "dv", "operationId": "SubscribeWebhookTrigger"},
		"parameters": params,
	}}
	return flowJSON(map[string]any{"When_a_row_changes": trig}, actions)
}

func flowJSON(triggers map[string]any, actions string) string {
	var acts any
	if err := json.Unmarshal([]byte(actions), &acts); err != nil {
		panic(err)
	}
	b, err := json.Marshal(map[string]any{"properties": map[string]any{
		"connectionReferences": map[string]any{"dv": map[string]any{"api": map[string]any{"name": "shared_commondataserviceforapps"}}},
		"definition":           map[string]any{"triggers": triggers, "actions": acts},
	}})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// dvAction is a Dataverse connector step with the given parameters.
func dvAction(op, params string) string {
	return `{"type":"OpenApiConnection","inputs":{"host":{"connectionName":"dv","operationId":"` + op +
		`"},"parameters":` + params + `}}`
}

func mustInventory(t *testing.T, w Workflow) Entry {
	t.Helper()
	if w.ID == "" {
		w.ID = "00000000-0000-0000-0000-0000000000aa"
	}
	e, err := Inventory(w)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const assignXAML = `<Activity x:Class="XrmWorkflow000000000000000000000000000000aa"
 xmlns="http://schemas.microsoft.com/netfx/2009/xaml/activities"
 xmlns:mxswa="clr-namespace:Microsoft.Xrm.Sdk.Workflow.Activities;assembly=Microsoft.Xrm.Sdk.Workflow"
 xmlns:x="http://schemas.microsoft.com/winfx/2006/xaml">
 <mxswa:Workflow>
  <Sequence DisplayName="AssignStep1: Give the case to Tier 2">
   <mxswa:AssignEntity Entity="[InputEntities(&quot;primaryEntity&quot;)]" EntityName="incident" />
  </Sequence>
  <mxswa:ActivityReference AssemblyQualifiedName="Contoso.Plugins.CallErp, Contoso.Plugins, Version=1.0.0.0" DisplayName="CallErpStep2" />
 </mxswa:Workflow>
</Activity>`

// TestRules drives each line of the Rules table with a made-up process.
func TestRules(t *testing.T) {
	cases := []struct {
		name    string
		w       Workflow
		rule    string
		touches bool
		message string
	}{
		{"desktop flow", Workflow{Category: CategoryDesktopFlow}, "desktop", false, ""},
		{"account flow", Workflow{Category: 5, ClientData: dataverseFlow(1, "account", "", "", `{}`)}, "no-cases", false, "create"},
		{"bpf on incident", Workflow{Category: CategoryBPF, PrimaryEntity: "incident"}, "bpf", true, ""},
		{"business rule on incident", Workflow{Category: CategoryBusinessRule, PrimaryEntity: "incident"}, "business-rule", true, ""},
		{"dialog on incident", Workflow{Category: CategoryDialog, PrimaryEntity: "incident"}, "dialog", true, ""},
		{"sla timer flow", Workflow{Category: 5, ClientData: dataverseFlow(3, "slakpiinstance", "status", "", `{}`)}, "sla", true, "update"},
		{"case created and assigned", Workflow{Category: 5, ClientData: dataverseFlow(1, "incident", "", "",
			`{"Assign":`+dvAction("UpdateRecord", `{"entityName":"incidents","recordId":"x","item/ownerid@odata.bind":"/teams(1)"}`)+`}`)},
			"assignment", true, "create"},
		{"case added to queue", Workflow{Category: 5, ClientData: dataverseFlow(4, "incident", "", "",
			`{"Queue":`+dvAction("CreateRecord", `{"entityName":"queueitems"}`)+`}`)}, "assignment", true, "create or update"},
		{"classic assign", Workflow{Category: 0, PrimaryEntity: "incident", TriggerOnCreate: true, XAML: assignXAML}, "assignment", true, "create"},
		{"case created", Workflow{Category: 5, ClientData: dataverseFlow(1, "incident", "", "", `{}`)}, "case-created", true, "create"},
		{"entity set name", Workflow{Category: 5, ClientData: dataverseFlow(7, "incidents", "", "", `{}`)}, "case-created", true, "create, update or delete"},
		{"case resolved", Workflow{Category: 5, ClientData: dataverseFlow(3, "incident", "statecode, statuscode", "", `{}`)}, "case-state", true, "update"},
		{"classic on status", Workflow{Category: 0, PrimaryEntity: "incident", TriggerOnUpdateAttributeList: "statuscode"}, "case-state", true, "update"},
		{"case priority changed", Workflow{Category: 5, ClientData: dataverseFlow(3, "incident", "prioritycode", "", `{}`)}, "case-updated", true, "update"},
		{"case deleted", Workflow{Category: 5, ClientData: dataverseFlow(2, "incident", "", "", `{}`)}, "case-deleted", true, "delete"},
		{"case email", Workflow{Category: 5, ClientData: dataverseFlow(1, "email", "", "regardingobjecttypecode eq 112", `{}`)}, "case-activity", true, "create"},
		{"legacy connector on incidents", Workflow{Category: 5, ClientData: flowJSON(
			map[string]any{"When_a_record_is_created": map[string]any{"type": "OpenApiConnectionWebhook", "inputs": map[string]any{
				"host":       map[string]any{"apiId": "/providers/Microsoft.PowerApps/apis/shared_commondataservice", "operationId": "CreateRecordTrigger"},
				"parameters": map[string]any{"dataset": "org.crm.dynamics.com", "table": "incidents"}}}},
			`{}`)}, "review", true, ""},
		{"nightly case sweep", Workflow{Category: 5, ClientData: flowJSON(
			map[string]any{"Recurrence": map[string]any{"type": "Recurrence", "recurrence": map[string]any{"frequency": "Day", "interval": 1}}},
			`{"Close":`+dvAction("UpdateRecord", `{"entityName":"incidents","item/statecode":1}`)+`}`)}, "schedule", true, ""},
		{"button logs a case email", Workflow{Category: 5, ClientData: flowJSON(
			map[string]any{"manual": map[string]any{"type": "Request", "kind": "Button"}},
			`{"If":{"type":"If","actions":{},"else":{"actions":{"Log":`+
				dvAction("CreateRecord", `{"entityName":"emails","item/regardingobjectid_incident_email@odata.bind":"/incidents(1)"}`)+`}}}}`)},
			"called", true, ""},
		{"custom action on incident", Workflow{Category: CategoryAction, PrimaryEntity: "incident"}, "called", true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := mustInventory(t, tc.w)
			if e.RuleID != tc.rule || e.TouchesCases != tc.touches || e.Trigger.Message != tc.message {
				t.Errorf("rule %q touches %v message %q (reasons %q), want rule %q touches %v message %q",
					e.RuleID, e.TouchesCases, e.Trigger.Message, e.CaseReasons, tc.rule, tc.touches, tc.message)
			}
			if e.Recommendation == "" || e.Why == "" {
				t.Error("no recommendation or reason")
			}
		})
	}
}

func TestClassicXAMLSteps(t *testing.T) {
	e := mustInventory(t, Workflow{Category: 0, PrimaryEntity: "incident", TriggerOnCreate: true, OnDemand: true, XAML: assignXAML})
	steps, writes := describeSteps(e.Actions)
	want := []string{
		"Give the case to Tier 2|Assign record (AssignEntity)||",
		"CallErpStep2|Custom workflow activity (Contoso.Plugins.CallErp)||",
	}
	if strings.Join(steps, "\n") != strings.Join(want, "\n") {
		t.Errorf("steps %q, want %q", steps, want)
	}
	if len(writes) != 1 || writes[0] != "Give the case to Tier 2 assigns" {
		t.Errorf("writes %q", writes)
	}
	if e.Trigger.Kind != TriggerClassicEvent || e.Trigger.Message != "create; also on demand" || e.Table != "incident" {
		t.Errorf("trigger %+v table %q", e.Trigger, e.Table)
	}
}

func TestRulesTableIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules {
		if r.ID == "" || r.When == "" || r.Recommend == "" || r.Why == "" || r.Match == nil {
			t.Errorf("rule %+v has an empty field", r.ID)
		}
		if seen[r.ID] {
			t.Errorf("rule id %q repeats", r.ID)
		}
		seen[r.ID] = true
	}
	if last := Rules[len(Rules)-1]; !last.Match(&Entry{}) {
		t.Error("the last rule must match anything so every entry gets a recommendation")
	}
}
