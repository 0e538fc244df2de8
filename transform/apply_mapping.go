package transform

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/d2i/d2i/transform/mapping"
)

// A confirmed mapping adds two steps to the built-in SQL (docs/mapping.md):
// after 60_data_attributes.sql its data attributes and custom tables are
// staged, and after 90_reconciliation.sql its custom tables are reconciled.
// Both are SQL generated here, because their shape depends on the file.

// sqlHook is a generated step that runs right after the embedded file after.
type sqlHook struct {
	after string
	name  string
	run   func(ctx context.Context, conn *sql.Conn) error
}

func mappingHooks(m *mapping.Mapping, man *manifest) []sqlHook {
	if m == nil {
		return nil
	}
	a := &applier{m: m, man: man}
	return []sqlHook{
		{after: "sql/60_data_attributes.sql", name: "mapping: data attributes and custom tables", run: a.apply},
		{after: "sql/90_reconciliation.sql", name: "mapping: custom table reconciliation", run: a.reconcile},
		attachmentRuleHook(m.Attachments),
	}
}

// runHooks runs the hooks due after file and marks them in ran, so that a
// hook whose file was renamed fails loudly instead of never running.
func runHooks(ctx context.Context, conn *sql.Conn, hooks []sqlHook, file string, ran map[string]bool,
	log *slog.Logger) error {
	for _, h := range hooks {
		if h.after != file {
			continue
		}
		start := time.Now()
		if err := h.run(ctx, conn); err != nil {
			return fmt.Errorf("%s: %w", h.name, err)
		}
		ran[h.name] = true
		log.Debug("transform step done", "step", h.name, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func hooksMissed(hooks []sqlHook, ran map[string]bool) error {
	var missed []string
	for _, h := range hooks {
		if !ran[h.name] {
			missed = append(missed, h.name+" (after "+h.after+", which did not run)")
		}
	}
	if len(missed) == 0 {
		return nil
	}
	return fmt.Errorf("mapping steps never ran: %s", strings.Join(missed, "; "))
}

// modelTarget is where a model's attributes land: the staged table, its
// source table and primary key, and the object name notes use.
type modelTarget struct{ stage, source, key string }

var modelTargets = map[string]modelTarget{
	"contact":      {"contacts", "contact", "contactid"},
	"company":      {"companies", "account", "accountid"},
	"conversation": {"conversations", "incident", "incidentid"},
}

// models lists modelTargets' keys in a fixed order, for generated SQL.
var models = []string{"company", "contact", "conversation"}

// applier stages one mapping.
type applier struct {
	m   *mapping.Mapping
	man *manifest
}

// apply stages the data attributes (definitions and values) and the custom
// tables, then merges the values into custom_attributes.
func (a *applier) apply(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `create or replace temp table map_values (
		model varchar, source_table varchar, source_id varchar, name varchar, value json, problem varchar);
		create table reports.custom_table_rows (source_table varchar, source_id varchar, model varchar,
			parent_source_id varchar, attribute varchar);`); err != nil {
		return fmt.Errorf("create map_values: %w", err)
	}
	if err := a.refuseBuiltinClash(ctx, conn); err != nil {
		return err
	}

	var defs []attrDef
	for _, da := range a.m.DataAttributes {
		if !da.Enabled {
			continue
		}
		if err := stageAttributeValues(ctx, conn, da); err != nil {
			return fmt.Errorf("data attribute %s.%s: %w", da.SourceTable, da.SourceColumn, err)
		}
		defs = append(defs, attrDef{da.Model, da.Name, da.DataType, da.Description, da.SourceTable,
			da.SourceColumn})
	}
	for _, ct := range a.m.CustomTables {
		def, err := stageCustomTable(ctx, conn, ct)
		if err != nil {
			return fmt.Errorf("custom table %s: %w", ct.Table, err)
		}
		if def != nil {
			defs = append(defs, *def)
		}
	}

	if err := insertAttrDefs(ctx, conn, defs); err != nil {
		return err
	}
	return mergeValues(ctx, conn)
}

// refuseBuiltinClash refuses a mapping name that one of the attributes the
// built-in rules stage already has (Intercom names are unique per workspace).
func (a *applier) refuseBuiltinClash(ctx context.Context, conn *sql.Conn) error {
	builtin, err := queryStrings(ctx, conn, "select lower(name) from stage.data_attributes")
	if err != nil {
		return fmt.Errorf("read built-in data attributes: %w", err)
	}
	taken := map[string]bool{}
	for _, n := range builtin {
		taken[n] = true
	}
	for _, da := range a.m.DataAttributes {
		if da.Enabled && taken[strings.ToLower(da.Name)] {
			return fmt.Errorf("data attribute %s.%s: name %q is a built-in attribute of the transform",
				da.SourceTable, da.SourceColumn, da.Name)
		}
	}
	for _, ct := range a.m.CustomTables {
		if ct.Mode == mapping.ModeJSONAttribute && taken[strings.ToLower(ct.Name)] {
			return fmt.Errorf("custom table %s: name %q is a built-in attribute of the transform", ct.Table, ct.Name)
		}
	}
	return nil
}

// stageAttributeValues adds one attribute's non-null values on staged
// objects to map_values, with a problem when a value cannot be sent.
// Contacts are deduped survivors: the survivor's own value is taken.
func stageAttributeValues(ctx context.Context, conn *sql.Conn, da mapping.DataAttribute) error {
	target, ok := modelTargets[da.Model]
	if !ok || target.source != da.SourceTable {
		return fmt.Errorf("model %q does not stage %s rows", da.Model, da.SourceTable)
	}
	types, err := viewColumns(ctx, conn, target.source)
	if err != nil {
		return err
	}
	typ, ok := types[da.Column]
	if !ok {
		return fmt.Errorf("column %q is not in snapshot table %s", da.Column, da.SourceTable)
	}
	conv, err := convert(da, typ)
	if err != nil {
		return err
	}
	q := fmt.Sprintf(`insert into map_values
		select %s, %s, t.source_id, %s, %s, %s
		from stage.%s t
		join (
			select %s as k, %s as v from src.%s
			qualify row_number() over (partition by %s order by modifiedon desc nulls last, hash(v)) = 1
		) s on s.k = t.source_id
		where s.v is not null
		order by t.source_id`,
		quoteString(da.Model), quoteString(da.SourceTable), quoteString(da.Name), conv.value, conv.problem,
		target.stage, quoteIdent(target.key), quoteIdent(da.Column), target.source, quoteIdent(target.key))
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("stage values of column %s: %w", da.Column, err)
	}
	return nil
}

// attrDef is one row of stage.data_attributes.
type attrDef struct{ model, name, dataType, description, sourceTable, sourceID string }

// insertAttrDefs appends the mapping's attributes after the built-in ones,
// in file order, and refuses more than Intercom's cap.
func insertAttrDefs(ctx context.Context, conn *sql.Conn, defs []attrDef) error {
	for i, d := range defs {
		_, err := conn.ExecContext(ctx, `insert into stage.data_attributes
			(model, name, data_type, description, source_table, source_id, ord)
			select ?, ?, ?, ?, ?, ?, coalesce(max(ord), 0) + 1 from stage.data_attributes`,
			d.model, d.name, d.dataType, d.description, d.sourceTable, d.sourceID)
		if err != nil {
			return fmt.Errorf("stage data attribute %d %s: %w", i+1, d.name, err)
		}
	}
	var n int
	if err := conn.QueryRowContext(ctx, "select count(*) from stage.data_attributes").Scan(&n); err != nil {
		return fmt.Errorf("count stage.data_attributes: %w", err)
	}
	if n > mapping.MaxDataAttributes {
		return fmt.Errorf("%d data attributes to create (%d from the mapping, the rest built in); "+
			"Intercom allows %d per workspace: set enabled: false on some", n, len(defs), mapping.MaxDataAttributes)
	}
	return nil
}

// mergeValues notes each value that cannot be sent (the object migrates
// without it) and merges the others into custom_attributes, keys in name
// order so that reruns write identical JSON.
func mergeValues(ctx context.Context, conn *sql.Conn) error {
	q := `insert into reports.notes
		select m.stage, v.source_table, v.source_id, 'custom attribute ' || v.name || ' left out: ' || v.problem
		from map_values v join map_stage m on m.model = v.model
		where v.problem is not null
		order by m.stage, v.source_id, v.name;`
	for _, model := range models {
		t := modelTargets[model]
		q += fmt.Sprintf(`
		update stage.%[1]s s set custom_attributes = json_merge_patch(coalesce(s.custom_attributes, '{}'), v.attrs)
		from (
			select source_id, to_json(map(list(name order by name), list(value order by name))) as attrs
			from map_values where model = %[2]s and problem is null and value is not null
			group by source_id
		) v
		where v.source_id = s.source_id;`, t.stage, quoteString(model))
	}
	stages := make([]string, 0, len(models))
	for _, model := range models {
		stages = append(stages, fmt.Sprintf("(%s, %s)", quoteString(model), quoteString(modelTargets[model].stage)))
	}
	q = "create or replace temp table map_stage (model varchar, stage varchar); insert into map_stage values " +
		strings.Join(stages, ", ") + ";\n" + q
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("merge custom attributes: %w", err)
	}
	return nil
}

func queryStrings(ctx context.Context, conn *sql.Conn, q string, args ...any) ([]string, error) {
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// viewColumns maps each column of src.<table> to its DuckDB type.
func viewColumns(ctx context.Context, conn *sql.Conn, table string) (map[string]string, error) {
	rows, err := conn.QueryContext(ctx,
		"select column_name, column_type from (describe src."+quoteIdent(table)+")")
	if err != nil {
		return nil, fmt.Errorf("read columns of src.%s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("read columns of src.%s: %w", table, err)
		}
		out[name] = typ
	}
	return out, rows.Err()
}

// conversion is the SQL that turns s.v (the source value) into the JSON value
// sent, and the problem (SQL varchar, null when none) that keeps it out.
type conversion struct{ value, problem string }

// multiSeparator joins the labels of a multi-select option set.
const multiSeparator = ", "

// convert types a column for its data attribute, refusing a data type the
// column's values cannot become (a type change).
func convert(da mapping.DataAttribute, typ string) (conversion, error) {
	refuse := fmt.Errorf("data_type %s cannot hold column %s of type %s: a type change the transform refuses",
		da.DataType, da.Column, typ)
	switch da.DataType {
	case mapping.TypeString:
		if len(da.Values) > 0 {
			return optionConversion(da, typ)
		}
		return stringConversion(stringExpr(typ)), nil
	case mapping.TypeInteger:
		if !isInteger(typ) {
			return conversion{}, refuse
		}
		return conversion{"to_json(cast(s.v as bigint))", "null"}, nil
	case mapping.TypeFloat:
		if !isInteger(typ) && !isFractional(typ) {
			return conversion{}, refuse
		}
		return conversion{"to_json(cast(s.v as double))", "null"}, nil
	case mapping.TypeBoolean:
		if typ != "BOOLEAN" {
			return conversion{}, refuse
		}
		return conversion{"to_json(s.v)", "null"}, nil
	case mapping.TypeDate:
		switch {
		case typ == "DATE": // DateOnly: midnight UTC of that day
			return conversion{"to_json(unix_s(cast(s.v as timestamp)))", "null"}, nil
		case strings.HasPrefix(typ, "TIMESTAMP"):
			return conversion{"to_json(unix_s(s.v))", "null"}, nil
		}
		return conversion{}, refuse
	}
	return conversion{}, fmt.Errorf("data_type %q is not string, integer, float, boolean or date", da.DataType)
}

// optionConversion maps option-set codes through the value map; several
// choices are joined in the order Dataverse lists them. A code without a
// value leaves the attribute out of that object, with a note.
func optionConversion(da mapping.DataAttribute, typ string) (conversion, error) {
	switch {
	case isInteger(typ):
		mapped := valueCase(da.Values, "s.v")
		return conversion{
			value: "to_json(" + mapped + ")",
			problem: "case when " + mapped + " is null then 'option code ' || s.v || " +
				"' has no value in the mapping' end",
		}, nil
	case strings.HasSuffix(typ, "[]") && isInteger(strings.TrimSuffix(typ, "[]")):
		mapped := "list_transform(s.v, lambda x: " + valueCase(da.Values, "x") + ")"
		unmapped := "list_filter(s.v, lambda x: " + valueCase(da.Values, "x") + " is null)"
		return conversion{
			value: "case when len(s.v) > 0 then to_json(array_to_string(" + mapped + ", " +
				quoteString(multiSeparator) + ")) end",
			problem: "case when len(" + unmapped + ") > 0 then 'option codes ' || array_to_string(" + unmapped +
				", ', ') || ' have no value in the mapping' end",
		}, nil
	}
	return conversion{}, fmt.Errorf("values need an option-set (integer) column; %s is %s", da.Column, typ)
}

// valueCase is a CASE over the value map; an unmapped code gives null.
func valueCase(values []mapping.ValueMap, expr string) string {
	var b strings.Builder
	b.WriteString("(case " + expr)
	for _, v := range values {
		fmt.Fprintf(&b, " when %d then %s", v.Source, quoteString(v.Intercom))
	}
	b.WriteString(" end)")
	return b.String()
}

// stringConversion refuses text over Intercom's string cap instead of
// truncating it.
func stringConversion(text string) conversion {
	return conversion{
		value: "to_json(" + text + ")",
		problem: fmt.Sprintf("case when length(%[1]s) > %[2]d then length(%[1]s) || ' characters, over the %[2]d "+
			"Intercom keeps' end", text, mapping.DefaultMaxChars),
	}
}

// stringExpr renders any column as text: lists joined, times in RFC 3339.
func stringExpr(typ string) string {
	switch {
	case typ == "VARCHAR":
		return "s.v"
	case strings.HasSuffix(typ, "[]"):
		return "array_to_string(s.v, " + quoteString(multiSeparator) + ")"
	case strings.HasPrefix(typ, "TIMESTAMP"):
		return "strftime(s.v, '%Y-%m-%dT%H:%M:%SZ')"
	}
	return "cast(s.v as varchar)"
}

func isInteger(typ string) bool {
	switch typ {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT":
		return true
	}
	return false
}

func isFractional(typ string) bool {
	return typ == "DOUBLE" || typ == "FLOAT" || strings.HasPrefix(typ, "DECIMAL")
}

// stageCustomTable gives every row of a custom table its fate and returns
// the data attribute its rows fill, if any. A table the snapshot lacks is
// an error unless the rule skips it.
func stageCustomTable(ctx context.Context, conn *sql.Conn, ct mapping.CustomTable) (*attrDef, error) {
	ok, err := hasSourceView(ctx, conn, ct.Table)
	if err != nil {
		return nil, err
	}
	if !ok {
		if ct.Mode == mapping.ModeSkip {
			return nil, nil
		}
		return nil, fmt.Errorf("not in the snapshot (no src.%s): snapshot it, or set mode: skip", ct.Table)
	}
	types, err := viewColumns(ctx, conn, ct.Table)
	if err != nil {
		return nil, err
	}
	if err := keepOneRowPerKey(ctx, conn, ct, types); err != nil {
		return nil, err
	}
	switch ct.Mode {
	case mapping.ModeJSONAttribute:
		return stageJSONAttribute(ctx, conn, ct, types)
	case mapping.ModeNote:
		// TODO: stage mode note once replay writes contact and company notes.
		return nil, outOfScope(ctx, conn, ct, "custom table "+ct.Table+
			": mode note, but notes on contacts and companies are not replayed yet")
	default:
		return nil, outOfScope(ctx, conn, ct, "custom table "+ct.Table+" skipped by the mapping")
	}
}

func hasSourceView(ctx context.Context, conn *sql.Conn, table string) (bool, error) {
	var n int
	err := conn.QueryRowContext(ctx, `select count(*) from duckdb_views()
		where schema_name = 'src' and view_name = ?`, table).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up src.%s: %w", table, err)
	}
	return n > 0, nil
}

// keepOneRowPerKey fills temp table ct_rows like 05_source_rows.sql fills
// <table>_rows: one row per key, the latest modifiedon winning; extra copies
// and rows without a key are out of scope.
func keepOneRowPerKey(ctx context.Context, conn *sql.Conn, ct mapping.CustomTable,
	types map[string]string) error {
	if _, ok := types[ct.Key]; !ok {
		return fmt.Errorf("key %q is not a column of snapshot table %s", ct.Key, ct.Table)
	}
	order := "hash(s)"
	if _, ok := types["modifiedon"]; ok {
		order = "s.modifiedon desc nulls last, hash(s)"
	}
	key, table := quoteIdent(ct.Key), "src."+quoteIdent(ct.Table)
	q := fmt.Sprintf(`create or replace temp table ct_rows as
		select s.* from %[2]s s where s.%[1]s is not null
		qualify row_number() over (partition by s.%[1]s order by %[3]s) = 1;
		insert into reports.out_of_scope
		select %[4]s, %[1]s, case when %[1]s is null then 'row without ' || %[5]s
			else 'duplicate ' || %[5]s || ' in the snapshot: one copy kept' end
		from (select s.%[1]s, row_number() over (partition by s.%[1]s) as copy from %[2]s s)
		where %[1]s is null or copy > 1
		order by %[1]s;`, key, table, order, quoteString(ct.Table), quoteString(ct.Key))
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("read rows of %s: %w", ct.Table, err)
	}
	return nil
}

func outOfScope(ctx context.Context, conn *sql.Conn, ct mapping.CustomTable, reason string) error {
	q := fmt.Sprintf(`insert into reports.out_of_scope select %s, %s, ? from ct_rows order by 2`,
		quoteString(ct.Table), quoteIdent(ct.Key))
	if _, err := conn.ExecContext(ctx, q, reason); err != nil {
		return fmt.Errorf("mark rows of %s out of scope: %w", ct.Table, err)
	}
	return nil
}

// parentJoins resolve a row's link to the staged object of the rule's
// model: an account is the company itself, a case gives its company or
// contact, a contact (merged ones through their survivor) gives itself or
// its company.
var parentJoins = map[string]string{
	"company": `coalesce(co.source_id, cv.company_source_id, ct.company_source_id)`,
	"contact": `coalesce(cv.contact_source_id, ct.source_id)`,
}

// stageJSONAttribute gathers each parent's rows into one JSON array. A row
// without a link or whose parent is not staged is rejected, and so is every
// row of a parent whose JSON is over max_chars (never truncated).
func stageJSONAttribute(ctx context.Context, conn *sql.Conn, ct mapping.CustomTable,
	types map[string]string) (*attrDef, error) {
	rowJSON, err := rowObject(ct, types)
	if err != nil {
		return nil, err
	}
	link := "_" + ct.Link + "_value"
	for _, c := range []string{link, link + "__lookuplogicalname"} {
		if _, ok := types[c]; !ok {
			return nil, fmt.Errorf("link column %q is not in snapshot table %s", c, ct.Table)
		}
	}
	target := modelTargets[ct.Model]
	q := fmt.Sprintf(`create or replace temp table ct_fate as
		with r as (
			select %[1]s as source_id, %[2]s as link_id, %[3]s as link_table, %[4]s as row_json from ct_rows
		),
		p as (
			select r.*, %[5]s as parent_id
			from r
			left join stage.companies co on r.link_table = 'account' and co.source_id = r.link_id
			left join stage.conversations cv on r.link_table = 'incident' and cv.source_id = r.link_id
			left join stage.contacts ct on r.link_table = 'contact'
				and (ct.source_id = r.link_id or list_contains(ct.merged_source_ids, r.link_id))
		),
		staged as (
			select * replace (case when p.parent_id in (select source_id from stage.%[6]s)
				then p.parent_id end as parent_id)
			from p
		),
		g as (
			select parent_id, cast(to_json(list(row_json order by source_id)) as varchar) as text
			from staged where parent_id is not null group by parent_id
		)
		select s.source_id, s.link_id, s.parent_id, g.text,
			case when s.link_id is null then 'no_link'
				when s.parent_id is null then 'parent_not_staged'
				when length(g.text) > %[7]d then 'json_too_long' end as rule
		from staged s left join g on g.parent_id = s.parent_id;`,
		quoteIdent(ct.Key), quoteIdent(link), quoteIdent(link+"__lookuplogicalname"), rowJSON,
		parentJoins[ct.Model], target.stage, ct.MaxChars)
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return nil, fmt.Errorf("gather rows of %s: %w", ct.Table, err)
	}
	if err := recordJSONFates(ctx, conn, ct, target); err != nil {
		return nil, err
	}
	desc := fmt.Sprintf("Dynamics 365 %s rows (%s) as a JSON array", ct.Table, strings.Join(ct.Columns, ", "))
	return &attrDef{ct.Model, ct.Name, mapping.TypeString, desc, ct.Table, ct.Key}, nil
}

// recordJSONFates writes rejects, the staged rows and the values to merge.
func recordJSONFates(ctx context.Context, conn *sql.Conn, ct mapping.CustomTable, target modelTarget) error {
	q := fmt.Sprintf(`insert into rejects.%[1]s (source_table, source_id, rule, reason)
		select %[2]s, source_id, rule, case rule
			when 'no_link' then %[3]s || ' is empty: the row belongs to no ' || %[4]s
			when 'parent_not_staged' then %[3]s || ' ' || coalesce(link_id, '') || ' leads to no staged ' || %[4]s
			else 'the ' || %[4]s || '''s ' || %[5]s || ' JSON is ' || length(text)
				|| ' characters; max_chars is ' || %[6]d
		end
		from ct_fate where rule is not null order by source_id;
		insert into reports.custom_table_rows
		select %[2]s, source_id, %[4]s, parent_id, %[5]s from ct_fate where rule is null order by source_id;
		insert into map_values
		select distinct %[4]s, %[2]s, parent_id, %[5]s, to_json(text), null
		from ct_fate where rule is null order by parent_id;`,
		target.stage, quoteString(ct.Table), quoteString(ct.Link), quoteString(ct.Model), quoteString(ct.Name),
		ct.MaxChars)
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("record fates of %s rows: %w", ct.Table, err)
	}
	return nil
}

// rowObject is the SQL json_object of a row's columns, keyed by the column's
// logical name (option labels and lookup names under their attribute's name).
func rowObject(ct mapping.CustomTable, types map[string]string) (string, error) {
	parts := make([]string, 0, 2*len(ct.Columns))
	for _, c := range ct.Columns {
		if _, ok := types[c]; !ok {
			return "", fmt.Errorf("column %q is not in snapshot table %s", c, ct.Table)
		}
		parts = append(parts, quoteString(jsonKey(c)), quoteIdent(c))
	}
	return "json_object(" + strings.Join(parts, ", ") + ")", nil
}

// jsonKey names a snapshot column after its Dataverse attribute:
// new_status__label → new_status, _new_caseid_value__formatted → new_caseid.
func jsonKey(col string) string {
	for _, suffix := range []string{"__label", "__formatted", "__lookuplogicalname"} {
		col = strings.TrimSuffix(col, suffix)
	}
	if inner, ok := strings.CutPrefix(col, "_"); ok {
		if name, ok := strings.CutSuffix(inner, "_value"); ok {
			return name
		}
	}
	return col
}

// reconcile adds one reports.reconciliation row per custom table the
// snapshot holds: its rows must all be staged, rejected or out of scope.
func (a *applier) reconcile(ctx context.Context, conn *sql.Conn) error {
	for _, ct := range a.m.CustomTables {
		ok, err := hasSourceView(ctx, conn, ct.Table)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		t := a.man.Tables[ct.Table]
		q := fmt.Sprintf(`insert into reports.reconciliation (object, source_table, source_count, snapshot_rows,
			staged, merged, rejected, out_of_scope, conserved, snapshot_status, ord)
			select 'custom_table', ?, ?, n, staged, 0, rejected, out_of_scope,
				n = staged + rejected + out_of_scope and staged = staged_ids, ?,
				(select coalesce(max(ord), 0) + 1 from reports.reconciliation)
			from (select
				(select count(*) from src.%[1]s) as n,
				(select count(*) from reports.custom_table_rows where source_table = ?) as staged,
				(select count(distinct source_id) from reports.custom_table_rows where source_table = ?) as staged_ids,
				(select count(*) from rejects.companies where source_table = ?)
					+ (select count(*) from rejects.contacts where source_table = ?) as rejected,
				(select count(*) from reports.out_of_scope where source_table = ?) as out_of_scope)`,
			quoteIdent(ct.Table))
		_, err = conn.ExecContext(ctx, q, ct.Table, t.SourceCount, t.Status, ct.Table, ct.Table, ct.Table, ct.Table,
			ct.Table)
		if err != nil {
			return fmt.Errorf("reconcile custom table %s: %w", ct.Table, err)
		}
	}
	return nil
}
