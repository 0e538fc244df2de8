// Package transform turns a Dataverse snapshot into the Intercom-shaped staging
// database (contracts.md §2): views over the snapshot's Parquet in schema src,
// then the numbered SQL in sql/ rebuilds stage, rejects and reports from
// scratch, and Run checks that every source row is accounted for.
//
// Beyond the contract, reports.out_of_scope lists every row deliberately not
// migrated (with its reason), reports.notes every decision taken on a row that
// was migrated, and each rejects table has a context column. Decisions:
//
//   - The manifest must say complete; each Parquet file is checked against its
//     sha256 before DuckDB reads it. A table the transform reads but the
//     snapshot does not hold gets an empty typed view and a Result note;
//     columns a table lacks become typed nulls in its view.
//   - A primary key seen twice (paging drift) is staged once, the extra copy
//     counted out of scope; staged ids are also checked to be distinct.
//   - Admins: application and non-interactive users are out of scope; users
//     without a usable internalemailaddress are rejected. Teams: private
//     (personal) queues are out of scope; nameless queues are rejected.
//   - Contacts: the first well-formed address among emailaddress1..3 makes a
//     user; malformed addresses are ignored with a note (never rejected), so a
//     contact with only malformed ones becomes a lead. Users are deduped on
//     lower(trim(email)); the survivor is the active one, then the oldest
//     createdon, then the smallest contactid; signed_up_at is the group's
//     oldest createdon. A company is set only when the parent account is staged.
//   - Conversations: the contact is the customer contact (through dedupe),
//     else the case's primarycontactid, else the account's primarycontactid,
//     else the account's oldest contact; otherwise the case is rejected
//     no_contact. statecode 0 is open, or snoozed when statuscode is 2 On Hold
//     or 3 Waiting for Details (the active-state reasons in the incident
//     metadata); snoozed_until is followupby, or null when the case has none
//     (replay picks the wake-up time). Resolved and cancelled are closed; every
//     case carries dynamics_state (Active, Resolved, Cancelled) as the marker.
//     The team is the queue of the case's latest queue item, when queueitem
//     was snapshotted. Descriptions that hold HTML are sanitised, plain text is
//     escaped into paragraphs; an empty one falls back to the title.
//   - Parts: emails regarding a staged case. Incoming: the sender contact
//     (through dedupe), else the conversation's contact; a sender party
//     without partyid gets a note with its address used. Outgoing: the sender
//     agent, else the case owner, else rejected no_admin. Drafts, failed and
//     cancelled emails (statecode 0, 2) are out of scope. Emails of rejected
//     or missing cases are rejected; others are out of scope, and so is every
//     activityparty and queueitem row (consumed, not migrated).
//   - Notes: phone calls, tasks and appointments regarding a staged case are
//     internal notes on its conversation, written by the activity's owner or
//     else the case owner, ordered with the emails by time; their text holds
//     the fields Intercom has no place for (direction, duration, due date,
//     attendees). A phone call on no case is a note on its contact
//     (stage.contact_notes): the regarding contact, else the contact party
//     on the customer's side of the call; other activities about an account
//     or contact, and calls with no contact, are out of scope.
//   - Intercom takes a contact's full name as one field; the first/last split
//     is kept as contact attributes (sql/30_contacts.sql says how). Fields are
//     validated before staging by the named rules of sql/15_validation.sql.
package transform

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/d2i/d2i/transform/mapping"
)

//go:embed sql/*.sql sql/*.sql.tmpl
var sqlFiles embed.FS

// Config says which snapshot to read and which staging database to (re)build.
type Config struct {
	SnapshotDir string
	DBPath      string
	Logger      *slog.Logger
	// MappingPath, when set, names a confirmed mapping file: its seal must
	// match, and its hash is recorded in reports.mapping for replay.
	MappingPath string
}

// Reconciliation is one row of reports.reconciliation.
type Reconciliation struct {
	Object       string
	SourceTable  string
	SourceCount  int64 // the source's own count from the manifest, -1 if unknown
	SnapshotRows int64
	Staged       int64
	Merged       int64
	Rejected     int64
	OutOfScope   int64
	Conserved    bool
}

// Result summarises a transform run.
type Result struct {
	DBPath         string
	Staged         map[string]int64 // stage table name → rows
	Reconciliation []Reconciliation
	Notes          []string // tables the snapshot did not hold, and similar
}

// Run verifies the snapshot, rebuilds stage, rejects and reports in the
// DuckDB file at cfg.DBPath, and checks row conservation. When a table does not
// conserve, the database is still written (for inspection) and an error lists
// the tables.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	set, err := readSnapshotSet(cfg.SnapshotDir)
	if err != nil {
		return nil, err
	}
	if err := set.verify(); err != nil {
		return nil, err
	}
	man := set.newest().m
	var mp *mapping.Mapping
	if cfg.MappingPath != "" {
		if mp, err = mapping.LoadVerified(cfg.MappingPath); err != nil {
			return nil, err
		}
	}

	db, conn, err := openStaging(ctx, cfg.DBPath)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	defer conn.Close()

	res := &Result{DBPath: cfg.DBPath}
	if err := build(ctx, conn, set, mappingHooks(mp, man), deletePolicy(mp), res, log); err != nil {
		return nil, err
	}
	if err := mapping.Record(ctx, conn, mp); err != nil {
		return nil, err
	}
	if err := conn.Close(); err != nil {
		return nil, fmt.Errorf("close staging connection %s: %w", cfg.DBPath, err)
	}
	if err := db.Close(); err != nil {
		return nil, fmt.Errorf("close staging database %s: %w", cfg.DBPath, err)
	}
	restrictPerms(cfg.DBPath)

	return res, conservationError(res.Reconciliation)
}

// build runs every step on one connection, because the UDFs, temp macros and
// temp tables live on the connection that created them. hooks are the
// mapping's generated steps (apply_mapping.go).
func build(ctx context.Context, conn *sql.Conn, set *snapshotSet, hooks []sqlHook, deletes *mapping.DeletePolicy,
	res *Result, log *slog.Logger) error {
	if err := registerUDFs(conn); err != nil {
		return err
	}
	notes, err := createSourceViews(ctx, conn, set)
	if err != nil {
		return err
	}
	res.Notes = notes
	for _, n := range notes {
		log.Info("transform source note", "note", n)
	}

	if err := runSQLFiles(ctx, conn, hooks, log); err != nil {
		return err
	}
	if err := stageDeletions(ctx, conn, deletes); err != nil {
		return err
	}

	res.Staged, err = stagedCounts(ctx, conn)
	if err != nil {
		return err
	}
	res.Reconciliation, err = readReconciliation(ctx, conn)
	if err != nil {
		return err
	}
	log.Info("transform done", "tables", len(res.Reconciliation), "staged_contacts", res.Staged["contacts"],
		"staged_conversations", res.Staged["conversations"])
	return nil
}

// openStaging opens (creating if needed) the DuckDB file and returns a single
// pinned connection with UTC as its time zone.
func openStaging(ctx context.Context, path string) (*sql.DB, *sql.Conn, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("create staging directory %s: %w", dir, err)
		}
	}
	connector, err := duckdb.NewConnector(path, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("open staging database %s: %w", path, err)
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("connect to staging database %s: %w", path, err)
	}
	for _, setting := range stagingSettings {
		if _, err := conn.ExecContext(ctx, setting); err != nil {
			conn.Close()
			db.Close()
			return nil, nil, fmt.Errorf("%s on %s: %w", setting, path, err)
		}
	}
	return db, conn, nil
}

// stagingSettings apply to the staging connection. DuckDB's default memory
// limit is 80 % of the machine's RAM, which a customer-size org (a million
// HTML email bodies held in temp tables) would fill on a machine shared with
// other work; capped, DuckDB spills to the database's .tmp directory
// instead. The Go side (the HTML sanitiser) lives outside this limit.
var stagingSettings = []string{
	"set timezone = 'UTC'",
	"set memory_limit = '2GB'",
}

// restrictPerms keeps staging user-only: it holds customer data.
func restrictPerms(path string) {
	for _, p := range []string{path, path + ".wal"} {
		if _, err := os.Stat(p); err == nil {
			_ = os.Chmod(p, 0o600)
		}
	}
}

// runSQLFiles executes sql/*.sql and sql/*.sql.tmpl in file-name order; a
// template is expanded over the source tables first, so that a step which is
// the same for every table reads once instead of once per table. Each hook
// runs right after the file it names.
func runSQLFiles(ctx context.Context, conn *sql.Conn, hooks []sqlHook, log *slog.Logger) error {
	names, err := fs.Glob(sqlFiles, "sql/*.sql*")
	if err != nil {
		return fmt.Errorf("list embedded sql: %w", err)
	}
	sort.Strings(names)
	ran := map[string]bool{}
	for _, name := range names {
		text, err := sqlText(name)
		if err != nil {
			return err
		}
		start := time.Now()
		if _, err := conn.ExecContext(ctx, text); err != nil {
			return fmt.Errorf("run %s: %w", name, err)
		}
		log.Debug("transform step done", "file", name, "took", time.Since(start).Round(time.Millisecond))
		if err := runHooks(ctx, conn, hooks, name, ran, log); err != nil {
			return err
		}
	}
	return hooksMissed(hooks, ran)
}

func sqlText(name string) (string, error) {
	raw, err := sqlFiles.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("read embedded %s: %w", name, err)
	}
	if !strings.HasSuffix(name, ".tmpl") {
		return string(raw), nil
	}
	tmpl, err := template.New(name).Option("missingkey=error").Parse(string(raw))
	if err != nil {
		return "", fmt.Errorf("parse embedded %s: %w", name, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, sourceTableKeys()); err != nil {
		return "", fmt.Errorf("expand embedded %s: %w", name, err)
	}
	return b.String(), nil
}

// stageTables are the tables of schema stage this package builds.
var stageTables = []string{"admins", "teams", "data_attributes", "companies", "contacts",
	"conversations", "conversation_parts", "contact_notes", "collections", "articles", "attachments"}

func stagedCounts(ctx context.Context, conn *sql.Conn) (map[string]int64, error) {
	out := make(map[string]int64, len(stageTables))
	for _, t := range stageTables {
		var n int64
		if err := conn.QueryRowContext(ctx, "select count(*) from stage."+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("count stage.%s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}

func readReconciliation(ctx context.Context, conn *sql.Conn) ([]Reconciliation, error) {
	rows, err := conn.QueryContext(ctx, `select object, source_table, source_count, snapshot_rows,
		staged, merged, rejected, out_of_scope, conserved from reports.reconciliation order by ord`)
	if err != nil {
		return nil, fmt.Errorf("read reports.reconciliation: %w", err)
	}
	defer rows.Close()
	var out []Reconciliation
	for rows.Next() {
		var r Reconciliation
		if err := rows.Scan(&r.Object, &r.SourceTable, &r.SourceCount, &r.SnapshotRows, &r.Staged,
			&r.Merged, &r.Rejected, &r.OutOfScope, &r.Conserved); err != nil {
			return nil, fmt.Errorf("scan reports.reconciliation: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// conservationError names every source table whose rows are not all accounted for.
func conservationError(recs []Reconciliation) error {
	var bad []string
	for _, r := range recs {
		if !r.Conserved {
			bad = append(bad, fmt.Sprintf(
				"%s (%s): snapshot %d != staged %d + merged %d + rejected %d + out of scope %d",
				r.SourceTable, r.Object, r.SnapshotRows, r.Staged, r.Merged, r.Rejected, r.OutOfScope))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return errors.New("row conservation failed for " + strings.Join(bad, "; "))
}
