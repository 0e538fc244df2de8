package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const annotationDef = `{"LogicalName":"annotation","EntitySetName":"annotations","PrimaryIdAttribute":"annotationid","Attributes":[
 {"LogicalName":"annotationid","AttributeType":"Uniqueidentifier","AttributeOf":null,"IsValidForRead":true},
 {"LogicalName":"subject","AttributeType":"String","AttributeOf":null,"IsValidForRead":true},
 {"LogicalName":"filename","AttributeType":"String","AttributeOf":null,"IsValidForRead":true},
 {"LogicalName":"filesize","AttributeType":"Integer","AttributeOf":null,"IsValidForRead":true},
 {"LogicalName":"documentbody","AttributeType":"String","AttributeOf":null,"IsValidForRead":true},
 {"LogicalName":"objectid","AttributeType":"Lookup","AttributeOf":null,"IsValidForRead":true},
 {"LogicalName":"objectidtypecode","AttributeType":"EntityName","AttributeOf":"objectid","IsValidForRead":true}]}`

const contactDef = `{"LogicalName":"contact","EntitySetName":"contacts","PrimaryIdAttribute":"contactid","Attributes":[
 {"LogicalName":"contactid","AttributeType":"Uniqueidentifier","AttributeOf":null,"IsValidForRead":true},
 {"LogicalName":"fullname","AttributeType":"String","AttributeOf":null,"IsValidForRead":true}]}`

// waits records the sleeps the retry policy asked for.
type waits struct{ d []time.Duration }

func (w *waits) sleep(_ context.Context, d time.Duration) error {
	w.d = append(w.d, d)
	return nil
}

func pageSteps(t *testing.T, bodies ...json.RawMessage) []step {
	t.Helper()
	var out []step
	for _, b := range bodies {
		out = append(out, step{status: http.StatusOK, body: string(b)})
	}
	return out
}

// BR10: a three-page chain whose links must be followed exactly as given.
func TestNextLinkChainFollowedVerbatimBR10(t *testing.T) {
	var fx struct {
		Pages []json.RawMessage `json:"pages"`
	}
	if err := json.Unmarshal(readFixture(t, "br10_nextlink_chain_three_pages.json"), &fx); err != nil {
		t.Fatal(err)
	}
	f := newFakeDV(t)
	f.entities["annotation"] = annotationDef
	f.sets["annotations"] = &fakeSet{script: pageSteps(t, fx.Pages...)}
	f.totals["annotation"] = 3
	dir := t.TempDir()

	m, err := Run(context.Background(), f.config(dir, "annotation"))
	if err != nil {
		t.Fatal(err)
	}
	tm := m.Tables["annotation"]
	if tm.Rows != 3 || tm.Pages != 3 || tm.SourceCount != 3 || tm.Status != StatusComplete {
		t.Fatalf("manifest = %+v", tm)
	}
	first := f.dataReqs[0]
	if strings.Contains(first, "documentbody") || !strings.Contains(first, "$count=true") ||
		!strings.Contains(first, "_objectid_value") {
		t.Errorf("first request = %s", first)
	}
	if len(f.dataReqs) != 3 {
		t.Errorf("data requests = %d, want 3", len(f.dataReqs))
	}
	db := openDuck(t)
	rows, err := db.Query(`select _objectid_value__lookuplogicalname, count(*) from '` +
		filepath.Join(dir, "tables/annotation/*.parquet") + `' group by 1 order by 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		rows.Scan(&k, &n)
		got[k] = n
	}
	if got["incident"] != 2 || got["contact"] != 1 {
		t.Errorf("notes by target = %v, want incident 2, contact 1", got)
	}
}

// BR07: two 429s with Retry-After 7 and 1 on the same next link.
func TestRetryAfterHonouredWithSameURLBR07(t *testing.T) {
	var fx struct {
		Exchanges []struct {
			Response struct {
				Status  int               `json:"status"`
				Headers map[string]string `json:"headers"`
				Body    json.RawMessage   `json:"body"`
			} `json:"response"`
		} `json:"exchanges"`
	}
	if err := json.Unmarshal(readFixture(t, "br07_dataverse_429_retry_after_sequence.json"), &fx); err != nil {
		t.Fatal(err)
	}
	f := newFakeDV(t)
	f.entities["incident"] = `{"LogicalName":"incident","EntitySetName":"incidents","PrimaryIdAttribute":"incidentid","Attributes":[
	 {"LogicalName":"incidentid","AttributeType":"Uniqueidentifier"},{"LogicalName":"title","AttributeType":"String"},
	 {"LogicalName":"ticketnumber","AttributeType":"String"}]}`
	var script []step
	for _, ex := range fx.Exchanges {
		script = append(script, step{status: ex.Response.Status, headers: ex.Response.Headers, body: string(ex.Response.Body)})
	}
	f.sets["incidents"] = &fakeSet{script: script}
	cfg := f.config(t.TempDir(), "incident")
	cfg.MaxPageSize = 2
	w := &waits{}
	cfg.Retry.sleep = w.sleep
	var logs bytes.Buffer
	cfg.Logger = captureLog(&logs)

	m, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m.Tables["incident"].Rows != 3 {
		t.Errorf("rows = %d, want 3", m.Tables["incident"].Rows)
	}
	if len(w.d) != 2 || w.d[0] < 7*time.Second || w.d[1] < time.Second {
		t.Errorf("waits = %v, want at least [7s 1s]", w.d)
	}
	if f.dataReqs[1] != f.dataReqs[2] || f.dataReqs[2] != f.dataReqs[3] {
		t.Errorf("retried URLs differ: %q", f.dataReqs[1:])
	}
	if !strings.Contains(logs.String(), "0x80072326 (concurrency limit)") || strings.Contains(logs.String(), "skiptoken") {
		t.Errorf("retry logs should name the limit and keep URLs out:\n%s", logs.String())
	}
	for _, p := range f.prefers {
		if !strings.Contains(p, "odata.maxpagesize=2") || !strings.Contains(p, `odata.include-annotations="*"`) {
			t.Errorf("Prefer = %q", p)
		}
	}
}

// BR08: a page size above 5000 is never asked for; every page is followed.
func TestPageSizeCappedAndAllPagesReadBR08(t *testing.T) {
	var fx struct {
		Pages []struct {
			Body json.RawMessage `json:"body"`
		} `json:"pages"`
	}
	if err := json.Unmarshal(readFixture(t, "br08_maxpagesize_above_5000.json"), &fx); err != nil {
		t.Fatal(err)
	}
	f := newFakeDV(t)
	f.entities["contact"] = contactDef
	f.sets["contacts"] = &fakeSet{script: pageSteps(t, fx.Pages[0].Body, fx.Pages[1].Body)}
	cfg := f.config(t.TempDir(), "contact")
	cfg.MaxPageSize = 10000

	m, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tm := m.Tables["contact"]; tm.Pages != 2 || tm.Rows != 4 {
		t.Errorf("pages = %d rows = %d, want 2 pages, 4 rows (fixture trims each page to 2)", tm.Pages, tm.Rows)
	}
	if !strings.Contains(f.prefers[0], "odata.maxpagesize=5000") || f.prefers[0] != f.prefers[1] {
		t.Errorf("Prefer headers = %q", f.prefers)
	}
}

func TestServerErrorsTimeoutsAndDroppedConnectionsRetried(t *testing.T) {
	f := newFakeDV(t)
	addIncident(f, 2)
	f.faults[0] = step{status: http.StatusServiceUnavailable, body: `{"error":{"code":"","message":"busy"}}`}
	f.faults[1] = step{drop: true}
	f.faults[3] = step{status: http.StatusGatewayTimeout}
	f.faults[4] = step{status: http.StatusTooManyRequests, headers: map[string]string{"Retry-After": "2"},
		body: `{"error":{"code":"0x80072326","message":"Number of concurrent requests exceeded the limit of 52."}}`}
	f.faults[5] = step{delay: 300 * time.Millisecond}
	cfg := f.config(t.TempDir(), "incident")
	cfg.Retry.AttemptTimeout = 100 * time.Millisecond
	w := &waits{}
	cfg.Retry.sleep = w.sleep

	m, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m.Tables["incident"].Rows != 3 {
		t.Errorf("rows = %d", m.Tables["incident"].Rows)
	}
	if len(f.dataReqs) != 7 || f.dataReqs[3] != f.dataReqs[6] || f.dataReqs[0] != f.dataReqs[2] {
		t.Errorf("requests = %q", f.dataReqs)
	}
	if len(w.d) != 5 || w.d[3] < 2*time.Second {
		t.Errorf("waits = %v", w.d)
	}
}

func TestGivesUpNamingTableAndPage(t *testing.T) {
	f := newFakeDV(t)
	addIncident(f, 2)
	for i := 1; i < 10; i++ {
		f.faults[i] = step{status: http.StatusInternalServerError, body: `{"error":{"code":"0x80040216","message":"boom"}}`}
	}
	dir := t.TempDir()
	cfg := f.config(dir, "incident")
	cfg.Retry.MaxAttempts = 3

	m, err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "incident page 1") || !strings.Contains(err.Error(), "3 attempts") {
		t.Fatalf("err = %v", err)
	}
	if len(f.dataReqs) != 4 {
		t.Errorf("data requests = %d, want 1 + 3 attempts", len(f.dataReqs))
	}
	tm := m.Tables["incident"]
	if tm.Status != StatusFailed || tm.Rows != 2 || tm.Pages != 1 || m.Complete {
		t.Errorf("manifest = %+v complete=%v", tm, m.Complete)
	}
}

func TestNonRetryableErrorFailsAtOnce(t *testing.T) {
	f := newFakeDV(t)
	addIncident(f, 2)
	f.faults[0] = step{status: http.StatusForbidden, body: `{"error":{"code":"0x80040220","message":"Principal user is missing prvReadIncident privilege"}}`}
	_, err := Run(context.Background(), f.config(t.TempDir(), "incident"))
	if err == nil || !strings.Contains(err.Error(), "HTTP 403 0x80040220") || len(f.dataReqs) != 1 {
		t.Fatalf("err = %v after %d requests", err, len(f.dataReqs))
	}
}

func TestAbsentTableIsRecordedNotFailed(t *testing.T) {
	f := newFakeDV(t)
	addIncident(f, 5000)
	dir := t.TempDir()
	m, err := Run(context.Background(), f.config(dir, "incident", "msdyn_ocliveworkitem"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Tables["msdyn_ocliveworkitem"]; got.Status != StatusAbsent || got.SourceCount != -1 || len(got.Files) != 0 {
		t.Errorf("absent entry = %+v", got)
	}
	if m.Tables["incident"].Status != StatusComplete || !m.Complete {
		t.Errorf("manifest = %+v", m)
	}
}

// A next link to another host would carry the bearer token away.
func TestNextLinkOutsideOrgRefused(t *testing.T) {
	f := newFakeDV(t)
	f.entities["contact"] = contactDef
	f.sets["contacts"] = &fakeSet{script: []step{{status: http.StatusOK, body: `{"value":[
	  {"contactid":"00000000-0000-4000-8000-000000000001","fullname":"A"}],
	  "@odata.nextLink":"https://evil.example.com/api/data/v9.2/contacts?$skiptoken=x"}`}}}
	_, err := Run(context.Background(), f.config(t.TempDir(), "contact"))
	if err == nil || !strings.Contains(err.Error(), "outside the org") || !strings.Contains(err.Error(), "page 1") {
		t.Fatalf("err = %v", err)
	}
}

func TestOrgHostFoldsAPIForm(t *testing.T) {
	if orgHost("Contoso.API.crm4.dynamics.com") != "contoso.crm4.dynamics.com" ||
		orgHost("contoso.crm.dynamics.com") != "contoso.crm.dynamics.com" ||
		orgHost("api.example.com") != "api.example.com" {
		t.Error("orgHost")
	}
}

// The three service-protection answers, byte for byte as documented: each
// is waited out for its Retry-After and the same request is sent again.
func TestServiceProtectionErrorsRetried(t *testing.T) {
	var fx struct {
		Responses []struct {
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
			Body    json.RawMessage   `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(readFixture(t, "msdocs_service_protection_429_errors.json"), &fx); err != nil {
		t.Fatal(err)
	}
	f := newFakeDV(t)
	addIncident(f, 5000)
	for i, r := range fx.Responses {
		f.faults[i] = step{status: r.Status, headers: r.Headers, body: string(r.Body)}
	}
	cfg := f.config(t.TempDir(), "incident")
	w := &waits{}
	cfg.Retry.sleep = w.sleep
	m, err := Run(context.Background(), cfg)
	if err != nil || m.Tables["incident"].Rows != 3 {
		t.Fatalf("err = %v, manifest = %+v", err, m.Tables["incident"])
	}
	want := []time.Duration{35 * time.Second, 120 * time.Second, 5 * time.Second}
	if fmt.Sprint(w.d) != fmt.Sprint(want) {
		t.Errorf("waits = %v, want %v", w.d, want)
	}
	for _, u := range f.dataReqs[1:] {
		if u != f.dataReqs[0] {
			t.Errorf("retried %s, first was %s", u, f.dataReqs[0])
		}
	}
}
