package report

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/d2i/d2i/report/internal/cell"
)

// The admin-facing inventories (flows, channel assets, routing, SLAs,
// validation) read the staging database only. Which snapshot tables and
// columns exist differs from org to org, so each report names the relations
// it reads with the columns it needs, and the catalog renders each as a
// subquery in which a missing table or column reads as typed nulls: one SQL
// text then serves every org, and an absent table is an empty one.

// noneFound is what a report says about a source table the snapshot lacks.
const noneFound = "None found in the snapshot"

// catalog maps "schema.table" to its columns and their DuckDB types.
type catalog map[string]map[string]string

func readCatalog(ctx context.Context, db *sql.DB) (catalog, error) {
	rows, err := db.QueryContext(ctx, `select table_schema, table_name, column_name, data_type
		from information_schema.columns
		where table_schema in ('src', 'stage', 'rejects', 'reports')`)
	if err != nil {
		return nil, fmt.Errorf("read staging catalog: %w", err)
	}
	defer rows.Close()
	c := catalog{}
	for rows.Next() {
		var schema, table, column, typ string
		if err := rows.Scan(&schema, &table, &column, &typ); err != nil {
			return nil, fmt.Errorf("read staging catalog: %w", err)
		}
		rel := schema + "." + table
		if c[rel] == nil {
			c[rel] = map[string]string{}
		}
		c[rel][column] = typ
	}
	return c, rows.Err()
}

func (c catalog) has(rel string) bool { return c[rel] != nil }

// tablesIn lists the tables of a schema, sorted.
func (c catalog) tablesIn(schema string) []string {
	var out []string
	for rel := range c {
		if s, t, _ := strings.Cut(rel, "."); s == schema {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// subquery renders rel as a parenthesised select of cols, each "name type":
// a column rel lacks is a typed null, and an absent rel yields no rows.
func (c catalog) subquery(rel string, cols ...string) string {
	have := c[rel]
	parts := make([]string, len(cols))
	for i, spec := range cols {
		name, typ, _ := strings.Cut(spec, " ")
		if _, ok := have[name]; ok {
			parts[i] = sqlIdent(name)
		} else {
			parts[i] = fmt.Sprintf("cast(null as %s) as %s", typ, sqlIdent(name))
		}
	}
	q := "(select " + strings.Join(parts, ", ")
	if have == nil {
		return q + " where false)"
	}
	schema, table, _ := strings.Cut(rel, ".")
	return q + " from " + sqlIdent(schema) + "." + sqlIdent(table) + ")"
}

// relations maps a placeholder of an SQL text ({{email}}) to the relation
// and columns it stands for.
type relations map[string]relation

type relation struct {
	rel  string // schema.table
	cols []string
}

// expand replaces every {{name}} of text by the relation's subquery.
func (c catalog) expand(text string, rs relations) string {
	pairs := make([]string, 0, 2*len(rs))
	for name, r := range rs {
		pairs = append(pairs, "{{"+name+"}}", c.subquery(r.rel, r.cols...))
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

// queryStrings runs q and returns its rows with every value as text ("" for
// null); the SQL casts what it wants formatted.
func queryStrings(ctx context.Context, db *sql.DB, what, q string, args ...any) ([][]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		rec := make([]string, len(cols))
		for i, v := range vals {
			rec[i] = v.String
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// writeMDTable writes a Markdown table, or "None." when there are no rows.
// The columns listed in code are shown as code spans (XML conditions).
func writeMDTable(b *strings.Builder, header []string, rows [][]string, code ...int) {
	if len(rows) == 0 {
		b.WriteString("None.\n")
		return
	}
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString(strings.Repeat("|---", len(header)) + "|\n")
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = mdCell(v)
			if slices.Contains(code, i) {
				cells[i] = cell.Code(v)
			}
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
}

// mdCell keeps a value on one line of one table cell (see cell.Markdown).
func mdCell(s string) string { return cell.Markdown(s) }

// pickColumns picks columns of rows by index, in the order given.
func pickColumns(rows [][]string, idx ...int) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(idx))
		for j, k := range idx {
			out[i][j] = r[k]
		}
	}
	return out
}

func csvWithHeader(header []string, rows [][]string) [][]string {
	return append([][]string{header}, rows...)
}

func sqlIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func sqlLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

//go:embed sql/inv_*.sql
var inventorySQL embed.FS

// inventoryQuery runs one of the embedded inv_*.sql texts over rels.
func inventoryQuery(ctx context.Context, db *sql.DB, cat catalog, file string, rels relations) ([][]string, error) {
	text, err := inventorySQL.ReadFile("sql/" + file)
	if err != nil {
		return nil, fmt.Errorf("read embedded %s: %w", file, err)
	}
	return queryStrings(ctx, db, file, cat.expand(string(text), rels))
}

var routingRelations = relations{
	"queue": {"src.queue", []string{"queueid varchar", "name varchar", "emailaddress varchar",
		"queueviewtype integer", "queueviewtype__label varchar", "statecode integer", "statecode__label varchar"}},
	"queuemembership": {"src.queuemembership", []string{"queueid varchar", "systemuserid varchar"}},
	"teammembership":  {"src.teammembership", []string{"teamid varchar", "systemuserid varchar"}},
	"team":            {"src.team", []string{"teamid varchar", "name varchar", "_queueid_value varchar"}},
	"systemuser": {"src.systemuser", []string{"systemuserid varchar", "fullname varchar",
		"internalemailaddress varchar"}},
	"teams":              {"stage.teams", []string{"source_id varchar", "name varchar"}},
	"admins":             {"stage.admins", []string{"source_id varchar", "name varchar", "email varchar"}},
	"rejected_teams":     {"rejects.teams", []string{"source_id varchar", "reason varchar"}},
	"rejected_admins":    {"rejects.admins", []string{"source_id varchar", "reason varchar"}},
	"out_of_scope":       {"reports.out_of_scope", []string{"source_table varchar", "source_id varchar", "reason varchar"}},
	"conversations":      {"stage.conversations", []string{"source_id varchar", "admin_source_id varchar", "team_source_id varchar"}},
	"conversation_parts": {"stage.conversation_parts", []string{"conversation_source_id varchar", "admin_source_id varchar", "author_type varchar"}},
}

var routingHeader = []string{"kind", "queue_id", "queue", "queue_type", "state", "systemuser_id", "name",
	"email", "detail", "intercom", "conversations"}

// routingConfigTable matches snapshot tables that hold routing rules or
// unified-routing configuration (routingrule, msdyn_liveworkstream,
// msdyn_decisionruleset, msdyn_assignmentconfiguration...).
var routingConfigTable = regexp.MustCompile(`routing|workstream|decisionrule|assignmentconfig`)

// RoutingInventory lists the queues with their type and members, any routing
// configuration the snapshot holds, and the teams and admins that must exist
// in Intercom before conversations move: Intercom's API creates neither, so
// replay only matches them.
//
// With the write-log directory of a replay, each staged admin and team says
// whether that run matched it.
func RoutingInventory(ctx context.Context, db *sql.DB, logDir string) (Doc, error) {
	cat, err := readCatalog(ctx, db)
	if err != nil {
		return Doc{}, fmt.Errorf("routing inventory: %w", err)
	}
	matches, err := readRouteMatches(logDir)
	if err != nil {
		return Doc{}, err
	}
	var parts [4][][]string
	for i, file := range []string{"inv_routing_queues.sql", "inv_routing_members.sql", "inv_routing_checklist.sql"} {
		if parts[i], err = inventoryQuery(ctx, db, cat, file, routingRelations); err != nil {
			return Doc{}, fmt.Errorf("routing inventory: %w", err)
		}
	}
	if parts[3], err = routingConfig(ctx, db, cat); err != nil {
		return Doc{}, err
	}
	queues, members, checklist, config := parts[0], parts[1], parts[2], parts[3]
	matches.applyMatches(queues, members)
	checklist = matches.checklistStatus(checklist)

	return Doc{
		Name:  "routing_inventory",
		Title: "Routing inventory",
		Summary: fmt.Sprintf("%d queues, %d queue members; %d teams and admins must exist in Intercom "+
			"before conversations move.", len(queues), len(members), len(checklist)),
		Markdown: routingMarkdown(cat, queues, members, checklist, config, matches),
		CSV:      routingCSV(queues, members, checklist, config),
	}, nil
}

// routingConfig lists each routing table of the snapshot: its name, row
// count and the names of its records.
func routingConfig(ctx context.Context, db *sql.DB, cat catalog) ([][]string, error) {
	var out [][]string
	for _, t := range cat.tablesIn("src") {
		if !routingConfigTable.MatchString(t) {
			continue
		}
		nameCol := "null"
		for _, c := range []string{"name", "msdyn_name"} {
			if _, ok := cat["src."+t][c]; ok {
				nameCol = sqlIdent(c)
				break
			}
		}
		rows, err := queryStrings(ctx, db, "routing inventory: read src."+t, fmt.Sprintf(
			"select cast(count(*) as varchar), string_agg(%s, '; ' order by %s) from src.%s",
			nameCol, nameCol, sqlIdent(t)))
		if err != nil {
			return nil, err
		}
		out = append(out, []string{t, rows[0][0], rows[0][1]})
	}
	return out, nil
}

func routingMarkdown(cat catalog, queues, members, checklist, config [][]string, matches *RouteMatches) string {
	var b strings.Builder
	b.WriteString("# Routing inventory\n\n")
	b.WriteString("Intercom's API creates no teams and no admins: replay matches each staged queue to an " +
		"Intercom team by name and each staged user to an admin by e-mail, and stops before " +
		"conversations when one they reference is missing. ")
	if matches == nil {
		b.WriteString("No replay has run yet, so staged ones read \"to be matched at replay\".\n")
	} else {
		fmt.Fprintf(&b, "Matches are those of replay run %s (%s): %d admins and %d teams matched, "+
			"%d admins and %d teams that conversations reference are not in Intercom.\n", matches.Run,
			matches.Time, len(matches.Admins), len(matches.Teams), len(matches.UnmatchedAdmins),
			len(matches.UnmatchedTeams))
	}

	fmt.Fprintf(&b, "\n## Queues (%d)\n\n", len(queues))
	if !cat.has("src.queue") {
		b.WriteString(noneFound + " (no queue table).\n")
	} else {
		writeMDTable(&b, []string{"queue", "type", "state", "mailbox", "in Intercom"}, pickColumns(queues, 1, 2, 3, 4, 5))
	}

	fmt.Fprintf(&b, "\n## Queue members (%d)\n\n", len(members))
	if !cat.has("src.queuemembership") && !cat.has("src.teammembership") {
		b.WriteString(noneFound + " (no queuemembership or teammembership table).\n")
	} else {
		writeMDTable(&b, []string{"queue", "user", "e-mail", "member through", "in Intercom"},
			pickColumns(members, 0, 3, 4, 5, 6))
	}

	b.WriteString("\n## Routing configuration\n\n")
	if len(config) == 0 {
		b.WriteString(noneFound + ": no routing-rule or workstream table. Rebuild any routing by hand " +
			"as Intercom assignment rules or workflows.\n")
	} else {
		b.WriteString("Rebuild these by hand as Intercom assignment rules or workflows.\n\n")
		writeMDTable(&b, []string{"table", "rows", "records"}, config)
	}

	writeRoutingChecklist(&b, checklist)
	return b.String()
}

// writeRoutingChecklist ends the routing inventory with what the admin does in
// Intercom before replay moves conversations.
func writeRoutingChecklist(b *strings.Builder, checklist [][]string) {
	var teams, admins [][]string
	var teamsToCreate, adminsToInvite int
	for _, r := range checklist {
		if r[0] == "team" {
			teams = append(teams, []string{r[2], r[1], r[4], r[5]})
			teamsToCreate += boolInt(missing(r))
		} else {
			admins = append(admins, []string{r[2], r[3], r[1], r[4], r[5]})
			adminsToInvite += boolInt(missing(r))
		}
	}
	b.WriteString("\n## Before conversations move\n\n")
	b.WriteString("Conversations reference these teams and admins. Each must exist in Intercom before " +
		"replay; skip those that already do (replay matches teams by exact name, admins by e-mail).\n\n")
	b.WriteString(checklistItem(teamsToCreate, fmt.Sprintf("Create %d teams, named exactly as below.", teamsToCreate),
		"No team to create: every team below is already in Intercom."))
	b.WriteString(checklistItem(adminsToInvite,
		fmt.Sprintf("Invite %d admins with the e-mail addresses below.", adminsToInvite),
		"No admin to invite: every admin below is already in Intercom.") + "\n")
	fmt.Fprintf(b, "### Teams (%d)\n\n", len(teams))
	writeMDTable(b, []string{"team name", "queue id", "conversations", "in Intercom"}, teams)
	fmt.Fprintf(b, "\n### Admins (%d)\n\n", len(admins))
	writeMDTable(b, []string{"name", "e-mail", "systemuser id", "conversations", "in Intercom"}, admins)
}

// checklistItem is an open task, or a ticked one that says nothing is left
// to do: "Create 0 teams" read as a task to do.
func checklistItem(n int, todo, done string) string {
	if n == 0 {
		return "- [x] " + done + "\n"
	}
	return "- [ ] " + todo + "\n"
}

func routingCSV(queues, members, checklist, config [][]string) [][]string {
	out := [][]string{routingHeader}
	for _, q := range queues {
		out = append(out, []string{"queue", q[0], q[1], q[2], q[3], "", "", q[4], "", q[5], ""})
	}
	for _, m := range members {
		out = append(out, []string{"member", m[1], m[0], "", "", m[2], m[3], m[4], m[5], m[6], ""})
	}
	for _, c := range config {
		out = append(out, []string{"routing_config", "", "", "", "", "", c[0], "", c[1] + " rows: " + c[2], "", ""})
	}
	for _, r := range checklist {
		if r[0] == "team" {
			out = append(out, []string{"create_team", r[1], r[2], "", "", "", r[2], "", "", r[5], r[4]})
		} else {
			out = append(out, []string{"invite_admin", "", "", "", "", r[1], r[2], r[3], "", r[5], r[4]})
		}
	}
	return out
}

var slaRelations = relations{
	"entitlement": {"src.entitlement", []string{"entitlementid varchar", "name varchar", "statecode integer",
		"statecode__label varchar", "_customerid_value varchar", "_customerid_value__lookuplogicalname varchar",
		"_customerid_value__formatted varchar", "allocationtypecode integer", "allocationtypecode__label varchar",
		"decreaseremainingon integer", "decreaseremainingon__label varchar", "totalterms decimal(18,2)",
		"remainingterms decimal(18,2)", "startdate date", "enddate date", "_slaid_value__formatted varchar",
		"_entitlementtemplateid_value__formatted varchar"}},
	"entitlementchannel": {"src.entitlementchannel", []string{"_entitlementid_value varchar", "name varchar",
		"channel integer", "channel__label varchar", "totalterms decimal(18,2)", "remainingterms decimal(18,2)"}},
	"sla": {"src.sla", []string{"slaid varchar", "name varchar", "statecode integer", "statecode__label varchar",
		"slatype integer", "slatype__label varchar", "applicablefrom varchar", "isdefault boolean",
		"allowpauseresume boolean", "_businesshoursid_value varchar", "_businesshoursid_value__formatted varchar"}},
	"slaitem": {"src.slaitem", []string{"slaitemid varchar", "name varchar", "_slaid_value varchar",
		"_msdyn_slakpiid_value__formatted varchar", "relatedfield varchar", "applicablewhenxml varchar",
		"warnafter integer", "failureafter integer", "_businesshoursid_value varchar",
		"_businesshoursid_value__formatted varchar", "allowpauseresume boolean", "sequencenumber integer"}},
	"calendar":       {"src.calendar", []string{"calendarid varchar", "name varchar"}},
	"slakpiinstance": {"src.slakpiinstance", []string{"status integer", "status__label varchar", "_msdyn_slaitemid_value varchar"}},
}

var slaHeader = []string{"kind", "id", "name", "sla", "state", "customer", "allocation", "total_terms",
	"remaining_terms", "start_date", "end_date", "channels", "kpi", "applicable_when", "warn_after_minutes",
	"failure_after_minutes", "business_hours", "allow_pause_resume", "kpi_instances"}

// slaData is what the SLA inventory reads.
type slaData struct {
	entitlements, states, items, kpis [][]string
	kpisBySLA                         map[string]string // slaid → "status n, ..."
}

// SLAInventory lists every active entitlement (terms, customer, channels)
// and every SLA definition with its items and how many KPI timers of it are
// in each status: what the admin rebuilds by hand as Intercom SLAs.
func SLAInventory(ctx context.Context, db *sql.DB) (Doc, error) {
	cat, err := readCatalog(ctx, db)
	if err != nil {
		return Doc{}, fmt.Errorf("sla inventory: %w", err)
	}
	var d slaData
	for _, q := range []struct {
		file string
		dst  *[][]string
	}{
		{"inv_sla_entitlements.sql", &d.entitlements}, {"inv_sla_entitlement_states.sql", &d.states},
		{"inv_sla_items.sql", &d.items}, {"inv_sla_kpi_status.sql", &d.kpis},
	} {
		if *q.dst, err = inventoryQuery(ctx, db, cat, q.file, slaRelations); err != nil {
			return Doc{}, fmt.Errorf("sla inventory: %w", err)
		}
	}
	d.kpisBySLA = map[string]string{}
	for _, k := range d.kpis {
		d.kpisBySLA[k[0]] = strings.TrimPrefix(d.kpisBySLA[k[0]]+", "+k[2]+" "+k[3], ", ")
	}

	return Doc{
		Name:  "sla_inventory",
		Title: "SLA and entitlement inventory",
		Summary: fmt.Sprintf("%d active entitlements and %d SLA definitions to rebuild by hand in Intercom.",
			len(d.entitlements), countDistinct(d.items, 0)),
		Markdown: slaMarkdown(cat, d),
		CSV:      slaCSV(d),
	}, nil
}

func slaMarkdown(cat catalog, d slaData) string {
	var b strings.Builder
	b.WriteString("# SLA and entitlement inventory\n\n")
	b.WriteString("d2i migrates no SLA or entitlement logic: rebuild each SLA below by hand as an " +
		"Intercom SLA, and decide how the entitlements' terms are tracked.\n")

	fmt.Fprintf(&b, "\n## Entitlements (%d active)\n\n", len(d.entitlements))
	if !cat.has("src.entitlement") {
		b.WriteString(noneFound + " (no entitlement table).\n")
	} else {
		states := make([]string, len(d.states))
		for i, s := range d.states {
			states[i] = s[0] + " " + s[1]
		}
		if len(states) == 0 {
			states = []string{"none (the entitlement table is empty)"}
		}
		fmt.Fprintf(&b, "All entitlements by state: %s.\n\n", strings.Join(states, ", "))
		rows := make([][]string, len(d.entitlements))
		for i, e := range d.entitlements {
			rows[i] = []string{e[1], customerText(e[5], e[3]), e[6] + ", decreases on " + e[7],
				e[9] + " of " + e[8], e[10] + " to " + e[11], e[12], e[14]}
		}
		writeMDTable(&b, []string{"entitlement", "customer", "allocation", "remaining terms", "valid",
			"SLA", "channels (remaining/total)"}, rows)
	}

	b.WriteString("\n## SLA definitions\n")
	if !cat.has("src.sla") {
		b.WriteString("\n" + noneFound + " (no sla table).\n")
		return b.String()
	}
	if len(d.items) == 0 {
		b.WriteString("\nNone: the snapshot's sla table is empty.\n")
	}
	for _, sla := range runsOf(d.items, 0) {
		writeSLA(&b, sla, d.kpisBySLA[sla[0][0]])
	}
	if orphans := d.kpisBySLA[""]; orphans != "" {
		fmt.Fprintf(&b, "\nKPI instances whose SLA item is not in the snapshot: %s.\n", orphans)
	}
	return b.String()
}

// writeSLA writes one SLA: its properties, then a table of its items.
func writeSLA(b *strings.Builder, items [][]string, kpis string) {
	s := items[0]
	fmt.Fprintf(b, "\n### %s\n\n", mdCell(s[1]))
	fmt.Fprintf(b, "- State: %s; type: %s; default: %s\n", mdCell(s[2]), mdCell(s[3]), mdCell(s[5]))
	fmt.Fprintf(b, "- Applies from: %s; pause and resume allowed: %s\n", mdCell(s[4]), mdCell(s[6]))
	if kpis == "" {
		kpis = "none"
	}
	fmt.Fprintf(b, "- KPI instances: %s\n\n", kpis)
	if s[7] == "" {
		b.WriteString("No SLA items.\n")
		return
	}
	rows := make([][]string, len(items))
	for i, it := range items {
		rows[i] = []string{it[8], it[9], it[10], minutesText(it[11]), minutesText(it[12]), it[13], it[14]}
	}
	writeMDTable(b, []string{"item", "KPI", "applies when", "warn after", "fail after", "business hours",
		"pause/resume"}, rows, 2)
}

func slaCSV(d slaData) [][]string {
	out := [][]string{slaHeader}
	for _, e := range d.entitlements {
		out = append(out, []string{"entitlement", e[0], e[1], e[12], e[2], customerText(e[5], e[3]), e[6],
			e[8], e[9], e[10], e[11], e[14], "", "", "", "", "", "", ""})
	}
	for _, it := range d.items {
		id := it[7]
		if id == "" {
			id = it[0]
		}
		out = append(out, []string{"sla_item", id, it[8], it[1], it[2], "", "", "", "", "", "", "",
			it[9], it[10], it[11], it[12], it[13], it[14], d.kpisBySLA[it[0]]})
	}
	return out
}

func customerText(name, table string) string {
	if table == "" {
		return name
	}
	return name + " (" + table + ")"
}

// minutesText shows a duration in minutes with hours or days for people.
func minutesText(s string) string {
	n, err := strconv.Atoi(s)
	switch {
	case err != nil || n == 0:
		return s
	case n%1440 == 0:
		return fmt.Sprintf("%d min (%d d)", n, n/1440)
	case n%60 == 0:
		return fmt.Sprintf("%d min (%d h)", n, n/60)
	}
	return s + " min"
}

// runsOf splits rows sorted by column col into runs of equal values.
func runsOf(rows [][]string, col int) [][][]string {
	var out [][][]string
	for i, r := range rows {
		if i == 0 || r[col] != rows[i-1][col] {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], r)
	}
	return out
}

func countDistinct(rows [][]string, col int) int {
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r[col]] = true
	}
	return len(seen)
}
