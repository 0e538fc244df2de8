package replay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/d2i/d2i/replay/intercomtest"
)

// sampleOrgRows stages 12 companies, 30 contacts (every fifth a lead, some
// with merged duplicates) and 24 conversations, each with a contact reply,
// and every third with a reply by another contact, so that a sample depends
// on more than its starters.
func sampleOrgRows() string {
	var b strings.Builder
	b.WriteString(`insert into stage.admins values ('systemuser','a1','agent@example.com','Agent One',1);
insert into stage.teams values ('queue','q1','Support',1);
insert into stage.data_attributes values
  ('contact','dynamics_contact_id','string','Dataverse contactid','contact','contactid',1),
  ('conversation','dynamics_case_id','string','Dataverse incidentid','incident','incidentid',2);
`)
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&b, "insert into stage.companies values ('account','acc%d','acc%d','Company %d',null,null,null,null,%d);\n",
			i, i, i, i)
	}
	for i := 1; i <= 30; i++ {
		company := "null"
		if i%3 != 0 {
			company = fmt.Sprintf("'acc%d'", (i%12)+1)
		}
		merged := "[]"
		if i%7 == 0 {
			merged = fmt.Sprintf("['dup%d']", i)
		}
		if i%5 == 0 {
			fmt.Fprintf(&b, "insert into stage.contacts values ('contact','c%d','lead',null,null,'Lead %d',null,null,%s,%s,'{\"dynamics_contact_id\":\"c%d\"}',%d);\n",
				i, i, company, merged, i, i)
			continue
		}
		fmt.Fprintf(&b, "insert into stage.contacts values ('contact','c%d','user','c%d','c%d@example.com','User %d',null,null,%s,%s,'{\"dynamics_contact_id\":\"c%d\"}',%d);\n",
			i, i, i, i, company, merged, i, i)
	}
	part := 0
	for i := 1; i <= 24; i++ {
		starter := (i*7)%30 + 1
		fmt.Fprintf(&b, "insert into stage.conversations values ('incident','inc%d','c%d',null,'a1','q1','Case %d','<p>Help %d</p>',%d,%d,'open',null,null,'{\"dynamics_case_id\":\"inc%d\"}',%d);\n",
			i, starter, i, i, 1600000000+i*1000, 1600000000+i*1000, i, i)
		part++
		fmt.Fprintf(&b, "insert into stage.conversation_parts values ('email','p%d','inc%d',1,'admin',null,'a1','comment','<p>On it %d</p>',%d,%d);\n",
			part, i, i, 1600000100+i*1000, part)
		if i%3 == 0 {
			other := (starter+11)%30 + 1
			part++
			fmt.Fprintf(&b, "insert into stage.conversation_parts values ('email','p%d','inc%d',2,'contact','c%d',null,'comment','<p>Me too %d</p>',%d,%d);\n",
				part, i, other, i, 1600000200+i*1000, part)
		}
	}
	return b.String()
}

// expectedSample is the sample computed apart from replay: the n
// conversations of smallest rank, then their dependencies by SQL.
type sampleSet struct{ conversations, contacts, companies []string }

func expectedSample(t *testing.T, dbPath string, n int, seed int64) sampleSet {
	t.Helper()
	db, err := sql.Open("duckdb", dbPath+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := queryStrings(t, db, `select source_id from stage.conversations`)
	sort.Slice(ids, func(i, j int) bool { return sampleRank(seed, ids[i]) < sampleRank(seed, ids[j]) })
	convs := ids[:n]
	list := "'" + strings.Join(convs, "','") + "'"
	contacts := queryStrings(t, db, `select contact_source_id from stage.conversations where source_id in (`+list+`)
		union select contact_source_id from stage.conversation_parts
		  where conversation_source_id in (`+list+`) and contact_source_id is not null`)
	companies := queryStrings(t, db, `select company_source_id from stage.conversations
		  where source_id in (`+list+`) and company_source_id is not null
		union select company_source_id from stage.contacts where source_id in ('`+strings.Join(contacts, "','")+`')
		  and company_source_id is not null`)
	slices.Sort(convs)
	return sampleSet{convs, contacts, companies}
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// heldSet names what the emulator holds by source id.
func heldSet(srv *intercomtest.Server) sampleSet {
	var s sampleSet
	for _, cv := range srv.Conversations() {
		s.conversations = append(s.conversations, fmt.Sprint(cv.CustomAttributes["dynamics_case_id"]))
	}
	for _, c := range srv.Contacts() {
		s.contacts = append(s.contacts, fmt.Sprint(c.CustomAttributes[sourceAttr]))
	}
	for _, c := range srv.Companies() {
		s.companies = append(s.companies, c.CompanyID)
	}
	slices.Sort(s.conversations)
	slices.Sort(s.contacts)
	slices.Sort(s.companies)
	return s
}

func compareSets(t *testing.T, got, want sampleSet) {
	t.Helper()
	for _, c := range []struct {
		name      string
		got, want []string
	}{{"conversations", got.conversations, want.conversations}, {"contacts", got.contacts, want.contacts},
		{"companies", got.companies, want.companies}} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestSampleWritesExactlyTheSampleAndItsDependencies(t *testing.T) {
	db := writeStage(t, sampleOrgRows())
	want := expectedSample(t, db, 6, 42)
	if len(want.contacts) <= 6 && len(want.companies) == 0 {
		t.Fatalf("fixture too thin to test dependencies: %+v", want)
	}
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	cfg := testConfig(t, srv.URL, db, logDir)
	cfg.Sample, cfg.Seed, cfg.Tag = 6, 42, DefaultTag

	sum, err := Run(t.Context(), cfg)
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("run: %v %+v", err, sum.Failures)
	}
	compareSets(t, heldSet(srv), want)
	if got := srv.Counts()["conversation_part"]; got < 6 {
		t.Errorf("parts = %d, want at least one per conversation", got)
	}
	if n := srv.Notifications(); n != 0 {
		t.Errorf("notifications = %d: %+v", n, srv.NotificationLog())
	}

	// Every written object carries the sample's tag, and only that tag.
	if tags := srv.Tags(); len(tags) != 1 || tags[0].Name != "d2i-sample-42" {
		t.Errorf("tags = %+v, want only d2i-sample-42", tags)
	}
	tagged := srv.TaggedWith("d2i-sample-42")
	if len(tagged.Conversations) != 6 || len(tagged.Contacts) != len(want.contacts) ||
		len(tagged.Companies) != len(want.companies) {
		t.Errorf("tagged %d conversations, %d contacts, %d companies; want 6, %d, %d",
			len(tagged.Conversations), len(tagged.Contacts), len(tagged.Companies), len(want.contacts), len(want.companies))
	}

	// The log records the selection.
	recs := readRecords(t, sum.LogPath)
	if recs[0].Type != "settings" || recs[0].Settings == nil || recs[0].Settings.Sample != 6 ||
		recs[0].Settings.Seed != 42 || recs[0].Settings.Conversations != 6 {
		t.Errorf("first record = %+v, want the sample's settings", recs[0])
	}

	// A rerun has nothing to do and leaves no log, not even its settings.
	again, err := Run(t.Context(), cfg)
	if err != nil || again.LogPath != "" || again.Kinds[KindConversation].Skipped != 6 {
		t.Errorf("rerun: log %q, conversations %+v, %v; want no log and 6 skipped",
			again.LogPath, again.Kinds[KindConversation], err)
	}

	// verify --sample with the same seed checks exactly these, all equal.
	vcfg := verifyConfig(t, srv.URL, db, logDir)
	vcfg.Sample, vcfg.Seed = 6, 42
	vsum, lines := verifyLines(t, vcfg)
	if !vsum.Clean() || vsum.Kinds[KindConversation].Equal != 6 ||
		vsum.Kinds[KindContact].Equal != len(want.contacts) || vsum.Kinds[KindCompany].Equal != len(want.companies) {
		t.Errorf("verify: %+v\n%s", vsum.Kinds, strings.Join(lines, "\n"))
	}
}

func TestSampleSameSeedSameSet(t *testing.T) {
	db := writeStage(t, sampleOrgRows())
	var sets []sampleSet
	for _, seed := range []int64{7, 7, 8} {
		srv := newEmulator(t, nil)
		cfg := testConfig(t, srv.URL, db, t.TempDir())
		cfg.Sample, cfg.Seed = 5, seed
		if sum, err := Run(t.Context(), cfg); err != nil || len(sum.Failures) > 0 {
			t.Fatalf("seed %d: %v %+v", seed, err, sum.Failures)
		}
		sets = append(sets, heldSet(srv))
	}
	compareSets(t, sets[1], sets[0])
	if slices.Equal(sets[0].conversations, sets[2].conversations) {
		t.Errorf("seeds 7 and 8 picked the same conversations %v", sets[0].conversations)
	}
	compareSets(t, sets[0], expectedSample(t, db, 5, 7))
}

// TestSampleResumeStaysInSample kills a sample run part-way (its context is
// cancelled after some writes), resumes it, and finds the sample and nothing
// else; a resume with another seed is refused before anything is sent.
func TestSampleResumeStaysInSample(t *testing.T) {
	db := writeStage(t, sampleOrgRows())
	em := intercomtest.New(emulatorOptions())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var writes atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && !strings.HasSuffix(r.URL.Path, "/search") && writes.Add(1) == 20 {
			cancel() // the "crash": this write lands, the run stops around it
		}
		em.Handler().ServeHTTP(w, r)
	}))
	defer hs.Close()
	logDir := t.TempDir()
	cfg := testConfig(t, hs.URL, db, logDir)
	cfg.Sample, cfg.Seed = 8, 3
	if _, err := Run(ctx, cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v, want it cancelled", err)
	}
	if got := len(em.Conversations()); got >= 8 {
		t.Fatalf("the first run wrote %d conversations before the crash; want fewer than 8", got)
	}

	other := cfg
	other.Seed = 4
	_, err := Run(t.Context(), other)
	var se *SettingsError
	if !errors.As(err, &se) || se.Earlier.Seed != 3 || se.Now.Seed != 4 {
		t.Fatalf("resume with another seed: %v, want a SettingsError naming seeds 3 and 4", err)
	}
	if !strings.Contains(err.Error(), "--sample 8 --seed 3") {
		t.Errorf("error does not name the earlier sample: %v", err)
	}

	sum, err := Run(t.Context(), cfg)
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("resume: %v %+v", err, sum.Failures)
	}
	compareSets(t, heldSet(em), expectedSample(t, db, 8, 3))
	if em.Notifications() != 0 {
		t.Errorf("notifications = %d", em.Notifications())
	}
	full := cfg
	full.Sample = 0
	if _, err := Run(t.Context(), full); !errors.As(err, &se) {
		t.Errorf("a full run into the sample's log dir: %v, want a SettingsError", err)
	}
}

func TestSampleStageCopiesOnlyTheSample(t *testing.T) {
	path := writeStage(t, sampleOrgRows())
	full, err := openStage(path)
	if err != nil {
		t.Fatal(err)
	}
	mem, sel, err := sampleStage(t.Context(), full, path, 4, 9)
	full.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	want := expectedSample(t, path, 4, 9)
	got := sampleSet{slices.Sorted(maps.Keys(sel.conversations)), slices.Sorted(maps.Keys(sel.contacts)),
		slices.Sorted(maps.Keys(sel.companies))}
	compareSets(t, got, want)
	counts := map[string]int{"stage.conversations": 4, "stage.contacts": len(want.contacts),
		"stage.companies": len(want.companies), "stage.admins": 1, "stage.teams": 1, "stage.data_attributes": 2}
	for table, n := range counts {
		if got := countRows(t.Context(), mem, table); got != n {
			t.Errorf("%s holds %d rows, want %d", table, got, n)
		}
	}
	var parts int
	if err := mem.QueryRow(`select count(*) from stage.conversation_parts
		where conversation_source_id not in (select source_id from stage.conversations)`).Scan(&parts); err != nil || parts != 0 {
		t.Errorf("%d parts of unsampled conversations (%v)", parts, err)
	}
}
