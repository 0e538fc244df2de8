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
}

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
}

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
}

func newRunID() string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

func openLog(dir, run string) (*logWriter, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("write log dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, run+".jsonl")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write log %s: %w", path, err)
	}
	w := &logWriter{f: f, run: run, path: path, lastSync: time.Now(), stop: make(chan struct{}),
		stopped: make(chan struct{})}
	go w.syncLoop()
	return w, nil
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
	r.Seq, r.Run = w.seq, w.run
	r.Time = time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	var line []byte
	var err error
	if r.Type == "outcome" {
		line, err = json.Marshal(outcomeLine{Seq: r.Seq, Time: r.Time, Run: r.Run, Type: r.Type, Op: r.Op,
			Status: r.Status, IntercomID: r.IntercomID, Error: r.Error, Before: r.Before, Existing: r.Existing,
			DryRun: r.DryRun})
	} else {
		line, err = json.Marshal(r)
	}
	if err != nil {
		return fmt.Errorf("write log %s op %s: %w", w.path, r.Op, err)
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

// logFiles lists LOGDIR/*.jsonl oldest run first (run ids sort by time).
func logFiles(dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	return paths, nil
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

// opState is what earlier logs say about one op key.
type opState struct {
	intent     *Record // last live (non-dry-run) intent
	done       bool    // a live outcome succeeded
	status     int
	intercomID string
	existing   bool
	before     json.RawMessage
}

// priorState indexes the live records of all earlier runs by op key.
type priorState map[string]*opState

func loadPrior(dir string) (priorState, error) {
	ps := priorState{}
	err := readAll(dir, func(r Record) {
		if r.DryRun {
			return
		}
		st := ps[r.Op]
		if st == nil {
			st = &opState{}
			ps[r.Op] = st
		}
		switch r.Type {
		case "intent":
			rc := r
			st.intent = &rc
		case "outcome":
			if succeeded(r) {
				st.done, st.status, st.intercomID, st.before = true, r.Status, r.IntercomID, r.Before
				st.existing = r.Existing
			}
		}
	})
	if errors.Is(err, fs.ErrNotExist) {
		return ps, nil
	}
	return ps, err
}

// succeeded: a live outcome without error. Its status may be a 409 naming our
// own object, or a 404 for an undo whose object was already gone.
func succeeded(r Record) bool {
	return r.Type == "outcome" && r.Error == "" && !r.DryRun
}

// LogCounts summarises the write logs of a directory per kind.
type LogCounts struct {
	Runs     []string
	Written  map[string]int // created, or pre-existing and updated (before-image kept); undo excluded
	Existing map[string]int // found already there and left alone
	Failed   map[string]int // live outcomes with an error and no later success
	Undone   map[string]int // successful undo outcomes
}

// ReadLogs reads every write log in dir and counts live outcomes per kind.
// Dry-run records are not counted.
func ReadLogs(dir string) (*LogCounts, error) {
	lc := &LogCounts{Written: map[string]int{}, Existing: map[string]int{}, Failed: map[string]int{},
		Undone: map[string]int{}}
	kindOf := map[string]string{}
	final := map[string]Record{}
	var order []string
	paths, err := logFiles(dir)
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		lc.Runs = append(lc.Runs, strings.TrimSuffix(filepath.Base(p), ".jsonl"))
	}
	err = readAll(dir, func(r Record) {
		if r.DryRun {
			return
		}
		if r.Type == "intent" {
			kindOf[r.Op] = r.Kind
			return
		}
		if _, seen := final[r.Op]; !seen {
			order = append(order, r.Op)
		}
		if prev, ok := final[r.Op]; !ok || !succeeded(prev) {
			final[r.Op] = r
		}
	})
	if err != nil {
		return nil, err
	}
	for _, op := range order {
		r, kind := final[op], kindOf[op]
		switch {
		case strings.HasSuffix(op, ":"+stepUndo) && succeeded(r):
			lc.Undone[kind]++
		case strings.HasSuffix(op, ":"+stepUndo):
		case !succeeded(r):
			lc.Failed[kind]++
		case r.Existing && r.Before == nil:
			lc.Existing[kind]++
		default:
			lc.Written[kind]++
		}
	}
	return lc, nil
}
