package replay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultSearchLag is how long a lookup waits after an uncertain create
// before it trusts an empty search (Intercom documents "a few minutes").
const DefaultSearchLag = 10 * time.Minute

// Config configures Run.
type Config struct {
	DBPath        string // staging DuckDB file (read-only)
	BaseURL       string // default BaseURLUS
	Token         string // default TokenFromEnv()
	LogDir        string // write logs: earlier ones are read, a new one is written
	Workers       int    // conversations in parallel; default 4
	DryRun        bool
	RatePerMinute int // starting pace; default DefaultRatePerMinute
	Logger        *slog.Logger
	Progress      ProgressFunc

	// SearchLag overrides DefaultSearchLag (tests use milliseconds).
	SearchLag time.Duration
	// Retry overrides DefaultRetryPolicy.
	Retry *RetryPolicy
	// HTTPClient overrides the default client (60 s timeout).
	HTTPClient *http.Client
	// RepliesAsNotes sends historical admin comments as notes instead of
	// comments with skip_notifications.
	RepliesAsNotes bool
	// ActorAdminID is the admin who closes/snoozes conversations without a
	// matched owner; default the first admin Intercom lists.
	ActorAdminID string
	// RequireMapping refuses a staging database built without a confirmed
	// mapping file (no row in reports.mapping).
	RequireMapping bool

	// Sample > 0 replays only that many conversations, picked by Seed as
	// Verify picks them, with what they depend on (sample.go); the objects
	// are tagged SampleTag(Seed) instead of Tag.
	Sample int
	Seed   int64
	// Tag is put on every conversation, contact and company written, e.g.
	// DefaultTag; "" tags nothing.
	Tag string
	// UnassignedOK replays the conversations of owners and queues that match
	// no Intercom admin or team unassigned, instead of stopping before
	// conversations; parts those owners wrote are sent as the acting admin.
	UnassignedOK bool
}

// ProgressFunc is told how far a phase is; total is -1 when unknown.
type ProgressFunc func(kind string, done, total int)

// KindCounts counts ops of one kind in one run.
type KindCounts struct {
	Created  int // written by this run
	Existing int // already in Intercom (not created by this run)
	Failed   int
	Skipped  int // done by an earlier run
}

// Failure is one failed op.
type Failure struct {
	Op     string
	Reason string
}

// Summary is what a run did.
type Summary struct {
	RunID    string
	LogPath  string // empty when the run wrote nothing (no file is left)
	DryRun   bool
	Kinds    map[string]*KindCounts
	Failures []Failure
	Settings RunSettings // the sample and tag this run held to
	// Unassigned lists what UnassignedOK let through; nil when every owner
	// and queue matched.
	Unassigned *Unassigned
}

func (s *Summary) counts(kind string) *KindCounts {
	if s.Kinds[kind] == nil {
		s.Kinds[kind] = &KindCounts{}
	}
	return s.Kinds[kind]
}

// UnmatchedError stops replay before conversations: these staged admins and
// teams are referenced but have no Intercom counterpart, which an Intercom
// admin must create by hand (the API cannot).
type UnmatchedError struct {
	Admins []string // "source_id <email>"
	Teams  []string // "source_id <name>"
}

func (e *UnmatchedError) Error() string {
	return fmt.Sprintf("replay stopped before conversations: %d unmatched admins [%s], %d unmatched teams [%s]",
		len(e.Admins), strings.Join(e.Admins, "; "), len(e.Teams), strings.Join(e.Teams, "; "))
}

// Run replays the staging database into Intercom in dependency order and
// returns what it did. The summary is returned even with an error.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if cfg.DBPath == "" || cfg.LogDir == "" {
		return nil, errors.New("replay: DBPath and LogDir are required")
	}
	// One writer per log directory: a second one would resend what the
	// first has in flight. Held until the log is closed.
	lock, err := lockDir(cfg.LogDir)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer lock.release()
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	defer r.db.Close()
	runErr := r.run(ctx)
	if err := r.e.log.Close(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if !r.e.log.created() || r.dropSettingsOnlyLog() {
		r.e.sum.LogPath = "" // nothing was written, so no log file exists
	}
	sort.Slice(r.e.sum.Failures, func(i, j int) bool { return r.e.sum.Failures[i].Op < r.e.sum.Failures[j].Op })
	r.logger.Info("replay: finished", "run", r.e.sum.RunID, "failures", len(r.e.sum.Failures))
	return r.e.sum, runErr
}

// runner holds one run's state: id maps from source ids to Intercom ids.
type runner struct {
	cfg    Config
	db     *sql.DB
	parts  *partReader // reads db's conversation parts a window at a time
	e      *executor
	logger *slog.Logger

	mu        sync.Mutex
	companies map[string]string // company source_id -> Intercom id
	contacts  map[string]contactRef
	admins    map[string]string // systemuser source_id -> admin id
	teams     map[string]string // queue source_id -> team id
	actor     string
	unmatched *UnmatchedError
	tagID     string // the run's tag, once found or created

	// collections maps category source_id -> collection id; written by the
	// collections step before the articles read it.
	collections map[string]string
}

type contactRef struct{ id, role string }

func newRunner(cfg Config) (*runner, error) {
	if cfg.DBPath == "" || cfg.LogDir == "" {
		return nil, errors.New("replay: DBPath and LogDir are required")
	}
	if cfg.Token == "" {
		t, err := TokenFromEnv()
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		cfg.Token = t
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.SearchLag == 0 {
		cfg.SearchLag = DefaultSearchLag
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c, err := NewClient(ClientOptions{BaseURL: cfg.BaseURL, Token: cfg.Token, HTTPClient: cfg.HTTPClient,
		Limiter: NewLimiter(cfg.RatePerMinute), Retry: cfg.Retry, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	prior, err := loadPrior(cfg.LogDir)
	if err != nil {
		return nil, fmt.Errorf("replay: read earlier write logs: %w", err)
	}
	db, settings, err := openRunStage(cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	run := newRunID()
	lw, err := openLog(cfg.LogDir, run)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("replay: %w", err)
	}
	if settings.recorded() {
		if err := lw.write(settingsRecord(settings, cfg.DryRun)); err != nil {
			db.Close()
			return nil, fmt.Errorf("replay: %w", err)
		}
	}
	sum := &Summary{RunID: run, LogPath: lw.path, DryRun: cfg.DryRun, Kinds: map[string]*KindCounts{},
		Settings: settings}
	e := &executor{c: c, log: lw, prior: prior, dry: cfg.DryRun, logger: logger, sum: sum}
	return &runner{cfg: cfg, db: db, parts: newPartReader(db), e: e, logger: logger, companies: map[string]string{},
		contacts: map[string]contactRef{}, admins: map[string]string{}, teams: map[string]string{}}, nil
}

func (r *runner) run(ctx context.Context) error {
	r.logger.Info("replay: start", "run", r.e.sum.RunID, "dry_run", r.cfg.DryRun, "earlier_ops", len(r.e.prior))
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"data attributes", r.dataAttributes},
		{"admins and teams", r.matchPeople},
		{"unassigned conversations", r.allowUnassigned},
		{"companies", r.replayCompanies},
		{"contacts", r.replayContacts},
		{"contact-company links", r.replayLinks},
		{"contact notes", r.replayContactNotes},
		{"help center", r.replayHelpCenter},
		{"tag", r.prepareTag},
		{"conversations", r.replayConversations},
		{"contact and company tags", r.tagPeople},
		{"deletions", r.replayDeletions},
	}
	for _, s := range steps {
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("replay %s: %w", s.name, err)
		}
		r.logger.Info("replay: step done", "step", s.name)
	}
	return nil
}

// pool runs tasks fed by feed on n workers. A task error that is not a
// per-object failure stops the pool and is returned.
func pool(ctx context.Context, n int, feed func(submit func(func(context.Context) error) error) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tasks := make(chan func(context.Context) error)
	var wg sync.WaitGroup
	var once sync.Once
	var fatal error
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tasks {
				if err := t(ctx); err != nil && !isOpFailure(err) {
					once.Do(func() { fatal = err; cancel() })
				}
			}
		}()
	}
	submit := func(t func(context.Context) error) error {
		select {
		case tasks <- t:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	feedErr := feed(submit)
	close(tasks)
	wg.Wait()
	if fatal != nil {
		return fatal
	}
	return feedErr
}

func (r *runner) progress(kind string, done, total int) {
	if r.cfg.Progress != nil {
		r.cfg.Progress(kind, done, total)
	}
}

// MappingError refuses a staging database whose mapping record is missing
// (when one is required) or is not a well-formed seal.
type MappingError struct {
	DBPath string
	Reason string
}

func (e *MappingError) Error() string {
	return fmt.Sprintf("staging %s: %s", e.DBPath, e.Reason)
}

var mappingSeal = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// checkMapping reads reports.mapping, which transform writes from a
// confirmed mapping file: a recorded seal must be well formed, and with
// require set a database without one is refused.
func checkMapping(db *sql.DB, dbPath string, require bool, logger *slog.Logger) error {
	hashes, err := mappingHashes(db)
	if err != nil {
		return fmt.Errorf("staging %s: %w", dbPath, err)
	}
	if len(hashes) == 0 {
		if require {
			return &MappingError{DBPath: dbPath, Reason: "built without a confirmed mapping " +
				"(no reports.mapping row); rerun 'd2i transform --mapping FILE'"}
		}
		return nil
	}
	for _, h := range hashes {
		if !mappingSeal.MatchString(h) {
			return &MappingError{DBPath: dbPath,
				Reason: fmt.Sprintf("reports.mapping holds %q, not a sha256 seal", h)}
		}
	}
	logger.Info("replay: mapping", "hash", hashes[0])
	return nil
}

// mappingHashes lists reports.mapping's hashes; none when the table is absent
// (a database built before mappings existed).
func mappingHashes(db *sql.DB) ([]string, error) {
	var n int
	if err := db.QueryRow(`select count(*) from information_schema.tables
		where table_schema = 'reports' and table_name = 'mapping'`).Scan(&n); err != nil || n == 0 {
		return nil, err
	}
	rows, err := db.Query(`select coalesce(hash, '') from reports.mapping`)
	if err != nil {
		return nil, fmt.Errorf("read reports.mapping: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("read reports.mapping: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
