package report

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The fixture logs in testdata/audit_logs are four runs:
//
//	aaaa  replay: an attribute created, company acc1 updated (before-image),
//	      acc2 created after two 429s, contact c1 existing (409), c2 failed,
//	      c3 intent without outcome, a conversation resent once, a part, and
//	      the conversation's attributes updated
//	bbbb  rollback: conversation and both companies undone (one undo after a
//	      429), the attribute's undo failed after six sends, two residue lines
//	      and a conversation held back (changed in Intercom after the replay)
//	cccc  dry-run replay, with a torn last line
//	dddd  replay that settles aaaa's uncertain contact c3, and one outcome
//	      without cost fields, as an older d2i wrote them
var wantAuditCSV = [][]string{
	{"run", "mode", "kind", "created", "existing", "updated", "failed", "rolled_back", "dry", "residue",
		"held_back", "uncertain", "requests", "retries", "throttled", "waited_ms", "first", "last"},
	{"20261203T100000Z-aaaa", "replay", "data_attribute", "1", "0", "0", "0", "0", "0", "0", "0", "0", "1", "0",
		"0", "0", "2026-12-03T10:00:00.100Z", "2026-12-03T10:01:30.000Z"},
	{"20261203T100000Z-aaaa", "replay", "company", "1", "0", "1", "0", "0", "0", "0", "0", "0", "6", "2", "2",
		"1500", "2026-12-03T10:00:00.100Z", "2026-12-03T10:01:30.000Z"},
	{"20261203T100000Z-aaaa", "replay", "contact", "0", "1", "0", "1", "0", "0", "0", "0", "1", "2", "0", "0",
		"0", "2026-12-03T10:00:00.100Z", "2026-12-03T10:01:30.000Z"},
	{"20261203T100000Z-aaaa", "replay", "conversation", "1", "0", "0", "0", "0", "0", "0", "0", "0", "2", "1",
		"0", "250", "2026-12-03T10:00:00.100Z", "2026-12-03T10:01:30.000Z"},
	{"20261203T100000Z-aaaa", "replay", "conversation_part", "1", "0", "0", "0", "0", "0", "0", "0", "0", "1",
		"0", "0", "0", "2026-12-03T10:00:00.100Z", "2026-12-03T10:01:30.000Z"},
	{"20261203T100000Z-aaaa", "replay", "conversation_attributes", "0", "0", "1", "0", "0", "0", "0", "0", "0",
		"1", "0", "0", "0", "2026-12-03T10:00:00.100Z", "2026-12-03T10:01:30.000Z"},
	{"20261203T100000Z-aaaa", "replay", "all", "4", "1", "2", "1", "0", "0", "0", "0", "1", "13", "3", "2",
		"1750", "2026-12-03T10:00:00.100Z", "2026-12-03T10:01:30.000Z"},
	{"20261203T110000Z-bbbb", "rollback", "data_attribute", "0", "0", "0", "1", "0", "0", "0", "0", "0", "6", "5",
		"0", "4000", "2026-12-03T11:00:00.000Z", "2026-12-03T11:00:09.000Z"},
	{"20261203T110000Z-bbbb", "rollback", "company", "0", "0", "0", "0", "2", "0", "1", "0", "0", "3", "1", "1",
		"1000", "2026-12-03T11:00:00.000Z", "2026-12-03T11:00:09.000Z"},
	{"20261203T110000Z-bbbb", "rollback", "conversation", "0", "0", "0", "0", "1", "0", "0", "1", "0", "1", "0",
		"0", "0", "2026-12-03T11:00:00.000Z", "2026-12-03T11:00:09.000Z"},
	{"20261203T110000Z-bbbb", "rollback", "conversation_part", "0", "0", "0", "0", "0", "0", "1", "0", "0", "0",
		"0", "0", "0", "2026-12-03T11:00:00.000Z", "2026-12-03T11:00:09.000Z"},
	{"20261203T110000Z-bbbb", "rollback", "all", "0", "0", "0", "1", "3", "0", "2", "1", "0", "10", "6", "1",
		"5000", "2026-12-03T11:00:00.000Z", "2026-12-03T11:00:09.000Z"},
	{"20261203T120000Z-cccc", "dry-run replay", "company", "0", "0", "0", "0", "0", "1", "0", "0", "0", "1", "0",
		"0", "0", "2026-12-03T12:00:00.000Z", "2026-12-03T12:00:00.003Z"},
	{"20261203T120000Z-cccc", "dry-run replay", "contact", "0", "0", "0", "0", "0", "1", "0", "0", "0", "0", "0",
		"0", "0", "2026-12-03T12:00:00.000Z", "2026-12-03T12:00:00.003Z"},
	{"20261203T120000Z-cccc", "dry-run replay", "all", "0", "0", "0", "0", "0", "2", "0", "0", "0", "1", "0", "0",
		"0", "2026-12-03T12:00:00.000Z", "2026-12-03T12:00:00.003Z"},
	{"20261203T130000Z-dddd", "replay", "contact", "2", "0", "0", "0", "0", "0", "0", "0", "0", "2", "0", "0",
		"0", "2026-12-03T13:00:00.000Z", "2026-12-03T13:00:00.700Z"},
	{"20261203T130000Z-dddd", "replay", "all", "2", "0", "0", "0", "0", "0", "0", "0", "0", "2", "0", "0", "0",
		"2026-12-03T13:00:00.000Z", "2026-12-03T13:00:00.700Z"},
}

func TestWriteLogAuditFixture(t *testing.T) {
	doc, points, err := WriteLogAudit(t.Context(), filepath.Join("testdata", "audit_logs"))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Name != "writelog_audit" {
		t.Errorf("name = %q", doc.Name)
	}
	if got, want := joinCSV(doc.CSV), joinCSV(wantAuditCSV); got != want {
		t.Errorf("csv:\n%s\nwant\n%s", got, want)
	}

	minute := func(s string) time.Time { return time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC).Add(auditDur(t, s)) }
	wantPoints := []RatePoint{
		{Run: "20261203T100000Z-aaaa", Minute: minute("10h00m"), Requests: 9, Throttled: 2},
		{Run: "20261203T100000Z-aaaa", Minute: minute("10h01m"), Requests: 4},
		{Run: "20261203T110000Z-bbbb", Minute: minute("11h00m"), Requests: 10, Throttled: 1},
		{Run: "20261203T120000Z-cccc", Minute: minute("12h00m"), Requests: 1},
		{Run: "20261203T130000Z-dddd", Minute: minute("13h00m"), Requests: 2},
	}
	if len(points) != len(wantPoints) {
		t.Fatalf("points = %+v", points)
	}
	for i, p := range points {
		if p.Run != wantPoints[i].Run || !p.Minute.Equal(wantPoints[i].Minute) ||
			p.Requests != wantPoints[i].Requests || p.Throttled != wantPoints[i].Throttled {
			t.Errorf("point %d = %+v, want %+v", i, p, wantPoints[i])
		}
	}

	for _, want := range []string{
		"4 files, 4 runs. Unreadable lines skipped: 1 ",
		"Outcomes without cost fields (logged by an older d2i): 1;",
		"| 20261203T100000Z-aaaa | replay | 2026-12-03T10:00:00.100Z | 2026-12-03T10:01:30.000Z | 1m29.9s " +
			"| 9 | 13 | 3 | 2 | 1.75s |",
		"| 20261203T110000Z-bbbb | company | company delete archives asynchronously; it is not a hard delete | 1 |",
		"| 20261203T110000Z-bbbb | conversation | 0 | 0 | 0 | 0 | 1 | 0 | 0 | 1 | 0 | 1 | 0 | 0 | 0s |",
		"| 20261203T100000Z-aaaa | contact:c3:create | contact | 2026-12-03T10:00:07.000Z | 20261203T130000Z-dddd |",
	} {
		if !strings.Contains(doc.Markdown, want) {
			t.Errorf("markdown lacks %q:\n%s", want, doc.Markdown)
		}
	}
	md, csvPath, err := doc.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, md, filepath.Join("testdata", "audit_writelog_audit.md"))
	compareGolden(t, csvPath, filepath.Join("testdata", "audit_writelog_audit.csv"))
}

func TestWriteLogAuditEmptyDir(t *testing.T) {
	doc, points, err := WriteLogAudit(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 0 || len(doc.CSV) != 1 || !strings.Contains(doc.Markdown, "0 files, 0 runs") {
		t.Errorf("empty dir: points %v csv %v\n%s", points, doc.CSV, doc.Markdown)
	}
}

func joinCSV(rows [][]string) string {
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = strings.Join(r, ",")
	}
	return strings.Join(lines, "\n")
}

func auditDur(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
