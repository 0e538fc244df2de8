package main

import (
	"testing"

	"github.com/d2i/d2i/replay"
)

// Objects a delta replay deleted leave the written count of their source
// table, unless a rollback brought them back.
func TestWrittenBySourceDeletions(t *testing.T) {
	inc, ct := replay.KindSource{Kind: replay.KindConversation, SourceTable: "incident"},
		replay.KindSource{Kind: replay.KindContact, SourceTable: "contact"}
	delInc, delCt := replay.KindSource{Kind: replay.KindDeletion, SourceTable: "incident"},
		replay.KindSource{Kind: replay.KindDeletion, SourceTable: "contact"}
	c := &replay.LogCounts{
		WrittenBySource: map[replay.KindSource]int{inc: 10, ct: 5, delInc: 2, delCt: 2,
			{Kind: replay.KindContactUpdate, SourceTable: "contact"}: 3},
		ExistingBySource: map[replay.KindSource]int{ct: 1},
		UndoneBySource:   map[replay.KindSource]int{delCt: 1},
	}
	written, _ := writtenBySource(c)
	if written["incident"] != 8 || written["contact"] != 5 {
		t.Errorf("written = %v, want incident 8 (10 - 2 deleted), contact 5 (5 + 1 matched - 1 archived, revisions not counted)", written)
	}
}
