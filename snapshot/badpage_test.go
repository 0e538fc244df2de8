package snapshot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const accountDef = `{"LogicalName":"account","EntitySetName":"accounts","PrimaryIdAttribute":"accountid","Attributes":[
 {"LogicalName":"accountid","AttributeType":"Uniqueidentifier","AttributeOf":null,"IsValidForRead":true},
 {"LogicalName":"name","AttributeType":"String","AttributeOf":null,"IsValidForRead":true}]}`

func addAccount(f *fakeDV) {
	f.entities["account"] = accountDef
	f.sets["accounts"] = &fakeSet{count: 2, rows: []string{
		`{"accountid":"a0000000-0000-4000-8000-000000000001","name":"Contoso"}`,
		`{"accountid":"a0000000-0000-4000-8000-000000000002","name":"Fabrikam"}`,
	}}
}

// badRow is page 1 of incident with one row whose fields are given.
func badPage(fields string) string {
	return `{"@odata.count":3,"value":[{"incidentid":"c0000000-0000-4000-8000-000000000002",` + fields + `}]}`
}

// A malformed page stops its own table with an error naming table, page,
// column and row id; page 0 stays committed, nothing of page 1 is written,
// the next table still runs, and a rerun resumes at page 1.
func TestMalformedPageStopsOnlyItsTable(t *testing.T) {
	const id = "(incidentid=c0000000-0000-4000-8000-000000000002)"
	cases := []struct {
		name string
		body string
		want []string
	}{
		{"truncated JSON", `{"@odata.count":3,"value":[{"incidentid":"c0000000-0000-4000-8000-000000000002","title":"Nu`,
			[]string{"table incident page 1: decode", "row 0", "truncated"}},
		{"truncated after a row", `{"value":[{"incidentid":"c0000000-0000-4000-8000-000000000002"}`,
			[]string{"table incident page 1: decode", "truncated"}},
		{"row not an object", `{"value":[42]}`, []string{"table incident page 1: decode", "row 0"}},
		{"string in Integer column", badPage(`"new_reopens":"three"`),
			[]string{"table incident page 1 row 0 " + id + " column new_reopens: want integer, got string"}},
		{"quoted Integer", badPage(`"new_reopens":"3"`),
			[]string{"page 1 row 0 " + id + " column new_reopens: want integer, got string"}},
		{"Integer out of range", badPage(`"new_reopens":2147483648`),
			[]string{"page 1 row 0 " + id + " column new_reopens: not a 32-bit integer"}},
		{"object in String column", badPage(`"title":{"a":1}`),
			[]string{"page 1 row 0 " + id + " column title: want string, got object"}},
		{"bad lookup GUID", badPage(`"_customerid_value":"not-a-guid"`),
			[]string{"page 1 row 0 " + id + " column _customerid_value: not a GUID"}},
		{"bad primary key", `{"value":[{"incidentid":"12345","title":"x"}]}`,
			[]string{"table incident page 1 row 0 column incidentid: not a GUID"}},
		{"bad date-time", badPage(`"createdon":"2023-02-30T25:00:00Z"`),
			[]string{"page 1 row 0 " + id + " column createdon: date-time"}},
		{"bad date", badPage(`"new_duedate":"2023-13-01"`),
			[]string{"page 1 row 0 " + id + " column new_duedate: date"}},
		{"string in Boolean column", badPage(`"isescalated":"yes"`),
			[]string{"column isescalated: want boolean, got string"}},
		{"bad option value", badPage(`"statecode":1.5`),
			[]string{"column statecode: not a 32-bit integer"}},
		{"bad decimal", badPage(`"new_ratio":"12,5"`),
			[]string{"column new_ratio: decimal"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeDV(t)
			addIncident(f, 1)
			addAccount(f)
			f.faults[1] = step{status: 200, body: tc.body}
			dir := t.TempDir()
			cfg := f.config(dir, "incident", "account")

			m, err := Run(context.Background(), cfg)
			if err == nil {
				t.Fatal("run succeeded over a malformed page")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			inc := m.Tables["incident"]
			if inc.Status != StatusFailed || inc.Rows != 1 || inc.Pages != 1 || !strings.Contains(inc.Error, tc.want[0]) {
				t.Errorf("incident manifest = %+v", inc)
			}
			if acc := m.Tables["account"]; acc.Status != StatusComplete || acc.Rows != 2 {
				t.Errorf("account manifest = %+v; the other table should still run", acc)
			}
			if cp, err := loadCheckpoint(dir, "incident"); err != nil || cp.LastPage != 0 || cp.Rows != 1 || cp.NextLink == "" {
				t.Errorf("checkpoint = %+v, %v; want page 0 kept", cp, err)
			}
			for _, rel := range []string{partRel("incident", 1), pageRel("incident", 1)} {
				if _, err := os.Stat(filepath.Join(dir, rel)); err == nil {
					t.Errorf("%s written for a page that failed", rel)
				}
			}
			verifyManifest(t, dir, m)

			// The source is fixed; the rerun picks up at page 1.
			delete(f.faults, 1)
			m, err = Run(context.Background(), cfg)
			if err != nil || m.Tables["incident"].Rows != 3 || !m.Complete {
				t.Fatalf("rerun: err=%v incident=%+v", err, m.Tables["incident"])
			}
			var n, distinct int
			glob := filepath.Join(dir, "tables/incident/*.parquet")
			if err := openDuck(t).QueryRow(`select count(*), count(distinct incidentid) from '`+glob+`'`).Scan(&n, &distinct); err != nil || n != 3 || distinct != 3 {
				t.Errorf("after rerun rows = %d distinct = %d, %v", n, distinct, err)
			}
			verifyManifest(t, dir, m)
		})
	}
}

func TestValueErrorIsInspectable(t *testing.T) {
	f := newFakeDV(t)
	addIncident(f, 5)
	rows := append([]string{}, incidentRows...) // incidentRows is shared by other tests
	f.sets["incidents"].rows = rows
	rows[1] = `{"incidentid":"c0000000-0000-4000-8000-000000000002","new_score":"NaN?"}`
	_, err := Run(context.Background(), f.config(t.TempDir(), "incident"))
	// Run joins table errors into text; the table run itself keeps the type.
	if err == nil || !strings.Contains(err.Error(), "page 0 row 1 (incidentid=c0000000-0000-4000-8000-000000000002) column new_score") {
		t.Fatalf("err = %v", err)
	}
	s, _ := buildSchema(mustDef(t, incidentDef), nil)
	_, err = buildRecord(s, []map[string]any{{"incidentid": "c0000000-0000-4000-8000-000000000009", "isescalated": "no"}})
	var ve *ValueError
	if !errors.As(err, &ve) || ve.Row != 0 || ve.Column != "isescalated" || ve.ID != "c0000000-0000-4000-8000-000000000009" {
		t.Errorf("err = %#v", err)
	}
}

func mustDef(t *testing.T, body string) entityDef {
	t.Helper()
	m := &tableMeta{}
	if err := m.applyEntityDef("incident", []byte(body)); err != nil {
		t.Fatal(err)
	}
	return m.def
}
