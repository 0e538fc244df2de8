package replay

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/d2i/d2i/replay/intercomtest"
)

// helpCenterRows adds the help-center tables of contracts.md §2 to the stage
// schema, with one admin and no other object: three nested collections, an English article in the deepest with German
// and Brazilian translations, and a German-only article with no author and
// no collection.
const helpCenterRows = `
insert into stage.admins values ('systemuser','a1','agent@example.com','Agent One',1);
create table stage.collections (source_table varchar, source_id varchar, name varchar, description varchar,
  parent_source_id varchar, depth integer, ord bigint);
create table stage.articles (source_table varchar, source_id varchar, article_source_id varchar, role varchar,
  locale varchar, help_center_locale varchar, title varchar, description varchar, body varchar, state varchar,
  author_source_id varchar, collection_source_id varchar, created_at bigint, updated_at bigint, ord bigint);
insert into stage.collections values
  ('category','cat-top','Billing','Money',null,1,1),
  ('category','cat-mid','Invoices',null,'cat-top',2,2),
  ('category','cat-leaf','How-to / Advanced',null,'cat-mid',3,3);
insert into stage.articles values
  ('knowledgearticle','ka-1','ka-1','article','en','en','Reset password','How to','<h2>Steps</h2><p>x</p>','published','a1','cat-leaf',1577923200,null,1),
  ('knowledgearticle','ka-1de','ka-1','translation','de','en','Passwort','','<p>y</p>','published','a1','cat-leaf',1578009600,null,2),
  ('knowledgearticle','ka-1pt','ka-1','translation','pt-BR','en','Senha','','<p>z</p>','draft',null,'cat-leaf',1578096000,null,3),
  ('knowledgearticle','ka-2','ka-2','article','de','en','Intern','','<p>Nur intern</p>','published',null,null,1580515200,null,4);
`

// helpCenterPrint describes the emulator's collections and articles by
// name, without generated ids.
func helpCenterPrint(srv *intercomtest.Server) string {
	names := map[string]string{}
	var lines, articles []string
	for _, c := range srv.Collections() {
		names[c.ID] = c.Name
	}
	for _, c := range srv.Collections() {
		lines = append(lines, "collection "+c.Name+" under "+names[c.ParentID])
	}
	for _, a := range srv.Articles() {
		s := "article " + a.Title + " " + a.State + " in " + names[a.ParentID] + " by " + itoa(a.AuthorID)
		for _, loc := range []string{"de", "pt-BR"} {
			if tr, ok := a.Translations[loc]; ok {
				s += " | " + loc + " " + tr.Title + " " + tr.State + " by " + itoa(tr.AuthorID)
			}
		}
		articles = append(articles, s)
	}
	slices.Sort(articles) // created in parallel: ids say nothing
	return strings.Join(append(lines, articles...), "\n")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

const wantHelpCenter = `collection Billing under 
collection Invoices under Billing
collection How-to / Advanced under Invoices
article Intern draft in  by 991267697 | de Intern published by 991267697
article Reset password published in How-to / Advanced by 991267696 | de Passwort published by 991267696 | pt-BR Senha draft by 991267697`

func TestHelpCenterReplayRerunAndRollback(t *testing.T) {
	db := writeStage(t, helpCenterRows)
	srv := newEmulator(t, func(o *intercomtest.Options) { o.MaxCollectionDepth = 3 })
	logDir := t.TempDir()
	cfg := testConfig(t, srv.URL, db, logDir)
	cfg.ActorAdminID = "991267697" // the token's admin: authors articles without a matched author

	sum, err := Run(t.Context(), cfg)
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("run: %v, failures %+v", err, sum.Failures)
	}
	if got := helpCenterPrint(srv); got != wantHelpCenter {
		t.Errorf("emulator holds\n%s\nwant\n%s", got, wantHelpCenter)
	}
	if c := sum.Kinds[KindCollection]; c == nil || c.Created != 3 {
		t.Errorf("collections: %+v", c)
	}
	if c := sum.Kinds[KindArticle]; c == nil || c.Created != 4 {
		t.Errorf("articles (2 creates, 2 translations): %+v", c)
	}

	sum2, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	for _, kind := range []string{KindCollection, KindArticle} {
		if kc := sum2.Kinds[kind]; kc == nil || kc.Created != 0 || kc.Skipped == 0 {
			t.Errorf("rerun %s: %+v", kind, kc)
		}
	}
	if got := helpCenterPrint(srv); got != wantHelpCenter {
		t.Errorf("rerun changed the help center:\n%s", got)
	}

	lc, err := ReadLogs(logDir)
	if err != nil {
		t.Fatal(err)
	}
	if n := lc.WrittenBySource[KindSource{KindArticle, "knowledgearticle"}]; n != 4 {
		t.Errorf("articles written from knowledgearticle = %d, want 4 (one per staged row)", n)
	}
	if n := lc.WrittenBySource[KindSource{KindCollection, "category"}]; n != 3 {
		t.Errorf("collections written from category = %d, want 3", n)
	}

	// The emulator refuses to delete a collection that still holds
	// anything, so an empty help center proves the bottom-up order.
	rs, err := Rollback(t.Context(), RollbackConfig{BaseURL: srv.URL, Token: secretToken, LogDir: logDir,
		Retry: fastRetry})
	if err != nil || len(rs.Failures) > 0 {
		t.Fatalf("rollback: %v, %+v", err, rs.Failures)
	}
	if len(srv.Collections()) != 0 || len(srv.Articles()) != 0 {
		t.Errorf("after rollback: %d collections, %d articles", len(srv.Collections()), len(srv.Articles()))
	}
	if rs.Undone[KindCollection] != 3 || rs.Undone[KindArticle] != 4 {
		t.Errorf("rollback undone = %v", rs.Undone)
	}
	lc, err = ReadLogs(logDir)
	if err != nil {
		t.Fatal(err)
	}
	if n := lc.UndoneBySource[KindSource{KindArticle, "knowledgearticle"}]; n != 4 {
		t.Errorf("articles undone = %d, want 4", n)
	}

	// Replayed again after the rollback, everything comes back once.
	sum3, err := Run(t.Context(), cfg)
	if err != nil || len(sum3.Failures) > 0 {
		t.Fatalf("run after rollback: %v, %+v", err, sum3.Failures)
	}
	if got := helpCenterPrint(srv); got != wantHelpCenter {
		t.Errorf("after rollback and replay:\n%s\nwant\n%s", got, wantHelpCenter)
	}
}

// A POST whose answer is lost after it committed is found by name (or
// title) under the same parent, in the run and on resume after a crash:
// no collection or article is created twice.
func TestHelpCenterLostResponses(t *testing.T) {
	db := writeStage(t, helpCenterRows)
	var mu sync.Mutex
	lost := map[string]bool{}
	srv := newEmulator(t, func(o *intercomtest.Options) {
		o.LoseResponse = func(r *http.Request, _ int) bool {
			mu.Lock()
			defer mu.Unlock()
			key := r.Method + " " + r.URL.Path
			if r.Method != "POST" || lost[key] || (r.URL.Path != "/help_center/collections" && r.URL.Path != "/articles") {
				return false
			}
			lost[key] = true
			return true
		}
	})
	logDir := t.TempDir()
	cfg := testConfig(t, srv.URL, db, logDir)
	cfg.ActorAdminID = "991267697" // the token's admin: authors articles without a matched author
	sum, err := Run(t.Context(), cfg)
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("run: %v, failures %+v", err, sum.Failures)
	}
	if len(lost) != 2 {
		t.Fatalf("lost %v, want one collection and one article answer", lost)
	}
	if got := helpCenterPrint(srv); got != wantHelpCenter {
		t.Errorf("emulator holds\n%s\nwant\n%s", got, wantHelpCenter)
	}

	// A crash between the request and its outcome record: drop the
	// outcome of the second article's create from the log and resume.
	dropOutcome(t, logDir, KindArticle+":ka-2:"+stepCreate)
	dropOutcome(t, logDir, KindCollection+":cat-leaf:"+stepCreate)
	sum2, err := Run(t.Context(), cfg)
	if err != nil || len(sum2.Failures) > 0 {
		t.Fatalf("resume: %v, failures %+v", err, sum2.Failures)
	}
	if got := helpCenterPrint(srv); got != wantHelpCenter {
		t.Errorf("after resume the emulator holds\n%s\nwant\n%s", got, wantHelpCenter)
	}
	if kc := sum2.Kinds[KindArticle]; kc == nil || kc.Created != 1 || kc.Skipped != 3 {
		t.Errorf("resume articles: %+v (want the lost one settled by lookup, the rest skipped)", kc)
	}
}

// dropOutcome removes op's outcome record from the log files in dir, as if
// the process died after sending the request.
func dropOutcome(t *testing.T, dir, op string) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("logs in %s: %v %v", dir, paths, err)
	}
	dropped := 0
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var keep []string
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, `"type":"outcome"`) && strings.Contains(line, `"op":"`+op+`"`) {
				dropped++
				continue
			}
			keep = append(keep, line)
		}
		f.Close()
		if err := os.WriteFile(p, []byte(strings.Join(keep, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if dropped != 1 {
		t.Fatalf("dropped %d outcomes of %s, want 1", dropped, op)
	}
}

// The plan counts one write per staged row and one object per Intercom
// article (a translation is a write to its article).
func TestPlanCountsHelpCenter(t *testing.T) {
	p, err := Plan(t.Context(), PlanConfig{DBPath: writeStage(t, helpCenterRows), RatePerMinute: 600})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]KindPlan{}
	for _, k := range p.Kinds {
		got[k.Kind] = k
	}
	if k := got[KindCollection]; k.Objects != 3 || k.Writes != 3 || k.Reads != 0 {
		t.Errorf("collections plan = %+v, want 3 objects, 3 writes", k)
	}
	if k := got[KindArticle]; k.Objects != 2 || k.Writes != 4 || k.Reads != 0 {
		t.Errorf("articles plan = %+v, want 2 objects, 4 writes", k)
	}
}
