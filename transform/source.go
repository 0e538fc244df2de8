package transform

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
	"sort"
	"strings"
	"time"
)

// manifest is the part of the snapshot's manifest.json (contracts.md §1) the
// transform reads. It is declared here rather than imported so that transform
// depends on the file format, not on the snapshot package.
type manifest struct {
	Complete   bool                     `json:"complete"`
	FinishedAt string                   `json:"finished_at"`
	Base       string                   `json:"base"` // set on a delta snapshot: the snapshot it holds changes since
	Tables     map[string]manifestTable `json:"tables"`
}

type manifestTable struct {
	Status      string         `json:"status"`
	SourceCount int64          `json:"source_count"`
	Rows        int64          `json:"rows"`
	Files       []manifestFile `json:"files"`
}

type manifestFile struct {
	Path   string `json:"path"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// parquetFiles picks the table's Parquet parts out of its file list, which
// also names the metadata and raw pages the snapshot wrote.
func (t manifestTable) parquetFiles() []manifestFile {
	var out []manifestFile
	for _, f := range t.Files {
		// A watermark delta also lists keys/<t>/ files (every id the org had):
		// they are not rows, so only tables/ feeds a view (contracts.md §1).
		if strings.HasPrefix(f.Path, "tables/") && strings.HasSuffix(f.Path, ".parquet") {
			out = append(out, f)
		}
	}
	return out
}

// column is one column the SQL reads, with the DuckDB type of its typed null
// when the snapshot does not have it.
type column struct{ name, typ string }

func lookup(name string) []column {
	v := "_" + name + "_value"
	return []column{{v, "varchar"}, {v + "__lookuplogicalname", "varchar"}, {v + "__formatted", "varchar"}}
}

func option(name string) []column {
	return []column{{name, "integer"}, {name + "__label", "varchar"}}
}

func cols(groups ...[]column) []column {
	var out []column
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func str(names ...string) []column {
	out := make([]column, len(names))
	for i, n := range names {
		out[i] = column{n, "varchar"}
	}
	return out
}

func ts(names ...string) []column {
	out := make([]column, len(names))
	for i, n := range names {
		out[i] = column{n, "timestamptz"}
	}
	return out
}

// sourceTables lists, in reconciliation order, every Dataverse table the SQL
// reads and the columns it reads from each.
var sourceTables = []struct {
	name string
	cols []column
}{
	{"systemuser", cols(str("systemuserid", "fullname", "firstname", "lastname", "internalemailaddress",
		"applicationid"), []column{{"accessmode", "integer"}, {"isdisabled", "boolean"}},
		ts("createdon", "modifiedon"))},
	{"queue", cols(str("queueid", "name", "emailaddress"), option("queueviewtype"), option("statecode"),
		ts("createdon", "modifiedon"))},
	{"account", cols(str("accountid", "name", "websiteurl", "address1_city", "address1_stateorprovince",
		"address1_country", "address1_postalcode"), []column{{"numberofemployees", "integer"}},
		option("industrycode"), lookup("primarycontactid"), lookup("parentaccountid"),
		ts("createdon", "modifiedon"))},
	{"contact", cols(str("contactid", "fullname", "firstname", "lastname", "emailaddress1", "emailaddress2",
		"emailaddress3", "telephone1", "mobilephone", "telephone2"), lookup("parentcustomerid"),
		[]column{{"donotemail", "boolean"}, {"donotbulkemail", "boolean"}},
		option("statecode"), ts("createdon", "modifiedon"))},
	{"incident", cols(str("incidentid", "title", "ticketnumber", "description"), option("prioritycode"),
		option("statecode"), option("statuscode"), option("caseorigincode"), option("casetypecode"),
		lookup("customerid"), lookup("primarycontactid"), lookup("ownerid"), lookup("parentcaseid"),
		lookup("entitlementid"), lookup("firstresponsebykpiid"), lookup("resolvebykpiid"),
		ts("createdon", "modifiedon", "followupby"))},
	{"email", cols(str("activityid", "subject", "description"), []column{{"directioncode", "boolean"}},
		option("statecode"),
		lookup("regardingobjectid"), ts("actualend", "senton", "createdon", "modifiedon"))},
	{"activityparty", cols(str("activitypartyid", "addressused"), lookup("activityid"), lookup("partyid"),
		option("participationtypemask"), ts("modifiedon"))},
	{"queueitem", cols(str("queueitemid"), lookup("queueid"), lookup("objectid"), option("statecode"),
		ts("enteredon", "createdon", "modifiedon"))},
	{"phonecall", cols(str("activityid", "subject", "description", "phonenumber"),
		[]column{{"directioncode", "boolean"}, {"actualdurationminutes", "integer"}}, option("statecode"),
		option("statuscode"), lookup("regardingobjectid"), lookup("ownerid"),
		ts("actualstart", "actualend", "scheduledstart", "createdon", "modifiedon"))},
	{"task", cols(str("activityid", "subject", "description"), []column{{"percentcomplete", "integer"}},
		option("prioritycode"), option("statecode"), option("statuscode"), lookup("regardingobjectid"),
		lookup("ownerid"), ts("scheduledend", "actualend", "createdon", "modifiedon"))},
	{"appointment", cols(str("activityid", "subject", "description", "location"),
		[]column{{"isalldayevent", "boolean"}}, option("statecode"), option("statuscode"),
		lookup("regardingobjectid"), lookup("ownerid"), ts("scheduledstart", "scheduledend", "createdon", "modifiedon"))},
	// SLA and entitlement tables become conversation attributes and the SLA
	// inventory (sql/35_sla_entitlements.sql); none is an Intercom object of its own.
	{"sla", cols(str("slaid", "name"), option("statecode"), option("slatype"), lookup("businesshoursid"),
		[]column{{"isdefault", "boolean"}, {"allowpauseresume", "boolean"}}, ts("createdon", "modifiedon"))},
	{"slaitem", cols(str("slaitemid", "name", "relatedfield"), lookup("slaid"), lookup("businesshoursid"),
		[]column{{"failureafter", "integer"}, {"warnafter", "integer"}, {"allowpauseresume", "boolean"},
			{"sequencenumber", "integer"}}, ts("createdon", "modifiedon"))},
	{"entitlement", cols(str("entitlementid", "name"), option("allocationtypecode"), option("statecode"),
		[]column{{"totalterms", "double"}, {"remainingterms", "double"}}, lookup("customerid"),
		[]column{{"startdate", "date"}, {"enddate", "date"}}, ts("createdon", "modifiedon"))},
	{"entitlementchannel", cols(str("entitlementchannelid", "name"), option("channel"), lookup("entitlementid"),
		[]column{{"totalterms", "double"}, {"remainingterms", "double"}}, ts("createdon", "modifiedon"))},
	{"slakpiinstance", cols(str("slakpiinstanceid", "name"), option("status"), lookup("regarding"),
		lookup("msdyn_slaitemid"), ts("failuretime", "warningtime", "succeededon", "pausedon", "createdon",
			"modifiedon"))},
	// The knowledge base becomes help-center collections and articles
	// (sql/70_articles.sql); locales and article-category links are consumed.
	{"languagelocale", cols(str("languagelocaleid", "code", "name", "language"),
		[]column{{"localeid", "integer"}}, option("statecode"), ts("modifiedon"))},
	{"category", cols(str("categoryid", "title", "description", "categorynumber"), lookup("parentcategoryid"),
		[]column{{"sequencenumber", "integer"}}, lookup("ownerid"), ts("createdon", "modifiedon"))},
	{"knowledgearticle", cols(str("knowledgearticleid", "title", "content", "description", "articlepublicnumber"),
		option("statecode"), option("statuscode"), lookup("languagelocaleid"), lookup("rootarticleid"),
		lookup("parentarticlecontentid"), []column{{"isrootarticle", "boolean"}, {"islatestversion", "boolean"},
			{"isprimary", "boolean"}, {"isinternal", "boolean"}, {"majorversionnumber", "integer"},
			{"minorversionnumber", "integer"}}, lookup("primaryauthorid"), lookup("ownerid"), lookup("createdby"),
		ts("createdon", "modifiedon", "publishon"))},
	{"knowledgearticlescategories", cols(str("knowledgearticlescategoryid", "knowledgearticleid", "categoryid"),
		ts("modifiedon"))},
	// Notes and e-mail attachments (sql/57_attachments.sql): case notes become
	// conversation notes, files ride on parts; the bytes stay in the blob store.
	{"annotation", cols(str("annotationid", "subject", "notetext", "filename", "mimetype", "objecttypecode",
		"documentbody__sha256", "documentbody__error"), []column{{"isdocument", "boolean"},
		{"filesize", "bigint"}, {"documentbody__size", "bigint"}}, lookup("objectid"), lookup("ownerid"),
		ts("createdon", "modifiedon"))},
	{"activitymimeattachment", cols(str("activitymimeattachmentid", "filename", "mimetype", "objecttypecode",
		"body__sha256", "body__error"), []column{{"attachmentnumber", "integer"}, {"filesize", "bigint"},
		{"body__size", "bigint"}}, lookup("objectid"), ts("createdon", "modifiedon"))},
	// Omnichannel (sql/56_omnichannel.sql): conversations and their
	// transcripts become conversations or parts; sessions and recordings are
	// consumed or listed. Most orgs have none of these tables.
	{"msdyn_ocliveworkitem", cols(str("activityid", "subject", "msdyn_title"), option("statecode"),
		option("statuscode"), []column{{"msdyn_channel", "integer[]"}, {"msdyn_channel__label", "varchar[]"},
			{"msdyn_isabandoned", "boolean"}}, lookup("regardingobjectid"), lookup("msdyn_customer"),
		lookup("msdyn_activeagentid"), lookup("msdyn_cdsqueueid"), lookup("ownerid"),
		ts("msdyn_createdon", "msdyn_startedon", "msdyn_closedon", "createdon", "modifiedon"))},
	{"msdyn_ocsession", cols(str("activityid"), lookup("msdyn_liveworkitemid"), lookup("msdyn_activeagentid"),
		ts("msdyn_sessioncreatedon", "createdon", "modifiedon"))},
	{"msdyn_transcript", cols(str("msdyn_transcriptid", "msdyn_name"), lookup("msdyn_liveworkitemidid"),
		ts("createdon", "modifiedon"))},
	{"msdyn_ocrecording", cols(str("msdyn_ocrecordingid", "msdyn_name"), lookup("msdyn_liveworkitemid"),
		ts("modifiedon"))},
}

// tableKey names a source table and its primary key (its first column), for
// the SQL templates.
type tableKey struct{ Name, Key string }

func sourceTableKeys() []tableKey {
	out := make([]tableKey, len(sourceTables))
	for i, st := range sourceTables {
		out[i] = tableKey{st.name, st.cols[0].name}
	}
	return out
}

func readManifest(snapDir string) (*manifest, error) {
	path := filepath.Join(snapDir, "manifest.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read snapshot manifest: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse snapshot manifest %s: %w", path, err)
	}
	if !m.Complete {
		return nil, fmt.Errorf("snapshot %s is not complete (manifest complete=false): "+
			"finish or resume it first", snapDir)
	}
	return &m, nil
}

// verifyFiles checks every Parquet file of the tables the transform reads
// against the manifest's sha256, before DuckDB opens any of them.
func verifyFiles(snapDir string, m *manifest) error {
	for _, st := range sourceTables {
		t, ok := m.Tables[st.name]
		if !ok {
			continue
		}
		if t.Status == "failed" {
			return fmt.Errorf("snapshot table %s has status failed: resume the snapshot first", st.name)
		}
		for _, f := range t.parquetFiles() {
			if err := verifyFile(snapDir, st.name, f); err != nil {
				return err
			}
		}
	}
	for _, name := range extraTables(m) {
		for _, f := range m.Tables[name].parquetFiles() {
			if err := verifyFile(snapDir, name, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// extraTables names, sorted, the snapshotted tables the SQL does not read but
// that get a plain src view all the same: reports and analysts query the whole
// snapshot from the staging database. A failed table is left out, so that no
// report reads half a table as if it were whole.
func extraTables(m *manifest) []string {
	var out []string
	for _, name := range sortedKeys(m.Tables) {
		t := m.Tables[name]
		if !isSourceTable(name) && t.Status != "failed" && len(t.parquetFiles()) > 0 {
			out = append(out, name)
		}
	}
	return out
}

func verifyFile(snapDir, table string, f manifestFile) error {
	if !filepath.IsLocal(filepath.FromSlash(f.Path)) {
		return fmt.Errorf("snapshot table %s: file path %q leaves the snapshot directory", table, f.Path)
	}
	path := filepath.Join(snapDir, filepath.FromSlash(f.Path))
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("snapshot table %s: open %s: %w", table, f.Path, err)
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return fmt.Errorf("snapshot table %s: hash %s: %w", table, f.Path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, f.SHA256) {
		return fmt.Errorf("snapshot table %s: file %s does not match the manifest (sha256 %s, manifest says %s)",
			table, f.Path, got, f.SHA256)
	}
	return nil
}

// createSourceViews recreates schema src with one view per source table and
// fills temp table snap_tables (what the manifest says about each) for the
// reconciliation step, and snap_tombstones with what a delta deleted.
func createSourceViews(ctx context.Context, conn *sql.Conn, set *snapshotSet) ([]string, error) {
	if _, err := conn.ExecContext(ctx, `drop schema if exists src cascade; create schema src;
		create or replace temp table snap_tables (source_table varchar, status varchar,
			source_count bigint, manifest_rows bigint, snapshot_rows bigint, ord integer);
		create or replace temp table snap_tombstones (source_table varchar, source_id varchar);`); err != nil {
		return nil, fmt.Errorf("create schema src: %w", err)
	}
	m, absDir := set.asOf(), set.newest().absDir
	if err := recordSnapshotTime(ctx, conn, m); err != nil {
		return nil, err
	}
	// replay reads attachment bytes from the blob store beside the Parquet;
	// a delta's unchanged files are in its bases' stores (reports.blob_dirs).
	if err := recordChain(ctx, conn, set); err != nil {
		return nil, err
	}

	var notes []string
	for i, st := range sourceTables {
		t, ok := m.Tables[st.name]
		status := t.Status
		if !ok {
			status, t.SourceCount = "absent", -1
		}
		ts, has := set.source(st.name, st.cols[0].name)
		if !has && optionalTables[st.name] {
			if err := optionalInput(ctx, conn, st.name, st.cols, status, t, i+1); err != nil {
				return nil, err
			}
			continue
		}
		view := emptyView(st.cols)
		if has {
			var err error
			if view, err = parquetView(ctx, conn, st.name, ts.rows, st.cols); err != nil {
				return nil, err
			}
			if err := recordTombstones(ctx, conn, st.name, ts); err != nil {
				return nil, err
			}
		} else if status != "complete" {
			notes = append(notes, fmt.Sprintf("%s: not in the snapshot (status %s); read as an empty table",
				st.name, status))
		}
		if _, err := conn.ExecContext(ctx, "create view src."+st.name+" as "+view); err != nil {
			return nil, fmt.Errorf("create view src.%s: %w", st.name, err)
		}
		if _, err := conn.ExecContext(ctx, inputView(st.name, st.cols)); err != nil {
			return nil, fmt.Errorf("create view %s_in: %w", st.name, err)
		}
		if err := recordSnapTable(ctx, conn, st.name, status, t, ts, i+1); err != nil {
			return nil, err
		}
	}
	extraNotes, err := createExtraViews(ctx, conn, set)
	if err != nil {
		return nil, err
	}
	if err := loadTranscripts(ctx, conn, absDir); err != nil {
		return nil, err
	}
	return append(notes, extraNotes...), nil
}

// createExtraViews creates src.<table> as every column of the table's Parquet
// for each of extraTables. They are not reconciled: nothing is staged from
// them. It notes the failed tables it leaves without a view.
func createExtraViews(ctx context.Context, conn *sql.Conn, set *snapshotSet) ([]string, error) {
	m := set.asOf()
	var notes []string
	for _, name := range sortedKeys(m.Tables) {
		// A delta without changes to a table lists no parts for it: whether
		// it has rows is asked of the whole chain.
		groups := set.files(name)
		if isSourceTable(name) || m.Tables[name].Status == "failed" || len(groups) == 0 {
			continue
		}
		key := ""
		if len(groups) > 1 || groups[0].gen > 0 { // changes to merge by key
			var err error
			if key, err = guessKey(ctx, conn, name, groups); err != nil {
				notes = append(notes, fmt.Sprintf("%s: no src view: %v", name, err))
				continue
			}
		}
		ts, _ := set.source(name, key)
		view, err := parquetView(ctx, conn, name, ts.rows, nil)
		if err != nil {
			return nil, err
		}
		if _, err := conn.ExecContext(ctx, "create view src."+quoteIdent(name)+" as "+view); err != nil {
			return nil, fmt.Errorf("create view src.%s: %w", name, err)
		}
	}

	for _, name := range sortedKeys(m.Tables) {
		if m.Tables[name].Status == "failed" && !isSourceTable(name) {
			notes = append(notes, fmt.Sprintf("%s: snapshot status failed; no src view (resume the snapshot "+
				"to query it)", name))
		}
	}
	return notes, nil
}

// recordSnapshotTime keeps when the snapshot finished in temp table
// snap_info: the validation rules judge "in the future" against it rather
// than against the clock, so that a rerun next year stages the same rows.
// A manifest without it (older tools) falls back to the clock.
func recordSnapshotTime(ctx context.Context, conn *sql.Conn, m *manifest) error {
	var at any
	if t, err := time.Parse(time.RFC3339, m.FinishedAt); err == nil {
		at = t.UTC()
	}
	_, err := conn.ExecContext(ctx, `create or replace temp table snap_info as
		select coalesce(cast(? as timestamptz), current_timestamp) as finished_at`, at)
	if err != nil {
		return fmt.Errorf("record snapshot finished_at %q: %w", m.FinishedAt, err)
	}
	return nil
}

func isSourceTable(name string) bool {
	for _, st := range sourceTables {
		if st.name == name {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// recordSnapTable counts the view's rows and refuses a table whose Parquet
// holds a different number of rows than the manifests claim. For a delta
// the view holds fewer rows than the files (changed rows replace, deleted
// ones leave), so the files are counted apart.
func recordSnapTable(ctx context.Context, conn *sql.Conn, name, status string, t manifestTable,
	ts tableSource, ord int) error {
	var n int64
	if err := conn.QueryRowContext(ctx, "select count(*) from src."+name).Scan(&n); err != nil {
		return fmt.Errorf("count src.%s: %w", name, err)
	}
	inFiles := n
	if ts.merged {
		if err := conn.QueryRowContext(ctx, "select count(*) from "+ts.raw).Scan(&inFiles); err != nil {
			return fmt.Errorf("count snapshot files of %s: %w", name, err)
		}
	}
	if ts.raw != "" && inFiles != ts.manifestRows {
		return fmt.Errorf("snapshot table %s: Parquet holds %d rows, manifest says %d", name, inFiles, ts.manifestRows)
	}
	manifestRows := t.Rows
	if ts.merged {
		manifestRows = n // the rows as of the delta; the files were checked above
	}
	_, err := conn.ExecContext(ctx, "insert into snap_tables values (?, ?, ?, ?, ?, ?)",
		name, status, t.SourceCount, manifestRows, n, ord)
	if err != nil {
		return fmt.Errorf("record snapshot table %s: %w", name, err)
	}
	return nil
}

// inputView narrows src.<t> to the columns the SQL reads, so that the
// per-step temp tables stay small however wide the Dataverse table is.
func inputView(name string, cs []column) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = quoteIdent(c.name)
	}
	return "create or replace temp view " + name + "_in as select " + strings.Join(names, ", ") +
		" from src." + name
}

func emptyView(cs []column) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("cast(null as %s) as %s", c.typ, quoteIdent(c.name))
	}
	return "select " + strings.Join(parts, ", ") + " where false"
}

// parquetView selects every column of the table's files and appends typed
// nulls for the columns the SQL needs but the files lack.
func parquetView(ctx context.Context, conn *sql.Conn, name, from string, cs []column) (string, error) {
	have, err := columnsOf(ctx, conn, from)
	if err != nil {
		return "", fmt.Errorf("read schema of snapshot table %s: %w", name, err)
	}
	sel := []string{"*"}
	for _, c := range cs {
		if !have[c.name] {
			sel = append(sel, fmt.Sprintf("cast(null as %s) as %s", c.typ, quoteIdent(c.name)))
		}
	}
	return "select " + strings.Join(sel, ", ") + " from " + from, nil
}

func columnsOf(ctx context.Context, conn *sql.Conn, from string) (map[string]bool, error) {
	rows, err := conn.QueryContext(ctx, "select column_name from (describe select * from "+from+")")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		have[n] = true
	}
	return have, rows.Err()
}

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
