package dataversetest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

func newTest(t *testing.T, cases int, opt Options) (*Server, *sampleorg.Org) {
	t.Helper()
	org, err := sampleorg.New(sampleorg.Options{Seed: 7, Cases: cases})
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(org, opt)
	t.Cleanup(s.Close)
	return s, org
}

func get(t *testing.T, s *Server, url, tok string, prefer ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for _, p := range prefer {
		req.Header.Add("Prefer", p)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatalf("GET %s: bad JSON %v: %.300s", url, err, b)
		}
	}
	return resp, body
}

func TestOAuthClientCredentialsAndTokenRequired(t *testing.T) {
	s, _ := newTest(t, 50, Options{TenantID: "tenant1", ClientID: "app", ClientSecret: "s3cret"})
	resp, body := get(t, s, s.APIURL()+"WhoAmI", "")
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" || body["error"] == nil {
		t.Fatalf("no token: status %d body %v", resp.StatusCode, body)
	}
	bad := clientcredentials.Config{ClientID: "app", ClientSecret: "wrong", TokenURL: s.URL + "/tenant1/oauth2/v2.0/token"}
	if _, err := bad.Token(context.Background()); err == nil {
		t.Fatal("wrong secret accepted")
	}
	cc := clientcredentials.Config{ClientID: "app", ClientSecret: "s3cret", TokenURL: s.URL + "/tenant1/oauth2/v2.0/token",
		Scopes: []string{s.URL + "/.default"}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp, body = get(t, s, s.APIURL()+"WhoAmI", tok.AccessToken)
	if resp.StatusCode != 200 || body["UserId"] == nil || resp.Header.Get("x-ms-dop-hint") == "" {
		t.Fatalf("WhoAmI: %d %v", resp.StatusCode, body)
	}
}

func TestPagingFollowsNextLinkVerbatim(t *testing.T) {
	s, org := newTest(t, 12000, Options{})
	tok := s.IssueToken()
	n := org.Count("incident")
	for _, tc := range []struct {
		prefer string
		page   int
	}{{"odata.maxpagesize=10000", 5000}, {"odata.maxpagesize=4999", 4999}, {"", 5000}} {
		url := s.APIURL() + "incidents?$select=title,_customerid_value"
		var seen []string
		pages := 0
		for url != "" {
			var prefer []string
			if tc.prefer != "" {
				prefer = append(prefer, tc.prefer)
			}
			resp, body := get(t, s, url, tok, prefer...)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d %v", url, resp.StatusCode, body)
			}
			vals := body["value"].([]any)
			if next, _ := body["@odata.nextLink"].(string); next != "" && len(vals) != tc.page {
				t.Fatalf("prefer %q: page of %d rows, want %d", tc.prefer, len(vals), tc.page)
			}
			for _, v := range vals {
				seen = append(seen, v.(map[string]any)["incidentid"].(string))
			}
			url, _ = body["@odata.nextLink"].(string)
			if url != "" && !strings.Contains(url, "$select=title,_customerid_value") {
				t.Fatalf("nextLink lost the query: %s", url)
			}
			pages++
		}
		if len(seen) != n {
			t.Fatalf("prefer %q: got %d rows want %d", tc.prefer, len(seen), n)
		}
		for i, id := range seen {
			if id != org.ID("incident", i) {
				t.Fatalf("row %d out of order or duplicated", i)
			}
		}
	}
}

func TestSelectCountAnnotations(t *testing.T) {
	s, _ := newTest(t, 6000, Options{})
	tok := s.IssueToken()
	resp, body := get(t, s, s.APIURL()+"incidents?$select=title,statecode,_customerid_value&$count=true", tok, "odata.maxpagesize=3")
	if resp.StatusCode != 200 || body["@odata.count"].(float64) != 5000 {
		t.Fatalf("count: %v", body["@odata.count"])
	}
	row := body["value"].([]any)[0].(map[string]any)
	for k := range row {
		if strings.Contains(k, "@OData.Community") || strings.Contains(k, "@Microsoft.Dynamics") {
			t.Fatalf("annotation %s without Prefer", k)
		}
	}
	if len(row) != 5 { // etag, 3 selected, pk
		t.Fatalf("selected row has %d keys: %v", len(row), row)
	}
	_, body = get(t, s, s.APIURL()+"incidents?$select=title,statecode,_customerid_value", tok, `odata.include-annotations="*"`, "odata.maxpagesize=3")
	row = body["value"].([]any)[0].(map[string]any)
	for _, k := range []string{"statecode@OData.Community.Display.V1.FormattedValue",
		"_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname",
		"_customerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty",
		"_customerid_value@OData.Community.Display.V1.FormattedValue"} {
		if row[k] == nil {
			t.Fatalf("missing %s in %v", k, row)
		}
	}
	nav := row["_customerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"].(string)
	if nav != "customerid_"+row["_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"].(string) {
		t.Fatalf("nav property %s", nav)
	}
	resp, body = get(t, s, s.APIURL()+"incidents?$select=nosuchcolumn", tok)
	if resp.StatusCode != 400 || body["error"].(map[string]any)["code"] != "0x80060888" {
		t.Fatalf("bad select: %d %v", resp.StatusCode, body)
	}
	resp, _ = get(t, s, s.APIURL()+"acounts", tok)
	if resp.StatusCode != 404 {
		t.Fatalf("unknown set: %d", resp.StatusCode)
	}
}

// TestShapeMatchesRealPage compares a page with the real maxpagesize=2
// sample from the Learn docs: same keys per row, nextLink with a cookie.
func TestShapeMatchesRealPage(t *testing.T) {
	raw, err := os.ReadFile("testdata/msdocs2024_contacts_maxpagesize2_page1.json")
	if err != nil {
		t.Fatal(err)
	}
	var real map[string]any
	if err := json.Unmarshal(raw, &real); err != nil {
		t.Fatal(err)
	}
	s, _ := newTest(t, 50, Options{})
	_, body := get(t, s, s.APIURL()+"contacts?$select=fullname", s.IssueToken(), "odata.maxpagesize=2")
	for k := range real {
		if body[k] == nil {
			t.Fatalf("missing envelope key %s", k)
		}
	}
	rr, mr := real["value"].([]any)[0].(map[string]any), body["value"].([]any)[0].(map[string]any)
	for k := range rr {
		if mr[k] == nil {
			t.Fatalf("row lacks %s: %v", k, mr)
		}
	}
	if len(rr) != len(mr) {
		t.Fatalf("row keys %v vs real %v", mr, rr)
	}
	if !strings.Contains(body["@odata.nextLink"].(string), "$skiptoken=%3Ccookie%20pagenumber%3D%222%22") ||
		!strings.HasSuffix(body["@odata.context"].(string), "$metadata#contacts(fullname)") {
		t.Fatalf("envelope %v", body)
	}
}

func TestThrottle429(t *testing.T) {
	s, _ := newTest(t, 20, Options{RequestsPerWindow: 3})
	tok := s.IssueToken()
	for i := 0; i < 3; i++ {
		if resp, _ := get(t, s, s.APIURL()+"WhoAmI", tok); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	resp, body := get(t, s, s.APIURL()+"WhoAmI", tok)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("want 429 with Retry-After, got %d %v", resp.StatusCode, resp.Header)
	}
	e := body["error"].(map[string]any)
	if e["code"] != "0x80072322" || e["message"] != "Number of requests exceeded the limit of 3 over time window of 300 seconds." {
		t.Fatalf("error body %v", e)
	}
	if s.Requests() != 4 || s.Throttled() != 1 {
		t.Fatalf("counters %d %d", s.Requests(), s.Throttled())
	}
}

func TestEntityDefinitionsMatchXML(t *testing.T) {
	s, org := newTest(t, 20, Options{})
	tok := s.IssueToken()
	_, body := get(t, s, s.APIURL()+"EntityDefinitions(LogicalName='incident')?$select=LogicalName,EntitySetName&$expand=Attributes($select=LogicalName,AttributeType,AttributeOf,IsValidForRead)", tok)
	attrs := body["Attributes"].([]any)
	if body["EntitySetName"] != "incidents" || len(attrs) != len(org.Entity("incident").Attributes) {
		t.Fatalf("entity %v attrs %d", body["EntitySetName"], len(attrs))
	}
	_, body = get(t, s, s.APIURL()+"EntityDefinitions(LogicalName='incident')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata?$select=LogicalName&$expand=OptionSet", tok)
	st := body["value"].([]any)[0].(map[string]any)
	opts := st["OptionSet"].(map[string]any)["Options"].([]any)
	found := false
	for _, o := range opts {
		m := o.(map[string]any)
		if m["Value"].(float64) == 1000 && m["State"].(float64) == 1 {
			found = true
		}
	}
	if !found {
		t.Fatalf("status 1000 (state 1) missing: %v", opts)
	}
	_, body = get(t, s, s.APIURL()+"EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='birthdate')", tok)
	if body["DateTimeBehavior"].(map[string]any)["Value"] != "DateOnly" || body["@odata.type"] != "#Microsoft.Dynamics.CRM.DateTimeAttributeMetadata" {
		t.Fatalf("birthdate %v", body)
	}
	_, body = get(t, s, s.APIURL()+"EntityDefinitions?$select=LogicalName&$filter=LogicalName%20eq%20'email'", tok)
	if len(body["value"].([]any)) != 1 {
		t.Fatalf("filter %v", body)
	}
	_, body = get(t, s, s.APIURL()+"RetrieveTotalRecordCount(EntityNames=@p)?@p=['incident','contact']", tok)
	c := body["EntityRecordCountCollection"].(map[string]any)
	if c["Values"].([]any)[0].(float64) != 20 {
		t.Fatalf("RetrieveTotalRecordCount %v", c)
	}
}
