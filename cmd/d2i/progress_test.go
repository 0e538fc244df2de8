package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestStepProgressLogsCountsRateAndETAWithoutTerminal(t *testing.T) {
	var logs bytes.Buffer
	p := newStepProgress(&bytes.Buffer{}, "replay", slog.New(slog.NewTextHandler(&logs, nil)))
	clock := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return clock }

	p.update("conversations", 0, 1000)
	clock = clock.Add(2 * time.Second)
	p.update("conversations", 100, 1000) // too soon for a line
	clock = clock.Add(8 * time.Second)
	p.update("conversations", 500, 1000)

	out := logs.String()
	if n := strings.Count(out, "replay progress"); n != 1 {
		t.Fatalf("got %d progress lines, want 1:\n%s", n, out)
	}
	for _, want := range []string{"kind=conversations", "done=500", "total=1000", "per_second=50", "eta=10s"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress line lacks %q: %s", want, out)
		}
	}
}
