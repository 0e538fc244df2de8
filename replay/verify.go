package replay

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Verify symbols, one per object line of verify.txt (after rclone check).
const (
	VerifyEqual   = "=" // every compared field equals staging
	VerifyDiffer  = "*" // at least one field differs; the fields are named
	VerifyMissing = "-" // not in Intercom (never written, or gone since)
	VerifyError   = "!" // could not be read back
)

// Verify output files inside VerifyConfig.OutDir.
const (
	VerifyTextFile = "verify.txt"
	VerifyCSVFile  = "verify.csv"
)

// VerifyConfig configures Verify.
type VerifyConfig struct {
	DBPath  string // staging DuckDB file (read-only)
	BaseURL string // default BaseURLUS
	Token   string // default TokenFromEnv()
	LogDir  string // write logs of replay: the source id -> Intercom id mapping
	OutDir  string // verify.txt and verify.csv are written here
	// Sample > 0 checks only that many conversations, chosen by Seed, with
	// their contacts and companies; 0 checks every staged object.
	Sample  int
	Seed    int64
	Workers int // objects read in parallel; default 4
	// RatePerMinute is the starting pace of the shared limiter; default
	// DefaultRatePerMinute.
	RatePerMinute int
	Logger        *slog.Logger
	Retry         *RetryPolicy
	HTTPClient    *http.Client
}

// VerifyCounts counts the objects of one kind per symbol.
type VerifyCounts struct {
	Equal, Differ, Missing, Errors int
}

// FieldCount is one row of verify.csv.
type FieldCount struct {
	Kind, Field      string
	Compared, Differ int
}

// VerifySummary is what Verify found.
type VerifySummary struct {
	Kinds    map[string]*VerifyCounts // company, contact, contact_note, conversation, conversation_part
	Fields   []FieldCount             // by kind, then field
	Sample   int                      // conversations sampled; 0 = all were checked
	Seed     int64
	TextPath string
	CSVPath  string
}

// Clean reports whether every object was read back and equal.
func (s *VerifySummary) Clean() bool {
	for _, c := range s.Kinds {
		if c.Differ+c.Missing+c.Errors > 0 {
			return false
		}
	}
	return true
}

func (s *VerifySummary) counts(kind string) *VerifyCounts {
	if s.Kinds[kind] == nil {
		s.Kinds[kind] = &VerifyCounts{}
	}
	return s.Kinds[kind]
}

// verifyKinds is the order of kinds in the summary and verify.csv.
var verifyKinds = []string{KindCompany, KindContact, KindContactNote, KindConversation, KindConversationPart}

// verdict is one line of verify.txt. notes carry digests only, never values.
type verdict struct {
	sym, kind, sourceID, intercomID string
	fields, notes                   []string
}

func (v verdict) line() string {
	id := v.intercomID
	if id == "" {
		id = "-"
	}
	s := v.sym + " " + v.kind + " " + v.sourceID + " " + id
	if len(v.fields) > 0 {
		s += " " + strings.Join(v.fields, ",")
	}
	for _, n := range v.notes {
		s += " " + n
	}
	return s
}

// Verify reads back what replay wrote (as the write logs in LogDir name it)
// and compares each mapped field with staging. The result is a report in
// OutDir; differences are not an error of Verify itself. The summary is
// returned even with an error.
func Verify(ctx context.Context, cfg VerifyConfig) (*VerifySummary, error) {
	v, err := newVerifier(cfg)
	if err != nil {
		return nil, err
	}
	defer v.db.Close()
	sum := v.sum
	runErr := v.run(ctx)
	if err := v.finish(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	v.logger.Info("verify: finished", "text", sum.TextPath, "clean", sum.Clean())
	return sum, runErr
}

// verifier holds one verification: staging, client, id maps and outputs.
type verifier struct {
	cfg    VerifyConfig
	db     *sql.DB
	parts  *partReader // reads db's conversation parts a window at a time
	c      *Client
	logger *slog.Logger
	ids    *idMaps
	sum    *VerifySummary

	txtFile *os.File
	txt     *bufio.Writer

	mu     sync.Mutex
	fields map[[2]string]*FieldCount
}

func newVerifier(cfg VerifyConfig) (*verifier, error) {
	if cfg.DBPath == "" || cfg.LogDir == "" || cfg.OutDir == "" {
		return nil, errors.New("verify: DBPath, LogDir and OutDir are required")
	}
	if cfg.Token == "" {
		t, err := TokenFromEnv()
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		cfg.Token = t
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c, err := NewClient(ClientOptions{BaseURL: cfg.BaseURL, Token: cfg.Token, HTTPClient: cfg.HTTPClient,
		Limiter: NewLimiter(cfg.RatePerMinute), Retry: cfg.Retry, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	ids, err := readIDMaps(cfg.LogDir)
	if err != nil {
		return nil, fmt.Errorf("verify: read write logs %s: %w", cfg.LogDir, err)
	}
	db, err := openStage(cfg.DBPath)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	v := &verifier{cfg: cfg, db: db, parts: newPartReader(db), c: c, logger: logger, ids: ids, fields: map[[2]string]*FieldCount{},
		sum: &VerifySummary{Kinds: map[string]*VerifyCounts{}, Sample: max(0, cfg.Sample), Seed: cfg.Seed}}
	if err := v.openOutputs(); err != nil {
		db.Close()
		return nil, err
	}
	return v, nil
}

func (v *verifier) openOutputs() error {
	if err := os.MkdirAll(v.cfg.OutDir, 0o700); err != nil {
		return fmt.Errorf("verify: out dir %s: %w", v.cfg.OutDir, err)
	}
	v.sum.TextPath = filepath.Join(v.cfg.OutDir, VerifyTextFile)
	v.sum.CSVPath = filepath.Join(v.cfg.OutDir, VerifyCSVFile)
	f, err := os.OpenFile(v.sum.TextPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	v.txtFile, v.txt = f, bufio.NewWriter(f)
	return nil
}

func (v *verifier) run(ctx context.Context) error {
	if err := v.ids.matchPeople(ctx, v.db, v.c); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	var sel *selection
	if v.cfg.Sample > 0 {
		var err error
		if sel, err = sampleConversations(ctx, v.db, v.cfg.Sample, v.cfg.Seed); err != nil {
			return fmt.Errorf("verify: sample: %w", err)
		}
		v.logger.Info("verify: sampled", "conversations", len(sel.conversations),
			"contacts", len(sel.contacts), "companies", len(sel.companies), "seed", v.cfg.Seed)
	}
	steps := []struct {
		name string
		fn   func(context.Context, *selection) error
	}{
		{"companies", v.companies},
		{"contacts", v.contacts},
		{"contact notes", v.verifyNotes},
		{"conversations", v.conversations},
	}
	for _, s := range steps {
		if err := s.fn(ctx, sel); err != nil {
			return fmt.Errorf("verify %s: %w", s.name, err)
		}
		v.logger.Info("verify: step done", "step", s.name)
	}
	return nil
}

// task reads and compares one object (a conversation with its parts yields
// several lines).
type task func(context.Context) []verdict

// batchSize bounds how many objects are in flight, so memory stays flat
// while the lines still come out in staging order.
func (v *verifier) batchSize() int { return v.cfg.Workers * 8 }

// feed collects tasks from produce into batches, runs each batch on the
// workers and writes its lines in order.
func (v *verifier) feed(ctx context.Context, produce func(submit func(task) error) error) error {
	batch := make([]task, 0, v.batchSize())
	submit := func(t task) error {
		batch = append(batch, t)
		if len(batch) < v.batchSize() {
			return nil
		}
		err := v.runBatch(ctx, batch)
		batch = batch[:0]
		return err
	}
	if err := produce(submit); err != nil {
		return err
	}
	return v.runBatch(ctx, batch)
}

func (v *verifier) runBatch(ctx context.Context, batch []task) error {
	if len(batch) == 0 {
		return nil
	}
	out := make([][]verdict, len(batch))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(v.cfg.Workers, len(batch)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = batch[i](ctx)
			}
		}()
	}
	for i := range batch {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, vs := range out {
		for _, vd := range vs {
			if err := v.emit(vd); err != nil {
				return err
			}
		}
	}
	return nil
}

func (v *verifier) emit(vd verdict) error {
	c := v.sum.counts(vd.kind)
	switch vd.sym {
	case VerifyEqual:
		c.Equal++
	case VerifyDiffer:
		c.Differ++
	case VerifyMissing:
		c.Missing++
	default:
		c.Errors++
	}
	if _, err := v.txt.WriteString(vd.line() + "\n"); err != nil {
		return fmt.Errorf("verify: write %s: %w", v.sum.TextPath, err)
	}
	return nil
}

// tally counts one compared field of one object.
func (v *verifier) tally(kind, field string, differ bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	k := [2]string{kind, field}
	fc := v.fields[k]
	if fc == nil {
		fc = &FieldCount{Kind: kind, Field: field}
		v.fields[k] = fc
	}
	fc.Compared++
	if differ {
		fc.Differ++
	}
}

// finish flushes verify.txt and writes verify.csv.
func (v *verifier) finish() error {
	err := v.txt.Flush()
	err = errors.Join(err, v.txtFile.Sync(), v.txtFile.Close())
	v.sum.Fields = v.sortedFields()
	err = errors.Join(err, writeFieldCSV(v.sum.CSVPath, v.sum.Fields))
	for _, k := range verifyKinds {
		v.sum.counts(k)
	}
	if err != nil {
		return fmt.Errorf("verify: write report: %w", err)
	}
	return nil
}

func (v *verifier) sortedFields() []FieldCount {
	rank := map[string]int{}
	for i, k := range verifyKinds {
		rank[k] = i
	}
	out := make([]FieldCount, 0, len(v.fields))
	for _, fc := range v.fields {
		out = append(out, *fc)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return rank[out[i].Kind] < rank[out[j].Kind]
		}
		return out[i].Field < out[j].Field
	})
	return out
}

func writeFieldCSV(path string, fields []FieldCount) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"kind", "field", "compared", "differ"})
	for _, fc := range fields {
		_ = w.Write([]string{fc.Kind, fc.Field, strconv.Itoa(fc.Compared), strconv.Itoa(fc.Differ)})
	}
	w.Flush()
	return errors.Join(w.Error(), f.Sync(), f.Close())
}

// failVerdict turns a read error into "-" (404) or "!" with a short cause
// that names no value of the object.
func failVerdict(kind, sourceID, intercomID string, err error) verdict {
	var nf *NotFound
	if errors.As(err, &nf) {
		return verdict{sym: VerifyMissing, kind: kind, sourceID: sourceID, intercomID: intercomID}
	}
	return verdict{sym: VerifyError, kind: kind, sourceID: sourceID, intercomID: intercomID,
		notes: []string{errorNote(err)}}
}

// errorNote is an error as one token: the HTTP status and code when the API
// answered, else the message with e-mail addresses redacted.
func errorNote(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		s := "http_" + strconv.Itoa(ae.Status)
		if ae.Code != "" {
			s += ":" + ae.Code
		}
		return s
	}
	msg := emailRe.ReplaceAllString(err.Error(), "<email>")
	return "error:" + strings.Join(strings.Fields(msg), "_")
}
