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
		RequestsPerWindow: 40, Window: time.Second,
		Fault: func(n int64, r *http.Request) int {
			if n%17 == 0 {
				return http.StatusServiceUnavailable
			}
			return 0
		},
	})
	defer srv.Close()

	tables := append(org.Tables(), "msdyn_ocliveworkitem")
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
		t.Log("no request was throttled; the 429 path was not exercised")
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, table := range org.Tables() {
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
}
