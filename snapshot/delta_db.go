package snapshot

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // DuckDB compares key sets larger than memory
)

// deltaDB runs the delta's set queries over Parquet with an in-process
// DuckDB: key diffs and version lookups spill to disk instead of growing
// the reader's memory with the table.
type deltaDB struct {
	db  *sql.DB
	err error
}

func (d *deltaRun) duck() *deltaDB {
	if d.db == nil {
		db, err := sql.Open("duckdb", "")
		d.db = &deltaDB{db: db, err: err}
		if err == nil {
			db.SetMaxOpenConns(1) // one in-memory database, not one per connection
		}
	}
	return d.db
}

func (x *deltaDB) close() {
	if x.db != nil {
		x.db.Close()
	}
}

// deltaSQLString quotes s as a SQL string literal.
func deltaSQLString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// parquetList is read_parquet over files, union_by_name so that full parts
// (no DeletedColumn) and delta parts read together.
func parquetList(files []string) string {
	q := make([]string, len(files))
	for i, f := range files {
		q[i] = deltaSQLString(f)
	}
	return "read_parquet([" + strings.Join(q, ", ") + "], union_by_name = true)"
}

// deltaSQLIdent quotes a column name; logical names are checked, quoting is a
// second guard.
func deltaSQLIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// maxModified is the newest modifiedon in files (changed rows only when
// live), zero when there is none.
func (x *deltaDB) maxModified(ctx context.Context, files []string, live bool) (time.Time, error) {
	if x.err != nil {
		return time.Time{}, x.err
	}
	if len(files) == 0 {
		return time.Time{}, nil
	}
	q := "select max(modifiedon) from " + parquetList(files)
	if live {
		q += " where not coalesce(" + DeletedColumn + ", false)"
	}
	var t sql.NullTime
	if err := x.db.QueryRowContext(ctx, q).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("max modifiedon: %w", err)
	}
	if !t.Valid {
		return time.Time{}, nil
	}
	return t.Time.UTC(), nil
}

// knownVersions returns "id/version" for each row of rows whose id the
// files hold at the same versionnumber.
func (x *deltaDB) knownVersions(ctx context.Context, files []string, pk string,
	rows []map[string]any) (map[string]bool, error) {
	if x.err != nil {
		return nil, x.err
	}
	var vals []string
	for _, row := range rows {
		id, _ := row[pk].(string)
		v, err := strconv.ParseInt(versionOf(row), 10, 64)
		if !isGUID(id) || err != nil {
			continue // no comparable version: kept as changed
		}
		vals = append(vals, fmt.Sprintf("(%s, %d)", deltaSQLString(strings.ToLower(id)), v))
	}
	known := map[string]bool{}
	if len(vals) == 0 || len(files) == 0 {
		return known, nil
	}
	q := "select v.id, v.ver from (values " + strings.Join(vals, ", ") + ") v(id, ver) " +
		"where exists (select 1 from " + parquetList(files) + " b where lower(b." + deltaSQLIdent(pk) +
		") = v.id and b.versionnumber = v.ver)"
	rs, err := x.db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var id string
		var ver int64
		if err := rs.Scan(&id, &ver); err != nil {
			return nil, err
		}
		known[id+"/"+strconv.FormatInt(ver, 10)] = true
	}
	return known, rs.Err()
}

// missingIDs streams, in id order and in batches of at most batch, the ids
// baseIDs yields that no key file holds.
func (x *deltaDB) missingIDs(ctx context.Context, baseIDs string, keyFiles []string, pk string,
	batch int, emit func([]string) error) error {
	if x.err != nil {
		return x.err
	}
	if len(keyFiles) == 0 {
		return errors.New("no key files")
	}
	q := "select id from (" + baseIDs + ") where id is not null except select " + deltaSQLIdent(pk) + " from " +
		parquetList(keyFiles) + " order by 1"
	rs, err := x.db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rs.Close()
	ids := make([]string, 0, batch)
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return err
		}
		if ids = append(ids, id); len(ids) == batch {
			if err := emit(ids); err != nil {
				return err
			}
			ids = ids[:0]
		}
	}
	if err := rs.Err(); err != nil {
		return err
	}
	if len(ids) > 0 {
		return emit(ids)
	}
	return nil
}

// maxChain bounds how many deltas a base chain may stack.
const maxChain = 1000

// chain is b, its base, that one's base... down to the full snapshot.
func (b *deltaBase) chain() ([]*deltaBase, error) {
	out := []*deltaBase{b}
	for cur := b; cur.m.Base != ""; {
		if len(out) > maxChain {
			return nil, fmt.Errorf("snapshot delta: base chain of %s is longer than %d", b.dir, maxChain)
		}
		p, err := cur.parent()
		if err != nil {
			return nil, fmt.Errorf("snapshot delta: base of %s: %w", cur.dir, err)
		}
		out = append(out, p)
		cur = p
	}
	return out, nil
}

// idsSQL is a query of the ids (lower case) the table had as of chain[0]:
// the nearest snapshot that knows them all (a full one, or a watermark
// delta with its key list), then each later change-tracking delta's
// changed ids added and its tombstones taken away.
func idsSQL(chain []*deltaBase, table, pk string) (string, error) {
	col := "lower(" + deltaSQLIdent(pk) + ")"
	i := 0
	for ; i < len(chain); i++ {
		tm := chain[i].m.Tables[table]
		if tm == nil || tm.Status != StatusComplete {
			return "", fmt.Errorf("table %s is not complete in snapshot %s", table, chain[i].dir)
		}
		if chain[i].m.Base == "" || (tm.Delta != nil && tm.Delta.Mode == DeltaWatermark) {
			break
		}
	}
	if i == len(chain) {
		return "", fmt.Errorf("table %s: no snapshot in the base chain lists all its ids", table)
	}
	var q string
	if chain[i].m.Base == "" {
		q = idsOf(chain[i].parts(table), col, "")
	} else {
		q = idsOf(chain[i].files(table, "keys/"), col, "")
	}
	for j := i - 1; j >= 0; j-- {
		parts := chain[j].parts(table)
		if len(parts) == 0 {
			continue
		}
		q = "select id from (" + q + ") union select id from (" +
			idsOf(parts, col, "not "+DeletedColumn) + ") except select id from (" +
			idsOf(parts, col, DeletedColumn) + ")"
	}
	return q, nil
}

// idsOf selects col as id from files, optionally filtered.
func idsOf(files []string, col, where string) string {
	if len(files) == 0 {
		return "select cast(null as varchar) as id where false"
	}
	q := "select " + col + " as id from " + parquetList(files)
	if where != "" {
		q += " where " + where
	}
	return q
}

// files lists a table's files under prefix, as paths.
func (b *deltaBase) files(table, prefix string) []string {
	tm := b.m.Tables[table]
	if tm == nil {
		return nil
	}
	var out []string
	for _, f := range tm.Files {
		if strings.HasPrefix(f.Path, prefix) {
			out = append(out, joinRel(b.dir, f.Path))
		}
	}
	return out
}
