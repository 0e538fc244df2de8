package report

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
	"github.com/d2i/d2i/transform"
)

// TestInventoriesOnSampleOrg builds one staging database from a generated
// org (snapshot over the emulator, then transform) and checks each admin
// inventory against facts queried from that database on their own.
func TestInventoriesOnSampleOrg(t *testing.T) {
	if testing.Short() {
		t.Skip("snapshots and transforms a generated org")
	}
	db, failedID := inventoryStaging(t)
	ctx := context.Background()

	t.Run("flow_inventory", func(t *testing.T) {
		doc, err := FlowInventory(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if want := invCount(t, db, "select count(*) from src.workflow"); len(doc.CSV)-1 != want {
			t.Errorf("flow inventory has %d rows, src.workflow %d", len(doc.CSV)-1, want)
		}
		row := invCSVRow(t, doc.CSV, "name", "Escalate high-priority cases")
		for col, want := range map[string]string{
			"trigger":       "Dataverse event create, update on incident; columns prioritycode,statecode",
			"touches_cases": "true", "table": "incident", "state": "On",
		} {
			if got := row[col]; got != want {
				t.Errorf("Escalate high-priority cases: %s = %q, want %q", col, got, want)
			}
		}
		if invCSVRow(t, doc.CSV, "name", "Copy Due Date")["touches_cases"] != "false" {
			t.Error("Copy Due Date (a SharePoint flow) is marked as touching cases")
		}
		// every workflow the sample org serves parses, the real XAML included,
		// steps and all
		for _, bad := range []string{"could not be read", "Steps not listed"} {
			if strings.Contains(doc.Markdown, bad) {
				t.Errorf("flow inventory says %q:\n%s", bad, doc.Markdown)
			}
		}
	})

	t.Run("channel_assets", func(t *testing.T) {
		contract := invQueryOne(t, db, `select annotationid from src.annotation
			where filename = 'signed-contract-0.pdf'`)
		const mib = 1 << 20
		small, err := ChannelAssets(ctx, db, mib)
		if err != nil {
			t.Fatal(err)
		}
		over := idsOfKind(small.CSV, "attachment_over_cap", "source_id")
		if !slices.Equal(over, []string{contract}) {
			t.Errorf("over a 1 MiB cap: %v, want only the signed contract %s", over, contract)
		}
		row := invCSVRow(t, small.CSV, "source_id", contract)
		owner := invQueryOne(t, db, "select _objectid_value from src.annotation where annotationid = ?", contract)
		if row["size_bytes"] != "1572864" || row["owner_table"] != "contact" || row["owner_id"] != owner ||
			row["lands_on"] != "contact" {
			t.Errorf("signed contract line = %v", row)
		}

		huge, err := ChannelAssets(ctx, db, 1<<40)
		if err != nil {
			t.Fatal(err)
		}
		if got := idsOfKind(huge.CSV, "attachment_over_cap", "source_id"); len(got) != 0 {
			t.Errorf("over a 1 TiB cap: %v, want none", got)
		}
		if got := idsOfKind(huge.CSV, "attachment_failed", "source_id"); !slices.Equal(got, []string{failedID}) {
			t.Errorf("failed downloads = %v, want the attachment the emulator refused, %s", got, failedID)
		}
		// a transcript whose messages became conversation parts is not left behind.
		for kind, q := range map[string]string{"recording": "select count(*) from src.msdyn_ocrecording",
			"transcript": `select count(*) from src.msdyn_transcript where msdyn_transcriptid not in (
				select source_id from reports.out_of_scope where reason like 'consumed:%')`} {
			if got, want := len(idsOfKind(huge.CSV, kind, "source_id")), invCount(t, db, q); got != want {
				t.Errorf("%s lines = %d, want %d (%s)", kind, got, want, q)
			}
		}
		assertRecordingLandsOnCase(t, db, huge.CSV)
	})

	t.Run("routing_inventory", func(t *testing.T) {
		doc, err := RoutingInventory(ctx, db, "")
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, r := range doc.CSV[1:] {
			kinds[r[0]]++
		}
		want := map[string]int{
			"queue": invCount(t, db, "select count(*) from src.queue"),
			"create_team": invCount(t, db, `select count(distinct team_source_id) from stage.conversations
				where team_source_id is not null`),
			"invite_admin": invCount(t, db, `select count(*) from (
				select admin_source_id from stage.conversations
				union select admin_source_id from stage.conversation_parts where author_type = 'admin')
				where admin_source_id is not null`),
		}
		for k, n := range want {
			if kinds[k] != n {
				t.Errorf("%s lines = %d, want %d", k, kinds[k], n)
			}
		}
		if kinds["member"] == 0 {
			t.Error("no queue members listed")
		}
		for _, name := range invQueryColumn(t, db, "select name from src.queue order by name") {
			if !strings.Contains(doc.Markdown, "| "+name+" |") {
				t.Errorf("queue %q missing from the routing inventory", name)
			}
		}
	})

	t.Run("routing_inventory_after_replay", func(t *testing.T) {
		teams := invQueryColumn(t, db, `select distinct team_source_id from stage.conversations
			where team_source_id is not null order by 1`)
		if len(teams) < 2 {
			t.Fatalf("sample org routes to %d teams, want at least 2", len(teams))
		}
		// replay matched the first team only; an older run matched nothing
		logDir := t.TempDir()
		older := `{"seq":1,"time":"2026-12-01T10:00:00.000Z","run":"r-old","type":"matches","op":"matches",` +
			`"dry_run":false,"matches":{"admins":{},"teams":{}}}`
		newer := fmt.Sprintf(`{"seq":1,"time":"2026-12-02T10:00:00.000Z","run":"r-new","type":"matches",`+
			`"op":"matches","dry_run":false,"matches":{"admins":{},"teams":{%q:"team-7"},"unmatched_teams":[%q]}}`,
			teams[0], teams[1])
		for name, line := range map[string]string{"r-old.jsonl": older, "r-new.jsonl": newer + "\n{torn"} {
			if err := os.WriteFile(filepath.Join(logDir, name), []byte(line+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		doc, err := RoutingInventory(ctx, db, logDir)
		if err != nil {
			t.Fatal(err)
		}
		status := map[string]string{}
		for _, r := range doc.CSV[1:] {
			if r[0] == "create_team" {
				status[r[1]] = r[9]
			}
		}
		if status[teams[0]] != "matched to Intercom team team-7" ||
			status[teams[1]] != "not in Intercom at replay run r-new" {
			t.Errorf("team statuses = %v", status)
		}
		if want := fmt.Sprintf("- [ ] Create %d teams", len(teams)-1); !strings.Contains(doc.Markdown, want) {
			t.Errorf("checklist lacks %q:\n%s", want, doc.Markdown)
		}
	})

	t.Run("sla_inventory", func(t *testing.T) {
		doc, err := SLAInventory(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"Standard SLA", "Premium SLA", "Legacy SLA (web client)"} {
			if !strings.Contains(doc.Markdown, "\n### "+name+"\n") {
				t.Errorf("SLA %q has no section", name)
			}
		}
		item := invCSVRow(t, doc.CSV, "name", "First response — Premium SLA")
		if item["kind"] != "sla_item" || item["failure_after_minutes"] != "60" || item["warn_after_minutes"] != "45" ||
			item["kpi"] != "firstresponsebykpiid" || item["business_hours"] != "Premium 24x7" {
			t.Errorf("Premium first response = %v", item)
		}
		if got, want := kpiTotal(t, doc.CSV), invCount(t, db, "select count(*) from src.slakpiinstance"); got != want {
			t.Errorf("KPI instances counted %d, src.slakpiinstance holds %d", got, want)
		}
		active := invCount(t, db, "select count(*) from src.entitlement where statecode = 1")
		if got := len(idsOfKind(doc.CSV, "entitlement", "id")); got != active {
			t.Errorf("entitlement lines = %d, active entitlements %d", got, active)
		}
	})

	t.Run("validation", func(t *testing.T) {
		doc, err := Validation(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		assertRejectCounts(t, db, doc)
	})
}

// inventoryStaging snapshots a 60-case org with Omnichannel, the emulator
// refusing one e-mail attachment's download, transforms it, and opens the
// staging database read-only. It returns the refused attachment's id.
func inventoryStaging(t *testing.T) (*sql.DB, string) {
	t.Helper()
	org, err := sampleorg.New(sampleorg.Options{Seed: 7, Cases: 60, Omnichannel: true})
	if err != nil {
		t.Fatal(err)
	}
	failedID := org.ID("activitymimeattachment", 0)
	srv := dataversetest.NewServer(org, dataversetest.Options{Fault: func(_ int64, r *http.Request) int {
		if strings.Contains(r.URL.Path, "activitymimeattachments("+failedID+")") {
			return http.StatusNotFound
		}
		return 0
	}})
	defer srv.Close()

	ctx := context.Background()
	snapDir := t.TempDir()
	if _, err := snapshot.Run(ctx, snapshot.Config{OrgURL: srv.URL, AuthorityURL: srv.URL,
		Credentials: snapshot.Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"},
		OutDir:      snapDir, MaxPageSize: 200}); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	dbPath := filepath.Join(t.TempDir(), "staging.duckdb")
	if _, err := transform.Run(ctx, transform.Config{SnapshotDir: snapDir, DBPath: dbPath}); err != nil {
		t.Fatalf("transform: %v", err)
	}
	db, err := openReadOnly(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, failedID
}

// assertRecordingLandsOnCase picks a recording whose conversation regards a
// staged case and checks its line names that case's conversation.
func assertRecordingLandsOnCase(t *testing.T, db *sql.DB, csv [][]string) {
	t.Helper()
	rec, caseID := invQueryPair(t, db, `select r.msdyn_ocrecordingid, w._regardingobjectid_value
		from src.msdyn_ocrecording r
		join src.msdyn_ocliveworkitem w on w.activityid = r._msdyn_liveworkitemid_value
		join stage.conversations c on c.source_id = w._regardingobjectid_value
		order by 1 limit 1`)
	row := invCSVRow(t, csv, "source_id", rec)
	if row["case_id"] != caseID || row["lands_on"] != "conversation" || row["lands_on_id"] != caseID {
		t.Errorf("recording %s line = %v, want it on the conversation of case %s", rec, row, caseID)
	}
	if !strings.HasPrefix(row["link"], "https://media.example.com/oc/recordings/") {
		t.Errorf("recording %s link = %q", rec, row["link"])
	}
}

// assertRejectCounts checks the validation CSV holds, per object and rule,
// as many rows as the rejects tables do.
func assertRejectCounts(t *testing.T, db *sql.DB, doc Doc) {
	t.Helper()
	got := map[string]int{}
	for _, r := range doc.CSV[1:] {
		got[r[0]+"/"+r[3]]++
	}
	want := map[string]int{}
	for _, table := range invQueryColumn(t, db, `select table_name from information_schema.tables
		where table_schema = 'rejects'`) {
		rows, err := db.Query("select rule, count(*) from rejects." + table + " group by rule")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var rule string
			var n int
			if err := rows.Scan(&rule, &n); err != nil {
				t.Fatal(err)
			}
			want[table+"/"+rule] = n
		}
		rows.Close()
	}
	if len(got) != len(want) {
		t.Errorf("validation groups = %v, rejects tables hold %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("validation %s = %d rows, rejects hold %d", k, got[k], n)
		}
	}
}

func kpiTotal(t *testing.T, csv [][]string) int {
	t.Helper()
	col := slices.Index(csv[0], "kpi_instances")
	seen, total := map[string]bool{}, 0
	for _, r := range csv[1:] {
		if r[0] != "sla_item" || seen[r[3]] {
			continue
		}
		seen[r[3]] = true
		for _, part := range strings.Split(r[col], ", ") {
			if i := strings.LastIndex(part, " "); i > 0 {
				n, err := strconv.Atoi(part[i+1:])
				if err != nil {
					t.Fatalf("kpi_instances %q: %v", r[col], err)
				}
				total += n
			}
		}
	}
	return total
}

// csvRow returns the first record whose column col equals value, keyed by header.
func invCSVRow(t *testing.T, csv [][]string, col, value string) map[string]string {
	t.Helper()
	i := slices.Index(csv[0], col)
	for _, r := range csv[1:] {
		if r[i] == value {
			out := map[string]string{}
			for j, h := range csv[0] {
				out[h] = r[j]
			}
			return out
		}
	}
	t.Fatalf("no line with %s = %q", col, value)
	return nil
}

// idsOfKind lists, sorted, the ids (column idCol) of the lines of one kind.
func idsOfKind(csv [][]string, kind, idCol string) []string {
	i := slices.Index(csv[0], idCol)
	var out []string
	for _, r := range csv[1:] {
		if r[0] == kind {
			out = append(out, r[i])
		}
	}
	slices.Sort(out)
	return out
}

func invCount(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	n, err := strconv.Atoi(invQueryOne(t, db, q))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func invQueryOne(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	var s string
	if err := db.QueryRow(q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

func invQueryPair(t *testing.T, db *sql.DB, q string) (string, string) {
	t.Helper()
	var a, b string
	if err := db.QueryRow(q).Scan(&a, &b); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return a, b
}

func invQueryColumn(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := queryStrings(context.Background(), db, "test", q)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[0]
	}
	return out
}
