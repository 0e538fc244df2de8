package report

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Bounds of the reviewer's sample: enough cases to catch a systematic
// mistake by eye, few enough that a person reads them all.
const (
	DefaultSampleSize = 30
	MinSampleSize     = 25
	MaxSampleSize     = 50
)

// SampleInput chooses the reviewer's sample and where its Intercom facts
// come from.
type SampleInput struct {
	Size      int    // cases to show; 0 means DefaultSampleSize; kept within Min..MaxSampleSize
	Seed      int64  // the same seed on the same staging database picks the same cases
	LogDir    string // replay's write-log directory; "" leaves Intercom ids out
	VerifyDir string // the --out directory of 'd2i verify'; "" leaves verify's verdicts out
}

func (in SampleInput) size() int {
	if in.Size == 0 {
		return DefaultSampleSize
	}
	return min(max(in.Size, MinSampleSize), MaxSampleSize)
}

// sampleCase is one picked case: the Dynamics incident and what staging
// (and, when given, the write log and verify) say Intercom holds for it.
type sampleCase struct {
	ID   string
	rank uint64
	Src  sourceCase
	Dst  destination
}

type sourceCase struct {
	Found                                                  bool // the snapshot still holds the incident
	TicketNumber, Title, State, Status, Priority, Customer string
	CreatedOn, ModifiedOn                                  sql.NullTime
	// Activities regarding the case, per source table (email, phonecall,
	// task, appointment): each becomes a part, so the reviewer compares
	// like with like.
	Activities map[string]int64
}

type destination struct {
	RejectRule       string // set when transform rejected the case
	Title, State     string
	Contact, Company string
	CreatedAt        sql.NullInt64
	Parts            int64
	PartsBySource    map[string]int64 // parts per source table
	AttributeKeys    []string
	IntercomID       string
	RolledBack       bool   // a rollback deleted the conversation since
	Verify           string // verify's line for it: symbol, then differing fields or cause
}

// ReviewerSample picks conversations at random, but reproducibly from
// in.Seed, and shows each one's Dynamics case beside what Intercom holds (or
// why it was rejected), so a person can judge the mapping by eye. Message
// bodies are left out; titles and customer names stay, as the comparison
// needs them.
func ReviewerSample(ctx context.Context, db *sql.DB, in SampleInput) (Doc, error) {
	population, err := sampleCandidates(ctx, db)
	if err != nil {
		return Doc{}, err
	}
	picked := pickSample(population, in.Seed, in.size())
	if err := fillSource(ctx, db, picked); err != nil {
		return Doc{}, err
	}
	if err := fillDestination(ctx, db, picked); err != nil {
		return Doc{}, err
	}
	if in.LogDir != "" {
		if err := fillIntercomIDs(ctx, db, in.LogDir, picked); err != nil {
			return Doc{}, err
		}
	}
	if in.VerifyDir != "" {
		if err := fillVerify(in.VerifyDir, picked); err != nil {
			return Doc{}, err
		}
	}
	slices.SortFunc(picked, func(a, b *sampleCase) int {
		return cmp.Or(cmp.Compare(a.Src.TicketNumber, b.Src.TicketNumber), cmp.Compare(a.ID, b.ID))
	})
	return sampleDoc(picked, len(population), in), nil
}

// sampleCandidates lists every case transform decided on: staged, or
// rejected with its rule.
func sampleCandidates(ctx context.Context, db *sql.DB) ([]*sampleCase, error) {
	q, err := db.QueryContext(ctx, `select source_id, '' from stage.conversations
		union all select source_id, coalesce(rule, 'rejected') from rejects.conversations
			where source_id is not null`)
	if err != nil {
		return nil, fmt.Errorf("reviewer sample: list stage.conversations and rejects.conversations: %w", err)
	}
	defer q.Close()
	found := map[string]*sampleCase{}
	for q.Next() {
		var id, rule string
		if err := q.Scan(&id, &rule); err != nil {
			return nil, fmt.Errorf("reviewer sample: scan case id: %w", err)
		}
		switch c := found[id]; {
		case c == nil:
			found[id] = &sampleCase{ID: id, Dst: destination{RejectRule: rule}}
		case rule == "":
			c.Dst.RejectRule = "" // staged wins over a stray reject of the same id
		}
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("reviewer sample: list cases: %w", err)
	}
	out := make([]*sampleCase, 0, len(found))
	for _, c := range found {
		out = append(out, c)
	}
	return out, nil
}

// pickSample keeps the n cases of smallest rank. The rank depends on the
// seed and the id only, so the pick does not move with row order; it is
// the rank 'd2i verify --sample' uses, so a verify sample of at least n with
// the same seed has read back every staged case picked here.
func pickSample(cases []*sampleCase, seed int64, n int) []*sampleCase {
	for _, c := range cases {
		c.rank = sampleRank(seed, c.ID)
	}
	picked := slices.Clone(cases)
	slices.SortFunc(picked, func(a, b *sampleCase) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.ID, b.ID))
	})
	return picked[:min(n, len(picked))]
}

// sampleRank is FNV-64a over the seed (8 bytes, little endian) and the id,
// as replay's verify sampler computes it.
func sampleRank(seed int64, id string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(id))
	return h.Sum64()
}

// inList is "(?, ?, ...)" and its arguments: the picked ids.
func inList(cases []*sampleCase) (string, []any) {
	args := make([]any, len(cases))
	for i, c := range cases {
		args[i] = c.ID
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cases)), ", ") + ")", args
}

func casesByID(cases []*sampleCase) map[string]*sampleCase {
	m := make(map[string]*sampleCase, len(cases))
	for _, c := range cases {
		m[c.ID] = c
	}
	return m
}

// activityTables are the source tables whose rows regarding a case become
// its conversation's parts, in the order the sample lists them.
var activityTables = []string{"email", "phonecall", "task", "appointment"}

// activityNouns name one row of each activity table for the reader.
var activityNouns = map[string]string{"email": "email", "phonecall": "phone call", "task": "task",
	"appointment": "appointment"}

// activityCounts is one select column per activity table: the case's rows
// in it. A table the snapshot lacks counts zero.
func activityCounts(cat catalog) string {
	cols := make([]string, len(activityTables))
	for i, t := range activityTables {
		rel := cat.subquery("src."+t, "activityid varchar", "_regardingobjectid_value varchar")
		cols[i] = "(select count(distinct a.activityid) from " + rel +
			" a where a._regardingobjectid_value = i.incidentid)"
	}
	return strings.Join(cols, ", ")
}

// fillSource reads each case from src.incident, the snapshot as transform
// saw it; of duplicate copies the latest modifiedon wins, as in transform.
func fillSource(ctx context.Context, db *sql.DB, cases []*sampleCase) error {
	if len(cases) == 0 {
		return nil
	}
	cat, err := readCatalog(ctx, db)
	if err != nil {
		return fmt.Errorf("reviewer sample: %w", err)
	}
	in, args := inList(cases)
	q, err := db.QueryContext(ctx, `select i.incidentid, coalesce(i.ticketnumber, ''), coalesce(i.title, ''),
			coalesce(i.statecode__label, ''), coalesce(i.statuscode__label, ''),
			coalesce(i.prioritycode__label, ''), coalesce(i._customerid_value__formatted, ''),
			i.createdon, i.modifiedon, `+activityCounts(cat)+`
		from src.incident i
		where i.incidentid in `+in+`
		qualify row_number() over (partition by i.incidentid order by i.modifiedon desc nulls last) = 1`,
		args...)
	if err != nil {
		return fmt.Errorf("reviewer sample: read src.incident (its snapshot files must still be where "+
			"transform read them): %w", err)
	}
	defer q.Close()
	cs := casesByID(cases)
	for q.Next() {
		var id string
		var s sourceCase
		counts := make([]int64, len(activityTables))
		dst := []any{&id, &s.TicketNumber, &s.Title, &s.State, &s.Status, &s.Priority, &s.Customer,
			&s.CreatedOn, &s.ModifiedOn}
		for i := range counts {
			dst = append(dst, &counts[i])
		}
		if err := q.Scan(dst...); err != nil {
			return fmt.Errorf("reviewer sample: scan src.incident: %w", err)
		}
		s.Activities = map[string]int64{}
		for i, t := range activityTables {
			s.Activities[t] = counts[i]
		}
		s.Found = true
		cs[id].Src = s
	}
	return q.Err()
}

// fillDestination reads what staging will send for each staged case.
func fillDestination(ctx context.Context, db *sql.DB, cases []*sampleCase) error {
	if len(cases) == 0 {
		return nil
	}
	in, args := inList(cases)
	q, err := db.QueryContext(ctx, `select c.source_id, coalesce(c.title, ''), coalesce(c.state, ''),
			c.created_at, coalesce(nullif(ct.name, ''), ct.email, ''), coalesce(co.name, ''),
			(select count(*) from stage.conversation_parts p where p.conversation_source_id = c.source_id),
			coalesce(array_to_string(list_sort(json_keys(c.custom_attributes)), ','), '')
		from stage.conversations c
		left join stage.contacts ct on ct.source_id = c.contact_source_id
		left join stage.companies co on co.source_id = c.company_source_id
		where c.source_id in `+in, args...)
	if err != nil {
		return fmt.Errorf("reviewer sample: read stage.conversations: %w", err)
	}
	defer q.Close()
	cs := casesByID(cases)
	for q.Next() {
		var id, keys string
		var d destination
		if err := q.Scan(&id, &d.Title, &d.State, &d.CreatedAt, &d.Contact, &d.Company, &d.Parts,
			&keys); err != nil {
			return fmt.Errorf("reviewer sample: scan stage.conversations: %w", err)
		}
		if keys != "" {
			d.AttributeKeys = strings.Split(keys, ",")
		}
		d.RejectRule = cs[id].Dst.RejectRule
		cs[id].Dst = d
	}
	if err := q.Err(); err != nil {
		return err
	}
	return fillPartSources(ctx, db, cs, in, args)
}

// fillPartSources counts each staged case's parts per source table, so the
// Intercom side reads "3 parts (1 email, 2 phone calls)".
func fillPartSources(ctx context.Context, db *sql.DB, cs map[string]*sampleCase, in string, args []any) error {
	q, err := db.QueryContext(ctx, `select conversation_source_id, coalesce(source_table, ''), count(*)
		from stage.conversation_parts where conversation_source_id in `+in+` group by all`, args...)
	if err != nil {
		return fmt.Errorf("reviewer sample: read stage.conversation_parts: %w", err)
	}
	defer q.Close()
	for q.Next() {
		var id, table string
		var n int64
		if err := q.Scan(&id, &table, &n); err != nil {
			return fmt.Errorf("reviewer sample: scan stage.conversation_parts: %w", err)
		}
		if c := cs[id]; c != nil {
			if c.Dst.PartsBySource == nil {
				c.Dst.PartsBySource = map[string]int64{}
			}
			c.Dst.PartsBySource[table] += n
		}
	}
	return q.Err()
}

// fillIntercomIDs reads the conversations' ids from the write logs
// (contracts §3): the latest successful create outcome of
// "conversation:<source_id>:create", and whether a successful undo came
// after it. A torn last line (a crash mid-write) is skipped, as replay skips it.
func fillIntercomIDs(ctx context.Context, db *sql.DB, logDir string, cases []*sampleCase) error {
	pattern := filepath.Join(logDir, "*.jsonl")
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 || len(cases) == 0 {
		return err // no logs: nothing was replayed
	}
	q, err := db.QueryContext(ctx, `with log as (
			select regexp_extract(op, '^conversation:(.*):(create|undo)$', 1) as source_id,
				regexp_extract(op, ':(create|undo)$', 1) as step, intercom_id,
				row_number() over (order by time, filename, seq) as pos
			from read_json(`+sqlString(pattern)+`, format = 'newline_delimited', ignore_errors = true,
				filename = true, columns = {time: 'VARCHAR', seq: 'BIGINT', type: 'VARCHAR', op: 'VARCHAR',
				intercom_id: 'VARCHAR', error: 'VARCHAR', dry_run: 'BOOLEAN'})
			where type = 'outcome' and coalesce(error, '') = '' and not coalesce(dry_run, false)
				and regexp_matches(op, '^conversation:.*:(create|undo)$')
		)
		select source_id, arg_max(intercom_id, pos) filter (where step = 'create'),
			coalesce(max(pos) filter (where step = 'undo') > max(pos) filter (where step = 'create'), false)
		from log
		group by source_id
		having max(pos) filter (where step = 'create') is not null`)
	if err != nil {
		return fmt.Errorf("reviewer sample: read write logs %s: %w", pattern, err)
	}
	defer q.Close()
	cs := casesByID(cases)
	for q.Next() {
		var id string
		var intercomID sql.NullString
		var undone bool
		if err := q.Scan(&id, &intercomID, &undone); err != nil {
			return fmt.Errorf("reviewer sample: scan write log %s: %w", pattern, err)
		}
		if c := cs[id]; c != nil {
			c.Dst.IntercomID, c.Dst.RolledBack = intercomID.String, undone
		}
	}
	return q.Err()
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// fillVerify attaches verify's conversation line to each picked case.
func fillVerify(dir string, cases []*sampleCase) error {
	lines, err := readVerifyFile(dir)
	if err != nil {
		return err
	}
	cs := casesByID(cases)
	for _, l := range lines {
		if c := cs[l.SourceID]; c != nil && l.Kind == "conversation" {
			c.Dst.Verify = strings.Join(append([]string{l.Symbol}, l.Detail...), " ")
		}
	}
	return nil
}

// sampleDoc renders the picked cases: one two-sided table per case in the
// Markdown, one row per case in the CSV.
func sampleDoc(cases []*sampleCase, population int, in SampleInput) Doc {
	rejected := 0
	for _, c := range cases {
		if c.Dst.RejectRule != "" {
			rejected++
		}
	}
	var b strings.Builder
	b.WriteString("# Reviewer's sample\n\n")
	if len(cases) == 0 {
		b.WriteString("No case was staged or rejected: there is nothing to sample.\n")
	} else {
		writeSampleIntro(&b, len(cases), population, rejected, in.Seed)
	}
	for _, c := range cases {
		writeSampleCase(&b, c, in)
	}
	return Doc{
		Name:     "reviewer_sample",
		Title:    "Reviewer's sample",
		Summary:  fmt.Sprintf("%d cases picked by seed %d, Dynamics beside Intercom, to check by eye", len(cases), in.Seed),
		Markdown: b.String(),
		CSV:      sampleCSV(cases, in),
	}
}

func writeSampleIntro(b *strings.Builder, n, population, rejected int, seed int64) {
	fmt.Fprintf(b, "%d of %d cases (%d staged, %d rejected), picked by seed %d: the same seed on the same "+
		"staging database picks the same cases, and `d2i verify --sample %d --seed %d` reads back the "+
		"staged ones. Each case shows the Dynamics record beside what Intercom holds, or will hold once "+
		"replayed. Message bodies are left out.\n", n, population, n-rejected, rejected, seed, n, seed)
}

func writeSampleCase(b *strings.Builder, c *sampleCase, in SampleInput) {
	s, d := c.Src, c.Dst
	fmt.Fprintf(b, "\n## %s\n\n| | Dynamics | Intercom |\n|---|---|---|\n", mdEscape(cmp.Or(s.TicketNumber, c.ID)))
	row := func(field, src, dst string) {
		fmt.Fprintf(b, "| %s | %s | %s |\n", field, mdEscape(orDash(src)), mdEscape(orDash(dst)))
	}
	row("id", "incident "+c.ID, intercomText(d, in))
	if !s.Found {
		row("snapshot", "not in src.incident", "")
	}
	if d.RejectRule != "" {
		row("outcome", "", "rejected: "+d.RejectRule)
	}
	row("title", s.Title, d.Title)
	row("state", joinNonEmpty(" / ", s.State, s.Status), d.State)
	row("priority", s.Priority, "")
	row("created", formatTime(s.CreatedOn), formatUnix(d.CreatedAt))
	row("modified", formatTime(s.ModifiedOn), "")
	row("customer", s.Customer, joinNonEmpty(" · ", prefixed("contact ", d.Contact), prefixed("company ", d.Company)))
	row("messages", activitiesText(s.Activities), partsText(d))
	row("custom attributes", "", strings.Join(d.AttributeKeys, ", "))
	if in.VerifyDir != "" {
		row("verify", "", verifyText(d.Verify))
	}
}

// verifyWords spell out verify's symbols for a reader without its help text.
var verifyWords = map[string]string{"=": "equal", "*": "differs", "-": "missing from Intercom",
	"!": "unreadable"}

// verifyText is verify's verdict for the Markdown, symbol first as in
// verify.txt.
func verifyText(line string) string {
	if line == "" {
		return "not checked"
	}
	sym, _, _ := strings.Cut(line, " ")
	return sym + " " + verifyCSVText(line)
}

// verifyCSVText is the verdict in words only: a CSV field starting with "="
// or "-" would be a formula to a spreadsheet.
func verifyCSVText(line string) string {
	if line == "" {
		return ""
	}
	sym, detail, _ := strings.Cut(line, " ")
	if detail == "" {
		return verifyWords[sym]
	}
	return verifyWords[sym] + ": " + detail
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// intercomText says where the conversation stands in Intercom.
func intercomText(d destination, in SampleInput) string {
	switch {
	case d.RejectRule != "":
		return "not migrated"
	case in.LogDir == "":
		return "no write log read"
	case d.IntercomID == "":
		return "not written"
	case d.RolledBack:
		return "conversation " + d.IntercomID + " (rolled back)"
	}
	return "conversation " + d.IntercomID
}

func partsText(d destination) string {
	if d.RejectRule != "" {
		return ""
	}
	if d.Parts == 0 {
		return "0 parts"
	}
	return plural(d.Parts, "part") + " (" + activitiesText(d.PartsBySource) + ")"
}

// activitiesText lists counts per activity table, "2 emails, 1 phone call",
// in activityTables order and then any other table by name; zeros are left
// out, and nothing at all reads "no activities".
func activitiesText(counts map[string]int64) string {
	tables := slices.Clone(activityTables)
	for _, t := range slices.Sorted(maps.Keys(counts)) {
		if !slices.Contains(tables, t) {
			tables = append(tables, t)
		}
	}
	var parts []string
	for _, t := range tables {
		if n := counts[t]; n > 0 {
			parts = append(parts, plural(n, cmp.Or(activityNouns[t], t)))
		}
	}
	if len(parts) == 0 {
		return "no activities"
	}
	return strings.Join(parts, ", ")
}

func sampleCSV(cases []*sampleCase, in SampleInput) [][]string {
	out := [][]string{{"incidentid", "src_ticketnumber", "src_title", "src_state", "src_status", "src_priority",
		"src_customer", "src_createdon", "src_modifiedon", "src_emails", "src_phone_calls", "src_tasks",
		"src_appointments", "dst_outcome", "dst_title", "dst_state",
		"dst_created_at", "dst_contact", "dst_company", "dst_parts", "dst_custom_attribute_keys",
		"dst_intercom_id", "dst_rolled_back", "dst_verify"}}
	for _, c := range cases {
		s, d := c.Src, c.Dst
		outcome, parts := "staged", strconv.FormatInt(d.Parts, 10)
		if d.RejectRule != "" {
			outcome, parts = "rejected: "+d.RejectRule, ""
		}
		rolledBack := ""
		if in.LogDir != "" && d.IntercomID != "" {
			rolledBack = strconv.FormatBool(d.RolledBack)
		}
		out = append(out, []string{c.ID, s.TicketNumber, s.Title, s.State, s.Status, s.Priority, s.Customer,
			formatTime(s.CreatedOn), formatTime(s.ModifiedOn), activityCSV(s, "email"),
			activityCSV(s, "phonecall"), activityCSV(s, "task"), activityCSV(s, "appointment"), outcome,
			d.Title, d.State, formatUnix(d.CreatedAt), d.Contact, d.Company, parts,
			strings.Join(d.AttributeKeys, ";"), d.IntercomID, rolledBack, verifyCSVText(d.Verify)})
	}
	return out
}

// activityCSV is the case's count of one activity table, or "" when the
// snapshot no longer holds the case.
func activityCSV(s sourceCase, table string) string {
	if !s.Found {
		return ""
	}
	return strconv.FormatInt(s.Activities[table], 10)
}

// Both sides print times the same way, in UTC, so they compare by eye.
const sampleTimeLayout = "2006-01-02 15:04:05Z"

func formatTime(t sql.NullTime) string {
	if !t.Valid {
		return ""
	}
	return t.Time.UTC().Format(sampleTimeLayout)
}

func formatUnix(s sql.NullInt64) string {
	if !s.Valid {
		return ""
	}
	return time.Unix(s.Int64, 0).UTC().Format(sampleTimeLayout)
}

func orDash(s string) string { return cmp.Or(s, "—") }

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

func joinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}
