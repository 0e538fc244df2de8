package flows

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// xamlSteps maps the XAML activities a designer step compiles to onto the
// step kind shown to the admin. Activities absent here (GetEntityProperty,
// EvaluateExpression, Assign, Sequence...) are plumbing inside a step.
var xamlSteps = map[string]struct {
	label   string
	writes  bool
	assigns bool
}{
	"CreateEntity":          {"Create record", true, false},
	"UpdateEntity":          {"Update record", true, false},
	"AssignEntity":          {"Assign record", true, true},
	"SetState":              {"Change status", true, false},
	"SendEmail":             {"Send email", false, false},
	"StartChildWorkflow":    {"Start child workflow", false, false},
	"TerminateWorkflow":     {"Stop workflow", false, false},
	"Postpone":              {"Wait", false, false},
	"SetAttributeValue":     {"Set field value", true, false},
	"SetDefaultValue":       {"Set default value", false, false},
	"SetDisplayMode":        {"Lock or unlock field", false, false},
	"SetVisibility":         {"Show or hide field", false, false},
	"SetFieldRequiredLevel": {"Set field requirement", false, false},
	"SetMessage":            {"Show error message", false, false},
}

// crmActivityAssembly names the assembly of built-in designer activities;
// an ActivityReference to any other assembly is custom code.
const crmActivityAssembly = "Microsoft.Crm.Workflow,"

func readClassic(w Workflow, e *Entry) error {
	e.Trigger = classicTrigger(w)
	if strings.TrimSpace(w.XAML) == "" {
		return nil // TODO: rows without XAML (e.g. activation copies) list the row only.
	}
	x, err := parseXAML(w.XAML)
	if err != nil {
		return fmt.Errorf("workflow %s: field xaml: %w", w.ID, err)
	}
	if x.classID != "" && x.classID != strings.ReplaceAll(w.ID, "-", "") {
		return fmt.Errorf("workflow %s: field xaml: class names workflow %s", w.ID, x.classID)
	}
	if e.Table == "" {
		e.Table = x.primary
	}
	if e.Trigger.Table == "" {
		e.Trigger.Table = e.Table
	}
	e.Actions = x.steps
	return nil
}

// classicTrigger derives the trigger from the row's columns: classic XAML
// does not hold its own trigger.
func classicTrigger(w Workflow) Trigger {
	// The workflow's own scope column is shown as Entry.Scope.
	t := Trigger{Table: strings.ToLower(w.PrimaryEntity)}
	if t.Table == "none" {
		t.Table = ""
	}
	switch w.Category {
	case CategoryBusinessRule:
		t.Kind = TriggerForm
		return t
	case CategoryAction:
		t.Kind = TriggerCalled
		return t
	case CategoryBPF:
		t.Kind = TriggerStage
		return t
	case CategoryDialog:
		t.Kind = TriggerDialog
		return t
	}

	var msgs []string
	if w.TriggerOnCreate {
		msgs = append(msgs, "create")
	}
	t.FilteringAttributes = splitList(w.TriggerOnUpdateAttributeList)
	if len(t.FilteringAttributes) > 0 {
		msgs = append(msgs, "update")
	}
	if w.TriggerOnDelete {
		msgs = append(msgs, "delete")
	}
	switch {
	case len(msgs) > 0:
		t.Kind = TriggerClassicEvent
		t.Message = strings.Join(msgs, ", ")
		if w.OnDemand {
			t.Message += "; also on demand"
		}
	case w.OnDemand || w.Subprocess:
		t.Kind = TriggerOnDemand
	default:
		t.Kind = TriggerNone
	}
	return t
}

type xamlInfo struct {
	classID string // GUID from x:Class="XrmWorkflow<guid without dashes>"
	primary string // table behind InputEntities("primaryEntity")
	steps   []Action
}

// parseXAML walks the XAML once, keeping the designer steps in document
// order and the table each one acts on.
func parseXAML(doc string) (xamlInfo, error) {
	var x xamlInfo
	dec := xml.NewDecoder(strings.NewReader(doc))
	var labels []string // DisplayName labels of enclosing Sequence elements
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return x, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			labels = append(labels, sequenceLabel(t))
			x.visit(t, labels)
		case xml.EndElement:
			labels = labels[:len(labels)-1]
		}
	}
	return x, nil
}

func (x *xamlInfo) visit(t xml.StartElement, labels []string) {
	if x.classID == "" && t.Name.Local == "Activity" {
		cls := attr(t, "Class")
		x.classID = strings.ToLower(strings.TrimPrefix(cls, "XrmWorkflow"))
	}
	table := strings.ToLower(attr(t, "EntityName"))
	if x.primary == "" && table != "" && strings.Contains(attr(t, "Entity"), `"primaryEntity"`) {
		x.primary = table
	}

	if k, ok := xamlSteps[t.Name.Local]; ok {
		name := firstNonEmpty(parentLabel(labels), attr(t, "DisplayName"), k.label)
		x.steps = append(x.steps, Action{
			Path: name, Name: name, Type: k.label + " (" + t.Name.Local + ")",
			Table: table, Writes: k.writes, Assigns: k.assigns,
		})
		return
	}
	if t.Name.Local != "ActivityReference" {
		return
	}
	aqn := attr(t, "AssemblyQualifiedName")
	class := aqn
	if i := strings.Index(aqn, ","); i >= 0 {
		class = aqn[:i]
	}
	switch {
	case strings.HasSuffix(class, ".ConditionBranch"):
		dn := attr(t, "DisplayName")
		x.steps = append(x.steps, Action{Path: dn, Name: dn, Type: "Condition (ConditionBranch)"})
	case aqn != "" && !strings.Contains(aqn, crmActivityAssembly):
		dn := firstNonEmpty(attr(t, "DisplayName"), class)
		x.steps = append(x.steps, Action{Path: dn, Name: dn, Type: "Custom workflow activity (" + class + ")"})
	}
}

// sequenceLabel returns the step title a designer Sequence carries after
// its "KindStepN: " prefix, e.g. "Enable Profile Creation".
func sequenceLabel(t xml.StartElement) string {
	if t.Name.Local != "Sequence" {
		return ""
	}
	dn := attr(t, "DisplayName")
	if i := strings.Index(dn, ": "); i >= 0 {
		return strings.TrimSpace(dn[i+2:])
	}
	return ""
}

// parentLabel is the label of the element enclosing the current one (the
// current element is the last in labels).
func parentLabel(labels []string) string {
	if len(labels) < 2 {
		return ""
	}
	return labels[len(labels)-2]
}

func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
