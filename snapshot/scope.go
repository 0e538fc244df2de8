package snapshot

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Scope is what discovery learns about an org before anything is migrated:
// which tables exist, how many rows each holds, the customisations, and the
// few small configuration tables (queues, SLAs, entitlements, categories,
// processes) read in full because their figures decide the plan.
type Scope struct {
	// Source names where the facts came from: the org URL, or the snapshot
	// directory they were read from.
	Source string
	// FromSnapshot is true when counts are rows of a snapshot rather than
	// the org's own figures.
	FromSnapshot bool
	Tables       map[string]TableScope

	Queues       QueueCounts
	SLAs         []SLA // sorted by name
	Entitlements EntitlementCounts
	// CategoryDepth is the longest chain of parentcategoryid links, counted
	// in levels: 1 for flat categories, 0 when there are none.
	CategoryDepth int
	Flows         []FlowCount // process definitions by category, ascending
	// Routing lists each check for unified routing that was made.
	Routing []RoutingCheck
}

// TableScope is one table as discovery saw it.
type TableScope struct {
	Checked bool // false: discovery could not tell whether the org has it
	Present bool
	Custom  bool // IsCustomEntity, and not one of Microsoft's solutions
	// Count is the best known number of rows: a snapshot's rows, or the
	// org's own figure; -1 when unknown.
	Count int64
	// SourceCount is the org's own figure (RetrieveTotalRecordCount, or the
	// snapshot manifest's source_count); -1 when unknown.
	SourceCount int64
	// CustomColumns are the columns a customer added (customColumns),
	// sorted.
	CustomColumns []string
}

// QueueCounts sorts the queue table by view type and routing kind.
type QueueCounts struct {
	Total, Public, Private, Active int64
	// Omnichannel counts msdyn_isomnichannelqueue queues; RecordRouting
	// and Messaging count msdyn_queuetype values (spec §13.15). All zero
	// in an org without those columns.
	Omnichannel, RecordRouting, Messaging int64
}

// SLA is one SLA definition.
type SLA struct {
	Name   string
	Active bool // statecode 1
}

// EntitlementCounts counts entitlements, and those in force (statecode 1).
type EntitlementCounts struct{ Total, Active int64 }

// FlowCount counts the process definitions (workflow type 1) of one category.
type FlowCount struct {
	Category         int // workflow.category, spec §13.26
	Total, Activated int64
}

// RoutingCheck is one look for unified routing and what it found.
type RoutingCheck struct {
	What  string // what was checked, for people
	Found bool
	// Detail says what was seen; "not checked" when the source could not
	// tell (a snapshot without that table).
	Detail string
}

// Unified routing tables. The spec names only the workstream lookup
// (msdyn_ocliveworkitem.msdyn_liveworkstreamid, §13.27) and the queue
// columns (§13.15); the table names below are inferred from that lookup and
// from the routing solution's publisher prefix.
const (
	workstreamTable      = "msdyn_liveworkstream"
	decisionRuleSetTable = "msdyn_decisionruleset"
)

// queuetype values of msdyn_queuetype (spec §13.15).
const (
	queueTypeMessaging     = 192350000
	queueTypeRecordRouting = 192350001
)

// ScopeConfig says which org Discover surveys and how to reach it.
type ScopeConfig struct {
	OrgURL       string
	AuthorityURL string // default https://login.microsoftonline.com
	Credentials  Credentials
	HTTPClient   *http.Client // nil means http.DefaultClient
	Logger       *slog.Logger
	Retry        RetryPolicy
	// Progress, if set, is called after each table's definition is read.
	Progress func(done, total int)
}

// Discover surveys an org from its metadata, RetrieveTotalRecordCount and
// the few small configuration tables; no table of cases or activities is
// read. Requests go through the snapshot client: same sign-in, retries and
// throttling.
func Discover(ctx context.Context, sc ScopeConfig) (*Scope, error) {
	cfg, org, err := sc.config()
	if err != nil {
		return nil, err
	}
	api, err := newClient(ctx, cfg, org)
	if err != nil {
		return nil, err
	}
	if _, err := api.whoAmI(ctx); err != nil {
		return nil, err
	}

	tables, err := withCustomTables(ctx, api, append(DefaultTables(), workstreamTable, decisionRuleSetTable))
	if err != nil {
		return nil, err
	}
	src := &orgRows{c: api, defs: map[string]scopeDef{}}
	s := &Scope{Source: org.String(), Tables: map[string]TableScope{}}
	for i, table := range tables {
		if err := src.define(ctx, table, s); err != nil {
			return nil, err
		}
		if sc.Progress != nil {
			sc.Progress(i+1, len(tables))
		}
	}
	src.count(ctx, s)
	if err := survey(ctx, src, s); err != nil {
		return nil, err
	}
	cfg.Logger.Info("dataverse discovery done", "tables", len(tables), "present", presentCount(s))
	return s, nil
}

func (sc ScopeConfig) config() (Config, *url.URL, error) {
	org, err := normalizeOrgURL(sc.OrgURL)
	if err != nil {
		return Config{}, nil, err
	}
	cfg := Config{
		OrgURL: sc.OrgURL, AuthorityURL: sc.AuthorityURL, Credentials: sc.Credentials,
		HTTPClient: sc.HTTPClient, Logger: sc.Logger, Retry: sc.Retry.withDefaults(),
		MaxPageSize: defaultMaxPageSize,
	}
	if cfg.AuthorityURL == "" {
		cfg.AuthorityURL = "https://login.microsoftonline.com"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, org, nil
}

func presentCount(s *Scope) int {
	n := 0
	for _, t := range s.Tables {
		if t.Present {
			n++
		}
	}
	return n
}

// scopeRecord is one row of a configuration table: column name to value, as
// JSON numbers (from the org) or Go values (from Parquet). Columns the table
// lacks are missing.
type scopeRecord map[string]any

// rowSource reads whole configuration tables, from the org or a snapshot.
type rowSource interface {
	// rows calls each for every row of table, with those of cols the table
	// has; nothing when the table is absent or was not looked at.
	rows(ctx context.Context, table string, cols []string, each func(scopeRecord)) error
}

// survey reads the configuration tables into s.
func survey(ctx context.Context, src rowSource, s *Scope) error {
	parents := map[string]string{} // categoryid → parentcategoryid
	flows := map[int]*FlowCount{}
	steps := []struct {
		table string
		cols  []string
		fold  func(scopeRecord)
	}{
		{"queue", []string{"queueviewtype", "statecode", "msdyn_isomnichannelqueue", "msdyn_queuetype"}, s.Queues.add},
		{"sla", []string{"name", "statecode"}, func(r scopeRecord) {
			s.SLAs = append(s.SLAs, SLA{Name: scopeString(r["name"]), Active: isOption(r["statecode"], 1)})
		}},
		{"entitlement", []string{"statecode"}, s.Entitlements.add},
		{"category", []string{"categoryid", "_parentcategoryid_value"}, func(r scopeRecord) {
			parents[scopeString(r["categoryid"])] = scopeString(r["_parentcategoryid_value"])
		}},
		{"workflow", []string{"category", "statecode", "type"}, func(r scopeRecord) { addFlow(flows, r) }},
	}
	for _, st := range steps {
		if err := src.rows(ctx, st.table, st.cols, st.fold); err != nil {
			return fmt.Errorf("discover %s: %w", st.table, err)
		}
	}

	slices.SortFunc(s.SLAs, func(a, b SLA) int { return strings.Compare(a.Name, b.Name) })
	s.CategoryDepth = categoryDepth(parents)
	for _, c := range sortedScopeKeys(flows) {
		s.Flows = append(s.Flows, *flows[c])
	}
	s.Routing = routingChecks(s)
	return nil
}

func (q *QueueCounts) add(r scopeRecord) {
	q.Total++
	switch {
	case isOption(r["queueviewtype"], 1):
		q.Private++
	case isOption(r["queueviewtype"], 0):
		q.Public++
	}
	if isOption(r["statecode"], 0) {
		q.Active++
	}
	if b, ok := r["msdyn_isomnichannelqueue"].(bool); ok && b {
		q.Omnichannel++
	}
	switch {
	case isOption(r["msdyn_queuetype"], queueTypeRecordRouting):
		q.RecordRouting++
	case isOption(r["msdyn_queuetype"], queueTypeMessaging):
		q.Messaging++
	}
}

func (e *EntitlementCounts) add(r scopeRecord) {
	e.Total++
	if isOption(r["statecode"], 1) {
		e.Active++
	}
}

// addFlow counts definitions only: activation and template rows (type 2
// and 3) are copies of a definition, not processes of their own.
func addFlow(flows map[int]*FlowCount, r scopeRecord) {
	if t, ok := optionValue(r["type"]); ok && t != 1 {
		return
	}
	c, ok := optionValue(r["category"])
	if !ok {
		c = -1 // unknown category still counts as a process
	}
	f := flows[c]
	if f == nil {
		f = &FlowCount{Category: c}
		flows[c] = f
	}
	f.Total++
	if isOption(r["statecode"], 1) {
		f.Activated++
	}
}

// categoryDepth is the number of levels of the longest parent chain. A
// parent missing from the table ends the chain; so does a category seen
// before on it (Dataverse forbids cycles, but a damaged org may hold one).
// Categories number in the hundreds at most, so each chain is walked anew.
func categoryDepth(parents map[string]string) int {
	deepest := 0
	for id := range parents {
		seen := map[string]bool{id: true}
		for cur := parents[id]; ; cur = parents[cur] {
			if _, known := parents[cur]; !known || seen[cur] {
				break
			}
			seen[cur] = true
		}
		deepest = max(deepest, len(seen))
	}
	return deepest
}

// routingChecks names each sign of unified routing looked for.
func routingChecks(s *Scope) []RoutingCheck {
	checks := []RoutingCheck{
		tableCheck(s, workstreamTable, "workstreams ("+workstreamTable+" rows)"),
		tableCheck(s, decisionRuleSetTable, "routing rule sets ("+decisionRuleSetTable+" rows)"),
	}
	q := s.Queues
	queues := RoutingCheck{What: "advanced queues (queue.msdyn_isomnichannelqueue, msdyn_queuetype)"}
	switch {
	case !s.Tables["queue"].Present:
		queues.Detail = "no queue table"
	default:
		queues.Found = q.Omnichannel+q.RecordRouting+q.Messaging > 0
		queues.Detail = fmt.Sprintf("%d Omnichannel queues, %d record-routing, %d messaging",
			q.Omnichannel, q.RecordRouting, q.Messaging)
	}
	return append(checks, queues)
}

func tableCheck(s *Scope, table, what string) RoutingCheck {
	t := s.Tables[table]
	switch {
	case !t.Checked:
		return RoutingCheck{What: what, Detail: "not checked"}
	case !t.Present:
		return RoutingCheck{What: what, Detail: "table absent"}
	case t.Count < 0:
		return RoutingCheck{What: what, Found: true, Detail: "table present, row count unknown"}
	}
	return RoutingCheck{What: what, Found: t.Count > 0, Detail: fmt.Sprintf("table present, %d rows", t.Count)}
}

// --- reading the org --------------------------------------------------------

// scopeDef is what discovery keeps of a table's definition.
type scopeDef struct {
	entitySet string
	columns   map[string]bool // attribute logical names
}

// orgRows reads definitions, counts and configuration rows from the org.
type orgRows struct {
	c    *client
	defs map[string]scopeDef // present tables only
}

// define reads a table's definition with each attribute's custom flag, and
// records the table as present or absent.
func (o *orgRows) define(ctx context.Context, table string, s *Scope) error {
	u := o.c.base + "EntityDefinitions(LogicalName='" + table + "')?$select=LogicalName,EntitySetName,IsCustomEntity" +
		"&$expand=Attributes($select=LogicalName,IsCustomAttribute,AttributeOf)"
	body, err := o.c.get(ctx, u, false, reqTag{table, "scope metadata"})
	if isAbsent(err) {
		s.Tables[table] = TableScope{Checked: true, Count: -1, SourceCount: -1}
		return nil
	}
	if err != nil {
		return err
	}
	def, err := decodeScopeDef(table, body)
	if err != nil {
		return err
	}
	o.defs[table] = scopeDef{entitySet: def.EntitySetName, columns: def.columnSet()}
	s.Tables[table] = TableScope{Checked: true, Present: true, Custom: def.IsCustomEntity && customerMade(table),
		Count: -1, SourceCount: -1, CustomColumns: def.customColumns()}
	return nil
}

// scopeEntity is an EntityDefinitions answer as discovery reads it; the
// same shape is saved as metadata/<table>.json in a snapshot.
type scopeEntity struct {
	LogicalName    string `json:"LogicalName"`
	EntitySetName  string `json:"EntitySetName"`
	IsCustomEntity bool   `json:"IsCustomEntity"`
	// hasCustomFlag: the answer carried IsCustomEntity at all (a snapshot's
	// saved definition does not).
	hasCustomFlag bool
	Attributes    []struct {
		LogicalName       string  `json:"LogicalName"`
		IsCustomAttribute bool    `json:"IsCustomAttribute"`
		AttributeOf       *string `json:"AttributeOf"`
	} `json:"Attributes"`
}

func decodeScopeDef(table string, body []byte) (*scopeEntity, error) {
	var def scopeEntity
	if err := json.Unmarshal(body, &def); err != nil {
		return nil, fmt.Errorf("decode EntityDefinitions %s: %w", table, err)
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) == nil {
		_, def.hasCustomFlag = probe["IsCustomEntity"]
	}
	return &def, nil
}

func (d *scopeEntity) columnSet() map[string]bool {
	cols := map[string]bool{}
	for _, a := range d.Attributes {
		cols[a.LogicalName] = true
	}
	return cols
}

// customColumns keeps the columns a customer made. IsCustomAttribute alone
// is not enough (spec §9.4): Microsoft's own solutions add columns that carry
// it, with a first-party prefix (msdyn_, adx_) or with none at all (caseage,
// sensitivitylabelid), while a customer's column always starts with its
// publisher's prefix (new_, cr123_, contoso_). Helper attributes
// (AttributeOf set: a lookup's name, a choice's label) are left out too.
func (d *scopeEntity) customColumns() []string {
	var out []string
	for _, a := range d.Attributes {
		helper := a.AttributeOf != nil && *a.AttributeOf != ""
		if a.IsCustomAttribute && !helper && customerMade(a.LogicalName) {
			out = append(out, a.LogicalName)
		}
	}
	slices.Sort(out)
	return out
}

// customerMade says whether a logical name carries a publisher prefix that
// is not Microsoft's.
func customerMade(name string) bool {
	prefix, _, ok := strings.Cut(name, "_")
	return ok && prefix != "" && !firstParty(name)
}

// count asks RetrieveTotalRecordCount for every present table in one
// request (absent names would fail it). The figures may be up to a day old
// (spec §6). Should the org refuse the batch (one table it will not
// count fails them all), each table is asked alone; a table that still
// fails stays unknown, logged, not fatal.
func (o *orgRows) count(ctx context.Context, s *Scope) {
	names := sortedScopeKeys(o.defs)
	if len(names) == 0 {
		return
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "'" + n + "'"
	}
	u := o.c.base + "RetrieveTotalRecordCount(EntityNames=%5B" + strings.Join(quoted, ",") + "%5D)"
	body, err := o.c.get(ctx, u, false, reqTag{"RetrieveTotalRecordCount", "scope counts"})
	if err != nil {
		o.c.log.Warn("dataverse total record counts refused as a batch; asking per table", "tables", len(names), "err", err)
		for _, name := range names {
			setCount(s, name, o.c.totalRecordCount(ctx, name))
		}
		return
	}
	var resp struct {
		EntityRecordCountCollection struct {
			Keys   []string `json:"Keys"`
			Values []int64  `json:"Values"`
		} `json:"EntityRecordCountCollection"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		o.c.log.Warn("dataverse total record counts unreadable", "err", err)
		return
	}
	rc := resp.EntityRecordCountCollection
	for i, k := range rc.Keys {
		if i < len(rc.Values) {
			setCount(s, k, rc.Values[i])
		}
	}
}

func setCount(s *Scope, table string, n int64) {
	if t, ok := s.Tables[table]; ok {
		t.SourceCount, t.Count = n, n
		s.Tables[table] = t
	}
}

// rows lists a configuration table with $select, following next links.
// These tables are small (tens to thousands of rows), so a full read is
// cheaper and exacter than counting with filters capped at 5,000.
func (o *orgRows) rows(ctx context.Context, table string, cols []string, each func(scopeRecord)) error {
	def, ok := o.defs[table]
	if !ok {
		return nil
	}
	var sel []string
	for _, c := range cols {
		if def.columns[strings.TrimSuffix(strings.TrimPrefix(c, "_"), "_value")] || def.columns[c] {
			sel = append(sel, c)
		}
	}
	link := o.c.base + def.entitySet + "?$select=" + strings.Join(sel, ",")
	for n := 0; link != ""; n++ {
		body, err := o.c.page(ctx, table, link, n)
		if err != nil {
			return err
		}
		if link, err = eachScopeRecord(body, each); err != nil {
			return fmt.Errorf("table %s page %d: %w", table, n, err)
		}
	}
	return nil
}

// eachScopeRecord decodes one OData page and returns its next link.
func eachScopeRecord(body []byte, each func(scopeRecord)) (string, error) {
	var page struct {
		Value    []scopeRecord `json:"value"`
		NextLink string        `json:"@odata.nextLink"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&page); err != nil {
		return "", fmt.Errorf("decode page: %w", err)
	}
	for _, r := range page.Value {
		each(r)
	}
	return page.NextLink, nil
}

// --- reading a snapshot -----------------------------------------------------

// ScopeFromSnapshot surveys a complete (or partial) snapshot directory: the
// manifest's rows and source counts, metadata/<table>.json for custom
// columns, and the Parquet of the configuration tables. Tables the
// snapshot did not read are reported as not checked.
func ScopeFromSnapshot(ctx context.Context, dir string) (*Scope, error) {
	m, err := readScopeManifest(dir)
	if err != nil {
		return nil, err
	}
	if m.Base != "" {
		return nil, fmt.Errorf("snapshot %s is a delta of %s and holds changes only: discover from the base", dir, m.Base)
	}
	s := &Scope{Source: dir, FromSnapshot: true, Tables: map[string]TableScope{}}
	for name, tm := range m.Tables {
		t, err := snapshotTableScope(dir, name, tm)
		if err != nil {
			return nil, err
		}
		s.Tables[name] = t
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("discover %s: open duckdb: %w", dir, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	src := &parquetRows{db: db, dir: dir, m: m}
	if err := survey(ctx, src, s); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", dir, err)
	}
	return s, nil
}

func readScopeManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("read snapshot manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode %s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	return &m, nil
}

// snapshotTableScope turns a manifest entry into a TableScope. The saved
// definition asks no IsCustomEntity; a table outside the default set was
// added by the snapshot's own custom-table discovery (or named by hand), so
// it counts as custom unless the definition says otherwise.
func snapshotTableScope(dir, name string, tm *TableManifest) (TableScope, error) {
	t := TableScope{Checked: true, Present: tm.Status != StatusAbsent, Count: -1, SourceCount: tm.SourceCount}
	if tm.Status == StatusComplete {
		t.Count = tm.Rows
	}
	if !t.Present {
		return t, nil
	}
	body, err := os.ReadFile(filepath.Join(dir, entityDefRel(name)))
	if errors.Is(err, os.ErrNotExist) {
		return t, nil // a failed table may stop before its metadata
	}
	if err != nil {
		return t, fmt.Errorf("read metadata of %s: %w", name, err)
	}
	def, err := decodeScopeDef(name, body)
	if err != nil {
		return t, err
	}
	t.CustomColumns = def.customColumns()
	t.Custom = !slices.Contains(defaultTables, name) && customerMade(name)
	if def.hasCustomFlag {
		t.Custom = def.IsCustomEntity && customerMade(name)
	}
	return t, nil
}

// parquetRows reads configuration tables from a snapshot's Parquet parts.
type parquetRows struct {
	db  *sql.DB
	dir string
	m   *Manifest
}

func (p *parquetRows) rows(ctx context.Context, table string, cols []string, each func(scopeRecord)) error {
	tm := p.m.Tables[table]
	if tm == nil || tm.Status == StatusAbsent {
		return nil
	}
	var files []string
	for _, f := range tm.Files {
		if strings.HasPrefix(f.Path, "tables/") && strings.HasSuffix(f.Path, ".parquet") {
			files = append(files, deltaSQLString(filepath.Join(p.dir, filepath.FromSlash(f.Path))))
		}
	}
	if len(files) == 0 {
		return nil
	}
	from := "read_parquet([" + strings.Join(files, ", ") + "], union_by_name = true)"
	have, err := p.columns(ctx, from)
	if err != nil {
		return err
	}
	var sel []string
	for _, c := range cols {
		if have[c] {
			sel = append(sel, c)
		}
	}
	if len(sel) == 0 {
		return nil
	}
	return p.scan(ctx, "select "+quoteScopeIdents(sel)+" from "+from, sel, each)
}

func (p *parquetRows) columns(ctx context.Context, from string) (map[string]bool, error) {
	rows, err := p.db.QueryContext(ctx, "select column_name from (describe select * from "+from+")")
	if err != nil {
		return nil, fmt.Errorf("describe parquet: %w", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		have[name] = true
	}
	return have, rows.Err()
}

func (p *parquetRows) scan(ctx context.Context, q string, cols []string, each func(scopeRecord)) error {
	rows, err := p.db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("read parquet: %w", err)
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read parquet: %w", err)
		}
		r := scopeRecord{}
		for i, c := range cols {
			if vals[i] != nil {
				r[c] = vals[i]
			}
		}
		each(r)
	}
	return rows.Err()
}

func quoteScopeIdents(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = deltaSQLIdent(c)
	}
	return strings.Join(q, ", ")
}

// --- values -----------------------------------------------------------------

// optionValue reads an option value from either source: a JSON number from the
// org, an int32 or int64 from Parquet.
func optionValue(v any) (int, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	case int32:
		return int(n), true
	case int64:
		return int(n), true
	case int:
		return n, true
	}
	return 0, false
}

func isOption(v any, want int) bool {
	n, ok := optionValue(v)
	return ok && n == want
}

func scopeString(v any) string {
	s, _ := v.(string)
	return s
}

func sortedScopeKeys[K int | string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
