package snapshot

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
)

// Lookup targets without annotations: the real service sends
// @Microsoft.Dynamics.CRM.lookuplogicalname only when asked, and not for
// every lookup. After all tables are read, a lookup value that came
// without it is given its table from the attribute's metadata Targets: the
// only target, or, among several, the snapshotted target table whose keys
// hold the id. Parts that change are rewritten in place (same schema) and
// their manifest entries updated; what stays unknown is counted per column
// in the manifest.

// postProcess runs the passes that need every table: blob summaries and
// lookup resolution. A table whose pass fails is marked failed; a rerun
// repeats only the pass.
func postProcess(ctx context.Context, cfg Config, m *Manifest, failed []string) []string {
	for _, t := range sortedTables(m) {
		tm := m.Tables[t]
		if tm.Status != StatusComplete {
			continue
		}
		if err := summarizeBlobs(cfg.OutDir, tm); err != nil {
			cfg.Logger.Error("dataverse blob summary failed", "table", t, "err", err)
		}
	}
	if ctx.Err() != nil {
		return failed
	}
	lr, err := newLookupResolver(cfg, m)
	if err != nil {
		cfg.Logger.Error("dataverse lookup resolution unavailable", "err", err)
		return failed
	}
	defer lr.close()
	for _, t := range sortedTables(m) {
		tm := m.Tables[t]
		if tm.Status != StatusComplete || ctx.Err() != nil {
			continue
		}
		if err := lr.table(ctx, t, tm); err != nil {
			cfg.Logger.Error("dataverse lookup resolution failed", "table", t, "err", err)
			tm.Status, tm.Error = StatusFailed, fmt.Sprintf("table %s: lookup resolution: %v", t, err)
			failed = append(failed, t)
		}
	}
	return failed
}

func sortedTables(m *Manifest) []string {
	out := make([]string, 0, len(m.Tables))
	for t := range m.Tables {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// lookupAttr is a lookup column and the tables it may point to.
type lookupAttr struct {
	key     string // _x_value
	targets []string
}

// metaLookups reads a table's lookup attributes from its saved metadata.
func metaLookups(root, table string) (pk string, out []lookupAttr, err error) {
	b, err := os.ReadFile(joinRel(root, entityDefRel(table)))
	if err != nil {
		return "", nil, err
	}
	var def struct {
		PrimaryIdAttribute string `json:"PrimaryIdAttribute"`
		Attributes         []struct {
			LogicalName   string   `json:"LogicalName"`
			AttributeType string   `json:"AttributeType"`
			AttributeOf   *string  `json:"AttributeOf"`
			Targets       []string `json:"Targets"`
		} `json:"Attributes"`
	}
	if err := json.Unmarshal(b, &def); err != nil {
		return "", nil, fmt.Errorf("decode metadata %s: %w", table, err)
	}
	for _, a := range def.Attributes {
		switch a.AttributeType {
		case "Lookup", "Customer", "Owner":
		default:
			continue
		}
		if (a.AttributeOf != nil && *a.AttributeOf != "") || !validLogicalName(a.LogicalName) {
			continue
		}
		// TODO: ask the LookupAttributeMetadata cast when the definition came without Targets.
		out = append(out, lookupAttr{key: "_" + a.LogicalName + "_value", targets: a.Targets})
	}
	return def.PrimaryIdAttribute, out, nil
}

type lookupResolver struct {
	cfg    Config
	m      *Manifest
	db     *sql.DB
	tmpDir string
	pks    map[string]string // table → primary key, for tables in the snapshot
}

func newLookupResolver(cfg Config, m *Manifest) (*lookupResolver, error) {
	lr := &lookupResolver{cfg: cfg, m: m, pks: map[string]string{}, tmpDir: joinRel(cfg.OutDir, ".lookups-tmp")}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // temp tables live in one connection
	lr.db = db
	// Id sets can exceed memory on large orgs: DuckDB spills to disk. One
	// thread and a small limit keep this pass under the page loop's peak:
	// with two threads and 1 GB it lifted a million-row snapshot's peak RSS
	// from 185 to 292 MiB.
	for _, q := range []string{"set memory_limit='192MB'", "set threads=1",
		"set temp_directory=" + sqlString(lr.tmpDir)} {
		if _, err := db.Exec(q); err != nil {
			db.Close()
			return nil, fmt.Errorf("duckdb %s: %w", q, err)
		}
	}
	return lr, nil
}

func (lr *lookupResolver) close() {
	lr.db.Close()
	os.RemoveAll(lr.tmpDir)
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// parts lists a table's Parquet parts as a DuckDB list literal.
func (lr *lookupResolver) parts(tm *TableManifest) (rels []string, list string) {
	var q []string
	for _, f := range tm.Files {
		if strings.HasPrefix(f.Path, "tables/") && strings.HasSuffix(f.Path, ".parquet") {
			rels = append(rels, f.Path)
			q = append(q, sqlString(joinRel(lr.cfg.OutDir, f.Path)))
		}
	}
	return rels, "[" + strings.Join(q, ",") + "]"
}

// primaryKey of a table in this snapshot, "" when it is not snapshotted.
func (lr *lookupResolver) primaryKey(table string) string {
	if pk, ok := lr.pks[table]; ok {
		return pk
	}
	pk := ""
	if tm := lr.m.Tables[table]; tm != nil && tm.Status == StatusComplete && tm.Rows > 0 {
		pk, _, _ = metaLookups(lr.cfg.OutDir, table)
		if !validLogicalName(pk) {
			pk = ""
		}
	}
	lr.pks[table] = pk
	return pk
}

// table resolves one table's lookups and records the counts.
func (lr *lookupResolver) table(ctx context.Context, table string, tm *TableManifest) error {
	if err := lr.recover(table, tm); err != nil {
		return err
	}
	_, attrs, err := metaLookups(lr.cfg.OutDir, table)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	rels, list := lr.parts(tm)
	if len(attrs) == 0 || len(rels) == 0 {
		return nil
	}
	attrs, missing, err := lr.presentAndMissing(rels, attrs)
	if err != nil {
		return err
	}
	st := loadLookupState(lr.cfg.OutDir, table)
	todo := map[string]bool{}
	for _, a := range attrs {
		if missing[a.key] > 0 && len(a.targets) > 0 {
			todo[a.key] = true
		}
	}
	if len(todo) > 0 {
		if err := lr.fix(ctx, table, tm, attrs, todo, list, rels, st); err != nil {
			return err
		}
		if _, missing, err = lr.presentAndMissing(rels, attrs); err != nil {
			return err
		}
	}
	tm.ResolvedLookups = nonZero(st.Resolved)
	tm.UnresolvedLookups = nonZero(missing)
	if len(tm.UnresolvedLookups) > 0 {
		lr.cfg.Logger.Warn("dataverse lookups without target table", "table", table, "columns", len(tm.UnresolvedLookups))
	}
	return nil
}

func nonZero(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v > 0 {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// countBatch is how many parts one counting query reads. DuckDB keeps every
// file's footer of a query in memory, so counting a million-row table in one
// query peaked 135 MiB above the page loop; batches keep it flat.
const countBatch = 16

// presentAndMissing keeps the lookups stored in the parts and counts, per
// column, values that have no target table.
func (lr *lookupResolver) presentAndMissing(rels []string, attrs []lookupAttr) ([]lookupAttr, map[string]int64, error) {
	missing := map[string]int64{}
	present := map[string]bool{}
	for lo := 0; lo < len(rels); lo += countBatch {
		list := lr.partList(rels[lo:min(lo+countBatch, len(rels))])
		cols, err := lr.columns(list)
		if err != nil {
			return nil, nil, err
		}
		if err := lr.countMissing(list, attrs, cols, present, missing); err != nil {
			return nil, nil, err
		}
	}
	var kept []lookupAttr
	for _, a := range attrs {
		if present[a.key] {
			kept = append(kept, a)
		}
	}
	return kept, missing, nil
}

// partList is rels as a DuckDB list literal of paths.
func (lr *lookupResolver) partList(rels []string) string {
	q := make([]string, len(rels))
	for i, rel := range rels {
		q[i] = sqlString(joinRel(lr.cfg.OutDir, rel))
	}
	return "[" + strings.Join(q, ",") + "]"
}

func (lr *lookupResolver) columns(list string) (map[string]bool, error) {
	rows, err := lr.db.Query("select column_name from (describe select * from read_parquet(" + list + ", union_by_name=true))")
	if err != nil {
		return nil, fmt.Errorf("describe parts: %w", err)
	}
	defer rows.Close()
	cols := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols[c] = true
	}
	return cols, rows.Err()
}

// countMissing adds one batch's counts of lookup values without a target
// table, for the lookups stored in these parts.
func (lr *lookupResolver) countMissing(list string, attrs []lookupAttr, cols, present map[string]bool, missing map[string]int64) error {
	var keys, exprs []string
	for _, a := range attrs {
		if cols[a.key] && cols[a.key+suffixLookupName] {
			present[a.key] = true
			keys = append(keys, a.key)
			exprs = append(exprs, fmt.Sprintf(`count(*) filter (where "%s" is not null and "%s" is null)`, a.key, a.key+suffixLookupName))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	counts := make([]int64, len(keys))
	ptrs := make([]any, len(keys))
	for i := range counts {
		ptrs[i] = &counts[i]
	}
	q := "select " + strings.Join(exprs, ", ") + " from read_parquet(" + list + ", union_by_name=true)"
	if err := lr.db.QueryRow(q).Scan(ptrs...); err != nil {
		return fmt.Errorf("count unresolved lookups: %w", err)
	}
	for i, k := range keys {
		missing[k] += counts[i]
	}
	return nil
}

// lookupState is checkpoints/lookups/<table>.json: what earlier passes
// resolved, and whether a pass was cut off while rewriting parts.
type lookupState struct {
	Pending  bool             `json:"pending"`
	Resolved map[string]int64 `json:"resolved"`
}

func lookupStateRel(table string) string { return "checkpoints/lookups/" + table + ".json" }

func loadLookupState(root, table string) *lookupState {
	st := &lookupState{Resolved: map[string]int64{}}
	if b, err := os.ReadFile(joinRel(root, lookupStateRel(table))); err == nil {
		_ = json.Unmarshal(b, st)
	}
	if st.Resolved == nil {
		st.Resolved = map[string]int64{}
	}
	return st
}

// recover: a pass killed between rewriting a part and recording it leaves
// checkpoint entries that no longer match; they are rehashed from disk.
func (lr *lookupResolver) recover(table string, tm *TableManifest) error {
	st := loadLookupState(lr.cfg.OutDir, table)
	if !st.Pending {
		return nil
	}
	cp, err := loadCheckpoint(lr.cfg.OutDir, table)
	if err != nil || cp == nil {
		return err
	}
	for i, f := range cp.Files {
		if !strings.HasPrefix(f.Path, "tables/") {
			continue
		}
		fe, err := hashFile(lr.cfg.OutDir, f.Path)
		if err != nil {
			return err
		}
		cp.Files[i].Bytes, cp.Files[i].SHA256 = fe.Bytes, fe.SHA256
	}
	if err := writeJSONAtomic(lr.cfg.OutDir, checkpointRel(table), cp); err != nil {
		return err
	}
	replaceEntries(tm, cp.Files)
	st.Pending = false
	return writeJSONAtomic(lr.cfg.OutDir, lookupStateRel(table), st)
}

func hashFile(root, rel string) (FileEntry, error) {
	f, err := os.Open(joinRel(root, rel))
	if err != nil {
		return FileEntry{}, err
	}
	defer f.Close()
	hw := newHashingWriter(nil)
	hw.w = discardWriter{}
	if _, err := f.WriteTo(hw); err != nil {
		return FileEntry{}, fmt.Errorf("hash %s: %w", rel, err)
	}
	return FileEntry{Path: rel, Bytes: hw.n, SHA256: hw.sum()}, nil
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// replaceEntries updates tm's file entries by path.
func replaceEntries(tm *TableManifest, files []FileEntry) {
	byPath := map[string]FileEntry{}
	for _, f := range files {
		byPath[f.Path] = f
	}
	for i, f := range tm.Files {
		if n, ok := byPath[f.Path]; ok {
			tm.Files[i] = n
		}
	}
}

// fix resolves the todo columns part by part.
func (lr *lookupResolver) fix(ctx context.Context, table string, tm *TableManifest, attrs []lookupAttr,
	todo map[string]bool, list string, rels []string, st *lookupState) error {
	multi := map[string]string{} // column → temp table of id → target
	for i, a := range attrs {
		if !todo[a.key] || len(a.targets) < 2 {
			continue
		}
		name := fmt.Sprintf("res_%d", i)
		if err := lr.buildResolution(name, a, list); err != nil {
			return fmt.Errorf("column %s: %w", a.key, err)
		}
		multi[a.key] = name
	}
	cp, err := loadCheckpoint(lr.cfg.OutDir, table)
	if err != nil || cp == nil {
		return fmt.Errorf("checkpoint: %v", err)
	}
	st.Pending = true
	if err := writeJSONAtomic(lr.cfg.OutDir, lookupStateRel(table), st); err != nil {
		return err
	}
	for _, rel := range rels {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fe, changed, err := lr.fixPart(ctx, rel, attrs, todo, multi, st.Resolved)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		if !changed {
			continue
		}
		for i := range cp.Files {
			if cp.Files[i].Path == rel {
				cp.Files[i] = fe
			}
		}
		if err := writeJSONAtomic(lr.cfg.OutDir, checkpointRel(table), cp); err != nil {
			return err
		}
		replaceEntries(tm, []FileEntry{fe})
	}
	st.Pending = false
	return writeJSONAtomic(lr.cfg.OutDir, lookupStateRel(table), st)
}

// buildResolution makes a DuckDB table of the unresolved ids of column a
// found in exactly one target table. An id in activitypointer and in one
// specific activity table (they share keys) goes to the specific one.
func (lr *lookupResolver) buildResolution(name string, a lookupAttr, list string) error {
	var sets []string
	for _, t := range lr.expandTargets(a.targets) {
		pk := lr.primaryKey(t)
		if pk == "" {
			continue
		}
		_, tlist := lr.parts(lr.m.Tables[t])
		sets = append(sets, fmt.Sprintf(`select %s as name, "%s" as id from read_parquet(%s, union_by_name=true)`,
			sqlString(t), pk, tlist))
	}
	if len(sets) == 0 {
		sets = []string{"select null::varchar as name, null::varchar as id where false"}
	}
	q := fmt.Sprintf(`create or replace temp table %s as
	select id, coalesce(
	  case when count(distinct name) = 1 then min(name) end,
	  case when count(distinct name) filter (where name <> 'activitypointer') = 1
	       then min(name) filter (where name <> 'activitypointer') end) as name
	from (select distinct "%s" as id from read_parquet(%s, union_by_name=true)
	      where "%s" is not null and "%s" is null) u
	join (%s) t using (id)
	group by id`, name, a.key, list, a.key, a.key+suffixLookupName, strings.Join(sets, " union all "))
	_, err := lr.db.Exec(q)
	return err
}

// expandTargets adds, for an activitypointer target, the snapshotted
// activity tables (their key is activityid): the id of an activity is the
// same in activitypointer and in its own table, which names it better.
func (lr *lookupResolver) expandTargets(targets []string) []string {
	out := append([]string{}, targets...)
	if !contains(targets, "activitypointer") {
		return out
	}
	for _, t := range sortedTables(lr.m) {
		if t != "activitypointer" && !contains(out, t) && lr.primaryKey(t) == "activityid" {
			out = append(out, t)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fixPart rewrites one part when some of its lookups can be resolved.
func (lr *lookupResolver) fixPart(ctx context.Context, rel string, attrs []lookupAttr, todo map[string]bool,
	multi map[string]string, resolved map[string]int64) (FileEntry, bool, error) {
	rec, err := readPart(ctx, joinRel(lr.cfg.OutDir, rel))
	if err != nil {
		return FileEntry{}, false, err
	}
	defer rec.Release()
	cols := rec.Columns()
	newCols := make([]arrow.Array, len(cols))
	copy(newCols, cols)
	changed := map[string]int64{}
	for _, a := range attrs {
		if !todo[a.key] {
			continue
		}
		vi, ni := fieldIndex(rec.Schema(), a.key), fieldIndex(rec.Schema(), a.key+suffixLookupName)
		if vi < 0 || ni < 0 {
			continue
		}
		ids, ok1 := cols[vi].(*array.String)
		names, ok2 := cols[ni].(*array.String)
		if !ok1 || !ok2 {
			return FileEntry{}, false, fmt.Errorf("column %s is not a string", a.key)
		}
		targets, err := lr.partTargets(rel, a, multi[a.key])
		if err != nil {
			return FileEntry{}, false, fmt.Errorf("column %s: %w", a.key, err)
		}
		arr, n := fillNames(ids, names, targets)
		if n == 0 {
			arr.Release()
			continue
		}
		defer arr.Release()
		newCols[ni] = arr
		changed[a.key] = n
	}
	if len(changed) == 0 {
		return FileEntry{}, false, nil
	}
	out := array.NewRecordBatch(rec.Schema(), newCols, rec.NumRows())
	defer out.Release()
	fe, err := writePart(lr.cfg.OutDir, rel, out)
	if err != nil {
		return FileEntry{}, false, err
	}
	for k, n := range changed {
		resolved[k] += n
	}
	return fe, true, nil
}

// partTargets gives the target table of ids in one part: a single target
// for every id, else the resolution table's answer for the part's ids.
func (lr *lookupResolver) partTargets(rel string, a lookupAttr, res string) (func(id string) string, error) {
	if len(a.targets) == 1 {
		t := a.targets[0]
		return func(string) string { return t }, nil
	}
	m := map[string]string{}
	q := fmt.Sprintf(`select r.id, r.name from %s r where r.name is not null and r.id in
	  (select "%s" from read_parquet(%s))`, res, a.key, sqlString(joinRel(lr.cfg.OutDir, rel)))
	rows, err := lr.db.Query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		m[id] = name
	}
	return func(id string) string { return m[id] }, rows.Err()
}

// fillNames copies names, filling nulls that have an id and a known target.
func fillNames(ids, names *array.String, target func(string) string) (*array.String, int64) {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	var n int64
	for i := 0; i < names.Len(); i++ {
		switch {
		case names.IsValid(i):
			b.Append(names.Value(i))
		case ids.IsValid(i) && target(ids.Value(i)) != "":
			b.Append(target(ids.Value(i)))
			n++
		default:
			b.AppendNull()
		}
	}
	return b.NewStringArray(), n
}

func fieldIndex(s *arrow.Schema, name string) int {
	if idx := s.FieldIndices(name); len(idx) == 1 {
		return idx[0]
	}
	return -1
}

// readPart loads one Parquet part (one page of rows) as a single record,
// with the Arrow schema it was written with.
func readPart(ctx context.Context, path string) (arrow.RecordBatch, error) {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return nil, err
	}
	tbl, err := fr.ReadTable(ctx)
	if err != nil {
		return nil, err
	}
	defer tbl.Release()
	fields := make([]arrow.Field, tbl.NumCols())
	cols := make([]arrow.Array, tbl.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i := range cols {
		f := tbl.Schema().Field(i)
		fields[i] = arrow.Field{Name: f.Name, Type: f.Type, Nullable: f.Nullable}
		chunks := tbl.Column(i).Data().Chunks()
		if len(chunks) == 0 {
			cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, 0)
			continue
		}
		if len(chunks) == 1 {
			chunks[0].Retain()
			cols[i] = chunks[0]
			continue
		}
		if cols[i], err = array.Concatenate(chunks, memory.DefaultAllocator); err != nil {
			return nil, err
		}
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, tbl.NumRows()), nil
}
