package replay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
)

// Unassigned is what Config.UnassignedOK let through: owners and queues that
// match no Intercom admin or team, and the conversations replayed without
// them.
type Unassigned struct {
	Admins []string // "source_id <email>", as UnmatchedError lists them
	Teams  []string // "source_id <name>"
	// Conversations are the source ids of conversations whose owner or
	// queue is unmatched: they are replayed without that assignment.
	Conversations []string
	// Parts counts replies and notes by unmatched owners: they are sent as
	// ActorID, the admin replay acts as.
	Parts   int
	ActorID string
}

// PreflightReport is what d2i replay shows before it sends anything.
type PreflightReport struct {
	Settings RunSettings
	Plan     *PlanSummary // requests and time per kind, and the workspace checklist
	// Unmatched lists owners and queues with no Intercom counterpart; nil
	// when all match. Without UnassignedOK replay stops on them.
	Unmatched *UnmatchedError
	// Unassigned is what UnassignedOK would let through (nil without it).
	Unassigned *Unassigned
}

// Preflight checks what replay checks before it writes (the mapping, the
// sample and tag against earlier runs in LogDir, admins and teams against
// the workspace: GET /admins and /teams only) and plans the run at
// cfg.RatePerMinute. It writes nothing, not even a log.
func Preflight(ctx context.Context, cfg Config) (*PreflightReport, error) {
	if cfg.DBPath == "" || cfg.LogDir == "" {
		return nil, errors.New("pre-flight: DBPath and LogDir are required")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db, settings, err := openRunStage(cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("pre-flight: %w", err)
	}
	defer db.Close()
	rep := &PreflightReport{Settings: settings}
	if err := rep.matchWorkspace(ctx, cfg, db, logger); err != nil {
		return rep, fmt.Errorf("pre-flight: %w", err)
	}
	rep.Plan, err = Plan(ctx, PlanConfig{DBPath: cfg.DBPath, RatePerMinute: cfg.RatePerMinute, LogDir: cfg.LogDir,
		Logger: logger, Sample: cfg.Sample, Seed: cfg.Seed, Tag: cfg.Tag, UnassignedOK: cfg.UnassignedOK})
	if err != nil {
		return rep, fmt.Errorf("pre-flight: %w", err)
	}
	return rep, nil
}

// matchWorkspace matches admins and teams as replay does, with a runner
// that can only read.
func (rep *PreflightReport) matchWorkspace(ctx context.Context, cfg Config, db *sql.DB, logger *slog.Logger) error {
	if cfg.Token == "" {
		t, err := TokenFromEnv()
		if err != nil {
			return err
		}
		cfg.Token = t
	}
	c, err := NewClient(ClientOptions{BaseURL: cfg.BaseURL, Token: cfg.Token, HTTPClient: cfg.HTTPClient,
		Limiter: NewLimiter(cfg.RatePerMinute), Retry: cfg.Retry, Logger: logger})
	if err != nil {
		return err
	}
	e := &executor{c: c, log: sinkLog(func(Record) {}), prior: priorState{}, dry: true, logger: logger,
		sum: &Summary{Kinds: map[string]*KindCounts{}}}
	r := &runner{cfg: cfg, db: db, parts: newPartReader(db), e: e, logger: logger, companies: map[string]string{},
		contacts: map[string]contactRef{}, admins: map[string]string{}, teams: map[string]string{}}
	if err := r.matchPeople(ctx); err != nil {
		return err
	}
	rep.Unmatched = r.unmatched
	if r.unmatched != nil && cfg.UnassignedOK {
		rep.Unassigned, err = r.unassigned(ctx)
	}
	return err
}

// openRunStage opens staging for a run: the mapping is checked, the sample
// and tag are checked against earlier runs in cfg.LogDir, and a sample run
// gets a database holding only its sample.
func openRunStage(cfg Config, logger *slog.Logger) (*sql.DB, RunSettings, error) {
	settings := RunSettings{Sample: cfg.Sample, Seed: cfg.Seed, Tag: cfg.runTag()}
	if cfg.Sample < 0 {
		return nil, settings, fmt.Errorf("sample size %d: want 0 (everything) or more", cfg.Sample)
	}
	if err := checkSettings(cfg.LogDir, settings); err != nil {
		return nil, settings, err
	}
	db, err := openStage(cfg.DBPath)
	if err != nil {
		return nil, settings, err
	}
	if err := checkMapping(db, cfg.DBPath, cfg.RequireMapping, logger); err != nil {
		db.Close()
		return nil, settings, err
	}
	db, sel, err := sampledIfAsked(context.Background(), db, cfg.DBPath, cfg.Sample, cfg.Seed)
	if err != nil {
		return nil, settings, err
	}
	if sel != nil {
		settings.Conversations, settings.Contacts, settings.Companies =
			len(sel.conversations), len(sel.contacts), len(sel.companies)
		logger.Info("replay: sample", "size", cfg.Sample, "seed", cfg.Seed, "conversations",
			settings.Conversations, "contacts", settings.Contacts, "companies", settings.Companies)
	}
	return db, settings, nil
}

// sampledIfAsked swaps full for a database holding only the sample when n >
// 0 (full is closed then, and on error); n == 0 returns full itself.
func sampledIfAsked(ctx context.Context, full *sql.DB, path string, n int, seed int64) (*sql.DB, *selection, error) {
	if n <= 0 {
		return full, nil, nil
	}
	defer full.Close()
	return sampleStage(ctx, full, path, n, seed)
}

// allowUnassigned lets conversations of unmatched owners and queues through
// when the config says so, recording which; otherwise replay stops before
// conversations (replayConversations returns r.unmatched).
func (r *runner) allowUnassigned(ctx context.Context) error {
	if r.unmatched == nil || !r.cfg.UnassignedOK {
		return nil
	}
	u, err := r.unassigned(ctx)
	if err != nil {
		return err
	}
	r.e.sum.Unassigned = u
	r.unmatched = nil
	r.logger.Warn("replay: conversations of unmatched owners and queues go unassigned",
		"conversations", len(u.Conversations), "admins", len(u.Admins), "teams", len(u.Teams),
		"parts_as_actor", u.Parts, "actor", u.ActorID)
	return nil
}

// unassigned lists the conversations and parts that unmatched owners and
// queues leave without an assignee or author.
func (r *runner) unassigned(ctx context.Context) (*Unassigned, error) {
	u := &Unassigned{Admins: r.unmatched.Admins, Teams: r.unmatched.Teams, ActorID: r.actor}
	err := eachConversation(ctx, r.db, func(c stageConversation) error {
		ownerLost := c.AdminSourceID != "" && r.admins[c.AdminSourceID] == ""
		queueLost := c.TeamSourceID != "" && r.teams[c.TeamSourceID] == ""
		if ownerLost || queueLost {
			u.Conversations = append(u.Conversations, c.SourceID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(u.Conversations)
	err = scanRows(ctx, r.db, "stage.conversation_parts",
		`select admin_source_id from stage.conversation_parts where author_type = 'admin' and admin_source_id is not null`,
		func(scan func(...any) error) error {
			var id string
			if err := scan(&id); err != nil {
				return err
			}
			if r.admins[id] == "" {
				u.Parts++
			}
			return nil
		})
	return u, err
}

// dropSettingsOnlyLog removes a log that holds only informational records
// (settings, matches): the run sent nothing, so it leaves no log behind.
func (r *runner) dropSettingsOnlyLog() bool {
	w := r.e.log
	w.mu.Lock()
	n, notes := w.seq, w.notes
	w.mu.Unlock()
	if n == 0 || n != notes {
		return false
	}
	if err := os.Remove(w.path); err != nil {
		r.logger.Warn("replay: cannot remove a log holding only settings", "path", w.path, "err", err)
		return false
	}
	return true
}
