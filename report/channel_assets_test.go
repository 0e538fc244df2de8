package report

import (
	"context"
	"strings"
	"testing"
)

// A telephony integration's recording link on a phone call is listed
// without its query string (which may hold a signature), on the
// conversation of the case the call regards.
func TestChannelAssetsPhonecallRecordingLink(t *testing.T) {
	db := invFixture(t, `create schema src`, `create schema stage`,
		`create table src.phonecall as select * from (values
			('p1', 'https://rec.example.com/calls/p1.mp3?sig=SECRET', 'i1', 'incident'),
			('p2', null, 'i1', 'incident'),
			('p3', 'not a link', 'i2', 'incident'))
			t(activityid, new_recordingurl, _regardingobjectid_value, _regardingobjectid_value__lookuplogicalname)`,
		`create table src.incident as select 'i1' as incidentid, 'CAS-1' as ticketnumber`,
		`create table stage.conversations as select 'i1' as source_id`)

	doc, err := ChannelAssets(context.Background(), db, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{channelAssetsHeader, {"phonecall_recording_link", "phonecall", "p1", "", "",
		"recording link in phonecall.new_recordingurl", "https://rec.example.com/calls/p1.mp3", "phonecall", "p1",
		"i1", "CAS-1", "conversation", "i1"}}
	if got, w := csvText(doc.CSV), csvText(want); got != w {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, w)
	}
	if strings.Contains(doc.Markdown, "SECRET") || strings.Contains(csvText(doc.CSV), "SECRET") {
		t.Error("the link's query string leaked into the report")
	}
	for _, w := range []string{"larger than 10.0 MiB (10485760 bytes)", "## Phone-call recording links (1)",
		"None found in the snapshot (no msdyn_ocrecording table)."} {
		if !strings.Contains(doc.Markdown, w) {
			t.Errorf("markdown lacks %q:\n%s", w, doc.Markdown)
		}
	}
}

// Only active entitlements are listed, each with its channels' terms.
func TestSLAInventoryActiveEntitlements(t *testing.T) {
	db := invFixture(t, `create schema src`,
		`create table src.entitlement as select * from (values
			('e1', 'Gold support', 1, 'Active', 'a1', 'account', 'Acme', 1, 'Number of hours', 40.00, 12.50,
			 date '2025-01-01', date '2026-01-01', 'Premium SLA'),
			('e2', 'Old support', 3, 'Expired', 'a1', 'account', 'Acme', 0, 'Number of cases', 10.00, 0.00,
			 date '2023-01-01', date '2024-01-01', 'Standard SLA'))
			t(entitlementid, name, statecode, statecode__label, _customerid_value,
			  _customerid_value__lookuplogicalname, _customerid_value__formatted, allocationtypecode,
			  allocationtypecode__label, totalterms, remainingterms, startdate, enddate, _slaid_value__formatted)`,
		`create table src.entitlementchannel as select * from (values
			('e1', 'Phone', 1, 5.00, 2.00), ('e1', 'Email', 2, 20.00, 20.00))
			t(_entitlementid_value, name, channel, totalterms, remainingterms)`)

	doc, err := SLAInventory(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.CSV) != 2 {
		t.Fatalf("CSV = %v, want one entitlement line", doc.CSV)
	}
	e := invCSVRow(t, doc.CSV, "id", "e1")
	for col, want := range map[string]string{"kind": "entitlement", "customer": "Acme (account)",
		"allocation": "Number of hours", "total_terms": "40.00", "remaining_terms": "12.50",
		"start_date": "2025-01-01", "end_date": "2026-01-01", "sla": "Premium SLA",
		"channels": "Phone 2.00/5.00; Email 20.00/20.00"} {
		if e[col] != want {
			t.Errorf("%s = %q, want %q", col, e[col], want)
		}
	}
	for _, w := range []string{"All entitlements by state: Active 1, Expired 1.", "## Entitlements (1 active)",
		"None found in the snapshot (no sla table)."} {
		if !strings.Contains(doc.Markdown, w) {
			t.Errorf("markdown lacks %q:\n%s", w, doc.Markdown)
		}
	}
}
