package snapshot

import (
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// Real delta bodies: changed rows become upserts, $deletedEntity entries
// tombstones, and the Parquet part holds both with DeletedColumn.
func TestDeltaBodiesDecodeIntoTombstones(t *testing.T) {
	var br14 struct {
		Initial  struct{ Body json.RawMessage } `json:"initial"`
		Delta    struct{ Body json.RawMessage } `json:"delta"`
		Expected struct {
			Upserts []string `json:"upserts"`
			Deletes []string `json:"deletes"`
		} `json:"expected"`
	}
	if err := json.Unmarshal(readFixture(t, "br14_changetracking_deletes.json"), &br14); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, table, set, pk, name2 string
		body                        []byte
		ups, dels                   []string
	}{
		{"br14", "contact", "contacts", "contactid", "fullname", br14.Delta.Body,
			br14.Expected.Upserts, br14.Expected.Deletes},
		{"msdocs", "account", "accounts", "accountid", "name",
			readFixture(t, "msdocs2020_accounts_changetracking_delta_with_deleted.json"),
			[]string{"60c4e274-0d87-e711-80e5-00155db19e6d"}, []string{"2e451703-c686-e711-80e5-00155db19e6d"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodePage(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(p.deltaLink, "$deltatoken=") || p.nextLink != "" {
				t.Fatalf("delta link %q next %q", p.deltaLink, p.nextLink)
			}
			ups, dels, err := splitDelta(p.rows, tc.pk)
			if err != nil {
				t.Fatal(err)
			}
			var upIDs []string
			for _, r := range ups {
				upIDs = append(upIDs, r[tc.pk].(string))
			}
			if strings.Join(upIDs, ",") != strings.Join(tc.ups, ",") || strings.Join(dels, ",") != strings.Join(tc.dels, ",") {
				t.Fatalf("upserts %v deletes %v, want %v %v", upIDs, dels, tc.ups, tc.dels)
			}
			checkDeltaPart(t, tc.table, tc.set, tc.pk, tc.name2, ups, dels)
		})
	}
}

func checkDeltaPart(t *testing.T, table, set, pk, nameCol string, ups []map[string]any, dels []string) {
	t.Helper()
	s, err := buildSchema(entityDef{LogicalName: table, EntitySetName: set, PrimaryIdAttribute: pk,
		Attributes: []attributeDef{{LogicalName: pk, AttributeType: "Uniqueidentifier"},
			{LogicalName: nameCol, AttributeType: "String"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &deltaRun{cfg: Config{OutDir: t.TempDir()}, table: table, schema: s}
	part, err := d.writeDeltaPart(0, ups, dels)
	if err != nil || part.Rows != int64(len(ups)+len(dels)) {
		t.Fatalf("part %+v: %v", part, err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var live, dead, deadNames int
	q := `select count(*) filter (where not __deleted), count(*) filter (where __deleted),
	  count(` + nameCol + `) filter (where __deleted) from '` + filepath.Join(d.cfg.OutDir, part.Path) + `'`
	if err := db.QueryRow(q).Scan(&live, &dead, &deadNames); err != nil {
		t.Fatal(err)
	}
	if live != len(ups) || dead != len(dels) || deadNames != 0 {
		t.Fatalf("part holds %d live %d tombstones (%d with a name)", live, dead, deadNames)
	}
}

func TestIsExpiredToken(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&APIError{Status: 400, Message: "Version stamp associated with the client has expired. Please perform a full sync."}, true},
		{&APIError{Status: 410}, true},
		{&APIError{Status: 400, Message: "The query parameter $filter is not supported"}, false},
		{&APIError{Status: http.StatusInternalServerError, Message: "expired"}, false},
		{errors.New("expired"), false},
	}
	for _, tc := range tests {
		if got := isExpiredToken(tc.err); got != tc.want {
			t.Errorf("isExpiredToken(%v) = %v", tc.err, got)
		}
	}
}
