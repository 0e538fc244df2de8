package report

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/d2i/d2i/report/flows"
)

// workflowColumns are the workflow columns flows.FromRecord reads, keyed as
// in the snapshot's Parquet (contracts §1). Columns an org's metadata lacks
// (ondemand, subprocess, triggerondelete are often missing) read as null.
var workflowColumns = []string{
	"workflowid varchar", "name varchar", "uniquename varchar", "category integer", "type integer",
	"statecode integer", "statuscode integer", "primaryentity varchar", "mode integer", "scope integer",
	"ondemand boolean", "subprocess boolean", "triggeroncreate boolean", "triggerondelete boolean",
	"triggeronupdateattributelist varchar", "_ownerid_value varchar", "_ownerid_value__formatted varchar",
	"clientdata varchar", "xaml varchar",
}

// ruleUnreadable marks an inventory line whose definition flows could not
// parse; the row is still listed so that no process goes unmentioned.
const ruleUnreadable = "unreadable"

// FlowInventory lists every row of src.workflow (cloud flows, classic
// workflows, business rules, actions, business process flows, dialogs) with
// its trigger, whether it touches cases and the Intercom equivalent to
// rebuild by hand, using the flows package's parser, rules and renderers.
func FlowInventory(ctx context.Context, db *sql.DB) (Doc, error) {
	doc := Doc{Name: "flow_inventory", Title: "Flow inventory"}
	cat, err := readCatalog(ctx, db)
	if err != nil {
		return Doc{}, fmt.Errorf("flow inventory: %w", err)
	}
	if !cat.has("src.workflow") {
		doc.Summary = "No workflow table in the snapshot."
		doc.Markdown = "# Flow inventory\n\n" + noneFound + ": no workflow table, so no processes to list.\n"
		doc.CSV, err = csvRecords(flows.CSV(nil))
		return doc, err
	}

	entries, err := flowEntries(ctx, db, cat)
	if err != nil {
		return Doc{}, err
	}
	doc.Markdown = flows.Markdown(entries)
	if doc.CSV, err = csvRecords(flows.CSV(entries)); err != nil {
		return Doc{}, fmt.Errorf("flow inventory: %w", err)
	}
	cases := 0
	for _, e := range entries {
		if e.TouchesCases {
			cases++
		}
	}
	doc.Summary = fmt.Sprintf("%d processes, %d touching cases, each with the Intercom equivalent to "+
		"rebuild by hand.", len(entries), cases)
	return doc, nil
}

// flowEntries reads src.workflow row by row into inventory entries.
func flowEntries(ctx context.Context, db *sql.DB, cat catalog) ([]flows.Entry, error) {
	q := "select * from " + cat.subquery("src.workflow", workflowColumns...) + " order by workflowid"
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("flow inventory: read src.workflow: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("flow inventory: read src.workflow: %w", err)
	}
	var out []flows.Entry
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("flow inventory: scan src.workflow: %w", err)
		}
		rec := make(map[string]any, len(cols))
		for i, c := range cols {
			rec[c] = vals[i]
		}
		out = append(out, flowEntry(rec))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("flow inventory: read src.workflow: %w", err)
	}
	return out, nil
}

// flowEntry inventories one workflow row. A row the parser cannot read
// becomes an unreadable line carrying the error, so one broken definition
// does not hide the rest of the org's automation.
func flowEntry(rec map[string]any) flows.Entry {
	w, err := flows.FromRecord(rec)
	if err != nil {
		id, _ := rec["workflowid"].(string)
		name, _ := rec["name"].(string)
		return unreadable(flows.Entry{ID: strings.ToLower(strings.Trim(id, "{}")), Name: name, Kind: "Unknown"}, err)
	}
	e, err := flows.Inventory(w)
	if err != nil && w.Category != flows.CategoryModernFlow {
		// A classic process is still listed from its columns (trigger,
		// table, rules) when its XAML cannot be read; only the steps are lost.
		bare := w
		bare.XAML = ""
		if e, bareErr := flows.Inventory(bare); bareErr == nil {
			e.Why += " Steps not listed: " + err.Error() + "."
			return e
		}
	}
	if err != nil {
		table := strings.ToLower(w.PrimaryEntity)
		if table == "none" {
			table = ""
		}
		return unreadable(flows.Entry{ID: w.ID, Name: w.Name, Kind: flows.CategoryName(w.Category),
			Category: w.Category, State: flows.StateName(w.StateCode), Owner: w.OwnerName, Table: table}, err)
	}
	return e
}

func unreadable(e flows.Entry, err error) flows.Entry {
	e.Trigger = flows.Trigger{Kind: flows.TriggerOther}
	e.RuleID = ruleUnreadable
	e.Recommendation = "Open it in Dynamics and rebuild it by hand"
	e.Why = "its definition could not be read: " + err.Error()
	return e
}

func csvRecords(text string) ([][]string, error) {
	return csv.NewReader(strings.NewReader(text)).ReadAll()
}
