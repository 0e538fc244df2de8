package replay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/d2i/d2i/replay/intercomtest"
)

// captured is a slog handler that keeps every record for assertions.
type captured struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (c *captured) Enabled(context.Context, slog.Level) bool { return true }
func (c *captured) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, r.Clone())
	return nil
}
func (c *captured) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *captured) WithGroup(string) slog.Handler      { return c }

// find returns the records at level whose message contains msg, as
// attribute maps (plus "msg").
func (c *captured) find(level slog.Level, msg string) []map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]string
	for _, r := range c.recs {
		if r.Level != level || !strings.Contains(r.Message, msg) {
			continue
		}
		m := map[string]string{"msg": r.Message}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
		out = append(out, m)
	}
	return out
}

func (c *captured) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, r := range c.recs {
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
		b.WriteByte('\n')
	}
	return b.String()
}

func rollbackAll(t *testing.T, url, logDir string) *RollbackSummary {
	t.Helper()
	rs, err := Rollback(t.Context(), RollbackConfig{BaseURL: url, Token: secretToken, LogDir: logDir,
		Retry: fastRetry, Logger: testLogger(t)})
	if err != nil || len(rs.Failures) > 0 {
		t.Fatalf("rollback: %v %+v", err, rs)
	}
	return rs
}

// Two replays on one log directory at once: the second must refuse at once
// instead of resending what the first has in flight.
func TestConcurrentRunsOnOneLogDir(t *testing.T) {
	db := writeStage(t, stageRows)
	em := intercomtest.New(emulatorOptions())
	expectNoNotifications(t, em)
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Second") == "" {
			first := false
			once.Do(func() { first = true })
			if first {
				close(started)
				<-release // the first run stalls on its first request
			}
		}
		em.Handler().ServeHTTP(w, r)
	}))
	defer hs.Close()
	logDir := t.TempDir()

	firstErr := make(chan error, 1)
	go func() {
		_, err := Run(t.Context(), testConfig(t, hs.URL, db, logDir))
		firstErr <- err
	}()
	<-started
	second := testConfig(t, hs.URL, db, logDir)
	second.HTTPClient = &http.Client{Transport: headerTransport{"X-Second", "1"}}
	_, err := Run(t.Context(), second)
	var le *LockedError
	if !errors.As(err, &le) || le.Dir != logDir || !strings.Contains(err.Error(), "another replay or rollback") {
		t.Errorf("second run: %v, want a LockedError naming %s", err, logDir)
	}
	_, rerr := Rollback(t.Context(), RollbackConfig{BaseURL: hs.URL, Token: secretToken, LogDir: logDir,
		Retry: fastRetry})
	if !errors.As(rerr, &le) {
		t.Errorf("rollback during a run: %v, want a LockedError", rerr)
	}
	close(release)
	if err := <-firstErr; err != nil {
		t.Fatalf("first run: %v", err)
	}
	if n := em.Counts()["conversation"]; n != 3 {
		t.Errorf("emulator holds %d conversations, want 3", n)
	}
	// The lock goes with the run: the next one may start.
	if _, err := Run(t.Context(), testConfig(t, hs.URL, db, logDir)); err != nil {
		t.Errorf("run after the first ended: %v", err)
	}
}

type headerTransport struct{ k, v string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.k, h.v)
	return http.DefaultTransport.RoundTrip(r)
}

// seededConversationAttrs is the emulator with the staged conversation
// attributes made by an admin beforehand: rollback leaves those alone.
func seededConversationAttrs(o *intercomtest.Options) {
	o.DataAttributes = []intercomtest.DataAttribute{
		{Model: "conversation", Name: "dynamics_case_id", DataType: "string"},
		{Model: "conversation", Name: "dynamics_priority", DataType: "string"}}
}

// replay → rollback → replay (same log dir) → the workspace holds exactly
// what one clean run makes → rollback → nothing of ours is left.
func TestReplayRollbackReplaySameLogDir(t *testing.T) {
	db := writeStage(t, stageRows)
	clean := newEmulator(t, seededConversationAttrs)
	if _, err := Run(t.Context(), testConfig(t, clean.URL, db, t.TempDir())); err != nil {
		t.Fatal(err)
	}
	want := fingerprint(clean)

	srv := newEmulator(t, seededConversationAttrs)
	logDir := t.TempDir()
	cfg := testConfig(t, srv.URL, db, logDir)
	if _, err := Run(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	rollbackAll(t, srv.URL, logDir)
	if c := srv.Counts(); c["conversation"]+c["contact"]+c["company"] != 0 {
		t.Fatalf("after first rollback: %v", c)
	}

	sum, err := Run(t.Context(), cfg)
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("replay after rollback: %v %+v", err, sum.Failures)
	}
	for kind, n := range map[string]int{KindContact: 3, KindCompany: 2, KindConversation: 3,
		KindConversationPart: 6, KindContactCompany: 2} {
		if kc := sum.Kinds[kind]; kc == nil || kc.Created != n || kc.Skipped != 0 {
			t.Errorf("replay after rollback %s: %+v, want %d created", kind, kc, n)
		}
	}
	if got := fingerprint(srv); got != want {
		t.Errorf("after replay, rollback, replay:\n%s\nwant\n%s", got, want)
	}
	lc, err := ReadLogs(logDir)
	if err != nil {
		t.Fatal(err)
	}
	if lc.Written[KindConversation] != 3 || lc.Undone[KindConversation] != 0 ||
		lc.Written[KindConversationPart] != 6 || lc.Undone[KindConversationPart] != 0 {
		t.Errorf("ReadLogs after recreation: %+v", lc)
	}

	rs := rollbackAll(t, srv.URL, logDir)
	if rs.Undone[KindConversation] != 3 || rs.Undone[KindContact] != 3 {
		t.Errorf("second rollback: %+v", rs)
	}
	c := srv.Counts()
	for _, k := range []string{"contact", "company", "conversation", "contact_company"} {
		if c[k] != 0 {
			t.Errorf("after second rollback the emulator holds %d %s", c[k], k)
		}
	}
	if c["data_attribute"] != 2 { // the admin's conversation attributes stay
		t.Errorf("live attributes after second rollback = %d, want 2", c["data_attribute"])
	}
	lc, err = ReadLogs(logDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{KindContact, KindCompany, KindConversation, KindConversationPart,
		KindContactCompany, KindDataAttribute, KindConversationAttributes, KindConversationState} {
		if lc.Written[k] == 0 || lc.Undone[k] != lc.Written[k] {
			t.Errorf("ReadLogs %s: written %d undone %d, want all undone", k, lc.Written[k], lc.Undone[k])
		}
	}
}

// A replay into a new log directory after a rollback finds the contact and
// company attributes archived and unarchives them; its rollback archives
// them again.
func TestReplayAfterRollbackUnarchivesAttributes(t *testing.T) {
	db := writeStage(t, stageRows)
	srv := newEmulator(t, seededConversationAttrs)
	first := t.TempDir()
	if _, err := Run(t.Context(), testConfig(t, srv.URL, db, first)); err != nil {
		t.Fatal(err)
	}
	rollbackAll(t, srv.URL, first)
	archived := 0
	for _, a := range srv.DataAttributes() {
		if a.Archived {
			archived++
		}
	}
	if archived != 2 {
		t.Fatalf("rollback archived %d attributes, want 2", archived)
	}

	second := t.TempDir()
	sum, err := Run(t.Context(), testConfig(t, srv.URL, db, second))
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("replay in a new log dir: %v %+v", err, sum.Failures)
	}
	if sum.Kinds[KindContact].Created != 3 || sum.Kinds[KindDataAttribute].Existing != 4 {
		t.Errorf("summary %+v %+v", *sum.Kinds[KindContact], *sum.Kinds[KindDataAttribute])
	}
	for _, a := range srv.DataAttributes() {
		if a.Archived {
			t.Errorf("attribute %s.%s still archived", a.Model, a.Name)
		}
	}
	rs := rollbackAll(t, srv.URL, second)
	if rs.Undone[KindDataAttribute] != 2 {
		t.Errorf("rollback undid %d attributes, want the 2 unarchived", rs.Undone[KindDataAttribute])
	}
	for _, a := range srv.DataAttributes() {
		if a.Archived != (a.Model != "conversation") {
			t.Errorf("after rollback %s.%s archived=%v", a.Model, a.Name, a.Archived)
		}
	}
}

// Conversation attributes created by replay are archived by rollback and
// cannot be unarchived by API: a later replay stops before any write and
// names them.
func TestArchivedConversationAttributesStopPreflight(t *testing.T) {
	db := writeStage(t, stageRows)
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	if _, err := Run(t.Context(), testConfig(t, srv.URL, db, logDir)); err != nil {
		t.Fatal(err)
	}
	rollbackAll(t, srv.URL, logDir)
	requests := srv.Requests()
	sum, err := Run(t.Context(), testConfig(t, srv.URL, db, t.TempDir()))
	var ae *ArchivedAttributesError
	if !errors.As(err, &ae) || len(ae.Names) != 2 || !strings.Contains(err.Error(), "dynamics_case_id") ||
		!strings.Contains(err.Error(), "dynamics_priority") {
		t.Fatalf("replay: %v, want an ArchivedAttributesError naming both", err)
	}
	if sum.LogPath != "" {
		t.Errorf("a run stopped in pre-flight left a write log %s", sum.LogPath)
	}
	if n := srv.Requests() - requests; n != 3 { // the attribute lists of three models
		t.Errorf("pre-flight sent %d requests, want 3", n)
	}
}

// A resumed lookup that must wait out the search lag says so, and keeps
// saying so while it waits. The lag is an hour; the test cancels the run
// once it has seen the progress lines, so it does not depend on timing.
func TestSearchLagWaitIsLogged(t *testing.T) {
	defer func(d time.Duration) { lagLogEvery = d }(lagLogEvery)
	lagLogEvery = 50 * time.Millisecond
	db := writeStage(t, stageRows)
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	// A killed run left an intent for the lead and no outcome.
	intent := fmt.Sprintf(`{"seq":1,"time":%q,"run":"20000101T000000Z-0000","type":"intent",`+
		`"op":"contact:c3:create","kind":"contact","source_table":"contact","source_id":"c3","step":"create",`+
		`"method":"POST","path":"/contacts","dry_run":false}`+"\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
	if err := os.WriteFile(filepath.Join(logDir, "20000101T000000Z-0000.jsonl"), []byte(intent), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &captured{}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cfg := testConfig(t, srv.URL, db, logDir)
	cfg.SearchLag = time.Hour
	cfg.Logger = slog.New(logs)
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, cfg)
		done <- err
	}()
	deadline := time.After(30 * time.Second)
	for len(logs.find(slog.LevelInfo, "still waiting")) < 2 {
		select {
		case err := <-done:
			t.Fatalf("run ended without waiting: %v\n%s", err, logs.text())
		case <-deadline:
			t.Fatalf("no progress while waiting:\n%s", logs.text())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
	waits := logs.find(slog.LevelInfo, "waiting for Intercom search to catch up before")
	if len(waits) != 1 || waits[0]["op"] != "contact:c3:create" || !nearHour(waits[0]["wait"]) ||
		waits[0]["resume_at"] == "" || !strings.Contains(waits[0]["reason"], "search lags") {
		t.Fatalf("wait announcement = %+v\n%s", waits, logs.text())
	}
	if still := logs.find(slog.LevelInfo, "still waiting"); still[0]["op"] != "contact:c3:create" ||
		!nearHour(still[0]["remaining"]) {
		t.Errorf("progress while waiting = %+v", still)
	}
}

func nearHour(s string) bool {
	d, err := time.ParseDuration(s)
	return err == nil && d > 50*time.Minute && d <= time.Hour
}

// Every retry is logged at Warn with op, attempt, wait and cause, and the
// token never appears.
func TestRetriesAreLogged(t *testing.T) {
	hs := httptest.NewServer(http.NotFoundHandler())
	url := hs.URL
	hs.Close() // nothing listens there any more
	logs := &captured{}
	cfg := testConfig(t, url, writeStage(t, stageRows), t.TempDir())
	cfg.Logger = slog.New(logs)
	if _, err := Run(t.Context(), cfg); err == nil {
		t.Fatal("run against an unreachable URL succeeded")
	}
	retries := logs.find(slog.LevelWarn, "retried")
	if len(retries) != fastRetry.MaxAttempts-1 {
		t.Fatalf("%d retries logged, want %d:\n%s", len(retries), fastRetry.MaxAttempts-1, logs.text())
	}
	for i, r := range retries {
		if r["attempt"] != fmt.Sprint(i+1) || r["wait"] == "" || r["op"] == "" ||
			!strings.Contains(r["cause"], "refused") {
			t.Errorf("retry %d logged as %+v", i, r)
		}
	}
	if strings.Contains(logs.text(), secretToken) {
		t.Error("the token was logged")
	}
}

// A run that finds everything done leaves no empty log file.
func TestRunWritingNothingLeavesNoLog(t *testing.T) {
	db := writeStage(t, stageRows)
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	cfg := testConfig(t, srv.URL, db, logDir)
	if _, err := Run(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.LogPath != "" {
		t.Errorf("LogPath = %q for a run that wrote nothing", sum.LogPath)
	}
	paths, _ := filepath.Glob(filepath.Join(logDir, "*.jsonl"))
	if len(paths) != 1 {
		t.Errorf("log files %v, want only the first run's", paths)
	}
}

// A staged attribute that exists in Intercom with another type stops the
// run before any write, naming it; one whose type matches is used as it is.
func TestAttributeTypeMismatchStopsPreflight(t *testing.T) {
	db := writeStage(t, stageRows)
	srv := newEmulator(t, func(o *intercomtest.Options) {
		o.DataAttributes = []intercomtest.DataAttribute{
			{Model: "contact", Name: "dynamics_contact_id", DataType: "integer"},
			{Model: "company", Name: "dynamics_account_id", DataType: "string"},
		}
	})
	sum, err := Run(t.Context(), testConfig(t, srv.URL, db, t.TempDir()))
	var te *AttributeTypeError
	if !errors.As(err, &te) || len(te.Mismatches) != 1 ||
		te.Mismatches[0] != "contact.dynamics_contact_id: staged string, Intercom integer" {
		t.Fatalf("replay: %v, want an AttributeTypeError naming dynamics_contact_id only", err)
	}
	if sum.LogPath != "" || srv.Counts()["contact"] != 0 {
		t.Errorf("a run stopped in pre-flight wrote: log %q, %v", sum.LogPath, srv.Counts())
	}
}
