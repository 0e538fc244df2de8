package snapshot_test

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// End to end against the emulator, which is written from the spec without
// this package: every table of the sample org, small pages, injected 503s
// and service-protection 429s, plus a table the org does not have.
func TestSnapshotAgainstEmulator(t *testing.T) {
	org, err := sampleorg.New(sampleorg.Options{Seed: 7, Cases: 300})
	if err != nil {
		t.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{
		TenantID: "tenant-e2e", ClientID: "client-e2e", ClientSecret: "secret-e2e",
		// Faults by request number, not by a time window, so that a slow
		// machine exercises the same paths as a fast one.
		Fault: func(n int64, r *http.Request) int {
			switch {
			case n%17 == 0:
				return http.StatusServiceUnavailable
			case n%23 == 0:
				return http.StatusTooManyRequests
			}
			return 0
		},
	})
	defer srv.Close()

	// The tables the migration of cases reads, throttled and faulted; the
	// whole default set is read in parallel_test.go.
	tables := []string{"systemuser", "queue", "account", "contact", "incident", "email",
		"activityparty", "annotation", "msdyn_ocliveworkitem"}
	dir := filepath.Join(t.TempDir(), "snap")
	m, err := snapshot.Run(context.Background(), snapshot.Config{
		OrgURL:       srv.URL,
		AuthorityURL: srv.URL,
		Credentials:  snapshot.Credentials{TenantID: "tenant-e2e", ClientID: "client-e2e", ClientSecret: "secret-e2e"},
		Tables:       tables,
		OutDir:       dir,
		MaxPageSize:  100,
		Retry:        snapshot.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond, MaxAttempts: 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Complete || m.Tables["msdyn_ocliveworkitem"].Status != snapshot.StatusAbsent {
		t.Fatalf("complete=%v absent=%+v", m.Complete, m.Tables["msdyn_ocliveworkitem"])
	}
	if srv.Throttled() == 0 {
		t.Error("no request was throttled; the 429 path was not exercised")
	}
	t.Logf("requests %d, throttled %d", srv.Requests(), srv.Throttled())

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, table := range tables[:len(tables)-1] {
		tm := m.Tables[table]
		want := int64(org.Count(table))
		pk := org.Entity(table).PrimaryIdAttribute
		var n, distinct int64
		q := `select count(*), count(distinct ` + pk + `) from '` + filepath.Join(dir, "tables", table, "*.parquet") + `'`
		if err := db.QueryRow(q).Scan(&n, &distinct); err != nil {
			t.Errorf("%s: %v", table, err)
			continue
		}
		if tm.Status != snapshot.StatusComplete || tm.Rows != want || n != want || distinct != want {
			t.Errorf("%s: status %s manifest rows %d, parquet %d (distinct %d), org has %d",
				table, tm.Status, tm.Rows, n, distinct, want)
		}
		if want < 5000 && tm.SourceCount != want {
			t.Errorf("%s: source_count %d, want %d", table, tm.SourceCount, want)
		}
	}

	checkEmulatorColumns(t, db, dir)
}

// checkEmulatorColumns spot-checks the contract's column shapes on the
// emulator's real-metadata schemas.
func checkEmulatorColumns(t *testing.T, db *sql.DB, dir string) {
	t.Helper()
	var typ string
	q := `select column_type from (describe select birthdate from '` + filepath.Join(dir, "tables/contact/*.parquet") + `')`
	if err := db.QueryRow(q).Scan(&typ); err != nil || typ != "DATE" {
		t.Errorf("contact.birthdate type = %q, %v; want DATE", typ, err)
	}
	var unlabelled, badTarget int
	q = `select count(*) filter (where statecode__label is null),
	  count(*) filter (where _customerid_value__lookuplogicalname not in ('account', 'contact'))
	  from '` + filepath.Join(dir, "tables/incident/*.parquet") + `'`
	if err := db.QueryRow(q).Scan(&unlabelled, &badTarget); err != nil || unlabelled != 0 || badTarget != 0 {
		t.Errorf("incident: %d rows without a state label, %d odd customer targets, %v", unlabelled, badTarget, err)
	}
}
