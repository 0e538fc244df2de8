package replay

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Record is one line of the write log (contracts §3). Intent records carry
// the request fields, outcome records the answer; both carry Op.
type Record struct {
	Seq         int64           `json:"seq"`
	Time        string          `json:"time"`
	Run         string          `json:"run"`
	Type        string          `json:"type"` // intent | outcome
	Op          string          `json:"op"`
	Kind        string          `json:"kind,omitempty"`
	SourceTable string          `json:"source_table,omitempty"`
	SourceID    string          `json:"source_id,omitempty"`
	Step        string          `json:"step,omitempty"`
	Method      string          `json:"method,omitempty"`
	Path        string          `json:"path,omitempty"`
	BodySHA256  string          `json:"body_sha256,omitempty"`
	DryRun      bool            `json:"dry_run"`
	Status      int             `json:"status,omitempty"`
	IntercomID  string          `json:"intercom_id,omitempty"`
	Error       string          `json:"error,omitempty"`
	Before      json.RawMessage `json:"before,omitempty"`
	// Existing marks an outcome whose object was there before the op (a 409
	// naming our contact, a pre-existing company, an attribute name clash):
	// rollback must not delete it. An addition to contracts §3.
	Existing bool `json:"existing,omitempty"`
	// The op's cost, on outcomes (contracts §3): its own write sent Attempts
	// times, Lookups reads on its behalf, Throttled of them answered 429,
	// WaitedMS spent paced or backing off.
	Attempts  int64 `json:"attempts,omitempty"`
	Lookups   int64 `json:"lookups,omitempty"`
	Throttled int64 `json:"throttled,omitempty"`
	WaitedMS  int64 `json:"waited_ms,omitempty"`
	// Settings, on a "settings" record (the first of a replay's log), is
	// what the run selected and tagged, so that a resume can hold to it.
	Settings *RunSettings `json:"settings,omitempty"`
	// Matches, on a "matches" record, is which staged admins and teams the
	// run found in the workspace, so that the routing report can say so.
	Matches *RunMatches `json:"matches,omitempty"`
}

// RunMatches maps staged systemuser and queue ids to the Intercom admins and
// teams a run matched, and lists those conversations reference but the
// workspace lacks. Ids only: an agent's e-mail stays in staging.
type RunMatches struct {
	Admins          map[string]string `json:"admins"`
	Teams           map[string]string `json:"teams"`
	UnmatchedAdmins []string          `json:"unmatched_admins,omitempty"`
	UnmatchedTeams  []string          `json:"unmatched_teams,omitempty"`
	// Actor is the admin the run closed, snoozed and assigned teams as.
	Actor string `json:"actor,omitempty"`
}

// informational says whether a record states a fact about the run rather
// than an op: a log holding only such records recorded no work.
func (r Record) informational() bool { return r.Type == "settings" || r.Type == "matches" }

// outcomeLine fixes the outcome shape: status, intercom_id, error and before
// are always present there, as contracts §3 shows them.
type outcomeLine struct {
	Seq        int64           `json:"seq"`
	Time       string          `json:"time"`
	Run        string          `json:"run"`
	Type       string          `json:"type"`
	Op         string          `json:"op"`
	Status     int             `json:"status"`
	IntercomID string          `json:"intercom_id"`
	Error      string          `json:"error"`
	Before     json.RawMessage `json:"before"`
	Existing   bool            `json:"existing,omitempty"`
	DryRun     bool            `json:"dry_run,omitempty"`
	Attempts   int64           `json:"attempts"`
	Lookups    int64           `json:"lookups"`
	Throttled  int64           `json:"throttled"`
	WaitedMS   int64           `json:"waited_ms"`
}

// Record types besides intent and outcome: a residue record names an object
// a rollback could not take back (contracts §3).
const typeResidue = "residue"

// Record kinds (contracts §3).
const (
	KindDataAttribute          = "data_attribute"
	KindCompany                = "company"
	KindContact                = "contact"
	KindContactCompany         = "contact_company"
	KindConversation           = "conversation"
	KindConversationPart       = "conversation_part"
	KindConversationAttributes = "conversation_attributes"
	KindConversationState      = "conversation_state"
)

const stepUndo = "undo"

// syncEvery is how many records may sit unsynced; syncInterval bounds how long.
const (
	syncEvery    = 16
	syncInterval = 200 * time.Millisecond
)

// logWriter appends records to LOGDIR/<run>.jsonl and fsyncs in small groups.
type logWriter struct {
	mu       sync.Mutex
	f        *os.File
	run      string
	seq      int64
	unsynced int
	lastSync time.Time
	path     string
	stop     chan struct{}
	stopped  chan struct{}
	// sink, when set, receives each record instead of a file: a plan runs
	// the executor without leaving a log behind.
	sink func(Record)
	// notes counts the informational records written (settings, matches).
	notes int64
}

func newRunID() string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// openLog prepares LOGDIR/<run>.jsonl; the file is created by the first
// record, so a run that writes nothing leaves no empty log behind.
func openLog(dir, run string) (*logWriter, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("write log dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, run+".jsonl")
	w := &logWriter{run: run, path: path, lastSync: time.Now(), stop: make(chan struct{}),
		stopped: make(chan struct{})}
	go w.syncLoop()
	return w, nil
}

// sinkLog is a log that hands each record to sink and writes no file.
func sinkLog(sink func(Record)) *logWriter {
	stopped := make(chan struct{})
	close(stopped) // no sync loop to wait for
	return &logWriter{run: "plan", stop: make(chan struct{}), stopped: stopped, sink: sink}
}

// created reports whether any record was written (and so the file exists).
func (w *logWriter) created() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.f != nil
}

// ensureFile creates the log file on the first record; w.mu must be held.
func (w *logWriter) ensureFile() error {
	if w.f != nil {
		return nil
	}
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("write log %s: %w", w.path, err)
	}
	w.f = f
	return nil
}

// syncLoop fsyncs records left waiting while the run is busy elsewhere (e.g.
// waiting out the search lag), so a group never waits long for its fsync.
func (w *logWriter) syncLoop() {
	defer close(w.stopped)
	t := time.NewTicker(syncInterval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.mu.Lock()
			_ = w.syncLocked() // a failing fsync surfaces on the next write or Close
			w.mu.Unlock()
		}
	}
}

// write appends r (filling seq, time and run) as one line.
func (w *logWriter) write(r Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	if r.informational() {
		w.notes++
	}
	r.Seq, r.Run = w.seq, w.run
	r.Time = time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	if w.sink != nil {
		w.sink(r)
		return nil
	}
	var line []byte
	var err error
	if r.Type == "outcome" {
		line, err = json.Marshal(outcomeLine{Seq: r.Seq, Time: r.Time, Run: r.Run, Type: r.Type, Op: r.Op,
			Status: r.Status, IntercomID: r.IntercomID, Error: r.Error, Before: r.Before, Existing: r.Existing,
			DryRun: r.DryRun, Attempts: r.Attempts, Lookups: r.Lookups, Throttled: r.Throttled,
			WaitedMS: r.WaitedMS})
	} else {
		line, err = json.Marshal(r)
	}
	if err != nil {
		return fmt.Errorf("write log %s op %s: %w", w.path, r.Op, err)
	}
	if err := w.ensureFile(); err != nil {
		return err
	}
	if _, err := w.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write log %s op %s: %w", w.path, r.Op, err)
	}
	w.unsynced++
	if w.unsynced >= syncEvery || time.Since(w.lastSync) >= syncInterval {
		return w.syncLocked()
	}
	return nil
}

func (w *logWriter) syncLocked() error {
	if w.unsynced == 0 {
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("write log %s: fsync: %w", w.path, err)
	}
	w.unsynced, w.lastSync = 0, time.Now()
	return nil
}

// Close fsyncs what is left and closes the file.
func (w *logWriter) Close() error {
	close(w.stop)
	<-w.stopped
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.syncLocked()
	return errors.Join(err, w.f.Close())
}

func digest(body any) string {
	if body == nil {
		return ""
	}
	b, err := json.Marshal(body)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// logFiles lists LOGDIR/*.jsonl oldest run first. Run ids sort by their
// start second only, and runs (serialised by the directory lock) can follow
// each other within one second, so files are ordered by the time of their
// first record, then by name.
func logFiles(dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	first := make(map[string]string, len(paths))
	for _, p := range paths {
		first[p] = firstRecordTime(p)
	}
	sort.SliceStable(paths, func(i, j int) bool {
		a, b := first[paths[i]], first[paths[j]]
		if a != b && a != "" && b != "" {
			return a < b // fixed-width UTC stamps sort as text
		}
		return paths[i] < paths[j]
	})
	return paths, nil
}

// firstRecordTime is the time of a log's first record, or "" if unreadable.
func firstRecordTime(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	if !sc.Scan() {
		return ""
	}
	var r struct {
		Time string `json:"time"`
	}
	if json.Unmarshal(sc.Bytes(), &r) != nil {
		return ""
	}
	return r.Time
}

// readLogFile calls fn for each record of one file. A torn last line (the
// process died mid-write) is ignored; a torn line elsewhere is an error.
func readLogFile(path string, fn func(Record)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read write log %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var bad string
	line := 0
	for sc.Scan() {
		line++
		if bad != "" {
			return fmt.Errorf("read write log %s: %s", path, bad)
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			bad = fmt.Sprintf("line %d: %v", line, err)
			continue
		}
		if string(r.Before) == "null" {
			r.Before = nil
		}
		fn(r)
	}
	return sc.Err()
}

// readAll reads every log of dir in run order.
func readAll(dir string, fn func(Record)) error {
	paths, err := logFiles(dir)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if err := readLogFile(p, fn); err != nil {
			return err
		}
	}
	return nil
}

// opState is what earlier logs say about one op key. Rollbacks count: an op
// whose success a later undo took back is not done, so a new replay redoes it.
type opState struct {
	intent      *Record // last live intent of the current attempt; nil once undone
	done        bool    // the latest success stands
	undone      bool    // a rollback took the latest success back, and no new attempt began
	takenBack   bool    // a rollback took the latest success back (even if a new attempt began)
	undoPending bool    // a rollback's undo of it has an intent and no outcome yet
	failed      bool    // the latest outcome was an error
	status      int
	intercomID  string
	existing    bool
	before      json.RawMessage

	success       *Record // latest live successful outcome, for rollback
	successIntent *Record // the intent that success answered
	order         int64   // position of success in the logs
}

// priorState indexes the live records of all earlier runs by op key.
type priorState map[string]*opState

// stateLoader folds the live records of all logs, in run order, into a
// priorState. Forward ops and their undos are linked by "kind:source_id";
// the parts, attributes and state of a conversation by its Intercom id,
// since deleting the conversation removes them with it.
type stateLoader struct {
	ps        priorState
	objects   map[string][]string // "kind:source_id" (a revision: its op key) -> forward op keys
	children  map[string][]string // conversation id -> keys of ops sent to it
	revisions map[string][]string // "contact:source_id" -> keys of its revisions, which its delete takes back
	n         int64
}

func newStateLoader() *stateLoader {
	return &stateLoader{ps: priorState{}, objects: map[string][]string{}, children: map[string][]string{},
		revisions: map[string][]string{}}
}

func loadPrior(dir string) (priorState, error) {
	ps, _, err := loadPriorAndMatches(dir)
	return ps, err
}

// loadPriorAndMatches reads the logs' op state and the newest run's matches:
// a plan of a rerun or a delta must name admins and teams by the ids that
// run used, or every assignment would look changed.
func loadPriorAndMatches(dir string) (priorState, *RunMatches, error) {
	l, m := newStateLoader(), &RunMatches{}
	err := readAll(dir, func(r Record) {
		l.add(r)
		if r.Type == "matches" && r.Matches != nil && !r.DryRun {
			m = r.Matches
		}
	})
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return l.ps, m, err
}

func (l *stateLoader) get(key string) *opState {
	st := l.ps[key]
	if st == nil {
		st = &opState{}
		l.ps[key] = st
	}
	return st
}

func isUndo(op string) bool { return strings.HasSuffix(op, ":"+stepUndo) }

// objectOf is "kind:source_id" of an op key "kind:source_id:step".
func objectOf(op string) string {
	if i := strings.LastIndexByte(op, ':'); i >= 0 {
		return op[:i]
	}
	return op
}

// objectKey is what an op's undo is keyed by: "kind:source_id", except for
// a revision (delta.go), which is an object of its own: each keeps its own
// before-image, and its undo restores exactly that.
func objectKey(op string) string {
	if revisionBase[kindOfOp(op)] != "" {
		return op
	}
	return objectOf(op)
}

// undoKey is the key of the undo of forward op key op.
func undoKey(op string) string { return objectKey(op) + ":" + stepUndo }

// kindOfOp is the kind an op key starts with.
func kindOfOp(op string) string {
	k, _, _ := strings.Cut(op, ":")
	return k
}

func isConversationChild(kind string) bool {
	return kind == KindConversationPart || kind == KindConversationAttributes || kind == KindConversationState ||
		kind == KindConversationTag
}

func (l *stateLoader) add(r Record) {
	if r.DryRun || (r.Type != "intent" && r.Type != "outcome") { // residue, hold_back, settings: no ops
		return
	}
	l.n++
	st := l.get(r.Op)
	undo := isUndo(r.Op)
	switch {
	case r.Type == "intent":
		rc := r
		st.intent = &rc
		if undo {
			l.each(&rc, func(s *opState) {
				if s.done {
					s.undoPending = true
				}
			})
			return
		}
		st.undone = false // a new attempt: from here on it is uncertain, not undone
		l.index(r)
	case r.Type != "outcome":
	case !succeeded(r):
		if undo {
			l.each(st.intent, func(s *opState) { s.undoPending = false })
			return
		}
		st.failed = true
	case undo:
		st.done, st.status, st.intercomID = true, r.Status, r.IntercomID
		l.takeBack(st.intent)
	default:
		rc := r
		st.done, st.undone, st.takenBack, st.undoPending, st.failed = true, false, false, false, false
		st.status, st.intercomID, st.before, st.existing = r.Status, r.IntercomID, r.Before, r.Existing
		st.success, st.successIntent, st.order = &rc, st.intent, l.n
		// A success after an undo re-arms the undo for the next rollback,
		// and a create after a deletion the deletion for the next delta.
		delete(l.ps, undoKey(r.Op))
		l.rearmDeletions(r.Op)
		if st.intent != nil && st.intent.Kind == KindDeletion {
			l.takeBack(deletedObject(*st.intent))
		}
	}
}

// takeBack marks what an undo (given by its intent) took back: the ops of
// its object and, for a conversation or contact, what was sent to it.
func (l *stateLoader) takeBack(undoIntent *Record) {
	l.each(undoIntent, func(s *opState) {
		if s.done || s.undoPending {
			s.done, s.undone, s.takenBack, s.undoPending, s.intent = false, true, true, false, nil
		}
	})
}

// deletedObject is a delta's deletion seen as the undo of the op that
// wrote the object, when it removed the object (an archived contact stays):
// a later replay of a staging that holds the row creates it afresh.
func deletedObject(del Record) *Record {
	kind, action, _ := strings.Cut(del.Step, "-")
	t, ok := deletionTargets[kind]
	if !ok || action != stepDelete {
		return nil
	}
	return &Record{Op: t.opKind + ":" + del.SourceID + ":" + stepUndo, Kind: t.opKind, SourceID: del.SourceID,
		Method: "DELETE", Path: del.Path}
}

// rearmDeletions forgets the deletions of an object written again, so that
// a later delta deleting it again deletes the new one.
func (l *stateLoader) rearmDeletions(op string) {
	for kind, t := range deletionTargets {
		if strings.HasPrefix(op, t.opKind+":") && strings.HasSuffix(op, ":"+t.step) {
			id := strings.TrimSuffix(strings.TrimPrefix(op, t.opKind+":"), ":"+t.step)
			for _, action := range []string{stepDelete, stepArchive} {
				delete(l.ps, KindDeletion+":"+id+":"+kind+"-"+action)
			}
		}
	}
}

// index remembers a forward intent's object and, for ops sent to a
// conversation, the conversation.
func (l *stateLoader) index(r Record) {
	obj := objectKey(r.Op)
	if !slices.Contains(l.objects[obj], r.Op) {
		l.objects[obj] = append(l.objects[obj], r.Op)
	}
	if base := revisionBase[r.Kind]; base != "" && !slices.Contains(l.revisions[base+":"+r.SourceID], r.Op) {
		l.revisions[base+":"+r.SourceID] = append(l.revisions[base+":"+r.SourceID], r.Op)
	}
	if id := childParent(r); id != "" && !slices.Contains(l.children[id], r.Op) {
		l.children[id] = append(l.children[id], r.Op)
	}
}

// each calls fn for every forward op an undo (given by its intent) takes
// back: the ops of the same object and, for a conversation, what was sent to it.
func (l *stateLoader) each(undoIntent *Record, fn func(*opState)) {
	if undoIntent == nil {
		return
	}
	for _, k := range l.objects[objectOf(undoIntent.Op)] {
		fn(l.ps[k])
	}
	// A contact or company deleted (or put back as it was) takes its
	// revisions with it: a later replay revises the new one afresh.
	for _, k := range l.revisions[objectOf(undoIntent.Op)] {
		fn(l.ps[k])
	}
	id := parentOf(*undoIntent)
	if id == "" {
		return
	}
	for _, k := range l.children[id] {
		// Only while the op still belongs to that parent: after a rollback
		// it may have been sent to a recreated one.
		if s := l.ps[k]; s.intent != nil && childParent(*s.intent) == id {
			fn(s)
		} else if s.successIntent != nil && s.intent == nil && childParent(*s.successIntent) == id {
			fn(s)
		}
	}
}

// succeeded: a live outcome without error. Its status may be a 409 naming our
// own object, or a 404 for an undo whose object was already gone.
func succeeded(r Record) bool {
	return r.Type == "outcome" && r.Error == "" && !r.DryRun
}

// LogCounts summarises the write logs of a directory per kind, one count per
// op key. Undone counts the keys of Written whose object a rollback has since
// taken away (parts, attributes and state go with their conversation), so
// Written-Undone is what replay has in Intercom now; an object recreated after
// a rollback is written again, not undone.
type LogCounts struct {
	Runs     []string
	Written  map[string]int // created, or pre-existing and updated (before-image kept); undo excluded
	Existing map[string]int // found already there and left alone
	Failed   map[string]int // latest outcome an error, and not done
	Undone   map[string]int // of Written, currently taken back by a rollback

	// The same three counts per kind and source table: one kind can come
	// from several tables (parts from emails, calls, tasks, appointments),
	// and the reconciliation balances each table on its own.
	WrittenBySource  map[KindSource]int
	ExistingBySource map[KindSource]int
	UndoneBySource   map[KindSource]int
}

// KindSource names the ops of one kind made from one source table.
type KindSource struct{ Kind, SourceTable string }

// ReadLogs reads every write log in dir and counts live outcomes per kind.
// Dry-run records are not counted.
func ReadLogs(dir string) (*LogCounts, error) { return ReadLogsWhere(dir, nil) }

// ReadLogsWhere is ReadLogs whose per-source counts leave out the ops of
// source rows staged(table, id) says are no longer staged, such as rows a
// delta snapshot saw deleted: the reconciliation balances what staging
// holds. staged nil counts every op.
func ReadLogsWhere(dir string, staged func(table, id string) bool) (*LogCounts, error) {
	lc := &LogCounts{Written: map[string]int{}, Existing: map[string]int{}, Failed: map[string]int{},
		Undone: map[string]int{}, WrittenBySource: map[KindSource]int{}, ExistingBySource: map[KindSource]int{},
		UndoneBySource: map[KindSource]int{}}
	paths, err := logFiles(dir)
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		lc.Runs = append(lc.Runs, strings.TrimSuffix(filepath.Base(p), ".jsonl"))
	}
	l := newStateLoader()
	if err := readAll(dir, l.add); err != nil {
		return nil, err
	}
	for key, st := range l.ps {
		if isUndo(key) {
			continue
		}
		kind, table, id := kindOfOp(key), "", ""
		if st.intent != nil && st.intent.Kind != "" {
			kind, table, id = st.intent.Kind, st.intent.SourceTable, st.intent.SourceID
		} else if st.successIntent != nil && st.successIntent.Kind != "" {
			kind, table, id = st.successIntent.Kind, st.successIntent.SourceTable, st.successIntent.SourceID
		}
		ks := KindSource{kind, table}
		bySource := staged == nil || staged(table, id)
		if st.failed && !st.done {
			lc.Failed[kind]++
		}
		switch {
		case st.success == nil:
		case st.success.Existing && st.success.Before == nil:
			lc.Existing[kind]++
			if bySource {
				lc.ExistingBySource[ks]++
			}
		default:
			lc.Written[kind]++
			if bySource {
				lc.WrittenBySource[ks]++
			}
			if st.takenBack {
				lc.Undone[kind]++
				if bySource {
					lc.UndoneBySource[ks]++
				}
			}
		}
	}
	return lc, nil
}
