package main

import (
	"testing"

	"github.com/d2i/d2i/replay"
)

// Write logs holding only dry runs (or nothing) mean nothing reached
// Intercom: the reconciliation must say "not replayed", not fail every row
// as 0 of N written.
func TestLiveOps(t *testing.T) {
	empty := func() *replay.LogCounts {
		return &replay.LogCounts{Written: map[string]int{}, Existing: map[string]int{},
			Failed: map[string]int{}, Undone: map[string]int{}}
	}
	cases := []struct {
		name string
		set  func(*replay.LogCounts)
		want bool
	}{
		{"no logs or dry runs only", func(*replay.LogCounts) {}, false},
		{"zero counts", func(c *replay.LogCounts) { c.Written[replay.KindContact] = 0 }, false},
		{"written", func(c *replay.LogCounts) { c.Written[replay.KindContact] = 1 }, true},
		{"found existing", func(c *replay.LogCounts) { c.Existing[replay.KindCompany] = 2 }, true},
		{"failed only", func(c *replay.LogCounts) { c.Failed[replay.KindConversation] = 1 }, true},
		{"rolled back", func(c *replay.LogCounts) { c.Undone[replay.KindContact] = 1 }, true},
	}
	for _, c := range cases {
		counts := empty()
		c.set(counts)
		if got := liveOps(counts); got != c.want {
			t.Errorf("%s: liveOps = %v, want %v", c.name, got, c.want)
		}
	}
}
