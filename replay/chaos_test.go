package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/d2i/d2i/replay/intercomtest"
	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
	"github.com/d2i/d2i/transform"
)

// orgCases is the size of the generated org the chaos test and the
// benchmarks replay: the 2,000-case org.
const orgCases = 2000

// orgTables are the tables the migration of cases, contacts, companies and
// their activities reads (the demo's list without the admin inventories).
var orgTables = []string{"account", "contact", "incident", "email", "activityparty", "systemuser", "queue",
	"queueitem", "phonecall", "task", "appointment"}

// stagedOrg is a 2,000-case staging database built once per test binary:
// sampleorg -> Dataverse emulator -> snapshot.Run -> transform.Run, as
// `d2i demo` does. Building it takes tens of seconds, so every test and
// benchmark that needs it shares it; TestMain removes it.
var stagedOrg struct {
	once   sync.Once
	dir    string
	db     string
	admins []intercomtest.Admin
	teams  []intercomtest.Team
	err    error
}

// orgStagingEnv lets a child process reuse the parent's staging database
// instead of building its own.
const orgStagingEnv = "D2I_TEST_ORG_STAGING"

func TestMain(m *testing.M) {
	code := m.Run()
	if stagedOrg.dir != "" {
		_ = os.RemoveAll(stagedOrg.dir)
	}
	os.Exit(code)
}

// orgStaging returns the path of the shared staging database and the admins
// and teams an Intercom emulator needs to match its owners and queues.
func orgStaging(tb testing.TB) (string, []intercomtest.Admin, []intercomtest.Team) {
	tb.Helper()
	stagedOrg.once.Do(func() {
		start := time.Now()
		stagedOrg.err = buildOrgStaging()
		tb.Logf("built the %d-case staging database in %s", orgCases, time.Since(start).Round(time.Millisecond))
	})
	if stagedOrg.err != nil {
		tb.Fatal(stagedOrg.err)
	}
	return stagedOrg.db, stagedOrg.admins, stagedOrg.teams
}

func buildOrgStaging() error {
	org, err := sampleorg.New(sampleorg.Options{Seed: 1, Cases: orgCases})
	if err != nil {
		return fmt.Errorf("generate org: %w", err)
	}
	stagedOrg.admins, stagedOrg.teams = orgPeople(org)
	if path := os.Getenv(orgStagingEnv); path != "" {
		stagedOrg.db = path
		return nil
	}
	dir, err := os.MkdirTemp("", "d2i-replay-org-")
	if err != nil {
		return err
	}
	stagedOrg.dir = dir
	creds := snapshot.Credentials{TenantID: "t", ClientID: "replay-test", ClientSecret: "not-a-secret"}
	dv := dataversetest.NewServer(org, dataversetest.Options{TenantID: creds.TenantID, ClientID: creds.ClientID,
		ClientSecret: creds.ClientSecret})
	defer dv.Close()
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	snap := filepath.Join(dir, "snapshot")
	if _, err := snapshot.Run(ctx, snapshot.Config{OrgURL: dv.URL, AuthorityURL: dv.URL, Credentials: creds,
		Tables: orgTables, OutDir: snap, Logger: quiet}); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	stagedOrg.db = filepath.Join(dir, "staging.duckdb")
	if _, err := transform.Run(ctx, transform.Config{SnapshotDir: snap, DBPath: stagedOrg.db, Logger: quiet}); err != nil {
		return fmt.Errorf("transform: %w", err)
	}
	return nil
}

// orgPeople mirrors the org's users with an email as Intercom admins and its
// queues as teams, as `d2i serve intercom` does.
func orgPeople(org *sampleorg.Org) ([]intercomtest.Admin, []intercomtest.Team) {
	var admins []intercomtest.Admin
	for i, u := range org.SystemUsers() {
		if u.Email != "" {
			admins = append(admins, intercomtest.Admin{ID: fmt.Sprint(7100000 + i), Name: u.FullName, Email: u.Email})
		}
	}
	var teams []intercomtest.Team
	for i := range org.Count("queue") {
		row, err := org.Row("queue", i)
		if err != nil {
			continue
		}
		if name, ok := row["name"].(string); ok && name != "" {
			teams = append(teams, intercomtest.Team{ID: fmt.Sprint(8100000 + i), Name: name})
		}
	}
	return admins, teams
}

// The chaos test: replay and then rollback of the 2,000-case org against an
// emulator that throttles, fails, stalls and loses answers, with the
// process SIGKILLed at random points. The emulator runs here and outlives
// every child; each child is this test binary re-executed on
// TestHelperChaosProcess and talks to it over loopback.

const (
	chaosEnv           = "D2I_CHAOS_HELPER" // "replay" or "rollback" in a child
	chaosReplayKills   = 24
	chaosRollbackKills = 8
	// chaosTimeout is the children's HTTP timeout; stalled answers take longer.
	chaosTimeout = time.Second
	chaosStall   = chaosTimeout + 300*time.Millisecond
	// Pre-existing objects replay matches: companies it updates (and rollback
	// restores) and users migrated earlier by hand, which it leaves alone.
	chaosSeedCompanies = 10
	chaosSeedContacts  = 10
)

var chaosRetry = &RetryPolicy{MaxAttempts: 10, BaseDelay: 5 * time.Millisecond, MaxDelay: time.Second}

// TestHelperChaosProcess is not a test: TestChaos runs the test binary again
// with this test selected to get a replay or rollback it can SIGKILL.
func TestHelperChaosProcess(t *testing.T) {
	mode := os.Getenv(chaosEnv)
	if mode == "" {
		t.Skip("helper process for TestChaos")
	}
	url, logDir := os.Getenv("D2I_TEST_URL"), os.Getenv("D2I_TEST_LOGDIR")
	hc := &http.Client{Timeout: chaosTimeout}
	switch mode {
	case "replay":
		sum, err := Run(t.Context(), Config{DBPath: os.Getenv(orgStagingEnv), BaseURL: url, Token: secretToken,
			LogDir: logDir, Workers: 4, RatePerMinute: unpacedHeaderLimit * 6, Retry: chaosRetry, HTTPClient: hc,
			SearchLag: 200 * time.Millisecond, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.Failures) > 0 {
			t.Fatalf("%d failures, first %+v", len(sum.Failures), sum.Failures[0])
		}
	case "rollback":
		rs, err := Rollback(t.Context(), RollbackConfig{BaseURL: url, Token: secretToken, LogDir: logDir,
			Retry: chaosRetry, HTTPClient: hc, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs.Failures) > 0 || len(rs.HeldBack) > 0 {
			t.Fatalf("%d failures %+v, %d held back %+v", len(rs.Failures), rs.Failures, len(rs.HeldBack), rs.HeldBack)
		}
	default:
		t.Fatalf("unknown %s %q", chaosEnv, mode)
	}
}

func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("replays a 2,000-case org in child processes it kills")
	}
	db, admins, teams := orgStaging(t)
	seed := time.Now().UnixNano()
	if s, err := strconv.ParseInt(os.Getenv("D2I_CHAOS_SEED"), 10, 64); err == nil {
		seed = s
	}
	// Logged after the override, so that the seed logged is the one used.
	t.Logf("seed %d (set D2I_CHAOS_SEED to replay these faults and kills)", seed)
	rnd := rand.New(rand.NewPCG(uint64(seed), 1))
	st := readChaosStage(t, db)
	// The workspace's own objects were created long before the migration:
	// the emulator's clock runs an hour behind while they are seeded.
	var behind atomic.Int64
	em := intercomtest.New(intercomtest.Options{Token: secretToken, Admins: admins, Teams: teams, Validate: true,
		SearchLag: 50 * time.Millisecond, HeaderLimit: unpacedHeaderLimit, FailEveryN: 97,
		DataAttributes: st.seededAttrs, Clock: func() time.Time { return time.Now().Add(-time.Duration(behind.Load())) }})
	f := newFaults(em.Handler(), seed)
	hs := httptest.NewServer(f)
	defer hs.Close()
	behind.Store(int64(time.Hour))
	before := seedExisting(t, hs.URL, em, st)
	behind.Store(0)
	logDir := t.TempDir()
	if keep := os.Getenv("D2I_CHAOS_LOGDIR"); keep != "" {
		logDir = keep // kept after the test, to read what the children logged
	}

	start := time.Now()
	f.on.Store(true)
	lower := st.counts[KindCompany] + st.counts[KindContact] + st.counts[KindConversation] + st.counts[KindConversationPart]
	kills := runKilled(t, f, db, hs.URL, logDir, "replay", killPoints(rnd, chaosReplayKills, lower))
	f.on.Store(false)
	t.Logf("replay: %d kills, %s, faults %s", kills, time.Since(start).Round(time.Millisecond), f.report())
	checkReplayed(t, em, st, before)
	verifyClean(t, db, hs.URL, logDir, st)

	start = time.Now()
	f.on.Store(true)
	created := st.counts[KindCompany] + st.counts[KindContact] + st.counts[KindConversation] - len(before.companies) - len(before.contacts)
	kills += runKilled(t, f, db, hs.URL, logDir, "rollback", killPoints(rnd, chaosRollbackKills, created))
	f.on.Store(false)
	t.Logf("rollback: %s, faults %s", time.Since(start).Round(time.Millisecond), f.report())
	checkRolledBack(t, em, logDir, before, st)
	if kills < chaosReplayKills+chaosRollbackKills {
		t.Errorf("%d kills, want %d", kills, chaosReplayKills+chaosRollbackKills)
	}
	if n := em.Notifications(); n != 0 {
		t.Errorf("notifications = %d, want 0: %+v", n, em.NotificationLog())
	}
}

// killPoints picks n distinct request counts in [1, below], sorted: the
// phase sends at least below requests, so every kill lands.
func killPoints(rnd *rand.Rand, n, below int) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for len(out) < n {
		p := 1 + rnd.Int64N(int64(below))
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// runKilled runs mode in children until one finishes, killing a child each
// time the requests of the phase reach the next kill point. It returns the
// number of kills.
func runKilled(t *testing.T, f *faults, db, url, logDir, mode string, points []int64) int {
	t.Helper()
	f.seen.Store(0)
	kills := 0
	for run := 1; ; run++ {
		if run > len(points)+5 {
			t.Fatalf("%s: still not done after %d runs", mode, run-1)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperChaosProcess$", "-test.v")
		cmd.Env = append(os.Environ(), chaosEnv+"="+mode, orgStagingEnv+"="+db, "D2I_TEST_URL="+url,
			"D2I_TEST_LOGDIR="+logDir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		f.child.Store(cmd.Process)
		began, sent := time.Now(), f.seen.Load()
		// Armed only once this child runs, and never behind the count: the
		// requests a killed child had in flight still arrive after its kill
		// and may already have passed the next point.
		at := int64(-1)
		if kills < len(points) {
			at = max(points[kills], sent+1)
		}
		f.killAt.Store(at)
		err := cmd.Wait()
		f.killAt.Store(-1)
		f.child.Store(nil)
		t.Logf("%s run %d: %s, %d requests, kill point %d", mode, run, time.Since(began).Round(time.Millisecond),
			f.seen.Load()-sent, at)
		if err == nil {
			if kills < len(points) {
				t.Fatalf("%s finished after %d of %d kills: the kill points assume more requests", mode, kills, len(points))
			}
			return kills
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("%s child failed: %v\n%s", mode, err, out.String())
		}
		kills++
	}
}

// faults sits in front of the emulator (which injects 5xx with HTML bodies
// itself, FailEveryN) and adds 429 storms, stalls longer than the client's
// timeout, answers lost after the write committed (the connection dropped,
// or a proxy's HTML 502) and the SIGKILL of the child at a chosen request.
type faults struct {
	next   http.Handler
	on     atomic.Bool
	seen   atomic.Int64 // requests in this phase
	killAt atomic.Int64 // kill the child when seen reaches it (once); -1 never
	child  atomic.Pointer[os.Process]

	mu       sync.Mutex
	rnd      *rand.Rand
	stormEnd time.Time // every request until then is answered 429
	count    map[string]int
}

func newFaults(next http.Handler, seed int64) *faults {
	f := &faults{next: next, rnd: rand.New(rand.NewPCG(uint64(seed), 2)), count: map[string]int{}}
	f.killAt.Store(-1)
	return f
}

type fault int

const (
	faultNone fault = iota
	faultThrottle
	faultStall
	faultLose
	faultBadGateway
	faultKillBefore // the request dies with the child, unprocessed
	faultKillAfter  // processed and committed, the child dies before the answer
)

var faultNames = map[fault]string{faultThrottle: "429", faultStall: "stall", faultLose: "lost",
	faultBadGateway: "502-html", faultKillBefore: "kill-before", faultKillAfter: "kill-after-commit"}

func (f *faults) pick(r *http.Request) fault {
	if !f.on.Load() {
		return faultNone
	}
	n := f.seen.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	x := f.rnd.Float64()
	var ft fault
	switch at := f.killAt.Load(); {
	case at >= 0 && n >= at && f.killAt.CompareAndSwap(at, -1):
		ft = faultKillBefore
		if x < 0.6 {
			ft = faultKillAfter
		}
	case time.Now().Before(f.stormEnd):
		ft = faultThrottle
	case x < 0.001:
		// A storm throttles everything until its reset, as a spent window does.
		f.stormEnd = time.Now().Add(time.Duration(200+f.rnd.IntN(800)) * time.Millisecond)
		ft = faultThrottle
	case x < 0.002:
		ft = faultStall
	case r.Method != http.MethodGet && x < 0.014:
		ft = faultLose
	case r.Method != http.MethodGet && x < 0.019:
		ft = faultBadGateway
	}
	if ft != faultNone {
		f.count[faultNames[ft]]++
	}
	return ft
}

func (f *faults) report() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	keys := slices.Sorted(maps.Keys(f.count))
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, f.count[k]))
		delete(f.count, k)
	}
	return fmt.Sprintf("%d requests: %s", f.seen.Load(), strings.Join(parts, " "))
}

func (f *faults) kill() {
	if p := f.child.Load(); p != nil {
		_ = p.Kill()
	}
}

func (f *faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch ft := f.pick(r); ft {
	case faultNone:
		f.next.ServeHTTP(w, r)
	case faultThrottle:
		f.mu.Lock()
		reset := f.stormEnd.Add(time.Second - 1).Unix() // Intercom's reset is in whole seconds
		f.mu.Unlock()
		w.Header().Set("X-RateLimit-Limit", "1666")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"type":"error.list","request_id":null,"errors":[{"code":"rate_limit_exceeded","message":"Exceeded rate limit of 1666 in 10_seconds"}]}`)
	case faultKillBefore:
		f.kill()
		panic(http.ErrAbortHandler)
	default:
		f.serveAfterCommit(w, r, ft)
	}
}

// serveAfterCommit lets the emulator commit the request and then spoils the
// answer. A stalled read is answered late; a stalled write too, after the
// client has given up.
func (f *faults) serveAfterCommit(w http.ResponseWriter, r *http.Request, ft fault) {
	rec := httptest.NewRecorder()
	f.next.ServeHTTP(rec, r)
	switch ft {
	case faultKillAfter:
		f.kill()
		panic(http.ErrAbortHandler)
	case faultLose:
		if rec.Code < 300 {
			panic(http.ErrAbortHandler)
		}
	case faultBadGateway:
		if rec.Code < 300 {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>\n")
			return
		}
	case faultStall:
		time.Sleep(chaosStall)
	}
	maps.Copy(w.Header(), rec.Header())
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// chaosStage is what the staging database says replay must leave behind.
type chaosStage struct {
	counts    map[string]int  // staged rows per kind
	companies []stageCompany  // in replay order
	users     []stageContact  // role user, in replay order
	contacts  map[string]bool // staged contact source ids
	cases     map[string]bool // staged incident ids
	parts     map[string]int  // incident id -> staged parts
	// seededAttrs (the contact and company ones) exist before the run, since
	// the objects migrated earlier carry them; replay creates the others.
	seededAttrs []intercomtest.DataAttribute
	attrTypes   map[string]string // company attribute name -> data type
}

func readChaosStage(t *testing.T, path string) *chaosStage {
	t.Helper()
	db, err := openStage(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	st := &chaosStage{counts: map[string]int{}, contacts: map[string]bool{}, cases: map[string]bool{},
		parts: map[string]int{}}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	attrs, err := readAttrs(ctx, db)
	must(err)
	st.attrTypes = map[string]string{}
	for _, a := range attrs {
		if a.Model == "company" {
			st.attrTypes[a.Name] = a.DataType
		}
		if a.Model != "conversation" {
			st.seededAttrs = append(st.seededAttrs, intercomtest.DataAttribute{Model: a.Model, Name: a.Name,
				DataType: a.DataType})
		}
	}
	must(eachCompany(ctx, db, func(c stageCompany) error {
		st.companies = append(st.companies, c)
		return nil
	}))
	must(eachContact(ctx, db, func(c stageContact) error {
		st.contacts[c.SourceID] = true
		if c.Role == "user" {
			st.users = append(st.users, c)
		}
		if c.CompanySourceID != "" {
			st.counts[KindContactCompany]++
		}
		return nil
	}))
	must(eachConversation(ctx, db, func(c stageConversation) error {
		st.cases[c.SourceID] = true
		return nil
	}))
	must(scanRows(ctx, db, "stage.conversation_parts",
		`select conversation_source_id, count(*) from stage.conversation_parts group by all`,
		func(scan func(...any) error) error {
			var id string
			var n int
			if err := scan(&id, &n); err != nil {
				return err
			}
			st.parts[id] = n
			st.counts[KindConversationPart] += n
			return nil
		}))
	st.counts[KindCompany], st.counts[KindContact], st.counts[KindConversation] =
		len(st.companies), len(st.contacts), len(st.cases)
	if len(st.companies) < chaosSeedCompanies || len(st.users) < chaosSeedContacts || len(st.cases) != orgCases {
		t.Fatalf("staging too small: %v", st.counts)
	}
	return st
}

// existing is what Intercom held before the replay, as the emulator keeps it.
type existing struct {
	companies map[string]intercomtest.Company // by Intercom id
	contacts  map[string]intercomtest.Contact
}

// seedExisting creates what a workspace may hold before a migration: some
// of the staged companies with other values (replay updates them, keeping
// before-images) and some staged users migrated earlier by hand, equal to
// staging (replay matches them by the 409 and leaves them alone).
func seedExisting(t *testing.T, url string, em *intercomtest.Server, st *chaosStage) existing {
	t.Helper()
	c, err := NewClient(ClientOptions{BaseURL: url, Token: secretToken, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for i, co := range st.companies[:chaosSeedCompanies] {
		if _, err := c.UpsertCompany(ctx, CompanyRequest{CompanyID: co.CompanyID, Name: "Before " + co.Name,
			Website: fmt.Sprintf("https://before%d.example.com", i), Industry: "Before industry", Size: 7,
			RemoteCreatedAt: 1_000_000_000 + int64(i), CustomAttributes: beforeValues(t, co, st.attrTypes)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range st.users[:chaosSeedContacts] {
		if _, err := c.CreateContact(ctx, ContactRequest{Role: u.Role, ExternalID: u.ExternalID, Email: u.Email,
			Name: u.Name, Phone: u.Phone, SignedUpAt: u.SignedUpAt, Unsubscribed: u.Unsubscribed,
			CustomAttributes: u.CustomAttributes}); err != nil {
			t.Fatal(err)
		}
	}
	return existing{companies: byID(em.Companies(), func(c intercomtest.Company) string { return c.ID }),
		contacts: byID(em.Contacts(), func(c intercomtest.Contact) string { return c.ID })}
}

// beforeValues gives a pre-existing company other values for every custom
// attribute replay will set on it. Rollback writes a before-image back but
// cannot remove an attribute the company did not have (there is no API for
// it), so a company without them would not come back whole.
func beforeValues(t *testing.T, co stageCompany, types map[string]string) json.RawMessage {
	var staged map[string]any
	if err := json.Unmarshal(co.CustomAttributes, &staged); err != nil && len(co.CustomAttributes) > 0 {
		t.Fatal(err)
	}
	values := map[string]any{}
	for name := range staged {
		switch types[name] {
		case "integer", "date":
			values[name] = 1_000_000_000
		case "float":
			values[name] = 1.5
		case "boolean":
			values[name] = true
		default:
			values[name] = "before"
		}
	}
	b, err := json.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func byID[T any](list []T, id func(T) string) map[string]T {
	m := make(map[string]T, len(list))
	for _, v := range list {
		m[id(v)] = v
	}
	return m
}

// checkReplayed compares the emulator with staging: exactly the staged
// objects, each once, and the pre-existing ones still there.
func checkReplayed(t *testing.T, em *intercomtest.Server, st *chaosStage, before existing) {
	t.Helper()
	companies := em.Companies()
	ids := map[string]int{}
	for _, co := range companies {
		ids[co.CompanyID]++
	}
	checkUnique(t, "company_id", ids)
	if len(companies) != st.counts[KindCompany] {
		t.Errorf("%d companies, staging has %d", len(companies), st.counts[KindCompany])
	}
	for _, co := range st.companies {
		if ids[co.CompanyID] != 1 {
			t.Errorf("company %s: %d in Intercom", co.CompanyID, ids[co.CompanyID])
		}
	}

	contacts := em.Contacts()
	emails, externals, sources := map[string]int{}, map[string]int{}, map[string]int{}
	links := 0
	for _, ct := range contacts {
		if ct.Email != "" {
			emails[strings.ToLower(ct.Email)]++
		}
		if ct.ExternalID != "" {
			externals[ct.ExternalID]++
		}
		src := fmt.Sprint(ct.CustomAttributes[sourceAttr])
		sources[src]++
		if !st.contacts[src] {
			t.Errorf("contact %s (%s) is not staged", ct.ID, src)
		}
		links += len(ct.CompanyIDs)
	}
	checkUnique(t, "contact email", emails)
	checkUnique(t, "contact external_id", externals)
	checkUnique(t, "contact "+sourceAttr, sources)
	if len(contacts) != st.counts[KindContact] {
		t.Errorf("%d contacts, staging has %d", len(contacts), st.counts[KindContact])
	}
	if links != st.counts[KindContactCompany] {
		t.Errorf("%d contact-company links, staging has %d", links, st.counts[KindContactCompany])
	}
	for id := range before.contacts {
		if _, ok := byID(contacts, func(c intercomtest.Contact) string { return c.ID })[id]; !ok {
			t.Errorf("pre-existing contact %s is gone", id)
		}
	}

	convs := em.Conversations()
	cases := map[string]int{}
	parts := 0
	for _, cv := range convs {
		id := fmt.Sprint(cv.CustomAttributes["dynamics_case_id"])
		cases[id]++
		if !st.cases[id] {
			t.Errorf("conversation %s (case %s) is not staged", cv.ID, id)
		}
		migrated := 0
		for _, p := range cv.Parts {
			if p.PartType == "comment" || p.PartType == "note" {
				migrated++
			}
		}
		if migrated != st.parts[id] {
			t.Errorf("conversation %s (case %s): %d parts, staging has %d", cv.ID, id, migrated, st.parts[id])
		}
		parts += migrated
	}
	checkUnique(t, "conversation dynamics_case_id", cases)
	if len(convs) != st.counts[KindConversation] || parts != st.counts[KindConversationPart] {
		t.Errorf("%d conversations with %d parts, staging has %d with %d", len(convs), parts,
			st.counts[KindConversation], st.counts[KindConversationPart])
	}
}

func checkUnique(t *testing.T, what string, n map[string]int) {
	t.Helper()
	dups := 0
	for k, c := range n {
		if c > 1 {
			if dups < 5 {
				t.Errorf("duplicate %s %q: %d objects", what, k, c)
			}
			dups++
		}
	}
	if dups > 0 {
		t.Errorf("%d duplicated values of %s", dups, what)
	}
}

// verifyClean reads every written object back and requires each field to
// equal staging.
func verifyClean(t *testing.T, db, url, logDir string, st *chaosStage) {
	t.Helper()
	vs, err := Verify(t.Context(), VerifyConfig{DBPath: db, BaseURL: url, Token: secretToken, LogDir: logDir,
		OutDir: t.TempDir(), Workers: 4, RatePerMinute: unpacedHeaderLimit * 6, Retry: chaosRetry})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{KindCompany, KindContact, KindConversation, KindConversationPart} {
		got := vs.Kinds[kind]
		if got == nil || got.Equal != st.counts[kind] || got.Differ+got.Missing+got.Errors != 0 {
			t.Errorf("verify %s: %+v, want %d equal and nothing else (see %s)", kind, got, st.counts[kind], vs.TextPath)
		}
	}
	for _, f := range vs.Fields {
		if f.Differ > 0 {
			t.Errorf("verify: %s.%s differs in %d of %d", f.Kind, f.Field, f.Differ, f.Compared)
		}
	}
}

// checkRolledBack requires Intercom to hold exactly what it held before the
// replay, apart from what the API cannot take back, which must be listed.
func checkRolledBack(t *testing.T, em *intercomtest.Server, logDir string, before existing, st *chaosStage) {
	t.Helper()
	if n := len(em.Conversations()); n != 0 {
		t.Errorf("%d conversations left after rollback", n)
	}
	checkSame(t, "company", before.companies, byID(em.Companies(), func(c intercomtest.Company) string { return c.ID }),
		func(c *intercomtest.Company) { c.UpdatedAt = 0 })
	checkSame(t, "contact", before.contacts, byID(em.Contacts(), func(c intercomtest.Contact) string { return c.ID }),
		func(c *intercomtest.Contact) {
			c.UpdatedAt, c.LastSeenAt = 0, 0
			if len(c.CompanyIDs) == 0 {
				c.CompanyIDs = nil // detached is as good as never attached
			}
		})
	for _, a := range em.DataAttributes() {
		if a.Model == "conversation" && !a.Archived {
			t.Errorf("attribute %s.%s created by replay is not archived", a.Model, a.Name)
		}
	}
	// Deleted companies are only archived by Intercom: each must be listed.
	residue := map[string]bool{}
	if err := readAll(logDir, func(r Record) {
		if r.Type == typeResidue && r.Kind == KindCompany {
			residue[r.IntercomID] = true
		}
	}); err != nil {
		t.Fatal(err)
	}
	if want := st.counts[KindCompany] - len(before.companies); len(residue) != want {
		t.Errorf("%d companies listed as residue, want the %d created", len(residue), want)
	}
}

// checkSame requires got to hold exactly the objects of want, unchanged but
// for the fields clear blanks (update stamps).
func checkSame[T any](t *testing.T, kind string, want, got map[string]T, clear func(*T)) {
	t.Helper()
	for id, g := range got {
		w, ok := want[id]
		if !ok {
			t.Errorf("%s %s created by replay is still there: %+v", kind, id, g)
			continue
		}
		clear(&w)
		clear(&g)
		if !reflect.DeepEqual(w, g) {
			t.Errorf("%s %s not back to its before-image:\n got %+v\nwant %+v", kind, id, g, w)
		}
	}
	for id := range want {
		if _, ok := got[id]; !ok {
			t.Errorf("pre-existing %s %s was deleted", kind, id)
		}
	}
}
