package sampleorg

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func mustNewOmni(t *testing.T, seed int64, cases int) *Org {
	t.Helper()
	o, err := New(Options{Seed: seed, Cases: cases, Omnichannel: true})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOmnichannelOffHasNoTables(t *testing.T) {
	o := mustNew(t, 4, 200)
	for _, tb := range omnichannelTables {
		if o.Entity(tb) != nil || o.Count(tb) != 0 || slices.Contains(o.Tables(), tb) {
			t.Errorf("%s exists without Omnichannel: entity %v, %d rows", tb, o.Entity(tb) != nil, o.Count(tb))
		}
		if _, err := o.Row(tb, 0); err == nil {
			t.Errorf("%s row 0 generated without Omnichannel", tb)
		}
	}
	if _, ok := o.File("msdyn_ocrecording", "msdyn_recording", 0); ok {
		t.Error("a recording file without Omnichannel")
	}
}

// The option adds tables and transcript notes after the other notes; it
// changes no row of the org without it.
func TestOmnichannelLeavesOtherRowsAlone(t *testing.T) {
	off, on := mustNew(t, 4, 300), mustNewOmni(t, 4, 300)
	if got, want := on.Tables(), append(off.Tables(), omnichannelTables...); !reflect.DeepEqual(got, want) {
		t.Fatalf("tables %v, want %v", got, want)
	}
	for _, tb := range off.Tables() {
		extra := 0
		if tb == "annotation" {
			extra = on.Count("msdyn_transcript")
		}
		if on.Count(tb) != off.Count(tb)+extra {
			t.Fatalf("%s: %d rows with Omnichannel, %d without (+%d transcripts)", tb, on.Count(tb), off.Count(tb), extra)
		}
		for i := 0; i < off.Count(tb); i += 5 {
			a, _ := off.Row(tb, i)
			b, _ := on.Row(tb, i)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%s row %d differs with Omnichannel on", tb, i)
			}
		}
	}
}

func TestOmnichannelDeterministic(t *testing.T) {
	a, b, c := mustNewOmni(t, 8, 400), mustNewOmni(t, 8, 400), mustNewOmni(t, 9, 400)
	differs := false
	for _, tb := range append([]string{"annotation"}, omnichannelTables...) {
		if a.Count(tb) != b.Count(tb) || a.Count(tb) == 0 {
			t.Fatalf("%s: %d and %d rows", tb, a.Count(tb), b.Count(tb))
		}
		for i := 0; i < a.Count(tb); i++ {
			ra, _ := a.Row(tb, i)
			rb, _ := b.Row(tb, i)
			if fmt.Sprint(ra) != fmt.Sprint(rb) {
				t.Fatalf("%s row %d differs between runs", tb, i)
			}
			if i < c.Count(tb) {
				rc, _ := c.Row(tb, i)
				differs = differs || fmt.Sprint(ra) != fmt.Sprint(rc)
			}
		}
	}
	for i := 0; i < a.Count("msdyn_ocrecording"); i++ {
		fa, _ := a.File("msdyn_ocrecording", "msdyn_recording", i)
		fb, _ := b.File("msdyn_ocrecording", "msdyn_recording", i)
		if fa.Size != fb.Size || fa.Base64Range(0, 4096) != fb.Base64Range(0, 4096) {
			t.Fatalf("recording %d differs between runs", i)
		}
	}
	if !differs {
		t.Fatal("another seed gave the same conversations")
	}
}

// Every column, and only columns, in every row; every lookup names a row
// of one of its targets, with that row's primary name.
func TestOmnichannelColumnsAndReferences(t *testing.T) {
	o := mustNewOmni(t, 3, 400)
	for _, tb := range append([]string{"annotation"}, omnichannelTables...) {
		e := o.Entity(tb)
		for i := 0; i < o.Count(tb); i++ {
			r, err := o.Row(tb, i)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range e.Columns() {
				if _, ok := r[a.LogicalName]; !ok {
					t.Fatalf("%s row %d lacks column %s", tb, i, a.LogicalName)
				}
				checkType(t, tb, a, r[a.LogicalName])
				ref, ok := r[a.LogicalName].(Ref)
				if !ok {
					continue
				}
				if !slices.Contains(a.Targets, ref.LogicalName) {
					t.Fatalf("%s.%s points at %s, targets %v", tb, a.LogicalName, ref.LogicalName, a.Targets)
				}
				j, ok := o.IndexOf(ref.LogicalName, ref.ID)
				if !ok {
					t.Fatalf("%s row %d %s=%s is no %s row", tb, i, a.LogicalName, ref.ID, ref.LogicalName)
				}
				if want := o.primaryName(ref.LogicalName, j); ref.Name != want {
					t.Fatalf("%s row %d %s named %q, the %s is %q", tb, i, a.LogicalName, ref.Name, ref.LogicalName, want)
				}
			}
			for k := range r {
				if a := e.Attribute(k); a == nil || !a.IsColumn() {
					t.Fatalf("%s row %d has %s, not a column", tb, i, k)
				}
			}
		}
	}
}

// conversations reads every conversation of o by id.
func conversations(t *testing.T, o *Org) map[string]Row {
	t.Helper()
	out := map[string]Row{}
	for k := 0; k < o.Count("msdyn_ocliveworkitem"); k++ {
		r, err := o.Row("msdyn_ocliveworkitem", k)
		if err != nil {
			t.Fatal(err)
		}
		out[r["activityid"].(string)] = r
	}
	return out
}

func TestConversationStories(t *testing.T) {
	o := mustNewOmni(t, 11, 2000)
	if got := o.Count("msdyn_ocliveworkitem"); got != 503 {
		t.Fatalf("%d conversations, want 3 + 2000/4", got)
	}
	convs := conversations(t, o)
	withCase, voice, open, unassigned := 0, 0, 0, 0
	for _, r := range convs {
		if r["regardingobjectid"] != nil {
			withCase++
			if r["regardingobjectid"].(Ref).LogicalName != "incident" {
				t.Fatalf("conversation regards %v", r["regardingobjectid"])
			}
		}
		if slices.Contains(r["msdyn_channel"].([]int), chVoice) {
			voice++
		}
		if r["statecode"] == 0 {
			open++
		}
		if r["msdyn_activeagentid"] == nil {
			unassigned++
		}
	}
	// Proportions are the generator's (70% linked, 25% voice, ~7% abandoned).
	if withCase < 300 || withCase > 400 || withCase == len(convs) {
		t.Errorf("%d of %d conversations linked to a case", withCase, len(convs))
	}
	if voice < 80 || voice > 170 || open == 0 || unassigned == 0 {
		t.Errorf("%d voice, %d open, %d unassigned conversations", voice, open, unassigned)
	}

	// Sessions: one to three per conversation, the last one named by
	// msdyn_lastsessionid and held by the conversation's agent.
	perConv := map[string][]Row{}
	for i := 0; i < o.Count("msdyn_ocsession"); i++ {
		s, _ := o.Row("msdyn_ocsession", i)
		id := s["msdyn_liveworkitemid"].(Ref).ID
		perConv[id] = append(perConv[id], s)
	}
	for id, c := range convs {
		ss := perConv[id]
		if len(ss) < 1 || len(ss) > 3 || c["msdyn_transfercount"] != len(ss)-1 {
			t.Fatalf("conversation %s: %d sessions, transfer count %v", id, len(ss), c["msdyn_transfercount"])
		}
		last := ss[len(ss)-1]
		if c["msdyn_lastsessionid"].(Ref).ID != last["activityid"] || !reflect.DeepEqual(c["msdyn_activeagentid"], last["msdyn_activeagentid"]) {
			t.Fatalf("conversation %s: last session or agent do not match", id)
		}
		if ss[0]["msdyn_primarysession"] != true || (c["statecode"] != 0) != (last["msdyn_sessionclosedon"] != nil) {
			t.Fatalf("conversation %s (state %v): session flags %v, last closed %v", id, c["statecode"],
				ss[0]["msdyn_primarysession"], last["msdyn_sessionclosedon"])
		}
	}

	// Recordings: on voice conversations only, with a sized file.
	for i := 0; i < o.Count("msdyn_ocrecording"); i++ {
		r, _ := o.Row("msdyn_ocrecording", i)
		c := convs[r["msdyn_liveworkitemid"].(Ref).ID]
		if !slices.Contains(c["msdyn_channel"].([]int), chVoice) || c["msdyn_isabandoned"] == true {
			t.Fatalf("recording %d on a %v conversation (abandoned %v)", i, c["msdyn_channel"], c["msdyn_isabandoned"])
		}
		f, ok := o.File("msdyn_ocrecording", "msdyn_recording", i)
		talk, _ := c["msdyn_conversationtalktimeinseconds"].(int)
		if !ok || f.Size != int64(talk*recordingBytesPerSecond+417) || f.MimeType != "audio/mpeg" {
			t.Fatalf("recording %d: file %v size %d, talk %ds", i, ok, f.Size, talk)
		}
		meta, ok := o.File("msdyn_ocrecording", "msdyn_recordingmetadata", i)
		var m map[string]any
		if !ok || json.Unmarshal([]byte(decode64(t, meta.Base64())), &m) != nil || m["conversationId"] != c["activityid"] {
			t.Fatalf("recording %d metadata %v: %v", i, ok, m)
		}
	}
	if o.Count("msdyn_ocrecording") == 0 || o.Count("msdyn_ocrecording") >= voice {
		t.Errorf("%d recordings for %d voice conversations (abandoned calls have none)", o.Count("msdyn_ocrecording"), voice)
	}
}

func decode64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Each transcript has one note whose body is the JSON list of messages,
// the customer's first; a conversation the customer left silently has none.
func TestTranscriptNotes(t *testing.T) {
	o := mustNewOmni(t, 6, 800)
	convs := conversations(t, o)
	notes := map[string]Row{}
	for a := 0; a < o.Count("annotation"); a++ {
		r, _ := o.Row("annotation", a)
		if r["objecttypecode"] == "msdyn_transcript" {
			notes[r["objectid"].(Ref).ID] = r
		}
	}
	if len(notes) != o.Count("msdyn_transcript") {
		t.Fatalf("%d transcript notes for %d transcripts", len(notes), o.Count("msdyn_transcript"))
	}
	transcribed := map[string]bool{}
	for i := 0; i < o.Count("msdyn_transcript"); i++ {
		tr, _ := o.Row("msdyn_transcript", i)
		conv := convs[tr["msdyn_liveworkitemidid"].(Ref).ID]
		transcribed[conv["activityid"].(string)] = true
		n := notes[tr["msdyn_transcriptid"].(string)]
		body := n["documentbody"].(Blob)
		if n["isdocument"] != true || n["filesize"] != int(body.Size) || n["mimetype"] != "application/json" {
			t.Fatalf("transcript %d note: isdocument %v filesize %v size %d", i, n["isdocument"], n["filesize"], body.Size)
		}
		var msgs []map[string]any
		if err := json.Unmarshal([]byte(decode64(t, body.Base64())), &msgs); err != nil {
			t.Fatalf("transcript %d: %v", i, err)
		}
		from, _ := msgs[0]["from"].(map[string]any)
		if from == nil || !strings.HasPrefix(msgs[0]["tags"].(string), "public") {
			t.Fatalf("transcript %d does not open with a customer message: %v", i, msgs[0])
		}
		if agent := conv["msdyn_activeagentid"]; agent != nil && len(msgs) < 5 {
			t.Fatalf("transcript %d of an answered conversation has %d messages", i, len(msgs))
		}
	}
	silent := 0
	for id, c := range convs {
		if !transcribed[id] {
			silent++
			if c["msdyn_isabandoned"] != true {
				t.Fatalf("conversation %s has no transcript but was not abandoned", id)
			}
		}
	}
	if silent == 0 {
		t.Error("every conversation has a transcript; silent abandoned chats are not exercised")
	}
}
