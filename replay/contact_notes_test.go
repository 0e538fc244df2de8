package replay

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/d2i/d2i/replay/intercomtest"
)

// noteRows adds stage.contact_notes to stageRows: two calls on user c1 (one
// by the migrated agent a1, one with no migrated owner) and one on lead c3.
const noteRows = stageRows + `
create table stage.contact_notes (source_table varchar, source_id varchar, contact_source_id varchar,
  admin_source_id varchar, body varchar, created_at bigint, ord bigint);
insert into stage.contact_notes values
  ('phonecall','pc1','c1','a1','<p>Outgoing call: renewal</p><p>Agreed on a date.</p>',1600300000,1),
  ('phonecall','pc2','c1',null,'<p>Incoming call: invoice</p>',1600400000,2),
  ('phonecall','pc3','c3',null,'<p>Incoming call: pricing</p>',1600500000,3);
`

// actorID is the fallback admin the note tests name, so that a note sent
// as the fallback can be told from one sent as a1's agent (991267696).
const actorID = "991267697"

func noteConfig(t *testing.T, url, db, logDir string) Config {
	cfg := testConfig(t, url, db, logDir)
	cfg.ActorAdminID = actorID
	return cfg
}

// notesByExternal maps a contact's dynamics id to its notes as "author|body".
func notesByExternal(em *intercomtest.Server) map[string][]string {
	out := map[string][]string{}
	for _, c := range em.Contacts() {
		src, _ := c.CustomAttributes[sourceAttr].(string)
		for _, n := range em.Notes(c.ID) {
			out[src] = append(out[src], n.AuthorID+"|"+htmlToText(n.Body))
		}
	}
	return out
}

func checkNotes(t *testing.T, em *intercomtest.Server) {
	t.Helper()
	got := notesByExternal(em)
	want := map[string][]string{
		"c1": {"991267696|Outgoing call: renewal\nAgreed on a date.", actorID + "|Incoming call: invoice"},
		"c3": {actorID + "|Incoming call: pricing"},
	}
	for c, w := range want {
		if strings.Join(got[c], ";") != strings.Join(w, ";") {
			t.Errorf("notes on %s = %q, want %q", c, got[c], w)
		}
	}
	if n := em.NoteCount(); n != 3 {
		t.Errorf("emulator holds %d notes, want 3", n)
	}
}

func TestContactNotesReplay(t *testing.T) {
	db := writeStage(t, noteRows)
	em := newEmulator(t, nil)
	logDir := t.TempDir()
	sum, err := Run(t.Context(), noteConfig(t, em.URL, db, logDir))
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("replay: %v %+v", err, sum.Failures)
	}
	if k := sum.Kinds[KindContactNote]; k == nil || k.Created != 3 {
		t.Fatalf("note counts %+v, want 3 created", k)
	}
	checkNotes(t, em)
	lc, err := ReadLogs(logDir)
	if err != nil {
		t.Fatal(err)
	}
	if n := lc.WrittenBySource[KindSource{KindContactNote, "phonecall"}]; n != 3 {
		t.Errorf("written phonecall notes = %d, want 3", n)
	}
	// A rerun finds them done and sends nothing new.
	sum, err = Run(t.Context(), noteConfig(t, em.URL, db, logDir))
	if err != nil || sum.Kinds[KindContactNote].Skipped != 3 {
		t.Fatalf("rerun: %v %+v", err, sum.Kinds[KindContactNote])
	}
	checkNotes(t, em)
}

// lossyNotes forwards to em but handles the first note create per contact
// as lose says: committed with its answer dropped, or dropped unsent.
func lossyNotes(t *testing.T, em *intercomtest.Server, commit bool) (*httptest.Server, *int) {
	var mu sync.Mutex
	seen := map[string]bool{}
	lost := 0
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		note := r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/notes")
		mu.Lock()
		lose := note && !seen[r.URL.Path]
		if lose {
			seen[r.URL.Path] = true
			lost++
		}
		mu.Unlock()
		if !lose {
			em.Handler().ServeHTTP(w, r)
			return
		}
		if commit {
			em.Handler().ServeHTTP(httptest.NewRecorder(), r)
		}
		panic(http.ErrAbortHandler)
	}))
	t.Cleanup(hs.Close)
	return hs, &lost
}

// A note create whose answer is lost is settled by reading the contact's
// notes: one that landed is not sent again, one that did not is sent once.
func TestContactNoteLostAnswer(t *testing.T) {
	for _, commit := range []bool{true, false} {
		t.Run(map[bool]string{true: "committed", false: "unsent"}[commit], func(t *testing.T) {
			db := writeStage(t, noteRows)
			em := newEmulator(t, nil)
			hs, lost := lossyNotes(t, em, commit)
			sum, err := Run(t.Context(), noteConfig(t, hs.URL, db, t.TempDir()))
			if err != nil || len(sum.Failures) > 0 {
				t.Fatalf("replay: %v %+v", err, sum.Failures)
			}
			if *lost != 2 {
				t.Fatalf("lost %d note answers, want 2 (one per contact)", *lost)
			}
			checkNotes(t, em)
		})
	}
}

// A crash between a committed note create and its outcome record leaves an
// intent alone in the log; the next run must find the note, not resend it.
func TestContactNoteCrashResume(t *testing.T) {
	db := writeStage(t, noteRows)
	em := newEmulator(t, nil)
	logDir := t.TempDir()
	if _, err := Run(t.Context(), noteConfig(t, em.URL, db, logDir)); err != nil {
		t.Fatal(err)
	}
	dropNoteOutcome(t, logDir, KindContactNote+":pc2:create")
	sum, err := Run(t.Context(), noteConfig(t, em.URL, db, logDir))
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("resume: %v %+v", err, sum.Failures)
	}
	if k := sum.Kinds[KindContactNote]; k.Created != 1 || k.Skipped != 2 {
		t.Errorf("resume counts %+v, want pc2 found (1) and 2 skipped", *k)
	}
	checkNotes(t, em)
}

// dropNoteOutcome removes op's outcome record from the logs of dir, as if the
// process had died right after the request committed.
func dropNoteOutcome(t *testing.T, dir, op string) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	dropped := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var keep [][]byte
		for _, line := range bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n")) {
			if bytes.Contains(line, []byte(`"type":"outcome","op":"`+op+`"`)) {
				dropped++
				continue
			}
			keep = append(keep, line)
		}
		if err := os.WriteFile(p, append(bytes.Join(keep, []byte("\n")), '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if dropped != 1 {
		t.Fatalf("dropped %d outcomes of %s, want 1", dropped, op)
	}
}

func TestContactNotesPlanAndDryRun(t *testing.T) {
	db := writeStage(t, noteRows)
	p, err := Plan(t.Context(), PlanConfig{DBPath: db})
	if err != nil {
		t.Fatal(err)
	}
	var got *KindPlan
	for i := range p.Kinds {
		if p.Kinds[i].Kind == KindContactNote {
			got = &p.Kinds[i]
		}
	}
	if got == nil || got.Writes != 3 || got.Objects != 3 {
		t.Fatalf("plan for notes = %+v, want 3 writes of 3 objects", got)
	}
	em := newEmulator(t, nil)
	cfg := noteConfig(t, em.URL, db, t.TempDir())
	cfg.DryRun = true
	sum, err := Run(t.Context(), cfg)
	if err != nil || sum.Kinds[KindContactNote] == nil || sum.Kinds[KindContactNote].Created != 3 {
		t.Fatalf("dry run: %v %+v", err, sum.Kinds[KindContactNote])
	}
	if n := em.NoteCount(); n != 0 {
		t.Errorf("dry run wrote %d notes", n)
	}
}

// Notes cannot be deleted: rolling back the run that added notes to the
// contacts of an earlier run lists them as residue; a full rollback deletes
// the contacts, which takes the notes along, and a replay after it writes
// them again.
func TestContactNotesRollback(t *testing.T) {
	em := newEmulator(t, nil)
	logDir := t.TempDir()
	if _, err := Run(t.Context(), noteConfig(t, em.URL, writeStage(t, stageRows), logDir)); err != nil {
		t.Fatal(err)
	}
	db := writeStage(t, noteRows)
	second, err := Run(t.Context(), noteConfig(t, em.URL, db, logDir))
	if err != nil || second.Kinds[KindContactNote].Created != 3 {
		t.Fatalf("second run: %v %+v", err, second.Kinds[KindContactNote])
	}
	rs, err := Rollback(t.Context(), RollbackConfig{BaseURL: em.URL, Token: secretToken, LogDir: logDir,
		RunID: second.RunID, Retry: fastRetry, Logger: testLogger(t)})
	if err != nil || len(rs.Failures) > 0 {
		t.Fatalf("rollback notes: %v %+v", err, rs)
	}
	residue := 0
	for _, r := range rs.Residue {
		if r.Kind == KindContactNote && r.IntercomID != "" {
			residue++
		}
	}
	if residue != 3 || em.NoteCount() != 3 {
		t.Fatalf("residue %+v (notes left %d), want the 3 notes listed and left", rs.Residue, em.NoteCount())
	}
	residueRecords := 0
	for _, r := range readAllRecords(t, logDir) {
		if r.Type == typeResidue && r.Kind == KindContactNote && r.SourceTable == "phonecall" {
			residueRecords++
		}
	}
	if residueRecords != 3 {
		t.Errorf("write log holds %d note residue records, want 3", residueRecords)
	}
	// Attributes stay: a conversation attribute cannot be unarchived, so a
	// replay after a full rollback would stop.
	rs, err = Rollback(t.Context(), RollbackConfig{BaseURL: em.URL, Token: secretToken, LogDir: logDir,
		Retry: fastRetry, Logger: testLogger(t), Kinds: []string{KindContact, KindContactCompany, KindConversation}})
	if err != nil || len(rs.Failures) > 0 {
		t.Fatalf("rollback contacts: %v %+v", err, rs)
	}
	if rs.Removed[KindContactNote] != 3 || em.NoteCount() != 0 {
		t.Fatalf("full rollback removed %v notes (left %d), want 3 gone with their contacts",
			rs.Removed[KindContactNote], em.NoteCount())
	}
	lc, err := ReadLogs(logDir)
	if err != nil || lc.UndoneBySource[KindSource{KindContactNote, "phonecall"}] != 3 {
		t.Fatalf("undone notes = %v (%v), want 3", lc.UndoneBySource, err)
	}
	sum, err := Run(t.Context(), noteConfig(t, em.URL, db, logDir))
	if err != nil || sum.Kinds[KindContactNote].Created != 3 {
		t.Fatalf("replay after rollback: %v %+v", err, sum.Kinds[KindContactNote])
	}
	checkNotes(t, em)
}

func TestSampleKeepsNotesOfSampledContacts(t *testing.T) {
	db := writeStage(t, noteRows)
	full, err := openStage(db)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	// One conversation: its contact's notes stay, the others' go.
	mem, sel, err := sampleStage(t.Context(), full, db, 1, 7)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	var ids []string
	err = eachContactNote(t.Context(), mem, func(n stageContactNote) error {
		if !sel.contacts[n.ContactSourceID] {
			t.Errorf("note %s of unsampled contact %s kept", n.SourceID, n.ContactSourceID)
		}
		ids = append(ids, n.SourceID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, c := range []string{"c1", "c1", "c3"} {
		if sel.contacts[c] {
			want++
		}
	}
	if len(ids) != want || want == 3 {
		t.Errorf("sample kept notes %v of contacts %v, want %d of 3", ids, sel.contacts, want)
	}
}

// Verify reads the notes back: equal after a clean replay; a staged body
// that no longer matches is a differing note named by digest only; a note
// the write log does not name is missing.
func TestVerifyContactNotes(t *testing.T) {
	db := writeStage(t, noteRows)
	em := newEmulator(t, nil)
	logDir := t.TempDir()
	if _, err := Run(t.Context(), noteConfig(t, em.URL, db, logDir)); err != nil {
		t.Fatal(err)
	}
	sum, _ := verifyLines(t, verifyConfig(t, em.URL, db, logDir))
	if c := sum.Kinds[KindContactNote]; c == nil || c.Equal != 3 || c.Differ+c.Missing+c.Errors != 0 {
		t.Fatalf("verify notes %+v, want 3 equal", c)
	}
	changed := strings.Replace(noteRows, "Incoming call: invoice", "Incoming call: refund", 1) +
		"insert into stage.contact_notes values ('phonecall','pc4','c2',null,'<p>Never sent</p>',1600600000,4);"
	sum, lines := verifyLines(t, verifyConfig(t, em.URL, writeStage(t, changed), logDir))
	if c := sum.Kinds[KindContactNote]; c == nil || c.Equal != 2 || c.Differ != 1 || c.Missing != 1 {
		t.Fatalf("verify changed notes %+v, want 2 equal, 1 differing, 1 missing", c)
	}
	var differ string
	for _, l := range lines {
		if strings.HasPrefix(l, VerifyDiffer+" "+KindContactNote+" pc2 ") {
			differ = l
		}
		if strings.Contains(l, "refund") || strings.Contains(l, "invoice") {
			t.Errorf("verify line shows a note body: %s", l)
		}
	}
	if !strings.Contains(differ, " body ") || !strings.Contains(differ, "body=") {
		t.Errorf("differing note line %q, want the body field and its digests", differ)
	}
}

// The notes of a contact that rollback holds back (edited after replay)
// stay with it and are held back too, not counted as removed.
func TestContactNotesHeldBackWithContact(t *testing.T) {
	var offset atomic.Int64
	em := newEmulator(t, func(o *intercomtest.Options) {
		o.Clock = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	})
	logDir := t.TempDir()
	if _, err := Run(t.Context(), noteConfig(t, em.URL, writeStage(t, noteRows), logDir)); err != nil {
		t.Fatal(err)
	}
	offset.Store(int64(time.Hour))
	var c1 string
	for _, c := range em.Contacts() {
		if c.ExternalID == "c1" {
			c1 = c.ID
		}
	}
	apiCall(t, em.URL, "PUT", "/contacts/"+c1, map[string]any{"name": "Ana Edited"})
	rs, err := Rollback(t.Context(), rollbackCfg(t, em.URL, logDir))
	if err != nil || len(rs.Failures) > 0 {
		t.Fatalf("rollback: %v %+v", err, rs.Failures)
	}
	held := 0
	for _, h := range rs.HeldBack {
		if h.Kind == KindContactNote {
			held++
		}
	}
	if held != 2 || rs.Removed[KindContactNote] != 1 || em.NoteCount() != 2 {
		t.Errorf("notes held back %d, removed %d, left %d; want 2, 1, 2", held, rs.Removed[KindContactNote],
			em.NoteCount())
	}
}

// A replay SIGKILLed right after a note create committed, its answer never
// seen, resumes to exactly the staged notes: each note once, whichever died.
func TestContactNotesKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	db := writeStage(t, noteRows)
	for _, killOn := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("note ", killOn), func(t *testing.T) {
			var child atomic.Pointer[os.Process]
			var notes atomic.Int32
			opts := emulatorOptions()
			opts.LoseResponse = func(r *http.Request, _ int) bool {
				// Notes of other contacts go out in parallel, so one may
				// commit while the kill lands: every answer from the kill
				// point on is lost, as it would be with the process gone.
				if !strings.HasSuffix(r.URL.Path, "/notes") || int(notes.Add(1)) < killOn {
					return false
				}
				if p := child.Load(); p != nil {
					_ = p.Kill()
				}
				return true
			}
			em := intercomtest.New(opts)
			expectNoNotifications(t, em)
			hs := httptest.NewServer(em.Handler())
			defer hs.Close()
			logDir := t.TempDir()
			crashChild(t, db, hs.URL, logDir, 1<<30, &child)
			if em.NoteCount() < killOn {
				t.Fatalf("child wrote %d notes before the kill, want at least %d", em.NoteCount(), killOn)
			}
			sum, err := Run(t.Context(), testConfig(t, hs.URL, db, logDir))
			if err != nil || len(sum.Failures) > 0 {
				t.Fatalf("resume: %v %+v", err, sum.Failures)
			}
			got := notesByExternal(em)
			if em.NoteCount() != 3 || len(got["c1"]) != 2 || len(got["c3"]) != 1 {
				t.Errorf("after kill and resume: %q", got)
			}
		})
	}
}
