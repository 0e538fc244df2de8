package mapping_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/d2i/d2i/replay"
	"github.com/d2i/d2i/replay/intercomtest"
	"github.com/d2i/d2i/snapshot"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
	"github.com/d2i/d2i/transform"
	"github.com/d2i/d2i/transform/mapping"
	"github.com/d2i/d2i/transform/mapping/mappingtest"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

var (
	snapOnce sync.Once
	snapDir  string
	snapErr  error
)

// sampleSnapshot snapshots a small generated org from the Dataverse
// emulator once for every test in this file.
func sampleSnapshot(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs an emulator snapshot")
	}
	snapOnce.Do(func() {
		// 80 cases give the org three warranty claims (custom table).
		org, err := sampleorg.New(sampleorg.Options{Seed: 7, Cases: 80})
		if err != nil {
			snapErr = err
			return
		}
		srv := dataversetest.NewServer(org, dataversetest.Options{})
		defer srv.Close()
		snapDir, snapErr = os.MkdirTemp("", "d2i-mapping-snap-")
		if snapErr != nil {
			return
		}
		_, snapErr = snapshot.Run(context.Background(), snapshot.Config{
			OrgURL: srv.URL, AuthorityURL: srv.URL,
			Credentials: snapshot.Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s"},
			Tables: []string{"systemuser", "queue", "account", "contact", "incident", "email",
				"activityparty", "queueitem", "new_warrantyclaim"},
			OutDir: snapDir, MaxPageSize: 50,
		})
	})
	if snapErr != nil {
		t.Fatalf("snapshot: %v", snapErr)
	}
	return snapDir
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if snapDir != "" {
		os.RemoveAll(snapDir)
	}
	os.Exit(code)
}

var validName = regexp.MustCompile(`^[A-Za-z0-9 _-]+$`)

func TestProposeSampleOrg(t *testing.T) {
	snap := sampleSnapshot(t)
	m, err := mapping.Propose(snap)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("proposal does not validate: %v", err)
	}

	byColumn := map[string]mapping.DataAttribute{}
	for _, a := range m.DataAttributes {
		byColumn[a.SourceTable+"."+a.SourceColumn] = a
		if !validName.MatchString(a.Name) {
			t.Errorf("%s.%s: invalid name %q", a.SourceTable, a.SourceColumn, a.Name)
		}
	}
	tier, ok := byColumn["contact.new_loyaltytier"]
	if !ok {
		t.Fatal("contact.new_loyaltytier not proposed")
	}
	if tier.Model != "contact" || tier.DataType != "string" || !tier.Enabled || tier.Name != "new_loyaltytier" {
		t.Errorf("new_loyaltytier = %+v", tier)
	}
	wantValues := []mapping.ValueMap{{Source: 100000000, Intercom: "Bronze"}, {Source: 100000001, Intercom: "Silver"},
		{Source: 100000002, Intercom: "Gold"}, {Source: 100000003, Intercom: "Platinum"}}
	if len(tier.Values) != len(wantValues) {
		t.Fatalf("new_loyaltytier values = %+v", tier.Values)
	}
	for i, v := range wantValues {
		if tier.Values[i] != v {
			t.Errorf("value %d = %+v, want %+v", i, tier.Values[i], v)
		}
	}
	serial, ok := byColumn["incident.new_productserial"]
	if !ok {
		t.Fatal("incident.new_productserial not proposed")
	}
	if serial.Model != "conversation" || serial.DataType != "string" || !serial.Enabled {
		t.Errorf("new_productserial = %+v", serial)
	}
	if _, ok := byColumn["contact.fullname"]; ok {
		t.Error("a standard column was proposed")
	}
	checkEnabledColumns(t, m.DataAttributes)
}

// checkEnabledColumns: the sample org's metadata is the real one
// (sampleorg/metadata, from testdata/real/metadata), where Dataverse flags
// Microsoft's columns custom too, with a first-party prefix or none. Only
// the columns with a customer's publisher prefix may be switched on.
func checkEnabledColumns(t *testing.T, attrs []mapping.DataAttribute) {
	t.Helper()
	var enabled []string
	proposed := map[string]bool{}
	for _, a := range attrs {
		proposed[a.SourceTable+"."+a.SourceColumn] = true
		if a.Enabled {
			enabled = append(enabled, a.SourceTable+"."+a.SourceColumn)
		}
	}
	sort.Strings(enabled)
	want := []string{"contact.cra05_calculated1", "contact.new_loyaltytier", "incident.new_productserial"}
	if !slices.Equal(enabled, want) {
		t.Errorf("enabled columns = %v, want %v", enabled, want)
	}
	// flagged custom by Dataverse, Microsoft's all the same: proposed, off.
	for _, c := range []string{"incident.caseage", "incident.nextsla", "incident.lastinteraction",
		"incident.deactivatedon", "incident.msdyn_casesentiment", "contact.adx_identity_username"} {
		if !proposed[c] {
			t.Errorf("%s not proposed (switched off)", c)
		}
	}
}

// The proposal is deterministic and matches testdata/propose_sampleorg.yaml
// (refresh with -update). The emulator's URL and start time are pinned
// because they change on every run.
func TestProposeGolden(t *testing.T) {
	snap := sampleSnapshot(t)
	render := func() []byte {
		m, err := mapping.Propose(snap)
		if err != nil {
			t.Fatal(err)
		}
		m.Source = mapping.Source{OrgURL: "https://sampleorg.crm.dynamics.com", StartedAt: "2026-12-03T10:00:00Z"}
		b, err := mapping.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	got := render()
	if again := render(); !bytes.Equal(got, again) {
		t.Fatal("two proposals of one snapshot differ")
	}
	golden := filepath.Join("testdata", "propose_sampleorg.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("proposal differs from %s (run with -update after checking the change):\n%s", golden, got)
	}
}

func readMappingRows(t *testing.T, dbPath string) []string {
	t.Helper()
	db, err := sql.Open("duckdb", dbPath+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`select hash || ' ' || coalesce(cast(confirmed_at as varchar), 'null') from reports.mapping`)
	if err != nil {
		t.Fatal(err)
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

func TestTransformChecksMapping(t *testing.T) {
	snap := sampleSnapshot(t)
	path := mappingtest.Confirmed(t, snap, nil)
	ctx := context.Background()
	dir := t.TempDir()

	dbPath := filepath.Join(dir, "ok.duckdb")
	if _, err := transform.Run(ctx, transform.Config{SnapshotDir: snap, DBPath: dbPath, MappingPath: path}); err != nil {
		t.Fatalf("transform with a confirmed mapping: %v", err)
	}
	m, _ := mapping.Load(path)
	rows := readMappingRows(t, dbPath)
	if len(rows) != 1 || !strings.HasPrefix(rows[0], m.Confirmed+" 20") {
		t.Errorf("reports.mapping = %q, want one row with %s and a time", rows, m.Confirmed)
	}

	b, _ := os.ReadFile(path)
	edited := strings.Replace(string(b), "intercom: Gold", "intercom: Gole", 1)
	if edited == string(b) {
		t.Fatal("no Gold label to edit")
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := transform.Run(ctx, transform.Config{SnapshotDir: snap, DBPath: filepath.Join(dir, "changed.duckdb"),
		MappingPath: path})
	if !errors.Is(err, mapping.ErrChanged) {
		t.Errorf("transform with a changed mapping: err = %v, want ErrChanged", err)
	}

	noMap := filepath.Join(dir, "nomap.duckdb")
	if _, err := transform.Run(ctx, transform.Config{SnapshotDir: snap, DBPath: noMap}); err != nil {
		t.Fatalf("transform without a mapping: %v", err)
	}
	if rows := readMappingRows(t, noMap); len(rows) != 0 {
		t.Errorf("reports.mapping without a mapping = %q", rows)
	}
}

func TestReplayRequireMapping(t *testing.T) {
	snap := sampleSnapshot(t)
	ctx := context.Background()
	dir := t.TempDir()
	noMap := filepath.Join(dir, "nomap.duckdb")
	if _, err := transform.Run(ctx, transform.Config{SnapshotDir: snap, DBPath: noMap}); err != nil {
		t.Fatal(err)
	}
	withMap := filepath.Join(dir, "map.duckdb")
	path := mappingtest.Confirmed(t, snap, nil)
	if _, err := transform.Run(ctx, transform.Config{SnapshotDir: snap, DBPath: withMap, MappingPath: path}); err != nil {
		t.Fatal(err)
	}
	srv := intercomtest.NewServer(intercomtest.Options{Validate: true})
	defer srv.Close()
	defer func() {
		if n := srv.Notifications(); n != 0 {
			t.Errorf("the emulator counted %d customer notifications", n)
		}
	}()

	cases := []struct {
		name    string
		db      string
		require bool
		refused bool
	}{
		{"required and absent", noMap, true, true},
		{"not required and absent", noMap, false, false},
		{"required and present", withMap, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := replay.Run(ctx, replay.Config{DBPath: tc.db, BaseURL: srv.URL, Token: "tok",
				LogDir: t.TempDir(), DryRun: true, RequireMapping: tc.require})
			var mapErr *replay.MappingError
			if got := errors.As(err, &mapErr); got != tc.refused {
				t.Errorf("refused = %v (err %v), want %v", got, err, tc.refused)
			}
		})
	}
}

// TestMapPipelineSampleOrg proposes, confirms and transforms the sample org
// and checks values the mapping put on a contact and a company.
func TestMapPipelineSampleOrg(t *testing.T) {
	snap := sampleSnapshot(t)
	path := mappingtest.Confirmed(t, snap, nil)
	dbPath := filepath.Join(t.TempDir(), "staging.duckdb")
	if _, err := transform.Run(context.Background(), transform.Config{SnapshotDir: snap, DBPath: dbPath,
		MappingPath: path}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", dbPath+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	cases := []struct{ name, query, want string }{
		// contact 0x01 has code 100000002 in Dataverse, Gold through the value map.
		{"loyalty tier label", `select (custom_attributes->'new_loyaltytier')::varchar from stage.contacts
			where source_id = 'da5bb039-2faf-0211-9f9e-000000000001'`, `"Gold"`},
		{"loyalty tier code", `select cast(new_loyaltytier as varchar) from src.contact
			where contactid = 'da5bb039-2faf-0211-9f9e-000000000001'`, "100000002"},
		// claim WC-000000 is on a case of account 0x01.
		{"warranty claims", `select custom_attributes->>'new_warrantyclaim' from stage.companies
			where source_id = '5d359b33-6268-0111-806b-000000000001'`,
			`[{"new_name":"WC-000000","new_claimamount":627.88,"new_claimstatus":"Rejected",` +
				`"new_purchasedate":"2024-03-04","new_serialnumber":"SN-D2817C3A"}]`},
		{"warranty claim attribute", `select model || ' ' || data_type from stage.data_attributes
			where name = 'new_warrantyclaim'`, "company string"},
		// the third claim's case has no company: rejected, and the table conserves.
		{"claim reject", `select rule from rejects.companies where source_table = 'new_warrantyclaim'`,
			"parent_not_staged"},
		{"claims reconciled", `select format('{}={}+{}+{} {}', snapshot_rows, staged, rejected, out_of_scope,
			conserved) from reports.reconciliation where source_table = 'new_warrantyclaim'`, "3=2+1+0 true"},
	}
	for _, tc := range cases {
		var got string
		if err := db.QueryRow(tc.query).Scan(&got); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, got, tc.want)
		}
	}
}
