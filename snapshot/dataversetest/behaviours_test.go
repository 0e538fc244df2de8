package dataversetest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

func post(t *testing.T, s *Server, action, tok string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.APIURL()+action, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func rawGet(t *testing.T, url, tok string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp, b
}

// The large attachment of a 2000-case org comes back identical through
// $value and through InitializeAttachmentBlocksDownload + DownloadBlock.
func TestBinaryValueAndBlockDownload(t *testing.T) {
	s, org := newTest(t, sampleorg.LargeFileThreshold, Options{})
	tok := s.IssueToken()
	_, body := get(t, s, s.APIURL()+"activitymimeattachments?$select=filename,filesize,_objectid_value&$filter=filesize%20gt%205000000", tok)
	rows := body["value"].([]any)
	if len(rows) != 1 {
		t.Fatalf("want one large attachment, got %d", len(rows))
	}
	att := rows[0].(map[string]any)
	id, size := att["activitymimeattachmentid"].(string), int64(att["filesize"].(float64))
	if size < 5<<20 || size > 20<<20 {
		t.Fatalf("large attachment of %d bytes", size)
	}
	resp, whole := rawGet(t, s.APIURL()+"activitymimeattachments("+id+")/body/$value", tok)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("$value: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	file, err := base64.StdEncoding.DecodeString(string(whole))
	if err != nil || int64(len(file)) != size || !bytes.HasPrefix(file, []byte("%PDF")) {
		t.Fatalf("$value decodes to %d bytes (err %v), want %d PDF bytes", len(file), err, size)
	}
	st, init := post(t, s, "InitializeAttachmentBlocksDownload", tok, map[string]any{
		"Target": map[string]any{"activitymimeattachmentid": id, "@odata.type": "Microsoft.Dynamics.CRM.activitymimeattachment"}})
	if st != 200 || int64(init["FileSizeInBytes"].(float64)) != size || init["FileName"] == "" {
		t.Fatalf("init: %d %v", st, init)
	}
	var blocks []byte
	for off := int64(0); off < size; off += 4 << 20 {
		st, blk := post(t, s, "DownloadBlock", tok, map[string]any{"Offset": off, "BlockLength": 4 << 20,
			"FileContinuationToken": init["FileContinuationToken"]})
		if st != 200 {
			t.Fatalf("block at %d: %d %v", off, st, blk)
		}
		b, err := base64.StdEncoding.DecodeString(blk["Data"].(string))
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b...)
	}
	if !bytes.Equal(blocks, file) {
		t.Fatal("blocks differ from $value")
	}
	if st, _ := post(t, s, "DownloadBlock", tok, map[string]any{"Offset": 0, "BlockLength": 5 << 20,
		"FileContinuationToken": init["FileContinuationToken"]}); st != 400 {
		t.Fatalf("oversized block: %d", st)
	}
	// Notes: the documented annotation route and InitializeFileBlocksDownload.
	note, _ := org.Row("annotation", org.Count("annotation")-org.Cases()/40-1) // contact note 0, always a file
	nid := note["annotationid"].(string)
	resp, text := rawGet(t, s.APIURL()+"annotations("+nid+")/documentbody/$value", tok)
	if resp.StatusCode != 200 || string(text) != note["documentbody"].(sampleorg.Blob).Base64() {
		t.Fatalf("note $value: %d, %d chars", resp.StatusCode, len(text))
	}
	st, init = post(t, s, "InitializeFileBlocksDownload", tok, map[string]any{"FileAttributeName": "documentbody",
		"Target": map[string]any{"annotationid": nid, "@odata.type": "Microsoft.Dynamics.CRM.annotation"}})
	if st != 200 || init["IsChunkingSupported"] != true || int(init["FileSizeInBytes"].(float64)) != note["filesize"] {
		t.Fatalf("file init: %d %v", st, init)
	}
	if st, _ := post(t, s, "InitializeAnnotationBlocksDownload", tok, map[string]any{
		"Target": map[string]any{"annotationid": org.ID("incident", 0)}}); st != 404 {
		t.Fatalf("unknown note: %d", st)
	}
}

func TestListsOmitBodiesUnlessSelected(t *testing.T) {
	s, _ := newTest(t, 100, Options{})
	tok := s.IssueToken()
	for _, tc := range []struct{ set, col string }{{"annotations", "documentbody"}, {"activitymimeattachments", "body"}} {
		_, body := get(t, s, s.APIURL()+tc.set, tok, "odata.maxpagesize=20")
		for _, v := range body["value"].([]any) {
			if _, ok := v.(map[string]any)[tc.col]; ok {
				t.Fatalf("%s list returned %s without $select", tc.set, tc.col)
			}
		}
		_, body = get(t, s, s.APIURL()+tc.set+"?$select=filename,"+tc.col, tok, "odata.maxpagesize=20")
		found := false
		for _, v := range body["value"].([]any) {
			if b, ok := v.(map[string]any)[tc.col].(string); ok && b != "" {
				if _, err := base64.StdEncoding.DecodeString(b); err != nil {
					t.Fatalf("%s.%s not Base64: %v", tc.set, tc.col, err)
				}
				found = true
			}
		}
		if !found {
			t.Fatalf("%s: $select=%s returned no body", tc.set, tc.col)
		}
	}
}

// readAll follows nextLinks and returns the ids, the tombstones and the delta link.
func readAll(t *testing.T, s *Server, link, tok string, prefer ...string) (ids, deleted []string, delta string) {
	t.Helper()
	for link != "" {
		resp, body := get(t, s, link, tok, prefer...)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", link, resp.StatusCode, body)
		}
		for _, v := range body["value"].([]any) {
			m := v.(map[string]any)
			if m["reason"] == "deleted" {
				deleted = append(deleted, m["id"].(string))
				continue
			}
			ids = append(ids, m["contactid"].(string))
		}
		link, _ = body["@odata.nextLink"].(string)
		if d, _ := body["@odata.deltaLink"].(string); d != "" {
			delta = d
		}
	}
	return ids, deleted, delta
}

func TestChangeTrackingDelta(t *testing.T) {
	s, org := newTest(t, 200, Options{})
	tok := s.IssueToken()
	first := s.APIURL() + "contacts?$select=fullname,modifiedon"
	ids, _, delta := readAll(t, s, first, tok, "odata.track-changes", "odata.maxpagesize=40")
	if len(ids) != org.Count("contact") || !strings.Contains(delta, "$deltatoken=") || !strings.Contains(delta, "$select=fullname,modifiedon") {
		t.Fatalf("initial read: %d rows, delta link %q", len(ids), delta)
	}
	// Nothing changed: an empty delta with a new link.
	got, del, next := readAll(t, s, delta, tok)
	if len(got)+len(del) != 0 || next == "" {
		t.Fatalf("empty delta: %d rows %d tombstones link %q", len(got), len(del), next)
	}
	ch, err := s.Churn("contact", Churn{Inserts: 3, Updates: 5, Deletes: 2})
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]bool{}
	for _, id := range append(ch.Inserted, ch.Updated...) {
		live[id] = true
	}
	for _, id := range ch.Deleted {
		delete(live, id)
	}
	got, del, next = readAll(t, s, delta, tok, "odata.maxpagesize=3")
	if len(got) != len(live) || len(del) != 2 || next == "" {
		t.Fatalf("delta: %d rows %d tombstones, want %d and 2", len(got), len(del), len(live))
	}
	for _, id := range got {
		if !live[id] {
			t.Fatalf("delta row %s was not changed", id)
		}
	}
	if strings.Join(del, ",") != strings.Join(ch.Deleted, ",") {
		t.Fatalf("tombstones %v want %v", del, ch.Deleted)
	}
	resp, cnt := rawGet(t, s.APIURL()+"contacts/$count?$deltatoken="+strings.SplitN(delta, "$deltatoken=", 2)[1], tok)
	if resp.StatusCode != 200 || strings.TrimSpace(string(cnt)) != fmt.Sprint(len(live)+2) {
		t.Fatalf("delta count: %d %q", resp.StatusCode, cnt)
	}
	// The full read now sees the inserts, not the deletes.
	ids, _, _ = readAll(t, s, first, tok, "odata.maxpagesize=40")
	if len(ids) != org.Count("contact")+3-2 {
		t.Fatalf("after churn: %d rows want %d", len(ids), org.Count("contact")+1)
	}
	resp, body := get(t, s, s.APIURL()+"contacts?$select=fullname&$filter=statecode%20eq%200", tok, "odata.track-changes")
	if resp.StatusCode != 400 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "$filter") {
		t.Fatalf("$filter with track-changes: %d %v", resp.StatusCode, body)
	}
	if resp, _ := get(t, s, s.APIURL()+"languagelocale?$select=name", tok, "odata.track-changes"); resp.StatusCode != 400 {
		t.Fatalf("untracked table: %d", resp.StatusCode)
	}
	s.ExpireDeltaTokens()
	resp, body = get(t, s, next, tok)
	if resp.StatusCode != 400 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "full sync") {
		t.Fatalf("expired token: %d %v", resp.StatusCode, body)
	}
}

// Rows inserted and deleted between the pages of one read: keyset paging
// never repeats a row, inserts at the end are seen, and the delta token
// taken at the first page reports every change made during the read.
func TestChurnBetweenPages(t *testing.T) {
	s, org := newTest(t, 200, Options{PageChurn: Churn{Inserts: 1, Updates: 1, Deletes: 1}})
	tok := s.IssueToken()
	ids, _, delta := readAll(t, s, s.APIURL()+"contacts?$select=fullname", tok, "odata.track-changes", "odata.maxpagesize=25")
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("row %s read twice", id)
		}
		seen[id] = true
	}
	pages := (org.Count("contact") + 24) / 25
	if len(ids) < org.Count("contact")-pages || len(ids) > org.Count("contact")+pages {
		t.Fatalf("read %d rows of %d with churn", len(ids), org.Count("contact"))
	}
	got, del, _ := readAll(t, s, delta, tok)
	if len(got) == 0 || len(del) == 0 {
		t.Fatalf("changes during the read not in the delta: %d rows %d tombstones", len(got), len(del))
	}
}

func TestChurnAtIsDeterministic(t *testing.T) {
	run := func() Changed {
		s, _ := newTest(t, 100, Options{})
		a, _ := s.Churn("incident", Churn{Inserts: 2, Updates: 4, Deletes: 3})
		return a
	}
	a, b := run(), run()
	if strings.Join(a.Updated, ",")+strings.Join(a.Deleted, ",") != strings.Join(b.Updated, ",")+strings.Join(b.Deleted, ",") {
		t.Fatal("churn picked different rows on the same org")
	}
	s, _ := newTest(t, 100, Options{ChurnAt: map[int64]map[string]Churn{2: {"incident": {Deletes: 5}}}})
	tok := s.IssueToken()
	resp, cnt := rawGet(t, s.APIURL()+"incidents/$count", tok)
	resp2, cnt2 := rawGet(t, s.APIURL()+"incidents/$count", tok)
	if resp.StatusCode != 200 || resp2.StatusCode != 200 || string(cnt) != "100" || string(cnt2) != "95" {
		t.Fatalf("counts around ChurnAt: %q then %q", cnt, cnt2)
	}
}

func TestBurstDropAndSlowPages(t *testing.T) {
	s, _ := newTest(t, 100, Options{Burst: Burst{Every: 5, Length: 2, Status: 502}})
	tok := s.IssueToken()
	var codes []int
	for i := 0; i < 10; i++ {
		resp, _ := get(t, s, s.APIURL()+"WhoAmI", tok)
		codes = append(codes, resp.StatusCode)
	}
	want := []int{200, 200, 200, 502, 502, 200, 200, 200, 502, 502}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("burst codes %v want %v", codes, want)
		}
	}

	s, _ = newTest(t, 100, Options{DropEvery: 2})
	tok = s.IssueToken()
	link := s.APIURL() + "contacts?$select=fullname"
	for i := 1; i <= 2; i++ {
		req, _ := http.NewRequest("GET", link, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Prefer", "odata.maxpagesize=20")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if i == 1 && (err != nil || !json.Valid(b)) {
			t.Fatalf("page 1 should be whole: %v", err)
		}
		if i == 2 && (err == nil || len(b) == 0 || json.Valid(b)) {
			t.Fatalf("page 2 should be cut mid-body: err %v, %d bytes", err, len(b))
		}
	}

	s, _ = newTest(t, 100, Options{SlowEvery: 1, SlowDelay: 300 * time.Millisecond})
	start := time.Now()
	resp, _ := get(t, s, s.APIURL()+"contacts?$select=fullname", s.IssueToken(), "odata.maxpagesize=10")
	if resp.StatusCode != 200 || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("slow page: %d after %v", resp.StatusCode, time.Since(start))
	}
}

func TestCustomDiscoveryAndNewTables(t *testing.T) {
	s, org := newTest(t, 300, Options{})
	tok := s.IssueToken()
	_, body := get(t, s, s.APIURL()+"EntityDefinitions?$select=LogicalName&$filter=IsCustomEntity%20eq%20true", tok)
	if v := body["value"].([]any); len(v) != 1 || v[0].(map[string]any)["LogicalName"] != "new_warrantyclaim" {
		t.Fatalf("custom entities %v", body["value"])
	}
	for table, col := range map[string]string{"incident": "new_productserial", "contact": "new_loyaltytier"} {
		_, body = get(t, s, s.APIURL()+"EntityDefinitions(LogicalName='"+table+"')/Attributes?$select=LogicalName&$filter=IsCustomAttribute%20eq%20true", tok)
		names := []string{}
		for _, v := range body["value"].([]any) {
			names = append(names, v.(map[string]any)["LogicalName"].(string))
		}
		// The real exports flag first-party msdyn_* columns as custom too (spec §9.4).
		if !strings.Contains(","+strings.Join(names, ",")+",", ","+col+",") {
			t.Fatalf("%s custom attributes %v lack %s", table, names, col)
		}
	}
	_, body = get(t, s, s.APIURL()+"EntityDefinitions?$select=LogicalName&$filter=IsIntersect%20eq%20true", tok)
	if len(body["value"].([]any)) != 3 {
		t.Fatalf("intersect tables %v", body["value"])
	}
	for _, table := range org.Tables() {
		e := org.Entity(table)
		resp, body := get(t, s, s.APIURL()+e.EntitySetName+"?$count=true", tok, `odata.include-annotations="*"`, "odata.maxpagesize=5")
		if resp.StatusCode != 200 || int(body["@odata.count"].(float64)) != min(org.Count(table), 5000) {
			t.Fatalf("%s: %d %v", table, resp.StatusCode, body["@odata.count"])
		}
		_, body = get(t, s, s.APIURL()+"EntityDefinitions(LogicalName='"+table+"')?$select=EntitySetName,PrimaryIdAttribute", tok)
		if body["EntitySetName"] != e.EntitySetName {
			t.Fatalf("%s definition %v", table, body)
		}
	}
	_, body = get(t, s, s.APIURL()+"new_warrantyclaims?$select=new_name,_new_incidentid_value", tok, `odata.include-annotations="*"`, "odata.maxpagesize=1")
	row := body["value"].([]any)[0].(map[string]any)
	if row["_new_incidentid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] != "incident" {
		t.Fatalf("custom lookup %v", row)
	}
}
