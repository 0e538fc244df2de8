package transform

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/d2i/d2i/transform/mapping"
)

// snapshotSet is what a transform reads: one full snapshot, or a delta
// snapshot with the chain of bases under it (contracts.md §1). A delta is
// transformed as the table as of its time, so that staging always holds the
// whole migration and replay finds what changed against its write log.
type snapshotSet struct {
	links []chainLink // oldest (the full snapshot) first; the last is the one named
}

type chainLink struct {
	absDir string
	m      *manifest
}

// maxChain bounds how many deltas may stack on a full snapshot.
const maxChain = 1000

func readSnapshotSet(snapDir string) (*snapshotSet, error) {
	var links []chainLink
	for dir := snapDir; ; {
		m, err := readManifest(dir)
		if err != nil {
			return nil, err
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("resolve snapshot dir %s: %w", dir, err)
		}
		links = append(links, chainLink{absDir: abs, m: m})
		if m.Base == "" {
			break
		}
		if len(links) > maxChain {
			return nil, fmt.Errorf("snapshot %s: base chain longer than %d", snapDir, maxChain)
		}
		dir = baseDir(abs, m.Base)
	}
	slices.Reverse(links)
	return &snapshotSet{links: links}, nil
}

// baseDir finds the base a delta names as the snapshot step does: a
// relative name from the working directory, else beside the delta.
func baseDir(deltaDir, base string) string {
	if _, err := os.Stat(filepath.Join(base, "manifest.json")); err == nil || filepath.IsAbs(base) {
		return base
	}
	return filepath.Join(filepath.Dir(deltaDir), filepath.Base(base))
}

func (s *snapshotSet) newest() chainLink { return s.links[len(s.links)-1] }

// asOf is the newest snapshot's manifest with each table the newest
// snapshot left out (a delta of fewer tables) taken from the latest one that
// has it, so that status and source count describe the table as read.
func (s *snapshotSet) asOf() *manifest {
	m := *s.newest().m
	m.Tables = map[string]manifestTable{}
	for _, l := range s.links {
		for name, t := range l.m.Tables {
			m.Tables[name] = t
		}
	}
	return &m
}

// verify checks every snapshot of the chain against its own manifest.
func (s *snapshotSet) verify() error {
	for _, l := range s.links {
		if err := verifyFiles(l.absDir, l.m); err != nil {
			return fmt.Errorf("snapshot %s: %w", l.absDir, err)
		}
	}
	return nil
}

// tableFiles is one snapshot's Parquet parts of a table, as quoted paths.
type tableFiles struct {
	gen   int // position in the chain: later generations win
	paths []string
	rows  int64 // what that snapshot's manifest says they hold
}

// files lists the table's parts per snapshot, oldest first, leaving out
// snapshots that hold none.
func (s *snapshotSet) files(table string) []tableFiles {
	var out []tableFiles
	for gen, l := range s.links {
		t, ok := l.m.Tables[table]
		if !ok || t.Status == "failed" {
			continue
		}
		tf := tableFiles{gen: gen, rows: t.Rows}
		for _, f := range t.parquetFiles() {
			tf.paths = append(tf.paths, quoteString(filepath.Join(l.absDir, filepath.FromSlash(f.Path))))
		}
		if len(tf.paths) > 0 {
			out = append(out, tf)
		}
	}
	return out
}

// tableSource is how a table's rows are read: rows is its rows as of the
// newest snapshot, raw every row the files hold (to check against the
// manifests), tombstones the ids whose latest entry is a deletion. merged
// says a delta is merged in, so rows holds fewer rows than raw.
type tableSource struct {
	rows, raw, tombstones string
	manifestRows          int64
	merged                bool
}

// source builds the queries for a table; key names its primary key, which
// a delta needs to merge by.
func (s *snapshotSet) source(table, key string) (tableSource, bool) {
	groups := s.files(table)
	if len(groups) == 0 {
		return tableSource{}, false
	}
	var total int64
	reads := make([]string, len(groups))
	for i, g := range groups {
		total += g.rows
		reads[i] = fmt.Sprintf("select *, %d as __gen from read_parquet([%s], union_by_name = true)",
			g.gen, strings.Join(g.paths, ", "))
	}
	if len(groups) == 1 && groups[0].gen == 0 {
		from := "read_parquet([" + strings.Join(groups[0].paths, ", ") + "], union_by_name = true)"
		return tableSource{rows: from, raw: from, manifestRows: total}, true
	}
	// A base written before the delta had no __deleted column: union by
	// name reads it as null there. Within one delta a deletion is the
	// later fact (contracts.md §1), hence the second sort key.
	raw := "(" + strings.Join(reads, " union all by name ") + ")"
	latest := fmt.Sprintf("from %s qualify row_number() over (partition by lower(cast(%s as varchar)) "+
		"order by __gen desc, coalesce(__deleted, false) desc) = 1", raw, quoteIdent(key))
	return tableSource{
		rows:         "(select * exclude (__gen, __deleted) " + latest + " and not coalesce(__deleted, false))",
		raw:          raw,
		tombstones:   fmt.Sprintf("select cast(%s as varchar) as source_id %s and coalesce(__deleted, false)", quoteIdent(key), latest),
		manifestRows: total,
		merged:       true,
	}, true
}

// guessKey names the primary key of a table the SQL does not read (a custom
// table): Dataverse keys are <logical name>id, activities' activityid.
func guessKey(ctx context.Context, conn *sql.Conn, table string, groups []tableFiles) (string, error) {
	from := "read_parquet([" + strings.Join(groups[0].paths, ", ") + "], union_by_name = true)"
	have, err := columnsOf(ctx, conn, from)
	if err != nil {
		return "", fmt.Errorf("read schema of snapshot table %s: %w", table, err)
	}
	for _, k := range []string{table + "id", "activityid"} {
		if have[k] {
			return k, nil
		}
	}
	return "", fmt.Errorf("snapshot table %s: no %sid or activityid column to merge the delta by", table, table)
}

// recordTombstones keeps the ids a delta deleted, for stage.deletions.
func recordTombstones(ctx context.Context, conn *sql.Conn, table string, ts tableSource) error {
	if ts.tombstones == "" {
		return nil
	}
	_, err := conn.ExecContext(ctx, "insert into snap_tombstones select ?, source_id from ("+ts.tombstones+")", table)
	if err != nil {
		return fmt.Errorf("record deletions of %s: %w", table, err)
	}
	return nil
}

// deletionKinds pairs the staged object kinds with the source table whose
// deletion removes them and the stage table that would still hold the id.
var deletionKinds = []struct{ kind, table, stage string }{
	{"conversations", "incident", "conversations"},
	{"contacts", "contact", "contacts"},
	{"companies", "account", "companies"},
	{"articles", "knowledgearticle", "articles"},
}

// stageDeletions writes stage.deletions: every object kind's source ids
// the delta chain deleted, with the mapping's action for the kind. An id a
// stage table still holds (e.g. a contact merged into a survivor that
// lives on) is not deleted.
func stageDeletions(ctx context.Context, conn *sql.Conn, policy *mapping.DeletePolicy) error {
	actions := policy.Actions()
	var parts []string
	for i, d := range deletionKinds {
		parts = append(parts, fmt.Sprintf(`select %s as kind, %s as source_table, t.source_id, %s as action, %d as kind_order
			from snap_tombstones t where t.source_table = %s
			and not exists (select 1 from stage.%s s where lower(s.source_id) = lower(t.source_id))`,
			quoteString(d.kind), quoteString(d.table), quoteString(actions[d.kind]), i, quoteString(d.table), d.stage))
	}
	q := `create or replace table stage.deletions as
		select kind, source_table, source_id, action, cast(row_number() over (order by kind_order, source_id) as bigint) as ord
		from (` + strings.Join(parts, " union all ") + `)`
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("stage deletions: %w", err)
	}
	return nil
}

func deletePolicy(m *mapping.Mapping) *mapping.DeletePolicy {
	if m == nil {
		return nil
	}
	return m.Deletes
}

// recordChain keeps the snapshot directories, newest first, in temp table
// snap_chain: replay looks for a blob in each in turn (reports.blob_dirs).
func recordChain(ctx context.Context, conn *sql.Conn, set *snapshotSet) error {
	if _, err := conn.ExecContext(ctx, "create or replace temp table snap_chain (dir varchar, ord integer)"); err != nil {
		return fmt.Errorf("record snapshot chain: %w", err)
	}
	for i := range set.links {
		l := set.links[len(set.links)-1-i]
		if _, err := conn.ExecContext(ctx, "insert into snap_chain values (?, ?)", filepath.ToSlash(l.absDir), i+1); err != nil {
			return fmt.Errorf("record snapshot chain: %w", err)
		}
	}
	return nil
}
