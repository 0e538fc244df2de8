package report_test

import (
	"database/sql"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/d2i/d2i/replay"
	"github.com/d2i/d2i/replay/intercomtest"
	"github.com/d2i/d2i/replay/replaytest"
	"github.com/d2i/d2i/report"
)

// auditStage is a staging database (contracts §2) with an attribute, two
// companies and two users, one of them linked to a company.
var auditStage = replaytest.StageDDL + `
insert into stage.data_attributes values
  ('contact','dynamics_contact_id','string','Dataverse contactid','contact','contactid',1);
insert into stage.companies values
  ('account','acc1','acc1','Contoso',null,null,null,null,1),
  ('account','acc2','acc2','Fabrikam',null,null,null,null,2);
insert into stage.contacts values
  ('contact','c1','user','c1','ana@example.com','Ana',null,null,'acc1',[],'{"dynamics_contact_id":"c1"}',1),
  ('contact','c2','user','c2','bo@example.com','Bo',null,null,null,[],'{"dynamics_contact_id":"c2"}',2);
`

const auditToken = "tok-audit"

// TestWriteLogAuditOfReplay audits the logs of a real replay, whose first
// contact create is answered 429 once, and of its rollback.
func TestWriteLogAuditOfReplay(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "staging.duckdb")
	db, err := sql.Open("duckdb", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(auditStage); err != nil {
		t.Fatal(err)
	}
	db.Close()

	em := intercomtest.New(intercomtest.Options{Token: auditToken, Validate: true,
		Admins: []intercomtest.Admin{{ID: "1", Name: "Agent", Email: "agent@example.com"}}})
	var once sync.Once
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse := false
		if r.Method == http.MethodPost && r.URL.Path == "/contacts" {
			once.Do(func() { refuse = true })
		}
		if refuse {
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"type":"error.list","errors":[{"code":"rate_limit_exceeded","message":"slow down"}]}`))
			return
		}
		em.Handler().ServeHTTP(w, r)
	}))
	defer hs.Close()
	logDir := t.TempDir()
	retry := &replay.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
	sum, err := replay.Run(t.Context(), replay.Config{DBPath: dbPath, BaseURL: hs.URL, Token: auditToken,
		LogDir: logDir, Workers: 2, RatePerMinute: 600000, Retry: retry})
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("replay: %v %+v", err, sum.Failures)
	}
	rs, err := replay.Rollback(t.Context(), replay.RollbackConfig{BaseURL: hs.URL, Token: auditToken,
		LogDir: logDir, Retry: retry})
	if err != nil || len(rs.Failures) > 0 {
		t.Fatalf("rollback: %v %+v", err, rs.Failures)
	}

	doc, points, err := report.WriteLogAudit(t.Context(), logDir)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // "mode kind" -> counts from created to waited_ms excluded
	for _, r := range doc.CSV[1:] {
		rows[r[1]+" "+r[2]] = strings.Join(r[3:15], ",")
	}
	// created,existing,updated,failed,rolled_back,dry,residue,held_back,uncertain,requests,retries,throttled
	want := map[string]string{
		"replay data_attribute":  "1,0,0,0,0,0,0,0,0,1,0,0",
		"replay company":         "2,0,0,0,0,0,0,0,0,4,0,0", // upsert + before-image read each
		"replay contact":         "2,0,0,0,0,0,0,0,0,3,1,1",
		"replay contact_company": "1,0,0,0,0,0,0,0,0,1,0,0",
		"replay all":             "6,0,0,0,0,0,0,0,0,9,1,1",
		"rollback all":           "0,0,0,0,6,0,2,0,0,6,0,0", // companies are archived: residue
	}
	for key, w := range want {
		if rows[key] != w {
			t.Errorf("%s = %q, want %q", key, rows[key], w)
		}
	}
	if sum.Kinds[replay.KindContact].Created != 2 || len(rs.Residue) != 2 {
		t.Errorf("replay summary %+v, rollback residue %+v", sum.Kinds[replay.KindContact], rs.Residue)
	}
	var requests, throttled int64
	for _, p := range points {
		requests += p.Requests
		throttled += p.Throttled
	}
	if requests != 15 || throttled != 1 {
		t.Errorf("rate points sum to %d requests, %d throttled; want 15, 1", requests, throttled)
	}
}
