package dataversetest

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawGet returns a page's headers and exact body bytes.
func pageGet(t *testing.T, url, tok, prefer string) (http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Prefer", prefer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d, %v", url, resp.StatusCode, err)
	}
	return resp.Header, b
}

// A cached page is the live page byte for byte, with the same headers; the
// second answer comes from the file, and another Prefer is another page.
func TestPageCacheServesTheLiveBytes(t *testing.T) {
	dir := t.TempDir()
	cached, _ := newTest(t, 60, Options{PageCache: dir})
	live, _ := newTest(t, 60, Options{})
	const prefer = `odata.include-annotations="*",odata.maxpagesize=25`
	path := "incidents?$select=title,statecode,_customerid_value,createdon&$count=true"

	wantH, want := pageGet(t, live.APIURL()+path, live.IssueToken(), prefer)
	gotH, got := pageGet(t, cached.APIURL()+path, cached.IssueToken(), prefer)
	// The two servers differ only in their port, which the links carry.
	if string(got) != strings.ReplaceAll(string(want), live.URL, cached.URL) {
		t.Fatalf("first answer with the cache on differs from the live one")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache holds %v, want one page", files)
	}
	// Doctor the entry: the next identical request must be answered from it.
	if err := os.WriteFile(files[0], []byte(`{"value":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	againH, again := pageGet(t, cached.APIURL()+path, cached.IssueToken(), prefer)
	if string(again) != `{"value":[]}` {
		t.Fatalf("second answer was not served from the cache: %.80s", again)
	}
	for _, h := range []string{"Content-Type", "Preference-Applied"} {
		if gotH.Get(h) != wantH.Get(h) || againH.Get(h) != wantH.Get(h) {
			t.Errorf("%s: live %q, first %q, cached %q", h, wantH.Get(h), gotH.Get(h), againH.Get(h))
		}
	}
	if _, other := pageGet(t, cached.APIURL()+path, cached.IssueToken(), `odata.maxpagesize=25`); string(other) == `{"value":[]}` {
		t.Fatal("a request with another Prefer was answered from the cache")
	}
}

// Reads whose answer changes between identical requests are never cached.
func TestPageCacheSkipsChangingReads(t *testing.T) {
	dir := t.TempDir()
	s, _ := newTest(t, 60, Options{PageCache: dir})
	if _, err := s.Churn("incident", Churn{Updates: 1}); err != nil {
		t.Fatal(err)
	}
	pageGet(t, s.APIURL()+"incidents?$select=title", s.IssueToken(), `odata.maxpagesize=25`)
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
		t.Fatalf("cache holds %v after churn", files)
	}
}
