// Package snapshot reads tables from the Dataverse Web API and writes them to a
// snapshot directory: Parquet parts, the raw OData pages they came from, the
// metadata that shaped them, per-table checkpoints and a manifest (see
// docs/contracts.md §1).
//
// # Authentication
//
// The reader signs in as an Entra application user with the OAuth 2.0 client
// credentials grant; the scope is the environment URL plus "/.default".
// Credentials come from the environment (CredentialsFromEnv), never from
// flags, and the secret never reaches a log line, an error, the manifest or a
// URL.
//
// # Paging and limits
//
// Each table is read with $select of its stored columns, annotations on and
// odata.maxpagesize set, following @odata.nextLink exactly as returned. Every
// request goes through one RetryPolicy: a 429 waits at least Retry-After and
// resends the same URL; 5xx answers, timeouts and dropped connections back off
// exponentially with jitter; anything else fails the table with an error that
// names the table and page.
//
// # Tables and parallel reads
//
// With no table list, Run reads DefaultTables plus every custom table the
// org's metadata lists (Microsoft first-party prefixes excluded). Tables are
// read concurrently: WhoAmI's x-ms-dop-hint sizes the worker pool, capped by
// Config.Concurrency, and one gate bounds the requests in flight across
// tables. A concurrency-limit 429 lowers that bound by one; clean answers
// raise it again, slowly. After each table the rows read are compared with
// @odata.count and RetrieveTotalRecordCount; a difference is explained in
// the manifest's count_note, never an error.
//
// # Errors and resume
//
// A table the org does not have is recorded as "absent". A table that fails is
// recorded as "failed" and Run returns an error after the other tables ran.
// After every page the Parquet part, the raw page and the checkpoint are
// renamed into place, so a rerun with the same OutDir resumes each unfinished
// table at its next link with no duplicate and no gap.
package snapshot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

// Table statuses recorded in the manifest.
const (
	StatusComplete = "complete"
	StatusAbsent   = "absent"
	StatusFailed   = "failed"
)

// Config says which org to read, which tables, and where to write.
type Config struct {
	// OrgURL is the environment URL, e.g. https://contoso.crm.dynamics.com or
	// https://contoso.api.crm.dynamics.com; a trailing path such as
	// /api/data/v9.2 is tolerated and dropped.
	OrgURL string
	// AuthorityURL is the token authority; default https://login.microsoftonline.com.
	AuthorityURL string
	Credentials  Credentials
	// Tables lists logical names (incident, contact, ...). Empty means
	// DefaultTables plus every custom table the org's metadata lists.
	Tables []string
	OutDir string
	// MaxPageSize is sent as odata.maxpagesize; default and maximum 5000.
	// Memory follows the page size: one page is decoded while the next is
	// fetched. The default needs a few hundred MB at Go's default GOGC; a
	// caller that must stay lower sets GOMEMLIMIT or a smaller page size
	// (figures in BENCHMARKS.md).
	MaxPageSize int
	// HTTPClient is the base client; its Transport carries the requests and
	// the token calls. Nil means http.DefaultClient.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Progress, if set, is called after every committed page.
	Progress func(table string, rows, pages int)
	// Retry governs every request; zero fields take defaults.
	Retry RetryPolicy
	// ToolVersion is written to the manifest; default "dev".
	ToolVersion string
	// Blobs tune the download of note and attachment files (blobs.go).
	Blobs BlobOptions
	// WithRecordings downloads recording files (msdyn_ocrecording); without
	// it they are listed with their size only.
	WithRecordings bool
	// Concurrency caps how many tables are read at once; the server's
	// x-ms-dop-hint (asked with WhoAmI at the start) decides below the cap.
	// 0 means the hint alone.
	Concurrency int

	// DeltaFrom is a complete earlier snapshot: when set, each table is read
	// as its changes since that snapshot (delta.go). Empty Tables then means
	// the base's tables.
	DeltaFrom string
	// delta is the loaded base of a delta run.
	delta *deltaBase

	// workers is how many tables runTables reads at once (0: one).
	workers int
}

// Manifest is manifest.json, the index of everything a snapshot wrote.
type Manifest struct {
	ToolVersion string    `json:"tool_version"`
	OrgURL      string    `json:"org_url"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	Complete    bool      `json:"complete"`
	// Base is the snapshot a delta snapshot holds the changes since.
	Base   string                    `json:"base,omitempty"`
	Tables map[string]*TableManifest `json:"tables"`
}

// TableManifest is one table's entry in the manifest.
type TableManifest struct {
	EntitySet   string      `json:"entity_set"`
	Status      string      `json:"status"`
	SourceCount int64       `json:"source_count"`
	Rows        int64       `json:"rows"`
	Pages       int         `json:"pages"`
	Files       []FileEntry `json:"files"`
	Error       string      `json:"error,omitempty"`
	// CountNote says why SourceCount, or RetrieveTotalRecordCount, differs
	// from Rows; a difference is expected and never an error.
	CountNote string `json:"count_note,omitempty"`
	// DeltaLink is the @odata.deltaLink the next delta follows (tracked tables).
	DeltaLink string `json:"delta_link,omitempty"`
	// Delta is set in a delta snapshot only.
	Delta *DeltaStats `json:"delta,omitempty"`
	// Blobs counts the files of a table that has them (blobs/index/...).
	Blobs *BlobStats `json:"blobs,omitempty"`
	// ResolvedLookups and UnresolvedLookups count, per lookup column, the
	// values whose target table the reader filled in from metadata, and
	// those it could not (lookups.go).
	ResolvedLookups   map[string]int64 `json:"resolved_lookups,omitempty"`
	UnresolvedLookups map[string]int64 `json:"unresolved_lookups,omitempty"`
}

// FileEntry names one written file, relative to the snapshot directory.
type FileEntry struct {
	Path   string `json:"path"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

const defaultMaxPageSize = 5000

// TODO: fetch annotation and attachment bodies into blobs/sha256 (spec §12).
// TODO: on a 401, renew the token once before failing (spec §7.4).

// Run snapshots every table in cfg.Tables (default: DefaultTables plus the
// org's custom tables) into cfg.OutDir and writes manifest.json. Tables are
// read in parallel; a failed table does not stop the others, but Run then
// returns an error alongside the manifest.
func Run(ctx context.Context, cfg Config) (*Manifest, error) {
	cfg, err := cfg.withDeltaBase()
	if err != nil {
		return nil, err
	}
	discover := len(cfg.Tables) == 0
	if discover {
		cfg.Tables = DefaultTables()
	}
	cfg, org, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := ensureLayout(cfg.OutDir); err != nil {
		return nil, err
	}
	api, err := newClient(ctx, cfg, org)
	if err != nil {
		return nil, err
	}
	hint, err := api.whoAmI(ctx)
	if err != nil {
		return nil, err
	}
	if discover {
		if cfg.Tables, err = withCustomTables(ctx, api, cfg.Tables); err != nil {
			return nil, err
		}
	}
	cfg.workers = workerCount(hint, cfg.Concurrency, len(cfg.Tables))
	api.flow.gate.Store(newGate(cfg.workers, cfg.Logger))
	cfg.Logger.Info("dataverse snapshot starting", "tables", len(cfg.Tables),
		"workers", cfg.workers, "dop_hint", hint)

	m, failed := runTables(ctx, cfg, api, org.String())
	m.Base = cfg.DeltaFrom
	return finishManifest(ctx, cfg, m, failed)
}

func nowSecond() time.Time { return time.Now().UTC().Truncate(time.Second) }

func finishManifest(ctx context.Context, cfg Config, m *Manifest, failed []string) (*Manifest, error) {
	failed = postProcess(ctx, cfg, m, failed)
	m.FinishedAt = nowSecond()
	m.Complete = len(failed) == 0 && ctx.Err() == nil && len(m.Tables) == len(cfg.Tables)
	if err := writeJSONAtomic(cfg.OutDir, "manifest.json", m); err != nil {
		return m, fmt.Errorf("write manifest: %w", err)
	}
	if ctx.Err() != nil {
		return m, fmt.Errorf("snapshot interrupted: %w", ctx.Err())
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		msgs := make([]string, len(failed))
		for i, t := range failed {
			msgs[i] = m.Tables[t].Error
		}
		return m, fmt.Errorf("snapshot: %d table(s) failed: %s", len(failed), strings.Join(msgs, "; "))
	}
	return m, nil
}

func (cfg Config) withDefaults() (Config, *url.URL, error) {
	org, err := normalizeOrgURL(cfg.OrgURL)
	if err != nil {
		return cfg, nil, err
	}
	cfg, err = cfg.withCommonDefaults()
	return cfg, org, err
}

// withCommonDefaults checks and fills what Run and Rebuild share.
func (cfg Config) withCommonDefaults() (Config, error) {
	if cfg.OutDir == "" {
		return cfg, errors.New("snapshot: OutDir is required")
	}
	if len(cfg.Tables) == 0 {
		return cfg, errors.New("snapshot: no tables to read")
	}
	for _, t := range cfg.Tables {
		if !validLogicalName(t) {
			return cfg, fmt.Errorf("snapshot: invalid table logical name %q", t)
		}
	}
	if cfg.AuthorityURL == "" {
		cfg.AuthorityURL = "https://login.microsoftonline.com"
	}
	if cfg.MaxPageSize <= 0 || cfg.MaxPageSize > defaultMaxPageSize {
		cfg.MaxPageSize = defaultMaxPageSize
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ToolVersion == "" {
		cfg.ToolVersion = "dev"
	}
	cfg.Retry = cfg.Retry.withDefaults()
	return cfg, nil
}

// normalizeOrgURL keeps scheme and host of the environment URL: both the
// ORG.crm.dynamics.com and the ORG.api.crm.dynamics.com forms are accepted.
func normalizeOrgURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("snapshot: OrgURL is required")
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("snapshot: parse OrgURL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("snapshot: OrgURL %q must be an absolute http(s) URL", raw)
	}
	if u.User != nil {
		return nil, errors.New("snapshot: OrgURL must not carry credentials")
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// validLogicalName guards the names that go into file paths and OData keys.
func validLogicalName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func ensureLayout(dir string) error {
	// An OutDir that already exists keeps the mode its owner gave it; the
	// directories the snapshot owns are user-only.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create snapshot directory: %w", err)
	}
	for _, sub := range []string{"metadata", "tables", "pages", "checkpoints"} {
		p := joinRel(dir, sub)
		if err := os.MkdirAll(p, 0o700); err != nil {
			return fmt.Errorf("create snapshot directory %s: %w", sub, err)
		}
		if err := os.Chmod(p, 0o700); err != nil {
			return fmt.Errorf("chmod snapshot directory %s: %w", sub, err)
		}
	}
	return nil
}
