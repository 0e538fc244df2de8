// Package report renders the staging database's reconciliation (and, once
// replay, rollback and verify have run, what was written, taken back and
// read back equal) as files a person reads without d2i: reconciliation.md
// and reconciliation.csv, one line per source table with a ✓ or ✗ in the
// manner of rclone check, and a reviewer's sample of conversations shown
// source beside destination.
package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Config names the staging database to read and where to write the report.
type Config struct {
	DBPath string
	OutDir string
	// Written holds rows in Intercom per source table (account, contact,
	// incident, email, phonecall, ...), from replay's write log, net of
	// rollbacks; nil means not replayed yet. Source tables, not stage tables,
	// because one stage table is fed by several (parts come from emails,
	// calls, tasks and appointments) and each row reconciles one table.
	Written map[string]int64
	// RolledBack holds rows a rollback took back per source table, from the
	// write log's undone counts; nil means no rollback information.
	RolledBack map[string]int64
	// VerifyDir is the --out directory of 'd2i verify' (it holds
	// verify.txt); "" means not verified.
	VerifyDir string
	// LogDir is replay's write-log directory: it adds the write-log audit
	// and the index's request-rate chart; "" means not replayed.
	LogDir string
	// Sample, when set, also writes the reviewer's sample
	// (reviewer_sample.md and .csv).
	Sample *SampleInput
	// Plan, when set, writes the replay plan (plan.md and .csv).
	Plan *PlanInput
	// AttachmentCap is the per-file size above which an attachment is a
	// channel asset instead of a file on a part; 0 means
	// DefaultAttachmentCapBytes.
	AttachmentCap int64
	Logger        *slog.Logger
}

// Row is one line of the reconciliation: a source table and the stage object
// it feeds.
type Row struct {
	Object       string
	SourceTable  string
	SourceCount  int64 // -1 when the source could not count
	SnapshotRows int64
	Staged       int64
	Merged       int64
	Rejected     int64
	OutOfScope   int64
	Conserved    bool   // snapshot = staged + merged + rejected + out of scope
	Written      *int64 // nil when not replayed or the object is not written by replay
	RolledBack   *int64 // nil when not replayed or the object is not written by replay
	// Verify is what 'd2i verify' read back; nil when not verified or verify
	// does not cover the object.
	Verify       *VerifyCounts
	RejectedBy   []Reason
	OutOfScopeBy []Reason // Rule is empty: out-of-scope rows have a reason only
}

// Reason counts one reject rule (or out-of-scope reason) of an object.
type Reason struct {
	Rule   string
	Reason string
	Rows   int64
}

// VerifyCounts counts one object's verify.txt lines per symbol.
type VerifyCounts struct {
	Equal, Differ, Missing, Errors int64
}

// Checked is how many objects verify looked at.
func (v VerifyCounts) Checked() int64 { return v.Equal + v.Differ + v.Missing + v.Errors }

// OK says whether the row is whole: conserved; once replayed, every staged
// row written or rolled back; once verified, every checked row equal,
// missing only where nothing stands written.
func (r Row) OK() bool {
	return r.Conserved && r.writtenOK() && r.verifiedOK()
}

func (r Row) writtenOK() bool {
	return r.Written == nil || *r.Written+r.rolledBack() == r.Staged
}

func (r Row) rolledBack() int64 {
	if r.RolledBack == nil {
		return 0
	}
	return *r.RolledBack
}

// verifiedOK judges what verify checked. A full verify reads back every
// staged row, so verified equal must be written; a sampled verify reads a
// few, so the unchecked rest is no fault and only what it found counts.
func (r Row) verifiedOK() bool {
	v := r.Verify
	if v == nil {
		return true
	}
	if v.Differ+v.Errors > 0 {
		return false
	}
	if r.Written == nil {
		return v.Missing == 0
	}
	if !r.VerifySampled() {
		return v.Equal == *r.Written
	}
	return v.Missing <= r.Staged-*r.Written
}

// VerifySampled says whether verify checked only some of the staged rows
// (d2i verify --sample): verify writes a line for every staged object it
// looks at, written or not, so fewer lines than staged rows means a sample.
func (r Row) VerifySampled() bool {
	return r.Verify != nil && r.Verify.Checked() < r.Staged
}

// Result lists the files written and whether every row is whole.
type Result struct {
	Markdown   string
	CSV        string
	Rows       []Row
	OutOfScope []OutOfScope
	AllOK      bool
	// Docs holds every report Build produced, the reconciliation first.
	Docs []Doc
}

// OutOfScope counts the rows of a source table deliberately not migrated.
type OutOfScope struct {
	SourceTable string
	Reason      string
	Rows        int64
}

// writtenObjects are the stage tables replay creates objects from; admins and
// teams are matched to existing ones, so "written" does not apply to them.
var writtenObjects = map[string]bool{"companies": true, "contacts": true, "conversations": true,
	"conversation_parts": true, "data_attributes": true, "collections": true, "articles": true}

// load collects every row the renderers need.
func load(ctx context.Context, db *sql.DB, cfg Config) (*Result, error) {
	rows, err := readRows(ctx, db)
	if err != nil {
		return nil, err
	}
	if err := attachReasons(ctx, db, rows); err != nil {
		return nil, err
	}
	oos, err := readOutOfScope(ctx, db)
	if err != nil {
		return nil, err
	}
	attachOutOfScope(rows, oos)
	var verified map[string]*VerifyCounts
	if cfg.VerifyDir != "" {
		sources, err := readSourceTables(ctx, db, rows)
		if err != nil {
			return nil, err
		}
		if verified, err = readVerifyCounts(cfg.VerifyDir, sources); err != nil {
			return nil, err
		}
	}

	res := &Result{Rows: rows, OutOfScope: oos, AllOK: true}
	for i := range res.Rows {
		r := &res.Rows[i]
		attachReplay(r, cfg, verified)
		res.AllOK = res.AllOK && r.OK()
	}
	return res, nil
}

// attachReplay fills in what replay, rollback and verify say about a row.
func attachReplay(r *Row, cfg Config, verified map[string]*VerifyCounts) {
	if writtenObjects[r.Object] {
		if cfg.Written != nil {
			w := cfg.Written[r.SourceTable]
			r.Written = &w
		}
		if cfg.RolledBack != nil {
			b := cfg.RolledBack[r.SourceTable]
			r.RolledBack = &b
		}
	}
	if verified != nil && verifiedObjects[r.Object] {
		v := VerifyCounts{}
		if got := verified[rowKey(r.Object, r.SourceTable)]; got != nil {
			v = *got
		}
		r.Verify = &v
	}
}

func readRows(ctx context.Context, db *sql.DB) ([]Row, error) {
	q, err := db.QueryContext(ctx, `select object, source_table, source_count, snapshot_rows, staged,
		merged, rejected, out_of_scope, conserved from reports.reconciliation order by ord`)
	if err != nil {
		return nil, fmt.Errorf("read reports.reconciliation: %w", err)
	}
	defer q.Close()
	var out []Row
	for q.Next() {
		var r Row
		if err := q.Scan(&r.Object, &r.SourceTable, &r.SourceCount, &r.SnapshotRows, &r.Staged,
			&r.Merged, &r.Rejected, &r.OutOfScope, &r.Conserved); err != nil {
			return nil, fmt.Errorf("scan reports.reconciliation: %w", err)
		}
		out = append(out, r)
	}
	return out, q.Err()
}

func attachReasons(ctx context.Context, db *sql.DB, rows []Row) error {
	q, err := db.QueryContext(ctx, `select object, source_table, rule, reason, rows
		from reports.rejects_by_reason order by object, source_table, rule, reason`)
	if err != nil {
		return fmt.Errorf("read reports.rejects_by_reason: %w", err)
	}
	defer q.Close()
	byRow := map[string][]Reason{}
	for q.Next() {
		var obj, table string
		var r Reason
		if err := q.Scan(&obj, &table, &r.Rule, &r.Reason, &r.Rows); err != nil {
			return fmt.Errorf("scan reports.rejects_by_reason: %w", err)
		}
		byRow[rowKey(obj, table)] = append(byRow[rowKey(obj, table)], r)
	}
	if err := q.Err(); err != nil {
		return err
	}
	for i := range rows {
		rows[i].RejectedBy = byRow[rowKey(rows[i].Object, rows[i].SourceTable)]
	}
	return nil
}

func readOutOfScope(ctx context.Context, db *sql.DB) ([]OutOfScope, error) {
	q, err := db.QueryContext(ctx, `select source_table, reason, count(*) from reports.out_of_scope
		group by source_table, reason order by source_table, reason`)
	if err != nil {
		return nil, fmt.Errorf("read reports.out_of_scope: %w", err)
	}
	defer q.Close()
	var out []OutOfScope
	for q.Next() {
		var o OutOfScope
		if err := q.Scan(&o.SourceTable, &o.Reason, &o.Rows); err != nil {
			return nil, fmt.Errorf("scan reports.out_of_scope: %w", err)
		}
		out = append(out, o)
	}
	return out, q.Err()
}

// attachOutOfScope gives each row the out-of-scope reasons of its source
// table, already sorted by reason.
func attachOutOfScope(rows []Row, oos []OutOfScope) {
	for i := range rows {
		for _, o := range oos {
			if o.SourceTable == rows[i].SourceTable {
				rows[i].OutOfScopeBy = append(rows[i].OutOfScopeBy, Reason{Reason: o.Reason, Rows: o.Rows})
			}
		}
	}
}

// verifyTextFile is what 'd2i verify' writes in its --out directory.
const verifyTextFile = "verify.txt"

// verifiedObjects maps verify.txt's kinds to the stage tables they check;
// verify covers these four and nothing else.
var verifiedObjects = map[string]bool{"companies": true, "contacts": true, "conversations": true,
	"conversation_parts": true}

var stageTableOfKind = map[string]string{"company": "companies", "contact": "contacts",
	"conversation": "conversations", "conversation_part": "conversation_parts", "contact_note": "contact_notes"}

// rowObjectOf is the reconciliation object a stage table's rows count
// under: notes on contacts (from phone calls and notes) share the row of
// their source table with the conversation parts it feeds.
func rowObjectOf(table string) string {
	if table == "contact_notes" {
		return "conversation_parts"
	}
	return table
}

// verifyLine is one object line of verify.txt:
// "<symbol> <kind> <source_id> <intercom_id|-> [fields] [notes]".
type verifyLine struct {
	Symbol, Kind, SourceID, IntercomID string
	Detail                             []string // differing fields and notes, as verify wrote them
}

// readVerifyFile parses dir/verify.txt. A line that is not an object line
// is an error: the file is verify's own output, so anything else means the
// wrong directory or a torn file.
func readVerifyFile(dir string) ([]verifyLine, error) {
	path := filepath.Join(dir, verifyTextFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("verify report: %w (is %s the --out of 'd2i verify'?)", err, dir)
	}
	var out []verifyLine
	for i, text := range strings.Split(string(b), "\n") {
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		if len(f) < 4 || !strings.Contains("=*-!", f[0]) || len(f[0]) != 1 {
			return nil, fmt.Errorf("%s line %d: not a verify line (want \"= kind source_id intercom_id\")",
				path, i+1)
		}
		l := verifyLine{Symbol: f[0], Kind: f[1], SourceID: f[2], IntercomID: f[3], Detail: f[4:]}
		if l.IntercomID == "-" {
			l.IntercomID = ""
		}
		out = append(out, l)
	}
	return out, nil
}

func rowKey(object, sourceTable string) string { return object + "/" + sourceTable }

// stageSources says which source table each staged row of a verified stage
// table came from: verify.txt names kind and source id only. Most rows of a
// stage table share one source table (all parts but a few notes are
// emails), so only the exceptions are kept by id, which keeps the map small
// on a million parts.
type stageSources struct {
	usual  map[string]string            // stage table → its most common source table
	except map[string]map[string]string // stage table → source id → source table
}

func (s stageSources) of(object, sourceID string) string {
	if t, ok := s.except[object][sourceID]; ok {
		return t
	}
	return s.usual[object]
}

func readSourceTables(ctx context.Context, db *sql.DB, rows []Row) (stageSources, error) {
	s := stageSources{usual: map[string]string{}, except: map[string]map[string]string{}}
	// Without a stage table to ask, an object's first reconciliation row
	// names its source.
	for _, r := range rows {
		if s.usual[r.Object] == "" {
			s.usual[r.Object] = r.SourceTable
		}
	}
	for object := range sourcedTables() {
		present, err := tableExists(ctx, db, "stage", object)
		if err != nil {
			return s, err
		}
		if !present {
			continue
		}
		var usual string
		err = db.QueryRowContext(ctx, `select source_table from stage.`+object+`
			group by source_table order by count(*) desc, source_table limit 1`).Scan(&usual)
		if errors.Is(err, sql.ErrNoRows) {
			continue // nothing staged: every verify line of this kind is an error anyway
		}
		if err != nil {
			return s, fmt.Errorf("read source tables of stage.%s: %w", object, err)
		}
		s.usual[object] = usual
		if err := s.readExceptions(ctx, db, object, usual); err != nil {
			return s, err
		}
	}
	return s, nil
}

// sourcedTables are the stage tables whose rows verify.txt names: those
// verify checks and the contact notes it reads back.
func sourcedTables() map[string]bool {
	out := map[string]bool{"contact_notes": true}
	for t := range verifiedObjects {
		out[t] = true
	}
	return out
}

func (s stageSources) readExceptions(ctx context.Context, db *sql.DB, object, usual string) error {
	q, err := db.QueryContext(ctx, `select source_id, source_table from stage.`+object+`
		where source_table <> ?`, usual)
	if err != nil {
		return fmt.Errorf("read source tables of stage.%s: %w", object, err)
	}
	defer q.Close()
	ids := map[string]string{}
	for q.Next() {
		var id, table string
		if err := q.Scan(&id, &table); err != nil {
			return fmt.Errorf("scan source tables of stage.%s: %w", object, err)
		}
		ids[id] = table
	}
	s.except[object] = ids
	return q.Err()
}

// readVerifyCounts counts verify.txt's symbols per reconciliation row
// (stage table and source table).
func readVerifyCounts(dir string, sources stageSources) (map[string]*VerifyCounts, error) {
	lines, err := readVerifyFile(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]*VerifyCounts{}
	for _, l := range lines {
		table, ok := stageTableOfKind[l.Kind]
		if !ok {
			continue // a kind this report has no row for
		}
		key := rowKey(rowObjectOf(table), sources.of(table, l.SourceID))
		c := out[key]
		if c == nil {
			c = &VerifyCounts{}
			out[key] = c
		}
		switch l.Symbol {
		case "=":
			c.Equal++
		case "*":
			c.Differ++
		case "-":
			c.Missing++
		default:
			c.Errors++
		}
	}
	return out, nil
}
