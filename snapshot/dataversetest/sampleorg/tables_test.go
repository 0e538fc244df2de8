package sampleorg

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestCaseCoreMatchesCaseFacts(t *testing.T) {
	o := mustNew(t, 5, 3000)
	for c := 0; c < o.Cases(); c++ {
		q, st := o.caseCore(c)
		f := o.caseFacts(c)
		if q != f.queue || st != f.state {
			t.Fatalf("case %d: core (%d,%d) facts (%d,%d)", c, q, st, f.queue, f.state)
		}
	}
}

// Intersect tables hold plain GUID columns; each must name a live row.
func TestIntersectIntegrity(t *testing.T) {
	o := mustNew(t, 3, 400)
	refs := map[string]map[string]string{
		"teammembership":              {"teamid": "team", "systemuserid": "systemuser"},
		"queuemembership":             {"queueid": "queue", "systemuserid": "systemuser"},
		"knowledgearticlescategories": {"knowledgearticleid": "knowledgearticle", "categoryid": "category"},
	}
	for table, cols := range refs {
		if o.Count(table) == 0 || !o.Entity(table).IsIntersect {
			t.Fatalf("%s: %d rows", table, o.Count(table))
		}
		for i := 0; i < o.Count(table); i++ {
			r, _ := o.Row(table, i)
			for col, target := range cols {
				if _, ok := o.IndexOf(target, r[col].(string)); !ok {
					t.Fatalf("%s row %d %s is no %s", table, i, col, target)
				}
			}
		}
	}
}

func TestServiceStories(t *testing.T) {
	o := mustNew(t, 11, 2000)
	f := o.Facts()
	if o.Count("incidentresolution") != f.CasesByState[1] {
		t.Fatalf("%d resolutions for %d resolved cases", o.Count("incidentresolution"), f.CasesByState[1])
	}
	// Every routed case has queue items; the latest is in the case's queue.
	latest := map[string]Row{}
	for i := 0; i < o.Count("queueitem"); i++ {
		r, _ := o.Row("queueitem", i)
		id := r["objectid"].(Ref).ID
		if p, ok := latest[id]; !ok || r["enteredon"].(interface{ Unix() int64 }).Unix() > p["enteredon"].(interface{ Unix() int64 }).Unix() {
			latest[id] = r
		}
	}
	if len(latest) != f.RoutedCases {
		t.Fatalf("%d cases with queue items, %d routed", len(latest), f.RoutedCases)
	}
	for id, r := range latest {
		c, _ := o.IndexOf("incident", id)
		if q, _ := o.IndexOf("queue", r["queueid"].(Ref).ID); q != o.caseFacts(c).queue {
			t.Fatalf("case %d latest queue %d want %d", c, q, o.caseFacts(c).queue)
		}
	}
	// E-mail attachments: counts agree with attachmentcount; some e-mails have 12.
	per := map[string]int{}
	for i := 0; i < o.Count("activitymimeattachment"); i++ {
		r, _ := o.Row("activitymimeattachment", i)
		per[r["objectid"].(Ref).ID]++
	}
	twelve := 0
	for j := 0; j < o.Count("email"); j++ {
		e, _ := o.Row("email", j)
		if per[e["activityid"].(string)] != e["attachmentcount"].(int) {
			t.Fatalf("email %d attachmentcount %v, %d rows", j, e["attachmentcount"], per[e["activityid"].(string)])
		}
		if e["attachmentcount"] == 12 {
			twelve++
		}
	}
	if twelve < 2 {
		t.Fatalf("%d e-mails with 12 attachments", twelve)
	}
	// Knowledge: one latest article per topic language; category tree of depth 4.
	for i := 0; i < o.Count("knowledgearticle"); i++ {
		r, _ := o.Row("knowledgearticle", i)
		if r["isrootarticle"] == true {
			continue
		}
		root, _ := o.Row("knowledgearticle", o.articleSlot(i).root)
		if r["rootarticleid"].(Ref).ID != root["knowledgearticleid"] || r["articlepublicnumber"] != root["articlepublicnumber"] {
			t.Fatalf("article %d not under its root", i)
		}
	}
	depth := 0
	for i := 0; i < categoryCount; i++ {
		d := 1
		for p := categoryParent(i); p >= 0; p = categoryParent(p) {
			d++
		}
		depth = max(depth, d)
	}
	if depth != 4 {
		t.Fatalf("category depth %d", depth)
	}
	// Workflows carry the real definitions, one classic workflow is on incident.
	flows, onIncident := 0, 0
	for i := 0; i < o.Count("workflow"); i++ {
		r, _ := o.Row("workflow", i)
		if s, ok := r["clientdata"].(string); ok && strings.Contains(s, `"definition"`) {
			flows++
		}
		if r["category"] == 0 && r["primaryentity"] == "incident" {
			onIncident++
		}
	}
	if flows < 8 || onIncident == 0 {
		t.Fatalf("%d cloud flows, %d classic workflows on incident", flows, onIncident)
	}
	if e := o.Entity("new_warrantyclaim"); !e.IsCustomEntity || o.Count("new_warrantyclaim") == 0 {
		t.Fatal("no custom table rows")
	}
}

func TestBlobsAreDeterministicAndConsistent(t *testing.T) {
	o := mustNew(t, 2, LargeFileThreshold)
	var big Blob
	for i := 0; i < o.Count("activitymimeattachment"); i++ {
		r, _ := o.Row("activitymimeattachment", i)
		if b := r["body"].(Blob); b.Size > 5<<20 {
			big = b
		}
		if i < 40 {
			b := r["body"].(Blob)
			raw, err := base64.StdEncoding.DecodeString(b.Base64())
			if err != nil || int64(len(raw)) != b.Size || int(b.Size) != r["filesize"].(int) {
				t.Fatalf("attachment %d: %d bytes decoded, size %d, filesize %v", i, len(raw), b.Size, r["filesize"])
			}
		}
	}
	if big.Size < 5<<20 || big.Size > 20<<20 {
		t.Fatalf("no 5-20 MB attachment: %d", big.Size)
	}
	var whole bytes.Buffer
	if err := big.WriteBase64(&whole); err != nil {
		t.Fatal(err)
	}
	var blocks strings.Builder
	for off := int64(0); off < big.Size; off += 3 << 20 {
		blocks.WriteString(big.Base64Range(off, 3<<20))
	}
	if blocks.String() != whole.String() || int64(whole.Len()) != big.Base64Len() {
		t.Fatal("block ranges differ from the whole body")
	}
}
