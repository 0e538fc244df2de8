package report

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
)

// logKinds are the write log's kinds (contracts §3) in replay's dependency
// order, which the audit's tables follow; a kind not listed sorts after them.
var logKinds = []string{"data_attribute", "company", "contact", "contact_company", "conversation",
	"conversation_part", "conversation_attributes", "conversation_state"}

// logColumns reads every field the audit needs; a field absent from a line
// (an intent's status, an older log's attempts) is NULL.
const logColumns = `{seq: 'BIGINT', time: 'TIMESTAMP', run: 'VARCHAR', type: 'VARCHAR', op: 'VARCHAR',
	kind: 'VARCHAR', step: 'VARCHAR', dry_run: 'BOOLEAN', status: 'INTEGER', error: 'VARCHAR',
	existing: 'BOOLEAN', before: 'JSON', attempts: 'BIGINT', lookups: 'BIGINT', throttled: 'BIGINT',
	waited_ms: 'BIGINT'}`

// KindAudit is what one run did to one kind of object.
type KindAudit struct {
	Kind                                string
	Created, Existing, Updated, Failed  int64
	RolledBack, Dry, Residue, Uncertain int64
	HeldBack                            int64 // left alone by a rollback: changed in Intercom after our write
	Requests, Retries, Throttled        int64
	WaitedMS                            int64
}

// Ops is every op with an intent: those answered and those left uncertain.
func (k KindAudit) Ops() int64 {
	return k.Created + k.Existing + k.Updated + k.Failed + k.RolledBack + k.Dry + k.Uncertain
}

func (k *KindAudit) add(o KindAudit) {
	k.Created += o.Created
	k.Existing += o.Existing
	k.Updated += o.Updated
	k.Failed += o.Failed
	k.RolledBack += o.RolledBack
	k.Dry += o.Dry
	k.Residue += o.Residue
	k.HeldBack += o.HeldBack
	k.Uncertain += o.Uncertain
	k.Requests += o.Requests
	k.Retries += o.Retries
	k.Throttled += o.Throttled
	k.WaitedMS += o.WaitedMS
}

// RunAudit is one run (replay or rollback) of the write-log directory.
type RunAudit struct {
	Run         string
	Mode        string // replay | rollback | dry-run replay | dry-run rollback
	First, Last time.Time
	Kinds       []KindAudit // dependency order
	Total       KindAudit   // Kind "all"
}

// rows are the run's kinds followed by its total.
func (r RunAudit) rows() []KindAudit { return append(slices.Clip(r.Kinds), r.Total) }

// ResidueCount counts what a rollback left behind, per kind and reason.
type ResidueCount struct {
	Run, Kind, Reason string
	Ops               int64
}

// UncertainOp is an intent the run never answered: the op may or may not
// have reached Intercom. ResolvedIn names a later run that answered it.
type UncertainOp struct {
	Run, Op, Kind string
	IntentAt      time.Time
	ResolvedIn    string
}

// writeLogAudit is everything the audit found.
type writeLogAudit struct {
	dir        string
	files      int
	unreadable int64
	unmeasured int64 // outcomes logged before the cost fields existed
	runs       []RunAudit
	residue    []ResidueCount
	uncertain  []UncertainOp
	rate       []RatePoint
}

// WriteLogAudit reads every *.jsonl write log in logDir into an in-memory
// DuckDB and reports, per run: ops by kind and outcome, the HTTP requests
// they cost, retries, 429s and waiting, the run's first and last record,
// the residue a rollback could not undo and the intents never answered.
// It also returns the run's requests per minute for the index's chart. The
// log holds no bodies and no tokens; the report names ops by source id.
func WriteLogAudit(ctx context.Context, logDir string) (Doc, []RatePoint, error) {
	paths, err := filepath.Glob(filepath.Join(logDir, "*.jsonl"))
	if err != nil {
		return Doc{}, nil, fmt.Errorf("write-log audit: list %s: %w", logDir, err)
	}
	sort.Strings(paths)
	a := &writeLogAudit{dir: logDir, files: len(paths)}
	if len(paths) > 0 {
		if err := a.load(ctx, paths); err != nil {
			return Doc{}, nil, fmt.Errorf("write-log audit of %s: %w", logDir, err)
		}
	}
	return a.doc(), a.rate, nil
}

// load fills a from the logs; every query runs on one in-memory database.
func (a *writeLogAudit) load(ctx context.Context, paths []string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return fmt.Errorf("open in-memory duckdb: %w", err)
	}
	defer db.Close()
	if err := loadRecords(ctx, db, paths); err != nil {
		return err
	}
	steps := []func(context.Context, *sql.DB) error{a.queryUnreadable, a.queryRuns, a.queryKinds,
		a.queryResidue, a.queryUncertain, a.queryRate}
	for _, step := range steps {
		if err := step(ctx, db); err != nil {
			return err
		}
	}
	a.sortRuns()
	return nil
}

// loadRecords builds the tables the queries read: raw lines, readable
// records, outcomes classified, and ops whose intent has no outcome.
func loadRecords(ctx context.Context, db *sql.DB, paths []string) error {
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = "'" + strings.ReplaceAll(p, "'", "''") + "'"
	}
	stmts := []string{
		// ignore_errors turns a line torn by a crash into a row of NULLs.
		`create table raw as select * from read_json([` + strings.Join(quoted, ", ") + `],
			format = 'newline_delimited', ignore_errors = true, columns = ` + logColumns + `)`,
		`create table rec as select * from raw where seq is not null and run is not null`,
		auditOutcomesSQL,
		auditUncertainSQL,
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("load write logs: %w", err)
		}
	}
	return nil
}

// auditOutcomesSQL classifies each outcome. Its kind and step come from
// the op's intent, or from the op key "kind:source_id:step" itself.
// Updated: an object that was there before and was changed (a before-image
// was kept), or an op whose step is an update.
const auditOutcomesSQL = `
create table outcomes as
with intents as (
	select run, op, any_value(kind) as kind, any_value(step) as step
	from rec where type = 'intent' group by run, op)
select o.run, o.op, o.time,
	coalesce(i.kind, split_part(o.op, ':', 1)) as kind,
	case
		when coalesce(o.dry_run, false) then 'dry'
		when coalesce(o.error, '') <> '' then 'failed'
		when coalesce(i.step, regexp_extract(o.op, '[^:]*$')) = 'undo' then 'rolled_back'
		when o.before is not null or i.step = 'update' then 'updated'
		when coalesce(o.existing, false) then 'existing'
		else 'created'
	end as class,
	coalesce(o.attempts, 0) + coalesce(o.lookups, 0) as requests,
	greatest(coalesce(o.attempts, 0) - 1, 0) as retries,
	coalesce(o.throttled, 0) as throttled,
	coalesce(o.waited_ms, 0) as waited_ms,
	o.attempts is not null as measured
from rec o left join intents i using (run, op)
where o.type = 'outcome'`

// auditUncertainSQL finds, per run, ops whose last intent came after their
// last outcome (or that have none): killed or stopped between the two.
const auditUncertainSQL = `
create table uncertain as
select run, op, kind, intent_at from (
	select run, op, coalesce(any_value(kind), split_part(op, ':', 1)) as kind,
		max(seq) filter (where type = 'intent') as last_intent,
		max(seq) filter (where type = 'outcome') as last_outcome,
		max(time) filter (where type = 'intent') as intent_at
	from rec where type in ('intent', 'outcome') group by run, op)
where last_intent is not null and (last_outcome is null or last_intent > last_outcome)`

func (a *writeLogAudit) queryUnreadable(ctx context.Context, db *sql.DB) error {
	err := db.QueryRowContext(ctx, `select (select count(*) from raw where seq is null or run is null),
		(select count(*) from outcomes where not measured)`).Scan(&a.unreadable, &a.unmeasured)
	if err != nil {
		return fmt.Errorf("count unreadable lines and unmeasured outcomes: %w", err)
	}
	return nil
}

func (a *writeLogAudit) queryRuns(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `select run, min(time), max(time),
			bool_and(coalesce(dry_run, false)),
			bool_or(type = 'residue' or coalesce(step, '') = 'undo')
		from rec group by run`)
	if err != nil {
		return fmt.Errorf("query runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r RunAudit
		var dry, rollback bool
		if err := rows.Scan(&r.Run, &r.First, &r.Last, &dry, &rollback); err != nil {
			return fmt.Errorf("scan run: %w", err)
		}
		r.Mode = auditRunMode(dry, rollback)
		r.Total.Kind = "all"
		a.runs = append(a.runs, r)
	}
	return rows.Err()
}

func auditRunMode(dry, rollback bool) string {
	mode := "replay"
	if rollback {
		mode = "rollback"
	}
	if dry {
		mode = "dry-run " + mode
	}
	return mode
}

// queryKinds counts outcomes by class, residue and uncertain ops per run
// and kind, with what the outcomes cost.
func (a *writeLogAudit) queryKinds(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `
		with k as (
			select run, kind, class, requests, retries, throttled, waited_ms from outcomes
			union all
			select run, coalesce(kind, split_part(op, ':', 1)), type, 0, 0, 0, 0
				from rec where type in ('residue', 'hold_back') and not coalesce(dry_run, false)
			union all
			select run, kind, 'uncertain', 0, 0, 0, 0 from uncertain)
		select run, kind,
			count(*) filter (where class = 'created'), count(*) filter (where class = 'existing'),
			count(*) filter (where class = 'updated'), count(*) filter (where class = 'failed'),
			count(*) filter (where class = 'rolled_back'), count(*) filter (where class = 'dry'),
			count(*) filter (where class = 'residue'), count(*) filter (where class = 'uncertain'),
			count(*) filter (where class = 'hold_back'), sum(requests), sum(retries), sum(throttled), sum(waited_ms)
		from k group by run, kind`)
	if err != nil {
		return fmt.Errorf("query kinds: %w", err)
	}
	defer rows.Close()
	byRun := a.runIndex()
	for rows.Next() {
		var run string
		var k KindAudit
		if err := rows.Scan(&run, &k.Kind, &k.Created, &k.Existing, &k.Updated, &k.Failed, &k.RolledBack,
			&k.Dry, &k.Residue, &k.Uncertain, &k.HeldBack, &k.Requests, &k.Retries, &k.Throttled, &k.WaitedMS); err != nil {
			return fmt.Errorf("scan kind counts: %w", err)
		}
		r := byRun[run]
		r.Kinds = append(r.Kinds, k)
		r.Total.add(k)
	}
	return rows.Err()
}

func (a *writeLogAudit) runIndex() map[string]*RunAudit {
	m := make(map[string]*RunAudit, len(a.runs))
	for i := range a.runs {
		m[a.runs[i].Run] = &a.runs[i]
	}
	return m
}

func (a *writeLogAudit) queryResidue(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `select run, coalesce(kind, split_part(op, ':', 1)),
			coalesce(error, ''), count(*)
		from rec where type = 'residue' and not coalesce(dry_run, false)
		group by all order by 1, 2, 3`)
	if err != nil {
		return fmt.Errorf("query residue: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r ResidueCount
		if err := rows.Scan(&r.Run, &r.Kind, &r.Reason, &r.Ops); err != nil {
			return fmt.Errorf("scan residue: %w", err)
		}
		a.residue = append(a.residue, r)
	}
	return rows.Err()
}

// queryUncertain lists unanswered intents with the first later run, if any,
// that logged an outcome for the same op (a resumed replay settles them).
func (a *writeLogAudit) queryUncertain(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `select u.run, u.op, u.kind, u.intent_at,
			coalesce(arg_min(o.run, o.time), '')
		from uncertain u left join outcomes o
			on o.op = u.op and o.time > u.intent_at and o.run <> u.run and o.class <> 'dry'
		group by all order by u.intent_at, u.op`)
	if err != nil {
		return fmt.Errorf("query uncertain ops: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u UncertainOp
		if err := rows.Scan(&u.Run, &u.Op, &u.Kind, &u.IntentAt, &u.ResolvedIn); err != nil {
			return fmt.Errorf("scan uncertain op: %w", err)
		}
		a.uncertain = append(a.uncertain, u)
	}
	return rows.Err()
}

// queryRate puts each outcome's requests in the minute the op finished: an
// op's retries and waits rarely span a minute boundary, and the log keeps
// no time per request.
func (a *writeLogAudit) queryRate(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `select run, date_trunc('minute', time) as minute,
			sum(requests), sum(throttled)
		from outcomes group by run, minute`)
	if err != nil {
		return fmt.Errorf("query request rate: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p RatePoint
		if err := rows.Scan(&p.Run, &p.Minute, &p.Requests, &p.Throttled); err != nil {
			return fmt.Errorf("scan request rate: %w", err)
		}
		p.Minute = p.Minute.UTC()
		a.rate = append(a.rate, p)
	}
	return rows.Err()
}

// sortRuns orders runs by their first record, kinds by dependency order and
// rate points by run then minute, so that reruns of the audit diff cleanly.
func (a *writeLogAudit) sortRuns() {
	sort.Slice(a.runs, func(i, j int) bool {
		ri, rj := a.runs[i], a.runs[j]
		if !ri.First.Equal(rj.First) {
			return ri.First.Before(rj.First)
		}
		return ri.Run < rj.Run
	})
	order := map[string]int{}
	for i, r := range a.runs {
		order[r.Run] = i
		sort.Slice(r.Kinds, func(x, y int) bool { return auditKindLess(r.Kinds[x].Kind, r.Kinds[y].Kind) })
	}
	sort.Slice(a.rate, func(i, j int) bool {
		if oi, oj := order[a.rate[i].Run], order[a.rate[j].Run]; oi != oj {
			return oi < oj
		}
		return a.rate[i].Minute.Before(a.rate[j].Minute)
	})
	sort.SliceStable(a.residue, func(i, j int) bool { return order[a.residue[i].Run] < order[a.residue[j].Run] })
}

func auditKindLess(a, b string) bool {
	ia, ib := slices.Index(logKinds, a), slices.Index(logKinds, b)
	if ia < 0 {
		ia = len(logKinds)
	}
	if ib < 0 {
		ib = len(logKinds)
	}
	if ia != ib {
		return ia < ib
	}
	return a < b
}

func (a *writeLogAudit) doc() Doc {
	return Doc{Name: "writelog_audit", Title: "Write-log audit",
		Summary: "What each replay and rollback run sent: ops per kind and outcome, requests, retries, " +
			"429s and waiting, residue a rollback left, and ops whose outcome is unknown.",
		Markdown: a.markdown(), CSV: a.csv()}
}

func (a *writeLogAudit) markdown() string {
	var b strings.Builder
	b.WriteString("# Write-log audit\n\n")
	fmt.Fprintf(&b, "Write logs in `%s`: %d files, %d runs.", filepath.Base(a.dir), a.files, len(a.runs))
	if a.unreadable > 0 {
		fmt.Fprintf(&b, " Unreadable lines skipped: %d (a line torn by a crash is expected at most once "+
			"per file, at its end).", a.unreadable)
	}
	if a.unmeasured > 0 {
		fmt.Fprintf(&b, " Outcomes without cost fields (logged by an older d2i): %d; their requests, "+
			"retries, 429s and waits are not in the counts below.", a.unmeasured)
	}
	b.WriteString("\n\nRequests are every HTTP request an op sent: its write, resends of it and reads made " +
		"on its behalf (before-images, lookups). Retries are resends of the write; waited is time paced by " +
		"the rate limiter or backing off, added up over ops that wait side by side, so with parallel " +
		"workers it can exceed the run's duration. Updated means an object that existed before and was changed " +
		"(its before-image is in the log); existing means found and left alone. Residue is what a rollback " +
		"could not take back; held back is what it left alone because it changed in Intercom after our write; " +
		"uncertain ops have an intent and no outcome.\n")
	a.writeRuns(&b)
	a.writeKinds(&b)
	a.writeResidue(&b)
	a.writeUncertain(&b)
	return b.String()
}

func (a *writeLogAudit) writeRuns(b *strings.Builder) {
	b.WriteString("\n## Runs\n\n")
	if len(a.runs) == 0 {
		b.WriteString("None.\n")
		return
	}
	b.WriteString("| run | mode | first record (UTC) | last record (UTC) | duration | ops | requests " +
		"| retries | 429s | waited |\n|---|---|---|---|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range a.runs {
		t := r.Total
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %d | %d | %d | %d | %s |\n", r.Run, r.Mode, auditStamp(r.First),
			auditStamp(r.Last), r.Last.Sub(r.First).Round(time.Millisecond), t.Ops(), t.Requests, t.Retries,
			t.Throttled, auditWaited(t.WaitedMS))
	}
}

func (a *writeLogAudit) writeKinds(b *strings.Builder) {
	b.WriteString("\n## Ops by kind and outcome\n\n")
	if len(a.runs) == 0 {
		b.WriteString("None.\n")
		return
	}
	b.WriteString("| run | kind | created | existing | updated | failed | rolled back | dry | residue " +
		"| held back | uncertain | requests | retries | 429s | waited |\n" +
		"|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range a.runs {
		for _, k := range r.rows() {
			fmt.Fprintf(b, "| %s | %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %s |\n", r.Run,
				k.Kind, k.Created, k.Existing, k.Updated, k.Failed, k.RolledBack, k.Dry, k.Residue, k.HeldBack,
				k.Uncertain, k.Requests, k.Retries, k.Throttled, auditWaited(k.WaitedMS))
		}
	}
}

func (a *writeLogAudit) writeResidue(b *strings.Builder) {
	b.WriteString("\n## Residue a rollback could not undo\n\n")
	if len(a.residue) == 0 {
		b.WriteString("None.\n")
		return
	}
	b.WriteString("| run | kind | reason | ops |\n|---|---|---|--:|\n")
	for _, r := range a.residue {
		fmt.Fprintf(b, "| %s | %s | %s | %d |\n", r.Run, r.Kind, mdEscape(r.Reason), r.Ops)
	}
}

func (a *writeLogAudit) writeUncertain(b *strings.Builder) {
	b.WriteString("\n## Uncertain ops (intent without outcome)\n\n")
	if len(a.uncertain) == 0 {
		b.WriteString("None.\n")
		return
	}
	b.WriteString("A later replay settles these by looking the object up; \"resolved in\" names the run " +
		"that did.\n\n| run | op | kind | intent at (UTC) | resolved in |\n|---|---|---|---|---|\n")
	for _, u := range a.uncertain {
		resolved := u.ResolvedIn
		if resolved == "" {
			resolved = "not yet"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", u.Run, mdEscape(u.Op), u.Kind,
			auditStamp(u.IntentAt), resolved)
	}
}

// csv is one row per run and kind, plus the run's "all" row.
func (a *writeLogAudit) csv() [][]string {
	out := [][]string{{"run", "mode", "kind", "created", "existing", "updated", "failed", "rolled_back", "dry",
		"residue", "held_back", "uncertain", "requests", "retries", "throttled", "waited_ms", "first", "last"}}
	for _, r := range a.runs {
		for _, k := range r.rows() {
			row := []string{r.Run, r.Mode, k.Kind}
			for _, n := range []int64{k.Created, k.Existing, k.Updated, k.Failed, k.RolledBack, k.Dry, k.Residue,
				k.HeldBack, k.Uncertain, k.Requests, k.Retries, k.Throttled, k.WaitedMS} {
				row = append(row, strconv.FormatInt(n, 10))
			}
			out = append(out, append(row, auditStamp(r.First), auditStamp(r.Last)))
		}
	}
	return out
}

func auditStamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func auditWaited(ms int64) string { return (time.Duration(ms) * time.Millisecond).String() }
