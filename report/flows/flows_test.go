package flows

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// realCase is one real process under testdata/flows. Every expectation was
// written by reading the sample's .json/.xaml and .data.xml by hand.
type realCase struct {
	dir        string // solution folder under testdata/flows
	id         string
	name       string
	kind       string
	trigger    Trigger
	table      string
	connectors []string
	steps      []string // path|type|connector|operation, in run order
	writes     []string // paths of steps that write (suffix " assigns" when they assign)
	touches    bool
	rule       string
	solution   string
}

var realCases = []realCase{
	{
		dir: "pnp_incident-reporting", id: "6e5a9197-e359-ee11-be6f-000d3a45ed19",
		name: "Incident Assignment", kind: "Cloud flow", solution: "IncidentReporting",
		trigger: Trigger{
			Kind: TriggerDataverse, Name: "When_a_row_is_added,_modified_or_deleted",
			Connector: "shared_commondataserviceforapps", OperationID: "SubscribeWebhookTrigger",
			Table: "csa_csincident", Message: "create", MessageCode: 1, Scope: "Organization",
		},
		// csa_csincident is a custom health-and-safety table, not the case
		// table, so the flow is not case work despite its name.
		table:      "csa_csincident",
		connectors: []string{"shared_commondataserviceforapps", "shared_office365"},
		steps: []string{
			"Switch|Switch||",
			"Switch/case High/Send_an_email_(V2)_3|OpenApiConnection|shared_office365|SendEmailV2",
			"Switch/case High/Update_Incident_3|OpenApiConnection|shared_commondataserviceforapps|UpdateRecord",
			"Switch/case Low/Send_an_email_(V2)|OpenApiConnection|shared_office365|SendEmailV2",
			"Switch/case Low/Update_Incident|OpenApiConnection|shared_commondataserviceforapps|UpdateRecord",
			"Switch/case Medium/Send_an_email_(V2)_2|OpenApiConnection|shared_office365|SendEmailV2",
			"Switch/case Medium/Update_Incident_2|OpenApiConnection|shared_commondataserviceforapps|UpdateRecord",
		},
		writes: []string{
			"Switch/case High/Update_Incident_3 assigns",
			"Switch/case Low/Update_Incident assigns",
			"Switch/case Medium/Update_Incident_2 assigns",
		},
		rule: "no-cases",
	},
	{
		dir: "pnp_always-reply-to-request", id: "cd602b70-a83e-ee11-bdf3-0022482a4279",
		name: "Pattern: Always reply to HTTP request", kind: "Cloud flow",
		trigger: Trigger{Kind: TriggerHTTP, Name: "manual", RequestKind: "Http", Method: "GET"},
		steps: []string{
			"Scope|Scope||",
			"Scope/Actual_Work|Compose||",
			"Response_Error|Response||",
			"Response_OK|Response||",
			"Terminate_with_Failed|Terminate||",
		},
		rule: "no-cases",
	},
	{
		dir: "pnp_contoso-school", id: "fa603440-cab6-ed11-83fe-000d3a9c5d17",
		name: "Create Template", kind: "Cloud flow",
		trigger:    Trigger{Kind: TriggerManual, Name: "manual", RequestKind: "PowerAppV2"},
		connectors: []string{"shared_commondataserviceforapps"},
		steps: []string{
			"Initialize_variable_EmailText|InitializeVariable||",
			"Initialize_variable_SMSText|InitializeVariable||",
			"Compose_Description|Compose||",
			"Switch|Switch||",
			"Switch/case Email/ScopeEmail|Scope||",
			"Switch/case Email/ScopeEmail/Email|Compose||",
			"Switch/case Email/ScopeEmail/Create_Completion_Email|OpenApiConnection|shared_commondataserviceforapps|aibuilderpredict_gptpromptengineering",
			"Switch/case Email/ScopeEmail/Set_variable_EmailText|SetVariable||",
			"Switch/case SMS/ScopeSMS|Scope||",
			"Switch/case SMS/ScopeSMS/SMS|Compose||",
			"Switch/case SMS/ScopeSMS/Create_Completion_SMS|OpenApiConnection|shared_commondataserviceforapps|aibuilderpredict_gptpromptengineering",
			"Switch/case SMS/ScopeSMS/Set_variable_SMSText|SetVariable||",
			"Switch/default/ScopeBoth|Scope||",
			"Switch/default/ScopeBoth/Email_Both|Compose||",
			"Switch/default/ScopeBoth/Create_Completion_Email_Both|OpenApiConnection|shared_commondataserviceforapps|aibuilderpredict_gptpromptengineering",
			"Switch/default/ScopeBoth/SMS_Both|Compose||",
			"Switch/default/ScopeBoth/Create_Completion_SMS_Both|OpenApiConnection|shared_commondataserviceforapps|aibuilderpredict_gptpromptengineering",
			"Switch/default/ScopeBoth/Set_variable_Email_Both|SetVariable||",
			"Switch/default/ScopeBoth/Set_variable_SMS_Both|SetVariable||",
			"Compose_GUID|Compose||",
			"Respond_to_a_PowerApp_or_flow|Response||",
		},
		rule: "no-cases",
	},
	{
		dir: "pnp_contoso-school", id: "d39d3846-cab6-ed11-83fe-000d3a9c5d17",
		name: "Send notifications", kind: "Cloud flow",
		trigger:    Trigger{Kind: TriggerManual, Name: "manual", RequestKind: "PowerAppV2"},
		connectors: []string{"shared_acsemail", "shared_azurecommunicationservicessms"},
		steps: []string{
			"Switch|Switch||",
			"Switch/case Both/Send_Email_Both|OpenApiConnection|shared_acsemail|SendEmail",
			"Switch/case Both/Send_SMS_Both|OpenApiConnection|shared_azurecommunicationservicessms|SendSMSv2",
			"Switch/case Email/Send_email_(Preview)|OpenApiConnection|shared_acsemail|SendEmail",
			"Switch/case SMS/Send_SMS|OpenApiConnection|shared_azurecommunicationservicessms|SendSMSv2",
			"Respond_to_a_PowerApp_or_flow|Response||",
		},
		rule: "no-cases",
	},
	{
		dir: "pnp_gym-management-app", id: "9048f760-5a9b-ef11-8a6a-000d3a348b6b",
		name: "Copy Due Date", kind: "Cloud flow",
		trigger: Trigger{
			Kind: TriggerConnector, Name: "When_an_item_is_created",
			Connector: "shared_sharepointonline", OperationID: "GetOnNewItems",
			Frequency: "Minute", Interval: 1,
		},
		connectors: []string{"shared_sharepointonline"},
		steps:      []string{"Update_item|OpenApiConnection|shared_sharepointonline|PatchItem"},
		rule:       "no-cases",
	},
	{
		dir: "pnp_gym-management-app", id: "cc7ad75f-f442-ef11-8409-0022480bf39e",
		name: "Membership Notification", kind: "Cloud flow",
		trigger: Trigger{
			Kind: TriggerConnector, Name: "When_a_new_item_is_created",
			Connector: "shared_sharepointonline", OperationID: "GetOnNewItems",
			Frequency: "Minute", Interval: 1,
		},
		// The step uses connection reference shared_office365_2, whose API is shared_office365.
		connectors: []string{"shared_office365", "shared_sharepointonline"},
		steps:      []string{"Send_an_email_(V2)|OpenApiConnection|shared_office365|SendEmailV2"},
		rule:       "no-cases",
	},
	{
		dir: "pnp_gym-management-app", id: "cd7ad75f-f442-ef11-8409-0022480bf39e",
		name: "Subscription Reminder", kind: "Cloud flow",
		trigger: Trigger{
			Kind: TriggerRecurrence, Name: "Recurrence", Frequency: "Day", Interval: 1,
			Schedule: "time zone W. Central Africa Standard Time, from 2024-03-21T07:00:00Z",
		},
		connectors: []string{"shared_office365", "shared_sharepointonline"},
		steps: []string{
			"Initialize_variable_3|InitializeVariable||",
			"Get_items_3_days|OpenApiConnection|shared_sharepointonline|GetItems",
			"For_each|Foreach||",
			"For_each/For_each_1|Foreach||",
			"For_each/For_each_1/For_each_2|Foreach||",
			"For_each/For_each_1/For_each_2/Send_an_email_(V2)|OpenApiConnection|shared_office365|SendEmailV2",
			"Initialize_variable_7|InitializeVariable||",
			"Get_items_7_days|OpenApiConnection|shared_sharepointonline|GetItems",
			"For_each_3|Foreach||",
			"For_each_3/Send_an_email_(V2)_1|OpenApiConnection|shared_office365|SendEmailV2",
		},
		rule: "no-cases",
	},
	{
		dir: "pnp_mail-archive-pdf", id: "d9dd717e-72bb-b645-7c1f-7bbd486627d4",
		name: "Automated PDF Archiving for Emails and Attachments", kind: "Cloud flow",
		trigger: Trigger{
			Kind: TriggerConnector, Name: "When_a_new_email_arrives_(V3)",
			Connector: "shared_office365", OperationID: "OnNewEmailV3",
		},
		connectors: []string{"shared_office365", "shared_onedriveforbusiness"},
		steps: []string{
			"Compose_-_allowed_file_extension|Compose||",
			"Filter_array_-_attachment_with_allowed_extension|Query||",
			"Apply_to_each_-_email_attachment|Foreach||",
			"Apply_to_each_-_email_attachment/Create_file_-_attachment|OpenApiConnection|shared_onedriveforbusiness|CreateFile",
			"Apply_to_each_-_email_attachment/Convert_file_-_attachment|OpenApiConnection|shared_onedriveforbusiness|ConvertFile",
			"Apply_to_each_-_email_attachment/Compose_-_attachment_as_image|Compose||",
			"Export_email_(V2)|OpenApiConnection|shared_office365|ExportEmail_V2",
			"Create_file_-_email_msg_file|OpenApiConnection|shared_onedriveforbusiness|CreateFile",
			"Convert_file_-_email_msg_to_HTML_format|OpenApiConnection|shared_onedriveforbusiness|ConvertFile",
			"Compose_-_combine_email_HTML_with_all_image_attachment|Compose||",
			"Create_file_-_combines_HTML_file|OpenApiConnection|shared_onedriveforbusiness|CreateFile",
			"Convert_file_-_Combined_HTML_to_PDF|OpenApiConnection|shared_onedriveforbusiness|ConvertFile",
			"Create_file_-_Email_with_attachments_in_a_single_pdf_file|OpenApiConnection|shared_onedriveforbusiness|CreateFile",
		},
		rule: "no-cases",
	},
	{
		// The data.xml still names the rule "New business rule" and its old
		// file; the XAML was renamed later but keeps the same GUID.
		dir: "coe_almaccelerator_classic", id: "1f5ea747-a8b9-ec11-983f-0022483403a3",
		name: "New business rule", kind: "Business rule",
		trigger: Trigger{Kind: TriggerForm, Table: "cat_deploymentusersetting"},
		table:   "cat_deploymentusersetting",
		steps: []string{
			"ConditionBranchStep2|Condition (ConditionBranch)||",
			"Enable Profile Creation|Lock or unlock field (SetDisplayMode)||",
			"ConditionBranchStep3|Condition (ConditionBranch)||",
			"Set Profile Creation to False|Set field value (SetAttributeValue)||",
			"Disable Profile Creation|Lock or unlock field (SetDisplayMode)||",
		},
		writes: []string{"Set Profile Creation to False"},
		rule:   "no-cases",
	},
}

func TestInventoryRealSamples(t *testing.T) {
	for _, tc := range realCases {
		t.Run(tc.dir+"/"+tc.name, func(t *testing.T) {
			e := inventoryOf(t, tc.dir, tc.id)
			// Every sample's data.xml says StateCode 1 and Scope 4.
			if e.Name != tc.name || e.Kind != tc.kind || e.State != "On" || e.Scope != "Organization" ||
				e.Solution != tc.solution {
				t.Errorf("name/kind/state/scope/solution = %q/%q/%q/%q/%q, want %q/%q/On/Organization/%q",
					e.Name, e.Kind, e.State, e.Scope, e.Solution, tc.name, tc.kind, tc.solution)
			}
			if !reflect.DeepEqual(e.Trigger, tc.trigger) {
				t.Errorf("trigger\n got %+v\nwant %+v", e.Trigger, tc.trigger)
			}
			if e.Table != tc.table {
				t.Errorf("table = %q, want %q", e.Table, tc.table)
			}
			if !reflect.DeepEqual(e.Connectors, tc.connectors) {
				t.Errorf("connectors = %q, want %q", e.Connectors, tc.connectors)
			}
			steps, writes := describeSteps(e.Actions)
			if !reflect.DeepEqual(steps, tc.steps) {
				t.Errorf("steps\n got %q\nwant %q", steps, tc.steps)
			}
			if !reflect.DeepEqual(writes, tc.writes) {
				t.Errorf("writing steps = %q, want %q", writes, tc.writes)
			}
			if e.TouchesCases != tc.touches || e.RuleID != tc.rule {
				t.Errorf("touches cases %v rule %q (%v), want %v rule %q",
					e.TouchesCases, e.RuleID, e.CaseReasons, tc.touches, tc.rule)
			}
		})
	}
}

func inventoryOf(t *testing.T, dir, id string) Entry {
	t.Helper()
	ws, err := ReadSolutionDir(filepath.Join("testdata", "flows", dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if w.ID == id {
			e, err := Inventory(w)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
	}
	t.Fatalf("workflow %s not in %s", id, dir)
	return Entry{}
}

func describeSteps(as []Action) (steps, writes []string) {
	for _, a := range as {
		steps = append(steps, strings.Join([]string{a.Path, a.Type, a.Connector, a.OperationID}, "|"))
		switch {
		case a.Assigns:
			writes = append(writes, a.Path+" assigns")
		case a.Writes:
			writes = append(writes, a.Path)
		}
	}
	return steps, writes
}

// allRealEntries reads every sample solution under testdata/flows.
func allRealEntries(t *testing.T) []Entry {
	t.Helper()
	dirs, err := os.ReadDir(filepath.Join("testdata", "flows"))
	if err != nil {
		t.Fatal(err)
	}
	var ws []Workflow
	for _, d := range dirs {
		got, err := ReadSolutionDir(filepath.Join("testdata", "flows", d.Name()))
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, got...)
	}
	es, err := InventoryAll(ws)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != len(realCases) {
		t.Fatalf("read %d processes, want one per real case (%d)", len(es), len(realCases))
	}
	return es
}

func TestGoldenInventory(t *testing.T) {
	es := allRealEntries(t)
	for _, g := range []struct{ file, got string }{
		{"inventory.golden.md", Markdown(es)},
		{"inventory.golden.csv", CSV(es)},
	} {
		path := filepath.Join("testdata", g.file)
		if *update {
			if err := os.WriteFile(path, []byte(g.got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if g.got != string(want) {
			t.Errorf("%s differs from the golden file; run go test -update and review the diff", g.file)
		}
	}
}

func TestOutputIsDeterministicAndClean(t *testing.T) {
	es := allRealEntries(t)
	rev := make([]Entry, len(es))
	for i, e := range es {
		rev[len(es)-1-i] = e
	}
	if Markdown(es) != Markdown(rev) || CSV(es) != CSV(rev) {
		t.Error("output depends on input order")
	}
	out := Markdown(es) + CSV(es)
	// Addresses, bodies and subjects that sit in the sample flows.
	for _, leak := range []string{
		"admin@example.onmicrosoft.com", "DoNotReply@", "Dear ", "<html", "Welcome to 703",
		"Incident Report for", "Manish", "emailMessage", "+18332994828", "sharepoint.com",
	} {
		if strings.Contains(out, leak) {
			t.Errorf("output contains %q", leak)
		}
	}
}

func TestMaskInOutput(t *testing.T) {
	e := mustInventory(t, Workflow{
		ID: "00000000-0000-0000-0000-000000000001", Name: "Notify jane.doe@contoso.com",
		Category: CategoryModernFlow, StateCode: 1,
		ClientData: dataverseFlow(1, "contact", "", "emailaddress1 eq 'jane.doe@contoso.com'", `{}`),
	})
	for name, out := range map[string]string{"markdown": Markdown([]Entry{e}), "csv": CSV([]Entry{e})} {
		if strings.Contains(out, "jane.doe") || !strings.Contains(out, "[email]") {
			t.Errorf("%s does not mask the address:\n%s", name, out)
		}
	}
}

func TestReadSolutionManifest(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "flows", "pnp_incident-reporting", "Other", "Solution.xml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadSolutionManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Solution{UniqueName: "IncidentReporting", Version: "1.0.0.4",
		WorkflowIDs: []string{"6e5a9197-e359-ee11-be6f-000d3a45ed19"}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got %+v, want %+v", s, want)
	}
}

func TestFromDataXMLFields(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "flows", "coe_almaccelerator_classic", "Workflows",
		"Newbusinessrule-1F5EA747-A8B9-EC11-983F-0022483403A3.xaml.data.xml"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := FromDataXML(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Workflow{
		ID: "1f5ea747-a8b9-ec11-983f-0022483403a3", Name: "New business rule",
		Category: 2, Type: 1, StateCode: 1, StatusCode: 2, Mode: 1, Scope: 4,
		PrimaryEntity:  "cat_deploymentusersetting",
		DefinitionFile: "/Workflows/Newbusinessrule-1F5EA747-A8B9-EC11-983F-0022483403A3.xaml",
	}
	if !reflect.DeepEqual(w, want) {
		t.Errorf("got  %+v\nwant %+v", w, want)
	}
}

func TestErrorsNameWorkflowAndField(t *testing.T) {
	const id = "11111111-2222-3333-4444-555555555555"
	cases := []struct {
		name   string
		w      Workflow
		fields []string
	}{
		{"clientdata not JSON", Workflow{ID: id, Category: 5, ClientData: `{"properties": {`}, []string{"clientdata"}},
		{"clientdata without definition", Workflow{ID: id, Category: 5, ClientData: `{"properties":{}}`}, []string{"clientdata", "definition"}},
		{"trigger inputs wrong shape", Workflow{ID: id, Category: 5, ClientData: `{"properties":{"definition":{"triggers":{"t":{"type":"OpenApiConnectionWebhook","inputs":[1]}}}}}`}, []string{"clientdata", "trigger"}},
		{"xaml broken", Workflow{ID: id, Category: 0, XAML: `<Activity><unclosed></Activity>`}, []string{"xaml"}},
		{"xaml of another workflow", Workflow{ID: id, Category: 0, XAML: `<Activity x:Class="XrmWorkflowffffffff222233334444555555555555" xmlns:x="http://schemas.microsoft.com/winfx/2006/xaml"/>`}, []string{"xaml", "ffffffff"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Inventory(tc.w)
			if err == nil {
				t.Fatal("no error")
			}
			for _, f := range append([]string{id}, tc.fields...) {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error %q does not name %q", err, f)
				}
			}
		})
	}

	for _, bad := range []struct{ xml, field string }{
		{`<Workflow Name="x"><Category>5</Category></Workflow>`, "WorkflowId"},
		{`<Workflow WorkflowId="{` + id + `}"><Category>five</Category></Workflow>`, "Category"},
		{`<Workflow WorkflowId="{` + id + `}"><Category>5</Category><OnDemand>maybe</OnDemand></Workflow>`, "OnDemand"},
	} {
		if _, err := FromDataXML([]byte(bad.xml)); err == nil || !strings.Contains(err.Error(), bad.field) {
			t.Errorf("FromDataXML(%s) error = %v, want one naming %s", bad.xml, err, bad.field)
		}
	}
}

func TestFromRecord(t *testing.T) {
	clientdata, err := os.ReadFile(filepath.Join("testdata", "flows", "pnp_incident-reporting", "Workflows",
		"IncidentAssignment-6E5A9197-E359-EE11-BE6F-000D3A45ED19.json"))
	if err != nil {
		t.Fatal(err)
	}
	// A Web API row as JSON decodes it, and the same row as a snapshot
	// Parquet read returns it (int32 picklists, __formatted owner column).
	webAPI := map[string]any{
		"workflowid": "6E5A9197-E359-EE11-BE6F-000D3A45ED19", "name": "Incident Assignment",
		"category": json.Number("5"), "type": float64(1), "statecode": float64(1), "statuscode": float64(2),
		"primaryentity": "none", "scope": float64(4), "triggeroncreate": false,
		"_ownerid_value": "{AAAAAAAA-0000-0000-0000-000000000001}",
		"_ownerid_value@OData.Community.Display.V1.FormattedValue": "Flow Owner",
		"clientdata": string(clientdata),
	}
	parquet := map[string]any{
		"workflowid": "6e5a9197-e359-ee11-be6f-000d3a45ed19", "name": "Incident Assignment",
		"category": int32(5), "type": int32(1), "statecode": int32(1), "statuscode": int32(2),
		"primaryentity": "none", "scope": int32(4), "triggeroncreate": false,
		"_ownerid_value": "aaaaaaaa-0000-0000-0000-000000000001", "_ownerid_value__formatted": "Flow Owner",
		"clientdata": string(clientdata),
	}
	for name, rec := range map[string]map[string]any{"web api": webAPI, "parquet": parquet} {
		w, err := FromRecord(rec)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e, err := Inventory(w)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if e.ID != "6e5a9197-e359-ee11-be6f-000d3a45ed19" || e.Owner != "Flow Owner" || e.State != "On" ||
			e.Trigger.Table != "csa_csincident" || e.Trigger.Message != "create" || w.OwnerID != "aaaaaaaa-0000-0000-0000-000000000001" {
			t.Errorf("%s: got id %s owner %q/%s state %s trigger %+v", name, e.ID, e.Owner, w.OwnerID, e.State, e.Trigger)
		}
	}

	for _, bad := range []struct {
		rec   map[string]any
		field string
	}{
		{map[string]any{"name": "x", "category": 5}, "workflowid"},
		{map[string]any{"workflowid": "1", "name": "x"}, "category"},
		{map[string]any{"workflowid": "1", "category": "five"}, "category"},
		{map[string]any{"workflowid": "1", "category": 0, "ondemand": "sometimes"}, "ondemand"},
	} {
		if _, err := FromRecord(bad.rec); err == nil || !strings.Contains(err.Error(), bad.field) {
			t.Errorf("FromRecord(%v) error = %v, want one naming %s", bad.rec, err, bad.field)
		}
	}
}
