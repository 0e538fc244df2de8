package flows

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// clientData is the part of a cloud flow's clientdata the inventory reads.
type clientData struct {
	Properties *struct {
		ConnectionReferences map[string]struct {
			API struct {
				Name string `json:"name"`
			} `json:"api"`
		} `json:"connectionReferences"`
		Definition *struct {
			Triggers map[string]json.RawMessage `json:"triggers"`
			Actions  map[string]json.RawMessage `json:"actions"`
		} `json:"definition"`
	} `json:"properties"`
}

// wdlNode is a trigger or an action of a Workflow Definition Language
// document; containers (Scope, If, Foreach, Until, Switch) nest more nodes.
type wdlNode struct {
	Type       string                     `json:"type"`
	Kind       string                     `json:"kind"`
	Inputs     json.RawMessage            `json:"inputs"`
	Recurrence *recurrence                `json:"recurrence"`
	RunAfter   map[string]json.RawMessage `json:"runAfter"`
	Actions    map[string]json.RawMessage `json:"actions"`
	Else       *struct {
		Actions map[string]json.RawMessage `json:"actions"`
	} `json:"else"`
	Cases map[string]struct {
		Actions map[string]json.RawMessage `json:"actions"`
	} `json:"cases"`
	Default *struct {
		Actions map[string]json.RawMessage `json:"actions"`
	} `json:"default"`
}

type recurrence struct {
	Frequency string `json:"frequency"`
	Interval  any    `json:"interval"`
	TimeZone  string `json:"timeZone"`
	StartTime string `json:"startTime"`
	Schedule  *struct {
		Hours    []any    `json:"hours"`
		Minutes  []any    `json:"minutes"`
		WeekDays []string `json:"weekDays"`
	} `json:"schedule"`
}

// connInputs is the inputs object of connector triggers and actions.
type connInputs struct {
	Host struct {
		ConnectionName string `json:"connectionName"`
		OperationID    string `json:"operationId"`
		APIID          string `json:"apiId"`
		Connection     struct {
			Name string `json:"name"`
		} `json:"connection"`
	} `json:"host"`
	Parameters map[string]any `json:"parameters"`
	Method     string         `json:"method"`
}

// Dataverse trigger message codes (subscriptionRequest/message). The
// sample flow and public flow sources agree on 1 create, 3 update and
// 4 create-or-update; the combinations follow the connector's picker order.
var dataverseMessages = map[int]string{
	1: "create",
	2: "delete",
	3: "update",
	4: "create or update",
	5: "create or delete",
	6: "update or delete",
	7: "create, update or delete",
}

func readCloudFlow(w Workflow, e *Entry) error {
	var cd clientData
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix([]byte(w.ClientData), utf8BOM)))
	dec.UseNumber()
	if err := dec.Decode(&cd); err != nil {
		return fmt.Errorf("workflow %s: field clientdata: %w", w.ID, err)
	}
	if cd.Properties == nil || cd.Properties.Definition == nil {
		return fmt.Errorf("workflow %s: field clientdata: no properties.definition", w.ID)
	}

	refs := map[string]string{}
	connectors := map[string]bool{}
	for key, ref := range cd.Properties.ConnectionReferences {
		api := firstNonEmpty(ref.API.Name, key)
		refs[key] = api
		connectors[api] = true
	}
	fr := flowReader{id: w.ID, refs: refs, connectors: connectors}

	if err := fr.readTriggers(cd.Properties.Definition.Triggers, e); err != nil {
		return err
	}
	acts, err := fr.walk("", cd.Properties.Definition.Actions)
	if err != nil {
		return err
	}
	e.Actions = acts
	e.Connectors = sortedKeys(connectors)
	if e.Trigger.Table != "" {
		e.Table = e.Trigger.Table
	}
	return nil
}

type flowReader struct {
	id         string
	refs       map[string]string // connection reference key -> API name
	connectors map[string]bool
}

// readTriggers fills the entry's trigger. A flow has one trigger; should a
// definition hold more, the first by name is described.
func (fr flowReader) readTriggers(triggers map[string]json.RawMessage, e *Entry) error {
	if len(triggers) == 0 {
		e.Trigger.Kind = TriggerNone
		return nil
	}
	name := sortedKeys(triggers)[0]
	var n wdlNode
	if err := json.Unmarshal(triggers[name], &n); err != nil {
		return fmt.Errorf("workflow %s: field clientdata: trigger %s: %w", fr.id, name, err)
	}
	t := Trigger{Name: name}
	setRecurrence(&t, n.Recurrence)

	switch {
	case strings.EqualFold(n.Type, "Recurrence"):
		t.Kind = TriggerRecurrence
	case strings.EqualFold(n.Type, "Request"):
		t.RequestKind = n.Kind
		t.Kind = TriggerManual
		if strings.EqualFold(n.Kind, "Http") {
			t.Kind = TriggerHTTP
		}
		var in connInputs
		_ = json.Unmarshal(n.Inputs, &in) // inputs is optional on Request triggers
		t.Method = strings.ToUpper(in.Method)
	case isConnectorType(n.Type):
		in, err := fr.inputs("trigger "+name, n.Inputs)
		if err != nil {
			return err
		}
		t.Connector = fr.connectorOf(in)
		t.OperationID = in.Host.OperationID
		t.Kind = TriggerConnector
		if isDataverse(t.Connector) {
			fr.readDataverseTrigger(&t, in.Parameters)
		}
	default:
		t.Kind = TriggerOther
		t.OperationID = n.Type
	}
	e.Trigger = t
	return nil
}

// readDataverseTrigger reads the subscriptionRequest/* parameters of the
// Dataverse "When a row is added, modified or deleted" trigger.
func (fr flowReader) readDataverseTrigger(t *Trigger, p map[string]any) {
	if t.OperationID == "SubscribeWebhookTrigger" {
		t.Kind = TriggerDataverse
	}
	t.Table = strings.ToLower(paramString(p, "subscriptionRequest/entityname"))
	if t.Table == "none" { // flows bound to no table (e.g. custom API triggers)
		t.Table = ""
	}
	if t.Table == "" {
		t.Table = strings.ToLower(paramString(p, "table")) // legacy connector triggers
	}
	if code, ok := paramInt(p, "subscriptionRequest/message"); ok {
		t.MessageCode = code
		t.Message = dataverseMessages[code]
		if t.Message == "" {
			t.Message = "message " + strconv.Itoa(code)
		}
	}
	if s, ok := paramInt(p, "subscriptionRequest/scope"); ok {
		t.Scope = ScopeName(s)
	}
	t.FilteringAttributes = splitList(paramString(p, "subscriptionRequest/filteringattributes"))
	t.FilterExpression = strings.TrimSpace(paramString(p, "subscriptionRequest/filterexpression"))
}

func setRecurrence(t *Trigger, r *recurrence) {
	if r == nil {
		return
	}
	t.Frequency = r.Frequency
	t.Interval = anyInt(r.Interval)
	var sched []string
	if r.Schedule != nil {
		if len(r.Schedule.WeekDays) > 0 {
			sched = append(sched, "on "+strings.Join(r.Schedule.WeekDays, ","))
		}
		if len(r.Schedule.Hours) > 0 {
			sched = append(sched, "at hours "+joinAny(r.Schedule.Hours))
		}
		if len(r.Schedule.Minutes) > 0 {
			sched = append(sched, "minutes "+joinAny(r.Schedule.Minutes))
		}
	}
	if r.TimeZone != "" {
		sched = append(sched, "time zone "+r.TimeZone)
	}
	if r.StartTime != "" {
		sched = append(sched, "from "+r.StartTime)
	}
	t.Schedule = strings.Join(sched, ", ")
}

// walk flattens a map of actions, in run order, into Actions.
func (fr flowReader) walk(path string, actions map[string]json.RawMessage) ([]Action, error) {
	nodes := map[string]wdlNode{}
	for name, raw := range actions {
		var n wdlNode
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, fmt.Errorf("workflow %s: field clientdata: action %s%s: %w", fr.id, path, name, err)
		}
		nodes[name] = n
	}

	var out []Action
	for _, name := range runOrder(nodes) {
		n := nodes[name]
		a, err := fr.action(path, name, n)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
		kids, err := fr.children(path+name+"/", n)
		if err != nil {
			return nil, err
		}
		out = append(out, kids...)
	}
	return out, nil
}

// children walks the branches of a container action.
func (fr flowReader) children(prefix string, n wdlNode) ([]Action, error) {
	var out []Action
	add := func(p string, acts map[string]json.RawMessage) error {
		as, err := fr.walk(p, acts)
		out = append(out, as...)
		return err
	}
	yes := prefix
	if strings.EqualFold(n.Type, "If") {
		yes = prefix + "yes/"
	}
	if err := add(yes, n.Actions); err != nil {
		return nil, err
	}
	if n.Else != nil {
		if err := add(prefix+"no/", n.Else.Actions); err != nil {
			return nil, err
		}
	}
	for _, c := range sortedKeys(n.Cases) {
		if err := add(prefix+"case "+c+"/", n.Cases[c].Actions); err != nil {
			return nil, err
		}
	}
	if n.Default != nil {
		if err := add(prefix+"default/", n.Default.Actions); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (fr flowReader) action(path, name string, n wdlNode) (Action, error) {
	a := Action{Path: path + name, Name: name, Type: n.Type}
	if !isConnectorType(n.Type) {
		return a, nil
	}
	in, err := fr.inputs("action "+path+name, n.Inputs)
	if err != nil {
		return Action{}, err
	}
	a.Connector = fr.connectorOf(in)
	a.OperationID = in.Host.OperationID
	if a.Connector != "" {
		fr.connectors[a.Connector] = true
	}
	if isDataverse(a.Connector) {
		readDataverseAction(&a, in.Parameters)
	}
	return a, nil
}

// dataverseWriteOps are Dataverse connector operations that change rows.
var dataverseWriteOps = []string{
	"Create", "Update", "Delete", "Upsert", "Associate", "Disassociate", "PerformBound",
}

func readDataverseAction(a *Action, p map[string]any) {
	a.Table = strings.ToLower(firstNonEmpty(paramString(p, "entityName"), paramString(p, "table")))
	for _, op := range dataverseWriteOps {
		if strings.HasPrefix(a.OperationID, op) {
			a.Writes = true
		}
	}
	if a.Writes && strings.HasPrefix(a.OperationID, "Create") && logicalName(a.Table) == "queueitem" {
		a.Assigns = true
	}
	for k, v := range p {
		lk := strings.ToLower(k)
		// item/ownerid@odata.bind, item/ownerid_<table>@odata.bind
		if a.Writes && strings.HasPrefix(lk, "item/ownerid") {
			a.Assigns = true
		}
		if s, ok := v.(string); ok && strings.HasSuffix(strings.ToLower(s), ".addtoqueue") {
			a.Assigns = true
		}
		// A row written with its regarding set to a case is case work even
		// when the row itself is an e-mail or a task.
		if a.Writes && strings.Contains(lk, "regardingobjectid_incident") {
			a.Regarding = "incident"
		}
	}
}

func (fr flowReader) inputs(name string, raw json.RawMessage) (connInputs, error) {
	var in connInputs
	if len(bytes.TrimSpace(raw)) == 0 {
		return in, nil
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return in, fmt.Errorf("workflow %s: field clientdata: %s inputs: %w", fr.id, name, err)
	}
	return in, nil
}

// legacyConnection matches the older ApiConnection host form
// @parameters('$connections')['shared_office365']['connectionId'].
var legacyConnection = regexp.MustCompile(`\['\$connections'\]\['([^']+)'\]`)

func (fr flowReader) connectorOf(in connInputs) string {
	if api, ok := fr.refs[in.Host.ConnectionName]; ok {
		return api
	}
	if in.Host.APIID != "" {
		return in.Host.APIID[strings.LastIndex(in.Host.APIID, "/")+1:]
	}
	if m := legacyConnection.FindStringSubmatch(in.Host.Connection.Name); m != nil {
		if api, ok := fr.refs[m[1]]; ok {
			return api
		}
		return m[1]
	}
	return in.Host.ConnectionName
}

func isConnectorType(t string) bool {
	return strings.HasPrefix(t, "OpenApiConnection") || strings.HasPrefix(t, "ApiConnection")
}

func isDataverse(api string) bool {
	return api == connectorDataverse || api == connectorDataverseLegacy
}

// runOrder lists sibling actions so each comes after the actions it runs
// after; ties, and anything left by a cycle, go by name. It is Kahn's
// algorithm with the ready actions kept in name order, so a flow of
// hundreds of thousands of actions sorts in n log n, not n².
func runOrder(nodes map[string]wdlNode) []string {
	waiting := make(map[string]int, len(nodes)) // unfinished sibling dependencies
	after := map[string][]string{}              // dependency → actions that wait on it
	ready := &nameHeap{}
	for _, name := range sortedKeys(nodes) {
		for dep := range nodes[name].RunAfter {
			if _, sibling := nodes[dep]; sibling {
				waiting[name]++
				after[dep] = append(after[dep], name)
			}
		}
		if waiting[name] == 0 {
			heap.Push(ready, name)
		}
	}
	out := make([]string, 0, len(nodes))
	done := make(map[string]bool, len(nodes))
	for ready.Len() > 0 {
		name := heap.Pop(ready).(string)
		done[name] = true
		out = append(out, name)
		for _, next := range after[name] {
			if waiting[next]--; waiting[next] == 0 {
				heap.Push(ready, next)
			}
		}
	}
	for _, name := range sortedKeys(nodes) { // a cycle: the rest by name
		if !done[name] {
			out = append(out, name)
		}
	}
	return out
}

// nameHeap is a min-heap of action names (container/heap).
type nameHeap []string

func (h nameHeap) Len() int           { return len(h) }
func (h nameHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h nameHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nameHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *nameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func paramString(p map[string]any, key string) string {
	switch v := p[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

func paramInt(p map[string]any, key string) (int, bool) {
	switch v := p[key].(type) {
	case json.Number:
		n, err := v.Int64()
		return int(n), err == nil
	case float64:
		return int(v), true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		return n, err == nil
	}
	return 0, false
}

func anyInt(v any) int {
	n, _ := paramInt(map[string]any{"v": v}, "v")
	return n
}

func joinAny(vs []any) string {
	ss := make([]string, len(vs))
	for i, v := range vs {
		ss[i] = fmt.Sprint(v)
	}
	return strings.Join(ss, ",")
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(strings.ToLower(f)); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	var keys []string // nil when m is empty, so "none" compares equal to nil
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
