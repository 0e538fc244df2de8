package dataversetest

import (
	"encoding/json"
	"math/rand"
	"strings"
	"testing"

	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// marshalString is the rendering jstr replaced; the emulator's pages must
// stay byte-identical to it.
func marshalString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestJstrMatchesMarshal(t *testing.T) {
	cases := []string{
		"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnl\nCR\r",
		"\b\f\x00\x01\x1f\x7f", "é ü ß 日本 🎉", "line\u2028para\u2029end",
		"bad \xff utf8 \xc3", "\xed\xa0\x80 surrogate", `W/"12345"`,
		strings.Repeat("x<", 100),
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 5000; i++ {
		b := make([]byte, r.Intn(40))
		for j := range b {
			b[j] = byte(r.Intn(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if got, want := jstr(s), marshalString(s); got != want {
			t.Fatalf("jstr(%q) = %s, json.Marshal gives %s", s, got, want)
		}
	}
}

// TestRowsRenderAsBefore renders rows of every table and checks every
// string value jstr writes against json.Marshal, and each row as valid JSON.
func TestRowsRenderAsBefore(t *testing.T) {
	org, err := sampleorg.New(sampleorg.Options{Seed: 3, Cases: 60})
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range org.Tables() {
		e := org.Entity(table)
		q := &query{e: e, ann: parseAnnotations("*")}
		for i := 0; i < min(org.Count(table), 40); i++ {
			row, err := org.Row(table, i)
			if err != nil {
				t.Fatalf("%s row %d: %v", table, i, err)
			}
			for _, a := range listColumns(e) {
				if s, ok := row[a.LogicalName].(string); ok {
					if got, want := jsonValue(a, s), marshalString(s); got != want {
						t.Fatalf("%s row %d %s: %s, want %s", table, i, a.LogicalName, got, want)
					}
				}
			}
			var sb strings.Builder
			writeRowTo(&sb, q, row)
			if !json.Valid([]byte(sb.String())) {
				t.Fatalf("%s row %d: invalid JSON", table, i)
			}
		}
	}
}
