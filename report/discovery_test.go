package report

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func present(n int64, customCols ...string) DiscoveryTable {
	return DiscoveryTable{Checked: true, Present: true, Count: n, SourceCount: n, CustomColumns: customCols}
}

var absentTable = DiscoveryTable{Checked: true, Count: -1, SourceCount: -1}

// discoveryFixture is a small org without Omnichannel: nested categories,
// SLAs and entitlements, one custom table.
func discoveryFixture() DiscoveryInput {
	claims := present(40, "new_amount")
	claims.Custom = true
	return DiscoveryInput{
		Source: "https://contoso.crm.dynamics.com",
		Tables: map[string]DiscoveryTable{
			"incident": present(1000), "contact": present(400, "new_tier"), "account": present(100, "new_a", "new_b"),
			"email": present(3000), "phonecall": present(50), "task": present(20), "appointment": present(10),
			"knowledgearticle": present(30), "category": present(12), "queue": present(5),
			"entitlement": present(7), "sla": present(3), "slaitem": present(6),
			"activitymimeattachment": present(80), "workflow": present(9),
			"msdyn_ocliveworkitem": absentTable, "msdyn_ocsession": absentTable, "msdyn_transcript": absentTable,
			"new_claim": claims,
		},
		Queues:        DiscoveryQueues{Total: 5, Public: 4, Private: 1, Active: 5},
		SLAs:          []DiscoverySLA{{"Premium SLA", true}, {"Standard SLA", true}, {"Web SLA", false}},
		Entitlements:  DiscoveryEntitlements{Total: 7, Active: 4},
		CategoryDepth: 3,
		Flows:         []DiscoveryFlows{{Category: 0, Total: 3, Activated: 2}, {Category: 5, Total: 6, Activated: 6}},
		Routing: []DiscoveryCheck{
			{What: "workstreams", Detail: "table absent"},
			{What: "advanced queues", Detail: "0 Omnichannel queues"},
		},
		RatePerMinute: 600,
	}
}

func csvRow(t *testing.T, doc Doc, section, name string) []string {
	t.Helper()
	for _, r := range doc.CSV[1:] {
		if r[0] == section && r[1] == name {
			return r
		}
	}
	t.Fatalf("no CSV row %s/%s in %v", section, name, doc.CSV)
	return nil
}

func TestDiscoveryDocObjects(t *testing.T) {
	doc := DiscoveryDoc(discoveryFixture())

	if doc.Name != "discovery" || doc.CSV[0][0] != "section" {
		t.Fatalf("name %q header %v", doc.Name, doc.CSV[0])
	}
	cases := []struct {
		object               string
		count, verdict, want string
	}{
		{"case → conversation", "1000", "go", "1:1"},
		{"contact → user / lead", "400", "go", "1:1 (user with an e-mail"},
		{"phone call → note", "50", "go", "1:1"},
		{"category → collection", "12", "partial", "try the 3 levels here"},
		{"queue → team", "5", "partial", "teams must exist in Intercom (cannot be created by API)"},
		{"custom column → custom attribute", "3", "go", "1:1 as data attributes"},
		{"flow → inventory only", "9", "no-go", "not migrated, inventoried"},
		{"Omnichannel conversation → conversation with transcript", "absent", "partial", "transcript text"},
		{"custom table row → none", "40", "no-go", "not migrated"},
	}
	for _, c := range cases {
		t.Run(c.object, func(t *testing.T) {
			r := csvRow(t, doc, "object", c.object)
			if r[2] != c.count || r[3] != c.verdict || !strings.Contains(r[4], c.want) {
				t.Errorf("row %v, want count %s, %s: …%s…", r, c.count, c.verdict, c.want)
			}
			md := fmt.Sprintf("| %s | %s | %s: ", strings.Replace(c.object, " → ", " | ", 1), c.count, c.verdict)
			if !strings.Contains(doc.Markdown, md) {
				t.Errorf("markdown lacks %q", md)
			}
		})
	}
}

// Requests: 4 per case, 2 per contact, 1 per account, e-mail, call, task,
// appointment, article, category and custom column, plus 3 workspace lists.
func TestDiscoveryDocAPITime(t *testing.T) {
	in := discoveryFixture()
	const requests = 4*1000 + 2*400 + 100 + 3000 + 50 + 20 + 10 + 30 + 12 + 3 + 3

	doc := DiscoveryDoc(in)

	// 8028 requests at 600 a minute: 13.38 minutes, 802.8 s, 13m23s.
	want := []string{"total", "requests", "8028", "", "13m23s at 600 per minute"}
	if got := csvRow(t, doc, "total", "requests"); requests != 8028 || !slices.Equal(got, want) {
		t.Errorf("total row %v, want %v", got, want)
	}
	if got := csvRow(t, doc, "requests", "case"); got[2] != "4000" || got[4] != "4 per object" {
		t.Errorf("case requests %v", got)
	}
	// Cases, contacts, accounts, e-mails, calls, tasks, appointments; the
	// categories are partial here (nested), so they stay out.
	if got := csvRow(t, doc, "total", "one-to-one rows"); got[2] != "4580" {
		t.Errorf("one-to-one rows %v, want 4580", got)
	}
	if !strings.Contains(doc.Markdown, "4580 source rows map one-to-one") ||
		!strings.Contains(doc.Markdown, "8028 requests (3 of them workspace lists) at 600 per minute take 13m23s") {
		t.Errorf("markdown lacks the totals:\n%s", doc.Markdown)
	}

	in.RatePerMinute = 10000
	if got := csvRow(t, DiscoveryDoc(in), "total", "requests"); got[4] != "48s at 10000 per minute" {
		t.Errorf("at 10000/min: %v", got)
	}
}

func TestDiscoveryDocTierSigns(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(*DiscoveryInput)
		signs   map[string]string
		reading string
	}{
		{"SLAs and entitlements, no Omnichannel", func(*DiscoveryInput) {},
			map[string]string{"Omnichannel": "not found", "Unified routing": "not found", "SLAs": "found", "Entitlements": "found"},
			"SLAs or entitlements are in use"},
		{"Omnichannel present", func(in *DiscoveryInput) {
			in.Tables["msdyn_ocliveworkitem"] = present(250)
		}, map[string]string{"Omnichannel": "found"}, "Omnichannel or unified routing is in use"},
		{"workstreams in use", func(in *DiscoveryInput) {
			in.Routing[0] = DiscoveryCheck{What: "workstreams", Found: true, Detail: "table present, 4 rows"}
		}, map[string]string{"Unified routing": "found", "Omnichannel": "not found"}, "Omnichannel or unified routing is in use"},
		{"case management only", func(in *DiscoveryInput) {
			in.Tables["sla"], in.Tables["entitlement"] = present(0), absentTable
		}, map[string]string{"SLAs": "not found", "Entitlements": "not found"}, "nothing here needs more than Professional"},
		{"counts unknown", func(in *DiscoveryInput) {
			delete(in.Tables, "msdyn_ocliveworkitem")
			delete(in.Tables, "msdyn_ocsession")
			delete(in.Tables, "msdyn_transcript")
			in.Tables["sla"] = present(-1)
		}, map[string]string{"Omnichannel": "unknown", "SLAs": "unknown"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := discoveryFixture()
			c.edit(&in)

			doc := DiscoveryDoc(in)

			for sign, status := range c.signs {
				if got := csvRow(t, doc, "sign", sign); got[3] != status {
					t.Errorf("%s: %v, want %s", sign, got, status)
				}
			}
			if !strings.Contains(doc.Markdown, c.reading) {
				t.Errorf("markdown lacks %q", c.reading)
			}
		})
	}
}

func TestDiscoveryDocLimitsAndUnknowns(t *testing.T) {
	in := discoveryFixture()
	many := make([]string, 260)
	for i := range many {
		many[i] = fmt.Sprintf("new_col%03d", i)
	}
	in.Tables["contact"] = present(400, many...)
	in.Tables["email"] = present(-1)
	in.CategoryDepth = 1

	doc := DiscoveryDoc(in)

	if r := csvRow(t, doc, "object", "custom column → custom attribute"); r[2] != "262" || r[3] != "partial" ||
		!strings.Contains(r[4], "contacts or companies need 260") {
		t.Errorf("custom columns over the limit: %v", r)
	}
	if r := csvRow(t, doc, "object", "email → conversation part"); r[2] != "unknown" {
		t.Errorf("email with no count: %v", r)
	}
	if r := csvRow(t, doc, "requests", "email"); r[2] != "0" {
		t.Errorf("email requests with no count: %v", r)
	}
	if r := csvRow(t, doc, "object", "category → collection"); r[3] != "go" {
		t.Errorf("flat categories: %v", r)
	}
	if r := csvRow(t, doc, "table", "new_claim"); r[4] != "custom table; custom columns: new_amount" {
		t.Errorf("custom table row: %v", r)
	}
	for _, want := range []string{"- Queues: 5 (4 public, 1 private; 5 active).",
		"- SLA definitions: 3: Premium SLA; Standard SLA; Web SLA (not active).",
		"- Entitlements: 7, 4 active.", "| Cloud flow | 6 | 6 |", "| Classic workflow | 3 | 2 |"} {
		if !strings.Contains(doc.Markdown, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}
