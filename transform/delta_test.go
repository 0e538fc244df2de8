package transform_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
	"github.com/d2i/d2i/transform"
	"github.com/d2i/d2i/transform/mapping"
	"github.com/d2i/d2i/transform/mapping/mappingtest"
)

var deltaTestTables = []string{"systemuser", "queue", "account", "contact", "incident", "email", "activityparty",
	"queueitem"}

// A delta snapshot is transformed as the tables as of the delta: staging
// equals what a full snapshot taken at the same moment stages, and
// stage.deletions holds the deleted ids with the mapping's policy.
func TestTransformDeltaChain(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	org, err := sampleorg.New(sampleorg.Options{Seed: 5, Cases: 40})
	if err != nil {
		t.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{})
	defer srv.Close()
	root := t.TempDir()
	snap := func(out, base string) string {
		t.Helper()
		dir := filepath.Join(root, out)
		_, err := snapshot.Run(context.Background(), snapshot.Config{OrgURL: srv.URL, AuthorityURL: srv.URL,
			Credentials: snapshot.Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"},
			Tables:      deltaTestTables, OutDir: dir, MaxPageSize: 25, DeltaFrom: base})
		if err != nil {
			t.Fatalf("snapshot %s: %v", out, err)
		}
		return dir
	}
	full := snap("full", "")

	churn := func(table string, c dataversetest.Churn) dataversetest.Changed {
		ch, err := srv.Churn(table, c)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	contacts1 := churn("contact", dataversetest.Churn{Updates: 4, Deletes: 2})
	cases := churn("incident", dataversetest.Churn{Updates: 3, Deletes: 2})
	d1 := snap("d1", full)
	contacts2 := churn("contact", dataversetest.Churn{Updates: 2, Deletes: 1})
	d2 := snap("d2", d1)
	fresh := snap("fresh", "")

	mp := mappingtest.Confirmed(t, full, func(m *mapping.Mapping) {
		m.Deletes = &mapping.DeletePolicy{Contacts: "archive", Conversations: "delete"}
	})
	deltaDB := transformTo(t, d2, mp)
	freshDB := transformTo(t, fresh, mp)

	for _, table := range []string{"contacts", "companies", "conversations", "conversation_parts"} {
		q := "select * exclude (ord) from stage." + table + " order by source_id"
		if got, want := dump(t, deltaDB, q), dump(t, freshDB, q); got != want {
			t.Errorf("stage.%s from the delta chain differs from a fresh full snapshot's", table)
		}
	}

	deleted := append(append(slices.Clone(contacts1.Deleted), contacts2.Deleted...), cases.Deleted...)
	got := rowsOf(t, deltaDB, "select kind || ' ' || source_id || ' ' || action from stage.deletions order by ord")
	var want []string
	for _, id := range cases.Deleted {
		want = append(want, "conversations "+strings.ToLower(id)+" delete")
	}
	var contactLines []string
	for _, id := range append(slices.Clone(contacts1.Deleted), contacts2.Deleted...) {
		contactLines = append(contactLines, "contacts "+strings.ToLower(id)+" archive")
	}
	slices.Sort(want)
	slices.Sort(contactLines)
	want = append(want, contactLines...)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stage.deletions (deleted %v):\n%s\nwant\n%s", deleted, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := rowsOf(t, freshDB, "select count(*) from stage.deletions"); n[0] != "0" {
		t.Errorf("a full snapshot staged %s deletions", n[0])
	}
}

func transformTo(t *testing.T, snapDir, mappingPath string) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "staging.duckdb")
	res, err := transform.Run(context.Background(), transform.Config{SnapshotDir: snapDir, DBPath: db,
		MappingPath: mappingPath})
	if err != nil {
		t.Fatalf("transform %s: %v", snapDir, err)
	}
	for _, r := range res.Reconciliation {
		if !r.Conserved {
			t.Errorf("transform %s: %s does not conserve: %+v", filepath.Base(snapDir), r.SourceTable, r)
		}
	}
	return db
}

func rowsOf(t *testing.T, dbPath, q string) []string {
	t.Helper()
	db, err := sql.Open("duckdb", dbPath+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// dump renders a query's rows as text, to compare two databases.
func dump(t *testing.T, dbPath, q string) string {
	t.Helper()
	return strings.Join(rowsOf(t, dbPath, "select to_json(t)::varchar from ("+q+") t"), "\n")
}
