package snapshot

// A delta snapshot (Config.DeltaFrom) holds, per table, the rows that changed
// since a complete base snapshot and tombstones for the rows deleted since.
// Tables whose base entry carries a delta link follow it (change tracking,
// spec §8.2); the others, and tracked tables whose token expired, read the
// rows modified since the base's watermark and find deletions by comparing
// every primary key now in the org with the ids the base chain holds (§8.3).
// Both kinds of read are paged, saved raw and checkpointed like a full read.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Delta modes recorded in DeltaStats.Mode.
const (
	DeltaChangeTracking = "change_tracking"
	DeltaWatermark      = "watermark"
)

// DeletedColumn is the boolean column every Parquet part of a delta snapshot
// adds to the table's schema: true marks a tombstone, whose only other
// non-null column is the primary key.
const DeletedColumn = "__deleted"

// watermarkMargin is how far before the base's newest modifiedon a
// watermark read starts: modifiedon has second precision and rows written
// while the base was read may carry a slightly older stamp (spec §8.3).
// Rows read again whose versionnumber the base chain already holds are
// dropped, so the overlap costs requests, not false changes.
const watermarkMargin = 5 * time.Minute

// DeltaStats is a table's entry in a delta snapshot's manifest.
type DeltaStats struct {
	Mode    string `json:"mode"`    // change_tracking | watermark
	Changed int64  `json:"changed"` // new or changed rows written
	Deleted int64  `json:"deleted"` // tombstones written
	// Watermark is the newest modifiedon the chain up to this snapshot
	// holds (RFC 3339, UTC), "" when the table has no modifiedon.
	Watermark string `json:"watermark,omitempty"`
	// Note says why a tracked table was read by watermark.
	Note string `json:"note,omitempty"`
}

// deltaBase is a loaded base snapshot.
type deltaBase struct {
	dir string
	m   *Manifest
}

// withDeltaBase loads and checks cfg.DeltaFrom; Tables defaults to the
// base's complete tables.
func (cfg Config) withDeltaBase() (Config, error) {
	if err := checkKind(cfg.OutDir, cfg.DeltaFrom != ""); err != nil {
		return cfg, err
	}
	if cfg.DeltaFrom == "" {
		return cfg, nil
	}
	b, err := loadBase(cfg.DeltaFrom)
	if err != nil {
		return cfg, err
	}
	if cfg.OutDir != "" {
		same, err := sameDir(cfg.OutDir, cfg.DeltaFrom)
		if err != nil {
			return cfg, err
		}
		if same {
			return cfg, errors.New("snapshot delta: OutDir must differ from the base snapshot")
		}
	}
	if len(cfg.Tables) == 0 {
		for t, tm := range b.m.Tables {
			if tm.Status == StatusComplete {
				cfg.Tables = append(cfg.Tables, t)
			}
		}
		sort.Strings(cfg.Tables)
	}
	cfg.delta = b
	return cfg, nil
}

// checkKind refuses to resume a full snapshot as a delta or the reverse:
// their parts would mix in one directory.
func checkKind(outDir string, delta bool) error {
	if outDir == "" {
		return nil
	}
	deltas, _ := filepath.Glob(filepath.Join(outDir, "checkpoints", "*.delta.json"))
	all, _ := filepath.Glob(filepath.Join(outDir, "checkpoints", "*.json"))
	switch {
	case delta && len(all) > len(deltas):
		return fmt.Errorf("snapshot delta: %s holds a full snapshot; write the delta elsewhere", outDir)
	case !delta && len(deltas) > 0:
		return fmt.Errorf("snapshot: %s holds a delta snapshot; resume it with its --delta-from", outDir)
	}
	return nil
}

func sameDir(a, b string) (bool, error) {
	absA, err := filepath.Abs(a)
	if err != nil {
		return false, fmt.Errorf("snapshot delta: %w", err)
	}
	absB, err := filepath.Abs(b)
	if err != nil {
		return false, fmt.Errorf("snapshot delta: %w", err)
	}
	return filepath.Clean(absA) == filepath.Clean(absB), nil
}

// loadBase reads a snapshot's manifest; only a complete snapshot can be a base.
func loadBase(dir string) (*deltaBase, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("snapshot delta: read base manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("snapshot delta: decode base manifest %s: %w", dir, err)
	}
	if !m.Complete {
		return nil, fmt.Errorf("snapshot delta: base %s is not complete; finish it first", dir)
	}
	return &deltaBase{dir: dir, m: &m}, nil
}

// parent loads the base this (delta) snapshot names. A relative name is
// taken from the working directory, else beside this snapshot.
func (b *deltaBase) parent() (*deltaBase, error) {
	p := b.m.Base
	if _, err := os.Stat(filepath.Join(p, "manifest.json")); err != nil && !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(filepath.Clean(b.dir)), filepath.Base(p))
	}
	return loadBase(p)
}

// parts lists the table's Parquet row parts (not key lists) as paths.
func (b *deltaBase) parts(table string) []string {
	tm := b.m.Tables[table]
	if tm == nil {
		return nil
	}
	var out []string
	for _, f := range tm.Files {
		if strings.HasPrefix(f.Path, "tables/") && strings.HasSuffix(f.Path, ".parquet") {
			out = append(out, joinRel(b.dir, f.Path))
		}
	}
	return out
}

// deltaCheckpoint is checkpoints/<table>.delta.json: what of a table's
// delta is safely on disk. Parts are numbered 0..Parts-1: one per change
// page, then the tombstones of the key diff.
type deltaCheckpoint struct {
	Table      string `json:"table"`
	EntitySet  string `json:"entity_set"`
	SchemaHash string `json:"schema_hash"`
	Mode       string `json:"mode"`
	Note       string `json:"note,omitempty"`
	// Pages committed of the change read, and the link that follows them.
	Pages    int    `json:"pages"`
	NextLink string `json:"next_link"`
	// ChangesDone: the change read reached its last page.
	ChangesDone bool `json:"changes_done"`
	// Key read (watermark mode): pages committed, next link, keys read.
	KeyPages    int    `json:"key_pages"`
	KeyNextLink string `json:"key_next_link"`
	KeysDone    bool   `json:"keys_done"`
	Keys        int64  `json:"keys"`

	Parts     int         `json:"parts"`
	Rows      int64       `json:"rows"`
	Changed   int64       `json:"changed"`
	Deleted   int64       `json:"deleted"`
	DeltaLink string      `json:"delta_link,omitempty"`
	Watermark string      `json:"watermark,omitempty"`
	Complete  bool        `json:"complete"`
	Files     []FileEntry `json:"files"`
}

func deltaCheckpointRel(table string) string { return "checkpoints/" + table + ".delta.json" }

func loadDeltaCheckpoint(root, table string) (*deltaCheckpoint, error) {
	b, err := os.ReadFile(joinRel(root, deltaCheckpointRel(table)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read delta checkpoint %s: %w", table, err)
	}
	var cp deltaCheckpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("decode delta checkpoint %s: %w", table, err)
	}
	if cp.Table != table {
		return nil, fmt.Errorf("delta checkpoint %s names table %q", table, cp.Table)
	}
	return &cp, nil
}

// deltaRun holds one table's delta while it runs.
type deltaRun struct {
	cfg    Config
	c      *client
	table  string
	log    *slog.Logger
	base   *deltaBase
	schema *tableSchema
	cp     *deltaCheckpoint
	meta   []FileEntry
	db     *deltaDB
}

// deltaTable reads one table's changes since the base; the outcome is its
// manifest entry.
func deltaTable(ctx context.Context, cfg Config, src source, table string) *TableManifest {
	log := cfg.Logger.With("table", table)
	c, ok := src.(*client)
	if !ok {
		return &TableManifest{Status: StatusFailed, SourceCount: -1, Files: []FileEntry{},
			Error: fmt.Sprintf("table %s: a delta reads the Web API, not saved pages", table)}
	}
	d := &deltaRun{cfg: cfg, c: c, table: table, log: log, base: cfg.delta}
	defer d.close()
	tm, err := d.run(ctx)
	if errors.Is(err, errAbsent) {
		log.Info("dataverse table absent")
		return &TableManifest{Status: StatusAbsent, SourceCount: -1, Files: []FileEntry{}}
	}
	if err != nil {
		log.Error("dataverse delta failed", "err", err)
		tm.Status, tm.Error = StatusFailed, err.Error()
	}
	return tm
}

func (d *deltaRun) close() {
	if d.db != nil {
		d.db.close()
	}
}

func (d *deltaRun) run(ctx context.Context) (*TableManifest, error) {
	if err := d.prepare(ctx); err != nil {
		return d.manifest(), err
	}
	if d.cp.Complete {
		d.log.Info("dataverse delta already complete", "changed", d.cp.Changed, "deleted", d.cp.Deleted)
		return d.manifest(), nil
	}
	steps := []func(context.Context) error{d.readChanges, d.readKeys, d.diffKeys, d.finish}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return d.manifest(), err
		}
	}
	return d.manifest(), nil
}

// prepare fetches the metadata, picks the mode and clears what a killed run
// left uncommitted.
func (d *deltaRun) prepare(ctx context.Context) error {
	cp, err := loadDeltaCheckpoint(d.cfg.OutDir, d.table)
	if err != nil {
		return err
	}
	meta, err := d.c.tableMeta(ctx, d.cfg.OutDir, d.table)
	if err != nil {
		return err
	}
	d.meta = meta.files
	if d.schema, err = buildSchema(meta.def, meta.labels); err != nil {
		return err
	}
	if !sameOrg(d.base.m.OrgURL, d.c.base) {
		return fmt.Errorf("table %s: base %s is a snapshot of another org", d.table, d.base.dir)
	}
	bt := d.base.m.Tables[d.table]
	if bt == nil || bt.Status != StatusComplete {
		return fmt.Errorf("table %s is not complete in base %s; take a full snapshot of it", d.table, d.base.dir)
	}
	if cp == nil {
		cp = &deltaCheckpoint{Table: d.table, Mode: DeltaWatermark}
		if bt.DeltaLink != "" && d.schema.tracked {
			cp.Mode = DeltaChangeTracking
		}
	} else if cp.SchemaHash != d.schema.hash() {
		d.cp = cp
		return fmt.Errorf("table %s: columns changed since the delta checkpoint; "+
			"remove %s and the table's parts to restart it", d.table, deltaCheckpointRel(d.table))
	}
	cp.EntitySet, cp.SchemaHash = d.schema.entitySet, d.schema.hash()
	cp.Files = mergeFiles(meta.files, cp.Files)
	d.cp = cp
	if cp.Complete {
		return nil
	}
	return d.clearUncommitted()
}

func (d *deltaRun) clearUncommitted() error {
	dirs := []struct {
		rel  string
		last int
	}{
		{"tables/" + d.table, d.cp.Parts - 1},
		{"pages/" + d.table, d.cp.Pages - 1},
		{"pages/" + d.table + "/keys", d.cp.KeyPages - 1},
		{"keys/" + d.table, d.cp.KeyPages - 1},
	}
	for _, dir := range dirs {
		removeStaleTemps(joinRel(d.cfg.OutDir, dir.rel))
		if err := removeUncommitted(joinRel(d.cfg.OutDir, dir.rel), dir.last); err != nil {
			return fmt.Errorf("table %s: clear uncommitted files: %w", d.table, err)
		}
	}
	return nil
}

// save commits the checkpoint.
func (d *deltaRun) save() error {
	if err := writeJSONAtomic(d.cfg.OutDir, deltaCheckpointRel(d.table), d.cp); err != nil {
		return fmt.Errorf("table %s: %w", d.table, err)
	}
	return nil
}

// manifest is the table's entry as far as the checkpoint goes.
func (d *deltaRun) manifest() *TableManifest {
	if d.cp == nil {
		return &TableManifest{SourceCount: -1, Files: append([]FileEntry{}, d.meta...)}
	}
	cp := d.cp
	files := append([]FileEntry{}, cp.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	tm := &TableManifest{
		EntitySet: cp.EntitySet, SourceCount: -1, Rows: cp.Rows, Pages: cp.Pages + cp.KeyPages,
		Files: files, DeltaLink: cp.DeltaLink,
		Delta: &DeltaStats{Mode: cp.Mode, Changed: cp.Changed, Deleted: cp.Deleted,
			Watermark: cp.Watermark, Note: cp.Note},
	}
	if cp.Mode == DeltaWatermark && cp.KeysDone {
		tm.SourceCount = cp.Keys // every key the org has now
	}
	if cp.Complete {
		tm.Status = StatusComplete
	}
	return tm
}

// sameOrg compares the hosts of two URLs of one environment; a base with
// no org recorded (rebuilt offline) is taken on trust.
func sameOrg(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	if a == "" || errA != nil || errB != nil {
		return a == ""
	}
	return orgHost(ua.Host) == orgHost(ub.Host)
}

// isExpiredToken: the org no longer honours the delta token (spec §8.2: a
// 400 or 410 asking for a full sync).
func isExpiredToken(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	if apiErr.Status == http.StatusGone {
		return true
	}
	msg := strings.ToLower(apiErr.Message)
	return apiErr.Status == http.StatusBadRequest &&
		(strings.Contains(msg, "expired") || strings.Contains(msg, "full sync"))
}

// fallBack restarts the table's delta by watermark: the parts of the change
// read are dropped, they came from a token the org refused.
func (d *deltaRun) fallBack(cause error) error {
	d.log.Warn("dataverse delta token refused; reading by watermark", "pages_dropped", d.cp.Pages)
	for _, dir := range []string{"tables/" + d.table, "pages/" + d.table} {
		if err := removeUncommitted(joinRel(d.cfg.OutDir, dir), -1); err != nil {
			return fmt.Errorf("table %s: drop change-tracking pages: %w", d.table, err)
		}
	}
	note := "delta token refused (" + truncate(cause.Error(), 200) + "); read by modifiedon watermark and key diff"
	d.cp = &deltaCheckpoint{Table: d.table, EntitySet: d.cp.EntitySet, SchemaHash: d.cp.SchemaHash,
		Mode: DeltaWatermark, Note: note, Files: mergeFiles(d.meta, nil)}
	return d.save()
}

func (d *deltaRun) progress(rows int64, pages int) {
	if d.cfg.Progress != nil {
		d.cfg.Progress(d.table, int(rows), pages)
	}
}
