package dataversetest

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

func newOmniTest(t *testing.T, cases int, omnichannel bool) (*Server, *sampleorg.Org) {
	t.Helper()
	org, err := sampleorg.New(sampleorg.Options{Seed: 7, Cases: cases, Omnichannel: omnichannel})
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(org, Options{})
	t.Cleanup(s.Close)
	return s, org
}

// Without Omnichannel the msdyn_ tables are missing the way a real org
// lacks them: 404 on EntityDefinitions and on the entity set.
func TestOmnichannelTablesMissingWhenOff(t *testing.T) {
	s, _ := newOmniTest(t, 50, false)
	tok := s.IssueToken()
	for _, tc := range []struct{ table, set string }{
		{"msdyn_ocliveworkitem", "msdyn_ocliveworkitems"}, {"msdyn_ocsession", "msdyn_ocsessions"},
		{"msdyn_transcript", "msdyn_transcripts"}, {"msdyn_ocrecording", "msdyn_ocrecordings"},
	} {
		resp, _ := get(t, s, s.APIURL()+"EntityDefinitions(LogicalName='"+tc.table+"')", tok)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("EntityDefinitions %s: HTTP %d, want 404", tc.table, resp.StatusCode)
		}
		resp, _ = get(t, s, s.APIURL()+tc.set, tok)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: HTTP %d, want 404", tc.set, resp.StatusCode)
		}
	}
}

func TestOmnichannelMetadataAndRows(t *testing.T) {
	s, org := newOmniTest(t, 200, true)
	tok := s.IssueToken()
	_, def := get(t, s, s.APIURL()+"EntityDefinitions(LogicalName='msdyn_ocliveworkitem')/Attributes/Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata?$select=LogicalName&$expand=GlobalOptionSet", tok)
	attrs := def["value"].([]any)
	if len(attrs) != 1 {
		t.Fatalf("multi-select attributes: %v", attrs)
	}
	gos := attrs[0].(map[string]any)["GlobalOptionSet"].(map[string]any)
	if attrs[0].(map[string]any)["LogicalName"] != "msdyn_channel" || gos["Name"] != "msdyn_streamsource" || len(gos["Options"].([]any)) != 17 {
		t.Fatalf("msdyn_channel metadata: %v", attrs[0])
	}
	_, def = get(t, s, s.APIURL()+"EntityDefinitions(LogicalName='msdyn_ocrecording')/Attributes/Microsoft.Dynamics.CRM.FileAttributeMetadata?$select=LogicalName,AttributeType", tok)
	if n := len(def["value"].([]any)); n != 2 {
		t.Fatalf("%d file attributes on msdyn_ocrecording, want 2", n)
	}

	// Lists carry the multi-select as its comma-separated string (spec §15.12)
	// and never the file columns.
	_, body := get(t, s, s.APIURL()+"msdyn_ocliveworkitems?$select=msdyn_channel&$top=1", tok)
	row, _ := org.Row("msdyn_ocliveworkitem", 0)
	want := strconv.Itoa(row["msdyn_channel"].([]int)[0])
	if got := body["value"].([]any)[0].(map[string]any)["msdyn_channel"]; got != want {
		t.Errorf("msdyn_channel = %v, want %q", got, want)
	}
	_, body = get(t, s, s.APIURL()+"msdyn_ocrecordings?$top=1", tok)
	if _, has := body["value"].([]any)[0].(map[string]any)["msdyn_recording"]; has {
		t.Error("a list carries the file column")
	}
	q := url.Values{"$filter": {"objecttypecode eq 'msdyn_transcript'"}, "$count": {"true"}, "$select": {"subject"}}
	_, body = get(t, s, s.APIURL()+"annotations?"+q.Encode(), tok)
	if n := body["@odata.count"]; n != float64(org.Count("msdyn_transcript")) {
		t.Errorf("%v transcript notes, want %d", n, org.Count("msdyn_transcript"))
	}
}

func rangeGet(t *testing.T, u, tok, rng string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// A recording's $value is its raw bytes; Range asks a chunk (spec §12).
func TestRecordingFileValue(t *testing.T) {
	s, org := newOmniTest(t, 200, true)
	tok := s.IssueToken()
	f, ok := org.File("msdyn_ocrecording", "msdyn_recording", 0)
	if !ok {
		t.Fatal("no recording 0")
	}
	whole := make([]byte, f.Size)
	if _, err := f.ReadAt(whole, 0); err != nil {
		t.Fatal(err)
	}
	u := s.APIURL() + "msdyn_ocrecordings(" + org.ID("msdyn_ocrecording", 0) + ")/msdyn_recording/$value"
	size := strconv.FormatInt(f.Size, 10)
	for _, tc := range []struct {
		rng, contentRange string
		status            int
		body              []byte
	}{
		{"", "", http.StatusOK, whole},
		{"bytes=0-0", "bytes 0-0/" + size, http.StatusPartialContent, whole[:1]},
		{"bytes=100-4195", "bytes 100-4195/" + size, http.StatusPartialContent, whole[100:4196]},
		{"bytes=1000-" + strconv.FormatInt(f.Size+5000, 10), "bytes 1000-" + strconv.FormatInt(f.Size-1, 10) + "/" + size,
			http.StatusPartialContent, whole[1000:]},
		{"bytes=" + size + "-", "bytes */" + size, http.StatusRequestedRangeNotSatisfiable, nil},
	} {
		resp, b := rangeGet(t, u, tok, tc.rng)
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Range") != tc.contentRange {
			t.Errorf("Range %q: HTTP %d Content-Range %q, want %d %q", tc.rng, resp.StatusCode,
				resp.Header.Get("Content-Range"), tc.status, tc.contentRange)
			continue
		}
		if tc.body != nil && (!bytes.Equal(b, tc.body) || resp.Header.Get("x-ms-file-size") != size ||
			resp.Header.Get("mimetype") != "audio/mpeg" || resp.Header.Get("x-ms-file-name") != f.Name) {
			t.Errorf("Range %q: %d bytes, headers %v", tc.rng, len(b), resp.Header)
		}
	}
	missing := s.APIURL() + "msdyn_ocrecordings(" + org.ID("msdyn_transcript", 0) + ")/msdyn_recording/$value"
	if resp, _ := rangeGet(t, missing, tok, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown recording: HTTP %d, want 404", resp.StatusCode)
	}
}
