package sampleorg

import (
	"embed"
	"encoding/xml"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Real process definitions (flows/SOURCES.md): cloud flows exported from
// solutions (clientdata JSON) and a classic business rule (xaml), served as
// workflow rows next to a few classic workflows written here.
//
//go:embed flows
var flowsFS embed.FS

type workflowDef struct {
	name, primary, clientdata, xaml, description string
	category, mode, scope, state                 int
	onCreate                                     bool
}

// classic workflows with hand-written XAML; the first touches incident.
var classicDefs = []workflowDef{
	{name: "Escalate high-priority cases", primary: "incident", category: 0, mode: 0, scope: 4, state: 1, onCreate: true,
		description: "Sets isescalated and notifies the owner when a high-priority case is created.",
		xaml: `<Activity x:Class="XrmWorkflowEscalate" xmlns="http://schemas.microsoft.com/netfx/2009/xaml/activities" ` +
			`xmlns:mxswa="clr-namespace:Microsoft.Xrm.Sdk.Workflow.Activities;assembly=Microsoft.Xrm.Sdk.Workflow" ` +
			`xmlns:x="http://schemas.microsoft.com/winfx/2006/xaml"><mxswa:Workflow><mxswa:ConditionSequence DisplayName="prioritycode eq 1">` +
			`<mxswa:UpdateEntity DisplayName="Set isescalated" Entity="[InputEntities(&quot;primaryEntity&quot;)]" EntityName="incident" />` +
			`<mxswa:SendEmail DisplayName="Notify owner" EntityName="email" /></mxswa:ConditionSequence></mxswa:Workflow></Activity>`},
	{name: "Auto-reply to new e-mail", primary: "email", category: 0, mode: 0, scope: 4, state: 1, onCreate: true,
		description: "Sends the acknowledgement template to incoming e-mail.",
		xaml: `<Activity x:Class="XrmWorkflowAutoReply" xmlns="http://schemas.microsoft.com/netfx/2009/xaml/activities" ` +
			`xmlns:mxswa="clr-namespace:Microsoft.Xrm.Sdk.Workflow.Activities;assembly=Microsoft.Xrm.Sdk.Workflow"><mxswa:Workflow>` +
			`<mxswa:SendEmail DisplayName="Acknowledge" EntityName="email" /></mxswa:Workflow></Activity>`},
	{name: "Close stale waiting cases (retired)", primary: "incident", category: 0, mode: 0, scope: 2, state: 0,
		description: "Draft: would cancel cases waiting for details for 30 days.",
		xaml:        `<Activity x:Class="XrmWorkflowStale" xmlns="http://schemas.microsoft.com/netfx/2009/xaml/activities"><Sequence /></Activity>`},
}

type dataXML struct {
	Name          string `xml:"Name,attr"`
	Description   string `xml:"Description,attr"`
	Category      int    `xml:"Category"`
	Mode          int    `xml:"Mode"`
	Scope         int    `xml:"Scope"`
	StateCode     int    `xml:"StateCode"`
	PrimaryEntity string `xml:"PrimaryEntity"`
	OnCreate      int    `xml:"TriggerOnCreate"`
}

var (
	workflowsOnce sync.Once
	workflowList  []workflowDef
)

// workflowDefs lists the embedded flows (sorted by path) then classicDefs.
func workflowDefs() []workflowDef {
	workflowsOnce.Do(func() {
		_ = fs.WalkDir(flowsFS, "flows", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(p, ".data.xml") || strings.HasSuffix(p, ".md") {
				return err
			}
			if def, ok := embeddedDef(p); ok {
				workflowList = append(workflowList, def)
			}
			return nil
		})
		workflowList = append(workflowList, classicDefs...)
	})
	return workflowList
}

func embeddedDef(p string) (workflowDef, bool) {
	body, err := flowsFS.ReadFile(p)
	if err != nil {
		return workflowDef{}, false
	}
	text := strings.TrimPrefix(string(body), "\ufeff")
	var meta dataXML
	if raw, err := flowsFS.ReadFile(p + ".data.xml"); err == nil {
		_ = xml.Unmarshal([]byte(strings.TrimPrefix(string(raw), "\ufeff")), &meta)
	}
	def := workflowDef{name: meta.Name, description: meta.Description, category: meta.Category, mode: meta.Mode,
		scope: meta.Scope, state: meta.StateCode, primary: strings.ToLower(meta.PrimaryEntity), onCreate: meta.OnCreate == 1}
	if strings.HasSuffix(p, ".xaml") {
		def.xaml = text
		if def.name == "" { // the business rule has no metadata file of its own
			base := path.Base(p)
			def.name, def.category, def.mode, def.scope, def.state = base[:strings.LastIndex(base, "-")], 2, 1, 4, 1
			def.name = strings.TrimSuffix(def.name, "-1F5EA747")
			def.primary = "cat_deploymentusersetting"
		}
	} else {
		def.clientdata = text
	}
	if def.primary == "" {
		def.primary = "none"
	}
	return def, def.name != ""
}

func (o *Org) workflowRow(i int) Row {
	d := workflowDefs()[i]
	row := o.configRow(i, anchor.AddDate(-2, 0, 3*i), true)
	row["name"], row["description"], row["category"], row["mode"] = d.name, nilIfEmpty(d.description), d.category, d.mode
	row["scope"], row["type"], row["primaryentity"], row["ismanaged"] = d.scope, 1, d.primary, false
	row["clientdata"], row["xaml"], row["triggeroncreate"] = nilIfEmpty(d.clientdata), nilIfEmpty(o.ownXAML(d.xaml, i)), d.onCreate
	row["uniquename"] = "new_" + strings.ToLower(strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(d.name))
	row["statecode"], row["statuscode"] = d.state, d.state+1
	if d.category == 0 && d.primary == "incident" && d.state == 1 {
		row["triggeronupdateattributelist"] = "prioritycode,statecode"
	}
	row["modifiedon"] = row["createdon"].(time.Time).AddDate(0, 2, 0)
	return row
}

var xamlClass = regexp.MustCompile(`x:Class="XrmWorkflow[^"]*"`)

// ownXAML names the row's own workflow id in the XAML's x:Class, as
// Dynamics does for a definition: the real files embedded here carry the id
// they had in their source org.
func (o *Org) ownXAML(xaml string, i int) string {
	if xaml == "" {
		return ""
	}
	id := strings.ReplaceAll(o.ID("workflow", i), "-", "")
	return xamlClass.ReplaceAllLiteralString(xaml, `x:Class="XrmWorkflow`+id+`"`)
}
