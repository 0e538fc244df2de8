package flows

import (
	"fmt"
	"sort"
	"strings"
)

// Trigger kinds an Entry can carry.
const (
	TriggerDataverse    = "Dataverse row"     // cloud flow: When a row is added, modified or deleted
	TriggerRecurrence   = "Recurrence"        // cloud flow on a schedule
	TriggerHTTP         = "HTTP request"      // cloud flow: When an HTTP request is received
	TriggerManual       = "Manual"            // button, Power Apps, Copilot, child flow
	TriggerConnector    = "Connector"         // any other connector trigger (SharePoint, Outlook...)
	TriggerClassicEvent = "Dataverse event"   // classic workflow on create/update/delete
	TriggerOnDemand     = "On demand"         // classic workflow started by a user or as a child
	TriggerForm         = "Form and save"     // business rule
	TriggerCalled       = "Called"            // custom process action
	TriggerStage        = "Stage change"      // business process flow
	TriggerDialog       = "Started by a user" // dialog
	TriggerNone         = "None"              // no trigger found
	TriggerOther        = "Other"             // a trigger type the inventory does not know
)

// Dataverse connector names used in cloud flows.
const (
	connectorDataverse       = "shared_commondataserviceforapps"
	connectorDataverseLegacy = "shared_commondataservice"
)

// Trigger says what starts a process.
type Trigger struct {
	Kind        string // one of the Trigger* constants
	Name        string // key of the trigger in the flow definition
	Connector   string // API name, e.g. shared_sharepointonline
	OperationID string // connector operation, e.g. SubscribeWebhookTrigger, GetOnNewItems
	RequestKind string // Request triggers: Http, Button, PowerAppV2...
	Method      string // HTTP Request trigger method, if fixed

	Table               string   // logical name of the table the trigger watches
	Message             string   // create, update, delete or a combination
	MessageCode         int      // subscriptionRequest/message as written in the flow
	FilteringAttributes []string // columns whose change fires an update trigger
	FilterExpression    string   // OData row filter (masked on output)
	Scope               string   // whose rows: User ... Organization

	Frequency string // Recurrence (or connector polling): Minute, Hour, Day, Week, Month
	Interval  int
	Schedule  string // hours, minutes, week days, time zone, start time
}

// Action is one step of a process, flattened out of scopes, conditions,
// loops and switches; Path names the containers it sits in.
type Action struct {
	Path        string // e.g. Switch/case Low/Update_Incident
	Name        string
	Type        string // WDL action type (OpenApiConnection, Compose...) or XAML activity
	Connector   string // API name for connector actions
	OperationID string
	Table       string // logical (or entity set) name the step acts on, if any
	Regarding   string // table of the row set as regarding (e.g. incident), if any
	Writes      bool   // creates, updates, deletes or assigns rows of Table
	Assigns     bool   // changes an owner or puts a row in a queue
}

// Entry is the inventory line for one process.
type Entry struct {
	ID         string
	Name       string
	Kind       string // CategoryName of the category
	Category   int
	State      string
	Owner      string
	Mode       string
	Scope      string
	Solution   string
	Trigger    Trigger
	Table      string   // primary table: the trigger's table or the process primary entity
	Connectors []string // API names from connectionReferences and steps, sorted
	Actions    []Action

	TouchesCases bool
	CaseReasons  []string // why TouchesCases is set, for the admin

	Recommendation string
	RuleID         string
	Why            string
}

// Inventory reads one workflow row: the cloud-flow definition for category
// 5, the XAML for classic processes, then applies the Rules table.
func Inventory(w Workflow) (Entry, error) {
	e := Entry{
		ID:       w.ID,
		Name:     w.Name,
		Kind:     CategoryName(w.Category),
		Category: w.Category,
		State:    StateName(w.StateCode),
		Owner:    firstNonEmpty(w.OwnerName, w.OwnerID),
		Mode:     modeName(w),
		Scope:    ScopeName(w.Scope),
		Solution: w.Solution,
	}
	if pe := strings.ToLower(w.PrimaryEntity); pe != "none" {
		e.Table = pe
	}

	var err error
	switch w.Category {
	case CategoryModernFlow:
		err = readCloudFlow(w, &e)
	case CategoryDesktopFlow, CategoryAIFlow:
		// TODO: desktop and AI flow definitions are not parsed; only the row is listed.
		e.Trigger.Kind = TriggerNone
	default:
		err = readClassic(w, &e)
	}
	if err != nil {
		return Entry{}, err
	}

	markCases(&e)
	applyRules(&e)
	return e, nil
}

// InventoryAll runs Inventory over rows and returns entries in report order.
// It stops at the first row that cannot be read, naming it.
func InventoryAll(ws []Workflow) ([]Entry, error) {
	out := make([]Entry, 0, len(ws))
	for _, w := range ws {
		e, err := Inventory(w)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	SortEntries(out)
	return out, nil
}

// SortEntries puts entries in the order Markdown and CSV print them: case
// work first, then by kind, name and id.
func SortEntries(es []Entry) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.TouchesCases != b.TouchesCases {
			return a.TouchesCases
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if !strings.EqualFold(a.Name, b.Name) {
			return strings.ToLower(a.Name) < strings.ToLower(b.Name)
		}
		return a.ID < b.ID
	})
}

// Summary is a one-line description of the trigger for tables.
func (t Trigger) Summary() string {
	var parts []string
	switch t.Kind {
	case TriggerDataverse, TriggerClassicEvent:
		parts = append(parts, fmt.Sprintf("%s %s on %s", t.Kind, orDash(t.Message), orDash(t.Table)))
		if len(t.FilteringAttributes) > 0 {
			parts = append(parts, "columns "+strings.Join(t.FilteringAttributes, ","))
		}
		if t.FilterExpression != "" {
			parts = append(parts, "filter "+t.FilterExpression)
		}
	case TriggerRecurrence:
		parts = append(parts, fmt.Sprintf("Recurrence every %d %s", t.Interval, t.Frequency))
		if t.Schedule != "" {
			parts = append(parts, t.Schedule)
		}
	case TriggerHTTP, TriggerManual:
		parts = append(parts, t.Kind)
		if t.RequestKind != "" {
			parts = append(parts, t.RequestKind)
		}
		if t.Method != "" {
			parts = append(parts, t.Method)
		}
	case TriggerConnector:
		parts = append(parts, fmt.Sprintf("%s %s", t.Connector, t.OperationID))
		if t.Frequency != "" {
			parts = append(parts, fmt.Sprintf("polls every %d %s", t.Interval, t.Frequency))
		}
	default:
		parts = append(parts, t.Kind)
		if t.Table != "" {
			parts = append(parts, "on "+t.Table)
		}
	}
	return strings.Join(parts, "; ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
