package main

import (
	"testing"

	"github.com/d2i/d2i/replay"
)

// The report's plan is the plan of a default replay, which tags what it
// writes with replay.DefaultTag: the tag requests must be counted.
func TestReportPlanCountsTagRequests(t *testing.T) {
	db, _, _ := replayVerbSetup(t, agent)
	in, err := planInput(t.Context(), db, "", 600)
	if err != nil {
		t.Fatal(err)
	}
	writes := map[string]int64{}
	for _, k := range in.Kinds {
		writes[k.Kind] = k.Writes
	}
	for _, kind := range []string{replay.KindTag, replay.KindConversationTag} {
		if writes[kind] == 0 {
			t.Errorf("plan has no %s requests: %v", kind, writes)
		}
	}
}
