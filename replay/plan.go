package replay

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PlanConfig configures Plan.
type PlanConfig struct {
	DBPath        string // staging DuckDB file (read-only)
	RatePerMinute int    // pace the estimate assumes; default DefaultRatePerMinute
	// LogDir optionally names earlier runs' write logs: what they finished is
	// not planned again, as a resumed replay would skip it.
	LogDir string
	Logger *slog.Logger
	// Sample, Seed, Tag and UnassignedOK are replay's (Config): the plan
	// counts the sample's requests and the tagging.
	Sample       int
	Seed         int64
	Tag          string
	UnassignedOK bool
}

// KindPlan is what a replay would send for one kind of op.
type KindPlan struct {
	Kind     string
	Objects  int           // distinct source objects that get at least one request
	Writes   int           // mutating requests: one per op, as the write log's intents
	Reads    int           // reads made for those ops (e.g. a company's before-image)
	Duration time.Duration // Writes+Reads at the plan's rate
}

// Requests is every request of the kind, writes and reads.
func (k KindPlan) Requests() int { return k.Writes + k.Reads }

// PlanSummary is what a replay of a staging database would send, and how
// long that takes at a given pace. It counts a run without faults: retries,
// 429s and lookups after lost answers come on top.
type PlanSummary struct {
	RatePerMinute  int
	Kinds          []KindPlan // every kind, in replay's dependency order
	WorkspaceReads int        // reads tied to no op: attribute, admin and team lists
	Requests       int        // all writes and reads
	Duration       time.Duration
	// Checklist is what an Intercom admin switches off before replay.
	Checklist []string
}

// Kinds in the order replay sends them.
var planKinds = []string{KindDataAttribute, KindCompany, KindCompanyUpdate, KindContact, KindContactUpdate,
	KindContactCompany, KindContactNote, KindCollection, KindArticle, KindConversation, KindConversationPart,
	KindConversationAttributes, KindConversationState, KindTag, KindConversationTag, KindContactTag, KindCompanyTag,
	KindDeletion}

// WorkspaceChecklist lists the workspace settings an Intercom admin turns off
// for the migration window (and back on after verify): replayed contacts and
// conversations look like new inbound traffic to Intercom, and nothing
// documented stops it from reacting to them.
func WorkspaceChecklist() []string {
	return []string{
		"Workflows that trigger on new inbound conversations (auto-replies, assignment, tagging, " +
			"bots): pause them.",
		"Fin AI Agent on inbound conversations: turn it off, or it may answer historical cases.",
		"Outbound messages, series and banners whose audience can match new contacts or companies: pause them.",
		"Email notifications to customers (replies, conversation ratings on close): turn them off; " +
			"replay sends agent replies with skip_notifications or as notes, but workspace rules can still email.",
		"Assignment rules, SLA policies and office-hours auto-messages applied to new conversations: suspend them.",
	}
}

// Plan runs replay's own steps over the staging database as a dry run
// against a blank workspace, counting the requests it would send per kind.
// Because it is the dry-run code path, its counts are a dry run's intents.
// The blank workspace has no custom attributes and no companies, and holds
// the token's admin, an admin for every staged admin with an e-mail and a
// team for every staged team; a real workspace with some of them already there needs fewer writes.
// Plan sends nothing over the network. The summary is returned with any error
// (e.g. a staged admin without e-mail that conversations reference, which
// would stop a real replay before conversations too).
func Plan(ctx context.Context, cfg PlanConfig) (*PlanSummary, error) {
	if cfg.DBPath == "" {
		return nil, errors.New("plan: DBPath is required")
	}
	if cfg.RatePerMinute <= 0 {
		cfg.RatePerMinute = DefaultRatePerMinute
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db, err := openStage(cfg.DBPath)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if db, _, err = sampledIfAsked(ctx, db, cfg.DBPath, cfg.Sample, cfg.Seed); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	defer db.Close()
	prior, matched := priorState{}, &RunMatches{}
	if cfg.LogDir != "" {
		if prior, matched, err = loadPriorAndMatches(cfg.LogDir); err != nil {
			return nil, fmt.Errorf("plan: read earlier write logs: %w", err)
		}
	}
	ws, err := newBlankWorkspace(ctx, db, matched)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	r, count, err := planRunner(cfg, db, ws, prior, logger)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	runErr := r.run(ctx)
	p := count.summary(cfg.RatePerMinute, ws)
	if runErr != nil {
		return p, fmt.Errorf("plan: %w", runErr)
	}
	return p, nil
}

// planRunner is a dry-run runner whose client talks to ws without pacing
// and whose log feeds a counter instead of a file.
func planRunner(cfg PlanConfig, db *sql.DB, ws *blankWorkspace, prior priorState,
	logger *slog.Logger) (*runner, *planCounter, error) {
	c, err := NewClient(ClientOptions{BaseURL: "http://blank-workspace.invalid", Token: "plan",
		HTTPClient: &http.Client{Transport: ws}, Limiter: NewLimiter(unpacedRate), Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	count := newPlanCounter()
	e := &executor{c: c, log: sinkLog(count.add), prior: prior, dry: true, logger: logger,
		sum: &Summary{RunID: "plan", DryRun: true, Kinds: map[string]*KindCounts{}}}
	r := &runner{cfg: Config{DBPath: cfg.DBPath, DryRun: true, Workers: 4, Sample: cfg.Sample, Seed: cfg.Seed,
		Tag: cfg.Tag, UnassignedOK: cfg.UnassignedOK}, db: db, parts: newPartReader(db), e: e, logger: logger,
		companies: map[string]string{}, contacts: map[string]contactRef{}, admins: map[string]string{},
		teams: map[string]string{}}
	return r, count, nil
}

// unpacedRate is high enough that the limiter never makes a plan wait.
const unpacedRate = 1 << 30

// planCounter tallies the intents a dry run logs.
type planCounter struct {
	mu      sync.Mutex
	writes  map[string]int
	objects map[string]map[string]bool
}

func newPlanCounter() *planCounter {
	return &planCounter{writes: map[string]int{}, objects: map[string]map[string]bool{}}
}

func (p *planCounter) add(r Record) {
	if r.Type != "intent" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writes[r.Kind]++
	if p.objects[r.Kind] == nil {
		p.objects[r.Kind] = map[string]bool{}
	}
	p.objects[r.Kind][r.SourceID] = true
}

func (p *planCounter) summary(rate int, ws *blankWorkspace) *PlanSummary {
	p.mu.Lock()
	defer p.mu.Unlock()
	reads, workspaceReads := ws.readCounts()
	s := &PlanSummary{RatePerMinute: rate, WorkspaceReads: workspaceReads, Checklist: WorkspaceChecklist()}
	s.Requests = workspaceReads
	for _, kind := range planKinds {
		k := KindPlan{Kind: kind, Objects: len(p.objects[kind]), Writes: p.writes[kind], Reads: reads[kind]}
		k.Duration = atRate(k.Requests(), rate)
		s.Kinds = append(s.Kinds, k)
		s.Requests += k.Requests()
	}
	s.Duration = atRate(s.Requests, rate)
	return s
}

// atRate is how long n requests take at perMinute.
func atRate(n, perMinute int) time.Duration {
	return time.Duration(math.Round(float64(n) / float64(perMinute) * float64(time.Minute)))
}

// blankWorkspace answers the reads a dry run makes as a workspace would
// that holds only the staged admins and teams. It is an http.RoundTripper
// so that the plan goes through the very client calls replay makes; any
// other request is an error, since a dry run must send nothing else.
type blankWorkspace struct {
	admins, teams []byte // GET /admins and GET /teams answers

	mu             sync.Mutex
	reads          map[string]int // per kind of the op that read
	workspaceReads int
}

func newBlankWorkspace(ctx context.Context, db *sql.DB, matched *RunMatches) (*blankWorkspace, error) {
	admins, err := readAdmins(ctx, db)
	if err != nil {
		return nil, err
	}
	teams, err := readTeams(ctx, db)
	if err != nil {
		return nil, err
	}
	// Admin "0" stands for the token's own admin, which every workspace has:
	// replay closes and snoozes unowned conversations as it. With no e-mail
	// it matches no staged admin.
	var al struct {
		Admins []Admin `json:"admins"`
	}
	token := ID("0")
	if matched.Actor != "" {
		token = ID(matched.Actor) // the admin the last run acted as
	}
	al.Admins = append(al.Admins, Admin{ID: token, Name: "token admin"})
	idOf := func(known map[string]string, sourceID string, i int) ID {
		if id := known[sourceID]; id != "" {
			return ID(id)
		}
		return ID(strconv.Itoa(i + 1))
	}
	// What the last run could not match is not in the workspace either.
	unmatched := map[string]bool{}
	for _, id := range append(slices.Clone(matched.UnmatchedAdmins), matched.UnmatchedTeams...) {
		unmatched[id] = true
	}
	for i, a := range admins {
		if a.Email != "" && !unmatched[a.SourceID] {
			al.Admins = append(al.Admins, Admin{ID: idOf(matched.Admins, a.SourceID, i), Email: a.Email, Name: a.Name})
		}
	}
	var tl struct {
		Teams []Team `json:"teams"`
	}
	for i, t := range teams {
		if !unmatched[t.SourceID] {
			tl.Teams = append(tl.Teams, Team{ID: idOf(matched.Teams, t.SourceID, i), Name: t.Name})
		}
	}
	ws := &blankWorkspace{reads: map[string]int{}}
	if ws.admins, err = json.Marshal(al); err != nil {
		return nil, err
	}
	if ws.teams, err = json.Marshal(tl); err != nil {
		return nil, err
	}
	return ws, nil
}

func (ws *blankWorkspace) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	if req.Method != http.MethodGet {
		return nil, fmt.Errorf("plan: a dry run sent %s %s", req.Method, req.URL.Path)
	}
	ws.count(req.Context())
	switch req.URL.Path {
	case "/admins":
		return answer(req, http.StatusOK, ws.admins), nil
	case "/teams":
		return answer(req, http.StatusOK, ws.teams), nil
	case "/data_attributes", "/conversations/attributes", "/tags":
		return answer(req, http.StatusOK, []byte(`{"type":"list","data":[]}`)), nil
	case "/companies":
		return answer(req, http.StatusNotFound,
			[]byte(`{"type":"error.list","errors":[{"code":"company_not_found","message":"Company Not Found"}]}`)), nil
	}
	// A delta's revision reads the object it revises, which an earlier run
	// wrote (delta.go): the plan counts the read and the write.
	for kind, prefix := range map[string]string{"contact": "/contacts/", "company": "/companies/"} {
		if id, ok := strings.CutPrefix(req.URL.Path, prefix); ok && id != "" && !strings.Contains(id, "/") {
			b, err := json.Marshal(map[string]string{"type": kind, "id": id})
			if err != nil {
				return nil, err
			}
			return answer(req, http.StatusOK, b), nil
		}
	}
	return nil, fmt.Errorf("plan: no blank-workspace answer for GET %s", req.URL.Path)
}

// count attributes a read to the op whose context it carries.
func (ws *blankWorkspace) count(ctx context.Context) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if key := opOf(ctx); key != "" {
		ws.reads[kindOfOp(key)]++
		return
	}
	ws.workspaceReads++
}

func (ws *blankWorkspace) readCounts() (map[string]int, int) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.reads, ws.workspaceReads
}

func answer(req *http.Request, status int, body []byte) *http.Response {
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1",
		ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: req}
}
