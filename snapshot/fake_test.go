package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testTenant = "tenant-1"
	testClient = "client-1"
	testSecret = "s3cr3t-VALUE-never-logged"
	testToken  = "tok-1"
)

// step is one scripted answer of the fake.
type step struct {
	status  int
	headers map[string]string
	body    string
	drop    bool // hang up half-way through the answer
	delay   time.Duration
}

// fakeSet serves an entity set, either from rows paged by the fake or from
// a script of literal answers (real fixtures).
type fakeSet struct {
	rows     []string // JSON objects
	pageSize int      // 0: take odata.maxpagesize from Prefer
	count    int      // @odata.count when $count=true; -1 to omit
	script   []step
	served   int
}

// fakeDV is a small Dataverse of this package's own making: literal JSON,
// strict about next links being sent back verbatim.
type fakeDV struct {
	t   *testing.T
	srv *httptest.Server

	mu          sync.Mutex
	entities    map[string]string // logical name → EntityDefinitions JSON
	casts       map[string]string // "incident/PicklistAttributeMetadata" → JSON
	sets        map[string]*fakeSet
	totals      map[string]int64
	issued      map[string]bool // next links handed out, as request URIs
	lastLink    string          // the scripted next link expected next
	dataReqs    []string        // request URIs of data requests, in order
	prefers     []string
	faults      map[int]step // data request index → injected answer
	failFrom    int          // data requests at or after this index get 400 (0: never)
	dataCount   int
	tokenCalls  int
	badRequests []string
	refuseCasts bool // answer metadata casts with 400, as a server without them would
}

func newFakeDV(t *testing.T) *fakeDV {
	f := &fakeDV{
		t: t, entities: map[string]string{}, casts: map[string]string{}, sets: map[string]*fakeSet{},
		totals: map[string]int64{}, issued: map[string]bool{}, faults: map[int]step{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeDV) config(dir string, tables ...string) Config {
	return Config{
		OrgURL:       f.srv.URL,
		AuthorityURL: f.srv.URL,
		Credentials:  Credentials{TenantID: testTenant, ClientID: testClient, ClientSecret: testSecret},
		Tables:       tables,
		OutDir:       dir,
		Retry:        RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, sleep: func(context.Context, time.Duration) error { return nil }},
		// Scripted faults count data requests across tables: read one at a time.
		Concurrency: 1,
	}
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, code, msg)
}

var (
	reEntity = regexp.MustCompile(`^/api/data/v9\.2/EntityDefinitions\(LogicalName='([a-z0-9_]+)'\)$`)
	reCast   = regexp.MustCompile(`^/api/data/v9\.2/EntityDefinitions\(LogicalName='([a-z0-9_]+)'\)/Attributes/Microsoft\.Dynamics\.CRM\.(\w+)$`)
	reTotal  = regexp.MustCompile(`^/api/data/v9\.2/RetrieveTotalRecordCount\(EntityNames=\['([a-z0-9_]+)'\]\)$`)
	reSet    = regexp.MustCompile(`^/api/data/v9\.2/([a-z0-9_]+)$`)
	rePageNo = regexp.MustCompile(`pagenumber=%22(\d+)%22`)
)

func (f *fakeDV) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path == "/"+testTenant+"/oauth2/v2.0/token" {
		f.serveToken(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		writeErr(w, http.StatusUnauthorized, "0x80040220", "missing or bad token")
		return
	}
	if strings.Contains(r.URL.RawQuery, testSecret) || strings.Contains(r.URL.Path, testSecret) {
		f.t.Errorf("secret reached a URL: %s", r.URL.Path)
	}
	p := r.URL.Path
	switch {
	case reEntity.MatchString(p):
		f.serveEntity(w, r, reEntity.FindStringSubmatch(p)[1])
	case reCast.MatchString(p):
		m := reCast.FindStringSubmatch(p)
		if f.refuseCasts {
			writeErr(w, http.StatusBadRequest, "0x80060888", "Type cast segment not supported.")
			return
		}
		body, ok := f.casts[m[1]+"/"+m[2]]
		if !ok {
			body = `{"value":[]}`
		}
		io.WriteString(w, body)
	case reTotal.MatchString(p):
		name := reTotal.FindStringSubmatch(p)[1]
		fmt.Fprintf(w, `{"EntityRecordCountCollection":{"Count":1,"IsReadOnly":false,"Keys":[%q],"Values":[%d]}}`,
			name, f.totals[name])
	case reSet.MatchString(p):
		f.serveSet(w, r, reSet.FindStringSubmatch(p)[1])
	default:
		writeErr(w, http.StatusNotFound, "0x80060888", "Resource not found for the segment '"+p+"'.")
	}
}

func (f *fakeDV) serveToken(w http.ResponseWriter, r *http.Request) {
	f.tokenCalls++
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad token request", http.StatusBadRequest)
		return
	}
	want := map[string]string{
		"grant_type": "client_credentials", "client_id": testClient,
		"client_secret": testSecret, "scope": f.srv.URL + "/.default",
	}
	for k, v := range want {
		if r.PostForm.Get(k) != v {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":"AADSTS7000215: bad %s"}`, k)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":%q}`, testToken)
}

func (f *fakeDV) serveEntity(w http.ResponseWriter, r *http.Request, name string) {
	body, ok := f.entities[name]
	if !ok {
		writeErr(w, http.StatusNotFound, "0x80060888", "Could not find entity with name '"+name+"'.")
		return
	}
	if !strings.Contains(r.URL.RawQuery, "$expand=Attributes") {
		f.badRequests = append(f.badRequests, r.URL.RawQuery)
	}
	io.WriteString(w, body)
}

func (f *fakeDV) serveSet(w http.ResponseWriter, r *http.Request, name string) {
	n := f.dataCount
	f.dataCount++
	f.dataReqs = append(f.dataReqs, r.URL.RequestURI())
	f.prefers = append(f.prefers, r.Header.Get("Prefer"))
	if s, ok := f.faults[n]; ok {
		f.answer(w, s)
		return
	}
	if f.failFrom > 0 && n >= f.failFrom {
		writeErr(w, http.StatusBadRequest, "0x80040203", "injected failure")
		return
	}
	set, ok := f.sets[name]
	if !ok {
		writeErr(w, http.StatusNotFound, "0x80060888", "Resource not found for the segment '"+name+"'.")
		return
	}
	if set.script != nil {
		f.serveScript(w, r, set)
		return
	}
	f.servePaged(w, r, set)
}

func (f *fakeDV) answer(w http.ResponseWriter, s step) {
	if s.delay > 0 {
		f.mu.Unlock() // let the retry in while this answer stalls
		time.Sleep(s.delay)
		f.mu.Lock()
		return // the client has given up by now
	}
	if s.drop {
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		// Half an answer, then hang up: net/http cannot retry this one itself.
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"value\":[")
		conn.Close()
		return
	}
	for k, v := range s.headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(s.status)
	io.WriteString(w, strings.ReplaceAll(s.body, "[Organization URI]", f.srv.URL))
}

// serveScript plays fixture answers in order; after the first, each request
// must be exactly the next link of the last 200 answer.
func (f *fakeDV) serveScript(w http.ResponseWriter, r *http.Request, set *fakeSet) {
	if set.served >= len(set.script) {
		writeErr(w, http.StatusBadRequest, "0x80040203", "script exhausted")
		f.t.Errorf("request after the script ended: %s", r.URL.RequestURI())
		return
	}
	if set.served > 0 && r.URL.RequestURI() != f.lastLink {
		f.t.Errorf("next link not followed verbatim:\n got %s\nwant %s", r.URL.RequestURI(), f.lastLink)
	}
	s := set.script[set.served]
	set.served++
	body := strings.ReplaceAll(s.body, "[Organization URI]", f.srv.URL)
	if s.status == http.StatusOK {
		var env struct {
			Next string `json:"@odata.nextLink"`
		}
		json.Unmarshal([]byte(body), &env)
		f.lastLink = strings.TrimPrefix(env.Next, f.srv.URL)
	}
	f.answer(w, step{status: s.status, headers: s.headers, body: body})
}

// servePaged pages set.rows with a cookie-like $skiptoken.
func (f *fakeDV) servePaged(w http.ResponseWriter, r *http.Request, set *fakeSet) {
	q := r.URL.RawQuery
	page := 1
	if strings.Contains(q, "$skiptoken=") {
		if !f.issued[r.URL.RequestURI()] {
			f.t.Errorf("unknown or altered next link: %s", r.URL.RequestURI())
			writeErr(w, http.StatusBadRequest, "0x80040203", "bad skiptoken")
			return
		}
		page, _ = strconv.Atoi(rePageNo.FindStringSubmatch(q)[1])
		q = q[:strings.Index(q, "&$skiptoken=")]
	}
	size := set.pageSize
	if size == 0 {
		size = preferPageSize(r.Header.Get("Prefer"))
	}
	from, to := (page-1)*size, min(page*size, len(set.rows))
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"@odata.context":"%s/api/data/v9.2/$metadata#x"`, f.srv.URL)
	if strings.Contains(q, "$count=true") && set.count >= 0 {
		fmt.Fprintf(&b, `,"@odata.count":%d`, set.count)
	}
	b.WriteString(`,"value":[` + strings.Join(set.rows[from:to], ",") + `]`)
	if to < len(set.rows) {
		cookie := fmt.Sprintf(`%%3Ccookie%%20pagenumber=%%22%d%%22%%20pagingcookie=%%22%%253ccookie%%2520page%%253d%%2522%d%%2522%%253e%%253c%%252fcookie%%253e%%22%%20istracking=%%22False%%22%%20/%%3E`, page+1, page)
		uri := r.URL.Path + "?" + q + "&$skiptoken=" + cookie
		f.issued[uri] = true
		fmt.Fprintf(&b, `,"@odata.nextLink":%q`, f.srv.URL+uri)
	}
	b.WriteString("}")
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.Write(b.Bytes())
}

func preferPageSize(prefer string) int {
	m := regexp.MustCompile(`odata\.maxpagesize=(\d+)`).FindStringSubmatch(prefer)
	if m == nil {
		return 5000
	}
	n, _ := strconv.Atoi(m[1])
	return min(n, 5000)
}

// captureLog returns a logger writing JSON into buf at debug level.
func captureLog(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
