package report

import (
	"context"
	"strings"
	"testing"
)

// A definition the parser cannot read still gets its line: a broken cloud
// flow as unreadable, a classic workflow from its columns without steps.
func TestFlowInventoryKeepsUnreadableRows(t *testing.T) {
	db := invFixture(t, `create schema src`,
		`create table src.workflow as select * from (values
			('F1', 'Broken flow', 5, 1, 'none', '{not json', null, false),
			('c2', 'Case escalation', 0, 1, 'incident', null, '<Activity x:Class="XrmWorkflowOther" />', true))
			t(workflowid, name, category, statecode, primaryentity, clientdata, xaml, triggeroncreate)`)

	doc, err := FlowInventory(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	broken := invCSVRow(t, doc.CSV, "id", "f1")
	if broken["rule"] != ruleUnreadable || !strings.Contains(broken["why"], "field clientdata") ||
		broken["kind"] != "Cloud flow" {
		t.Errorf("broken flow line = %v", broken)
	}
	classic := invCSVRow(t, doc.CSV, "id", "c2")
	if classic["rule"] == ruleUnreadable || classic["touches_cases"] != "true" ||
		!strings.Contains(classic["why"], "Steps not listed: workflow c2: field xaml") {
		t.Errorf("classic workflow line = %v", classic)
	}
	if !strings.HasPrefix(doc.Summary, "2 processes, 1 touching cases") {
		t.Errorf("summary = %q", doc.Summary)
	}
}
