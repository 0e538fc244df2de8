package transform_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// benchOrgVersion names the generator's output. Change it whenever the
// generated rows change, so that a cached snapshot of an older generator is
// not reused.
const benchOrgVersion = "v1"

// benchOrg sizes a synthetic Dataverse org written straight to a snapshot
// directory (contracts.md §1): generating a million rows through the
// emulator would take hours on 2 cores.
type benchOrg struct {
	users, queues, accounts, contacts, cases int
	emails, phoneCalls, tasks, appointments  int
	queueItems                               int
	partRows                                 int // rows per Parquet part, as the snapshot's page size
}

// customerScaleOrg is issue 4's benchmark org: 200,000 cases, 1,000,000
// activities (70 % emails), 100,000 contacts, 10,000 accounts.
func customerScaleOrg() benchOrg {
	return benchOrg{users: 300, queues: 40, accounts: 10_000, contacts: 100_000, cases: 200_000,
		emails: 700_000, phoneCalls: 120_000, tasks: 120_000, appointments: 60_000,
		queueItems: 220_000, partRows: 5_000}
}

// shrunk divides every bulk table by div, for a quick run of the harness.
func (o benchOrg) shrunk(div int) benchOrg {
	o.accounts, o.contacts, o.cases = o.accounts/div, o.contacts/div, o.cases/div
	o.emails, o.phoneCalls, o.tasks, o.appointments = o.emails/div, o.phoneCalls/div, o.tasks/div, o.appointments/div
	o.queueItems = o.queueItems / div
	return o
}

func (o benchOrg) activities() int { return o.emails + o.phoneCalls + o.tasks + o.appointments }

// benchTable is one generated table: its row count and the select that
// produces rows [lo, hi) of it from "range(lo, hi) t(i)", or from fromFn's clause (see writeBenchTable).
type benchTable struct {
	name   string
	rows   int
	query  string
	fromFn func(lo, hi int) string // the from clause; default range(lo, hi) t(i)
}

// cachedBenchSnapshot returns a snapshot of org under $TMPDIR, generating it
// the first time. A finished snapshot is renamed into place, so an
// interrupted run never leaves a half-written cache behind.
func cachedBenchSnapshot(ctx context.Context, o benchOrg, logf func(string, ...any)) (string, error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("d2i-bench-transform-%s-%dcases", benchOrgVersion, o.cases))
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		logf("reusing generated snapshot %s", dir)
		return dir, nil
	}
	tmp := dir + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return "", fmt.Errorf("clear %s: %w", tmp, err)
	}
	start := time.Now()
	if err := generateBenchSnapshot(ctx, o, tmp); err != nil {
		return "", err
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("clear %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", fmt.Errorf("move generated snapshot into place: %w", err)
	}
	logf("generated snapshot %s in %s", dir, time.Since(start).Round(time.Second))
	return dir, nil
}

func generateBenchSnapshot(ctx context.Context, o benchOrg, dir string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return fmt.Errorf("open generator database: %w", err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect generator database: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, benchMacros(o)); err != nil {
		return fmt.Errorf("create generator macros: %w", err)
	}

	tables := map[string]any{}
	for _, t := range benchTables(o) {
		entry, err := writeBenchTable(ctx, conn, dir, t, o.partRows, benchReplacer(o))
		if err != nil {
			return err
		}
		tables[t.name] = entry
	}
	man := map[string]any{"tool_version": "bench-" + benchOrgVersion, "org_url": "https://bench.crm.dynamics.com",
		"started_at": "2026-12-03T10:00:00Z", "finished_at": "2026-12-03T10:05:00Z", "complete": true,
		"tables": tables}
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644)
}

// writeBenchTable writes the table as part-NNNNN.parquet files of partRows
// rows each, like the snapshot's one part per page, and returns its manifest
// entry.
func writeBenchTable(ctx context.Context, conn *sql.Conn, dir string, t benchTable, partRows int,
	fill *strings.Replacer) (map[string]any, error) {
	var files []map[string]any
	for part, lo := 0, 0; lo < t.rows; part, lo = part+1, lo+partRows {
		hi := min(lo+partRows, t.rows)
		rel := fmt.Sprintf("tables/%s/part-%05d.parquet", t.name, part)
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
		}
		from := fmt.Sprintf("range(%d, %d) t(i)", lo, hi)
		if t.fromFn != nil {
			from = t.fromFn(lo, hi)
		}
		q := fill.Replace(fmt.Sprintf("copy (select %s from %s) to '%s' (format parquet, compression zstd, row_group_size %d)",
			t.query, from, path, partRows))
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("generate %s part %d: %w", t.name, part, err)
		}
		sum, size, err := sha256File(path)
		if err != nil {
			return nil, err
		}
		files = append(files, map[string]any{"path": rel, "rows": hi - lo, "bytes": size, "sha256": sum})
	}
	return map[string]any{"entity_set": t.name + "s", "status": "complete", "source_count": t.rows,
		"rows": t.rows, "pages": len(files), "files": files}, nil
}

func sha256File(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// sqlList renders Go strings as a DuckDB list literal.
func sqlList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}
