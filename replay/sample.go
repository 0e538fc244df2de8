package replay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
)

// RunSettings is what a replay selected and tagged. Every replay's log opens
// with it (a "settings" record), and a resume must keep it: objects already
// written belong to one sample and carry one tag.
type RunSettings struct {
	Sample int    `json:"sample,omitempty"` // conversations sampled; 0 = all
	Seed   int64  `json:"seed,omitempty"`
	Tag    string `json:"tag,omitempty"` // the tag put on written objects; "" = none
	// Conversations, Contacts and Companies count what the sample selected.
	Conversations int `json:"conversations,omitempty"`
	Contacts      int `json:"contacts,omitempty"`
	Companies     int `json:"companies,omitempty"`
}

func (s RunSettings) String() string {
	sel := "every staged object"
	if s.Sample > 0 {
		sel = fmt.Sprintf("--sample %d --seed %d", s.Sample, s.Seed)
	}
	tag := "no tag"
	if s.Tag != "" {
		tag = fmt.Sprintf("tag %q", s.Tag)
	}
	return sel + ", " + tag
}

func (s RunSettings) sameRun(o RunSettings) bool {
	return s.Sample == o.Sample && s.Tag == o.Tag && (s.Sample == 0 || s.Seed == o.Seed)
}

// SettingsError refuses a replay whose sample or tag differs from what the
// earlier runs in the same write-log directory wrote with.
type SettingsError struct {
	LogDir     string
	Earlier    RunSettings
	EarlierRun string
	Now        RunSettings
}

func (e *SettingsError) Error() string {
	return fmt.Sprintf("write-log directory %s holds a replay with %s (run %s), but this one asks for %s; "+
		"resume with the same settings, or give a new --log-dir (for a sample, best in a sandbox workspace)",
		e.LogDir, e.Earlier.String(), e.EarlierRun, e.Now.String())
}

// checkSettings compares the run's settings with those of the latest run in
// dir that sent something (dry runs and rollbacks do not count). A log
// without a settings record is a full run without a tag.
func checkSettings(dir string, now RunSettings) error {
	settings := map[string]RunSettings{}
	var lastRun string
	err := readAll(dir, func(r Record) {
		switch {
		case r.DryRun:
		case r.Type == "settings" && r.Settings != nil:
			settings[r.Run] = *r.Settings
		case r.Type == "intent" && !isUndo(r.Op):
			lastRun = r.Run
		}
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read earlier write logs: %w", err)
	}
	if lastRun == "" {
		return nil
	}
	if earlier := settings[lastRun]; !earlier.sameRun(now) {
		return &SettingsError{LogDir: dir, Earlier: earlier, EarlierRun: lastRun, Now: now}
	}
	return nil
}

// recorded reports whether the settings need a record: a full run without
// a tag is what a log without one means.
func (s RunSettings) recorded() bool { return s.Sample > 0 || s.Tag != "" }

// settingsRecord opens a run's log.
func settingsRecord(s RunSettings, dry bool) Record {
	return Record{Type: "settings", Op: "settings", DryRun: dry, Settings: &s}
}

// sampleStage returns an in-memory database whose stage schema holds only
// the sample: n conversations picked by seed as verify picks them
// (sampleConversations), their parts, the contacts they depend on (starter,
// part authors; merged contacts live in their survivor's row) and the
// companies of those. Other stage tables (attributes, admins, teams and
// whatever else staging holds) are copied whole. full stays open.
func sampleStage(ctx context.Context, full *sql.DB, path string, n int, seed int64) (*sql.DB, *selection, error) {
	sel, err := sampleConversations(ctx, full, n, seed)
	if err != nil {
		return nil, nil, fmt.Errorf("sample %d conversations of %s: %w", n, path, err)
	}
	mem, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, nil, fmt.Errorf("sample: open in-memory database: %w", err)
	}
	if err := copySample(ctx, mem, path, sel); err != nil {
		mem.Close()
		return nil, nil, fmt.Errorf("sample of %s: %w", path, err)
	}
	return mem, sel, nil
}

// sampleFilters says which rows of a stage table belong to the sample.
var sampleFilters = map[string]string{
	"companies":          "source_id in (select id from sample_ids where set_name = 'company')",
	"contacts":           "source_id in (select id from sample_ids where set_name = 'contact')",
	"conversations":      "source_id in (select id from sample_ids where set_name = 'conversation')",
	"conversation_parts": "conversation_source_id in (select id from sample_ids where set_name = 'conversation')",
	// Notes ride on the sampled contacts: a sample's contacts get their calls.
	"contact_notes": "contact_source_id in (select id from sample_ids where set_name = 'contact')",
}

// copySample fills mem's stage schema on one connection, which the id
// list (a temporary table) belongs to; the copied tables are the database's,
// seen by every connection of the pool.
func copySample(ctx context.Context, memDB *sql.DB, path string, sel *selection) error {
	mem, err := memDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer mem.Close()
	stmts := []string{
		"attach " + sqlString(path) + " as staging (read_only)",
		"create schema stage",
		"create temp table sample_ids (set_name varchar, id varchar)",
	}
	for _, s := range stmts {
		if _, err := mem.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	if err := insertIDs(ctx, mem, sel); err != nil {
		return err
	}
	tables, err := stageTables(ctx, mem)
	if err != nil {
		return err
	}
	for _, t := range tables {
		name := quoteIdent(t)
		q := "create table stage." + name + " as select * from staging.stage." + name
		if f, ok := sampleFilters[t]; ok {
			q += " where " + f
		}
		if _, err := mem.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("copy stage.%s: %w", t, err)
		}
	}
	_, err = mem.ExecContext(ctx, "detach staging")
	return err
}

func insertIDs(ctx context.Context, mem *sql.Conn, sel *selection) error {
	sets := map[string]map[string]bool{"conversation": sel.conversations, "contact": sel.contacts,
		"company": sel.companies}
	for name, ids := range sets {
		for _, id := range slices.Sorted(maps.Keys(ids)) {
			if _, err := mem.ExecContext(ctx, "insert into sample_ids values (?, ?)", name, id); err != nil {
				return fmt.Errorf("sample ids: %w", err)
			}
		}
	}
	return nil
}

func stageTables(ctx context.Context, mem *sql.Conn) ([]string, error) {
	rows, err := mem.QueryContext(ctx, `select table_name from information_schema.tables
		where table_catalog = 'staging' and table_schema = 'stage' order by table_name`)
	if err != nil {
		return nil, fmt.Errorf("list stage tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
