package report

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// invFixture writes a staging database holding only what stmts create and
// opens it read-only, as the reports do.
func invFixture(t *testing.T, stmts ...string) *sql.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "staging.duckdb")
	w, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := w.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := openReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestValidationGroupsRejectsByRule(t *testing.T) {
	db := invFixture(t, `create schema rejects`,
		`create table rejects.admins as select * from (values
			('systemuser', 'u2', 'no_email', 'no address', null),
			('systemuser', 'u1', 'no_email', 'no address', null),
			('systemuser', 'u3', 'invalid_email', 'not usable', 'agent(at)example')) t(source_table, source_id, rule, reason, context)`,
		`create table rejects.teams as select * from (values ('queue', 'q9', 'missing_name', 'no | name'))
			t(source_table, source_id, rule, reason)`,
		`create table rejects.contacts (source_table varchar, source_id varchar, rule varchar, reason varchar)`)

	doc, err := Validation(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	wantCSV := [][]string{validationHeader,
		{"admins", "systemuser", "u3", "invalid_email", "not usable", "agent(at)example"},
		{"admins", "systemuser", "u1", "no_email", "no address", ""},
		{"admins", "systemuser", "u2", "no_email", "no address", ""},
		{"teams", "queue", "q9", "missing_name", "no | name", ""},
	}
	if got, want := csvText(doc.CSV), csvText(wantCSV); got != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, want)
	}
	for _, want := range []string{
		"| admins | `no_email` | no address | 2 |",
		"## admins: invalid_email (1 rows)",
		"| systemuser | u3 | agent(at)example |",
		"## teams: missing_name (1 rows)\n\nno \\| name",
	} {
		if !strings.Contains(doc.Markdown, want) {
			t.Errorf("markdown lacks %q:\n%s", want, doc.Markdown)
		}
	}
	if doc.Name != "validation" || !strings.HasPrefix(doc.Summary, "4 rows rejected under 3 rules") {
		t.Errorf("name %q, summary %q", doc.Name, doc.Summary)
	}
}

// A staging database without the tables a report reads yields a report
// that says so, never an error.
func TestInventoriesOnEmptyDatabase(t *testing.T) {
	db := invFixture(t)
	ctx := context.Background()
	reports := map[string]func() (Doc, error){
		"flow_inventory":    func() (Doc, error) { return FlowInventory(ctx, db) },
		"channel_assets":    func() (Doc, error) { return ChannelAssets(ctx, db, 0) },
		"routing_inventory": func() (Doc, error) { return RoutingInventory(ctx, db, "") },
		"sla_inventory":     func() (Doc, error) { return SLAInventory(ctx, db) },
		"validation":        func() (Doc, error) { return Validation(ctx, db) },
	}
	for name, build := range reports {
		doc, err := build()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if doc.Name != name {
			t.Errorf("%s: Name = %q", name, doc.Name)
		}
		if !strings.Contains(doc.Markdown, "None found in the s") {
			t.Errorf("%s does not say none were found:\n%s", name, doc.Markdown)
		}
		if len(doc.CSV) != 1 {
			t.Errorf("%s: CSV has %d lines, want the header only", name, len(doc.CSV))
		}
	}
}

func csvText(rows [][]string) string {
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = strings.Join(r, ",")
	}
	return strings.Join(lines, "\n")
}
