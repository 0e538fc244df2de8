package snapshot

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

func scopeConfig(url string) ScopeConfig {
	c := emulatorConfig(url, "", 0)
	return ScopeConfig{OrgURL: c.OrgURL, AuthorityURL: c.AuthorityURL, Credentials: c.Credentials, Retry: c.Retry}
}

// Discover against the emulator reports what the generated org holds: every
// table's presence and count, custom tables and columns, and the
// configuration tables' figures, with and without Omnichannel.
func TestDiscoverAgainstEmulator(t *testing.T) {
	for _, omni := range []bool{false, true} {
		name := "without Omnichannel"
		if omni {
			name = "with Omnichannel"
		}
		t.Run(name, func(t *testing.T) {
			org, err := sampleorg.New(sampleorg.Options{Seed: 11, Cases: 600, Omnichannel: omni})
			if err != nil {
				t.Fatal(err)
			}
			srv := dataversetest.NewServer(org, dataversetest.Options{})
			defer srv.Close()
			var progress []int
			cfg := scopeConfig(srv.URL)
			cfg.Progress = func(done, total int) { progress = append(progress, total-done) }

			s, err := Discover(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}

			checkScopeTables(t, s, org)
			checkScopeConfiguration(t, s, org)
			for _, table := range omnichannel[:3] {
				if got := s.Tables[table]; got.Present != omni || !got.Checked {
					t.Errorf("%s: checked %v present %v, want present %v", table, got.Checked, got.Present, omni)
				}
			}
			if len(progress) != len(s.Tables) || progress[len(progress)-1] != 0 {
				t.Errorf("progress calls %v for %d tables", progress, len(s.Tables))
			}
		})
	}
}

// checkScopeTables compares presence, counts and customisations with the
// org's own schemas.
func checkScopeTables(t *testing.T, s *Scope, org *sampleorg.Org) {
	t.Helper()
	want := append(DefaultTables(), workstreamTable, decisionRuleSetTable, "new_warrantyclaim")
	if len(s.Tables) != len(want) {
		t.Errorf("%d tables surveyed, want %d", len(s.Tables), len(want))
	}
	for _, table := range want {
		got, e := s.Tables[table], org.Entity(table)
		if !got.Checked || got.Present != (e != nil) {
			t.Errorf("%s: checked %v present %v, org has it: %v", table, got.Checked, got.Present, e != nil)
			continue
		}
		if e == nil {
			continue
		}
		if got.Count != int64(org.Count(table)) || got.SourceCount != got.Count {
			t.Errorf("%s: count %d (source %d), org has %d", table, got.Count, got.SourceCount, org.Count(table))
		}
		if wantCustom := e.IsCustomEntity && !firstParty(table); got.Custom != wantCustom {
			t.Errorf("%s: custom %v, want %v", table, got.Custom, wantCustom)
		}
		if wantCols := orgCustomColumns(e); !slices.Equal(got.CustomColumns, wantCols) {
			t.Errorf("%s: custom columns %v, want %v", table, got.CustomColumns, wantCols)
		}
	}
	// The sample org's own customisations, named so that a survey that
	// found none would not pass by agreeing with an empty expectation.
	for table, col := range map[string]string{"incident": "new_productserial", "contact": "new_loyaltytier",
		"new_warrantyclaim": "new_claimamount"} {
		if !slices.Contains(s.Tables[table].CustomColumns, col) {
			t.Errorf("%s: custom columns %v lack %s", table, s.Tables[table].CustomColumns, col)
		}
	}
	// Microsoft's portal columns on contact and its unprefixed case columns
	// are custom attributes too, but no customer made them.
	for table, col := range map[string]string{"contact": "adx_timezone", "incident": "caseage"} {
		if org.Entity(table).Attribute(col) == nil || !org.Entity(table).Attribute(col).IsCustomAttribute {
			t.Fatalf("the sample org no longer has the custom attribute %s.%s this test relies on", table, col)
		}
		if slices.Contains(s.Tables[table].CustomColumns, col) {
			t.Errorf("%s: Microsoft's column %s counted as the customer's: %v", table, col, s.Tables[table].CustomColumns)
		}
	}
	if s.Tables["msdyn_ocliveworkitem"].Custom {
		t.Error("msdyn_ocliveworkitem reported as a customer's custom table")
	}
	if !s.Tables["new_warrantyclaim"].Custom {
		t.Error("new_warrantyclaim not reported as a custom table")
	}
}

func orgCustomColumns(e *sampleorg.Entity) []string {
	var out []string
	for _, a := range e.Attributes {
		if a.IsCustomAttribute && a.AttributeOf == "" && !firstParty(a.LogicalName) && strings.Index(a.LogicalName, "_") > 0 {
			out = append(out, a.LogicalName)
		}
	}
	slices.Sort(out)
	return out
}

// checkScopeConfiguration recounts queues, SLAs, entitlements, categories
// and processes from the org's rows.
func checkScopeConfiguration(t *testing.T, s *Scope, org *sampleorg.Org) {
	t.Helper()
	var queues QueueCounts
	for _, r := range sampleRows(t, org, "queue") {
		queues.Total++
		queues.Public += b2i(r["queueviewtype"] == 0)
		queues.Private += b2i(r["queueviewtype"] == 1)
		queues.Active += b2i(r["statecode"] == 0)
	}
	if s.Queues != queues || queues.Total == 0 {
		t.Errorf("queues %+v, want %+v", s.Queues, queues)
	}

	var slas []SLA
	for _, r := range sampleRows(t, org, "sla") {
		slas = append(slas, SLA{Name: r["name"].(string), Active: r["statecode"] == 1})
	}
	slices.SortFunc(slas, func(a, b SLA) int { return strings.Compare(a.Name, b.Name) })
	if !slices.Equal(s.SLAs, slas) || len(slas) == 0 {
		t.Errorf("SLAs %+v, want %+v", s.SLAs, slas)
	}

	var ents EntitlementCounts
	for _, r := range sampleRows(t, org, "entitlement") {
		ents.Total++
		ents.Active += b2i(r["statecode"] == 1)
	}
	if s.Entitlements != ents || ents.Total == 0 {
		t.Errorf("entitlements %+v, want %+v", s.Entitlements, ents)
	}

	if want := orgCategoryDepth(t, org); s.CategoryDepth != want || want < 2 {
		t.Errorf("category depth %d, want %d (nested)", s.CategoryDepth, want)
	}

	flows := map[int]FlowCount{}
	for _, r := range sampleRows(t, org, "workflow") {
		if r["type"] != 1 {
			continue
		}
		c := r["category"].(int)
		f := flows[c]
		f.Category, f.Total, f.Activated = c, f.Total+1, f.Activated+b2i(r["statecode"] == 1)
		flows[c] = f
	}
	if len(s.Flows) != len(flows) || len(flows) < 2 {
		t.Errorf("flows %+v, want %v", s.Flows, flows)
	}
	for _, f := range s.Flows {
		if flows[f.Category] != f {
			t.Errorf("flows of category %d: %+v, want %+v", f.Category, f, flows[f.Category])
		}
	}

	for _, c := range s.Routing {
		if c.Found {
			t.Errorf("routing check %q found %q in an org without unified routing", c.What, c.Detail)
		}
	}
	if len(s.Routing) != 3 || s.Routing[0].Detail != "table absent" {
		t.Errorf("routing checks %+v", s.Routing)
	}
}

func sampleRows(t *testing.T, org *sampleorg.Org, table string) []sampleorg.Row {
	t.Helper()
	rows := make([]sampleorg.Row, org.Count(table))
	for i := range rows {
		r, err := org.Row(table, i)
		if err != nil {
			t.Fatal(err)
		}
		rows[i] = r
	}
	return rows
}

// orgCategoryDepth walks each category up to its root.
func orgCategoryDepth(t *testing.T, org *sampleorg.Org) int {
	parent := map[string]string{}
	for _, r := range sampleRows(t, org, "category") {
		p, _ := r["parentcategoryid"].(sampleorg.Ref)
		parent[r["categoryid"].(string)] = p.ID
	}
	deepest := 0
	for id := range parent {
		d := 0
		for cur := id; cur != "" && d <= len(parent); cur = parent[cur] {
			d++
		}
		deepest = max(deepest, d)
	}
	return deepest
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// A snapshot of the org tells the same story as the org itself, except
// that tables the snapshot did not read are "not checked".
func TestScopeFromSnapshotMatchesDiscover(t *testing.T) {
	org, err := sampleorg.New(sampleorg.Options{Seed: 5, Cases: 60})
	if err != nil {
		t.Fatal(err)
	}
	srv := dataversetest.NewServer(org, dataversetest.Options{})
	defer srv.Close()
	dir := t.TempDir()
	if _, err := Run(context.Background(), emulatorConfig(srv.URL, dir, 5000)); err != nil {
		t.Fatal(err)
	}
	live, err := Discover(context.Background(), scopeConfig(srv.URL))
	if err != nil {
		t.Fatal(err)
	}

	s, err := ScopeFromSnapshot(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}

	if !s.FromSnapshot || s.Source != dir {
		t.Errorf("source %q from snapshot %v", s.Source, s.FromSnapshot)
	}
	for name, want := range live.Tables {
		got, ok := s.Tables[name]
		switch {
		case name == workstreamTable || name == decisionRuleSetTable:
			if ok {
				t.Errorf("%s: in the scope of a snapshot that never read it: %+v", name, got)
			}
		case !ok || got.Present != want.Present || got.Count != want.Count || got.Custom != want.Custom ||
			!slices.Equal(got.CustomColumns, want.CustomColumns):
			t.Errorf("%s: snapshot %+v, org %+v", name, got, want)
		}
	}
	if s.Queues != live.Queues || !slices.Equal(s.SLAs, live.SLAs) || s.Entitlements != live.Entitlements ||
		s.CategoryDepth != live.CategoryDepth || !slices.Equal(s.Flows, live.Flows) {
		t.Errorf("configuration differs:\nsnapshot %+v %+v %+v %d %+v\norg      %+v %+v %+v %d %+v",
			s.Queues, s.SLAs, s.Entitlements, s.CategoryDepth, s.Flows,
			live.Queues, live.SLAs, live.Entitlements, live.CategoryDepth, live.Flows)
	}
	if s.Routing[0].Detail != "not checked" {
		t.Errorf("workstream check from a snapshot: %+v", s.Routing[0])
	}
}

func TestCategoryDepth(t *testing.T) {
	cases := []struct {
		name    string
		parents map[string]string
		want    int
	}{
		{"none", map[string]string{}, 0},
		{"flat", map[string]string{"a": "", "b": ""}, 1},
		{"three levels", map[string]string{"a": "", "b": "a", "c": "b", "d": "a"}, 3},
		{"parent not in the table", map[string]string{"b": "gone", "c": "b"}, 2},
		{"cycle", map[string]string{"a": "b", "b": "a", "c": "a"}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := categoryDepth(c.parents); got != c.want {
				t.Errorf("depth %d, want %d", got, c.want)
			}
		})
	}
}

// Option values arrive as JSON numbers from the org and as int32 from
// Parquet; both count the same.
func TestScopeCountsReadBothValueShapes(t *testing.T) {
	var ents EntitlementCounts
	var queues QueueCounts
	for _, v := range []any{json.Number("1"), int32(1), int64(3), json.Number("0"), nil} {
		ents.add(scopeRecord{"statecode": v})
		queues.add(scopeRecord{"queueviewtype": v, "statecode": v, "msdyn_isomnichannelqueue": v == nil,
			"msdyn_queuetype": json.Number("192350001")})
	}

	if want := (EntitlementCounts{Total: 5, Active: 2}); ents != want {
		t.Errorf("entitlements %+v, want %+v", ents, want)
	}
	want := QueueCounts{Total: 5, Public: 1, Private: 2, Active: 1, Omnichannel: 1, RecordRouting: 5}
	if queues != want {
		t.Errorf("queues %+v, want %+v", queues, want)
	}
}

// An org that refuses the batched RetrieveTotalRecordCount (one table it
// will not count fails them all) still gets every count, asked per table.
func TestDiscoverCountsPerTableWhenTheBatchIsRefused(t *testing.T) {
	org, err := sampleorg.New(sampleorg.Options{Seed: 2, Cases: 50})
	if err != nil {
		t.Fatal(err)
	}
	var batches atomic.Int64
	srv := dataversetest.NewServer(org, dataversetest.Options{Fault: func(n int64, r *http.Request) int {
		if strings.HasPrefix(r.URL.Path, dataversetest.BasePath+"RetrieveTotalRecordCount") &&
			strings.Contains(r.URL.Path, ",") {
			batches.Add(1)
			return http.StatusBadRequest
		}
		return 0
	}})
	defer srv.Close()

	s, err := Discover(context.Background(), scopeConfig(srv.URL))
	if err != nil {
		t.Fatal(err)
	}

	if batches.Load() != 1 {
		t.Errorf("%d batched count requests, want 1", batches.Load())
	}
	for _, table := range []string{"incident", "contact", "email", "new_warrantyclaim"} {
		if got, want := s.Tables[table].Count, int64(org.Count(table)); got != want {
			t.Errorf("%s: count %d, want %d", table, got, want)
		}
	}
}
