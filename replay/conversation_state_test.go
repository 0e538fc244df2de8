package replay

import (
	"testing"
	"time"
)

func TestSnoozeUntil(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	later := now.Add(5 * 24 * time.Hour).Unix()
	fallback := now.Add(defaultSnooze).Unix()

	cases := []struct {
		name     string
		followUp int64
		want     int64
	}{
		{"follow-up ahead is kept", later, later},
		{"no follow-up date", 0, fallback},
		{"follow-up already past", now.Add(-time.Hour).Unix(), fallback},
		{"follow-up exactly now", now.Unix(), fallback},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := snoozeUntil(c.followUp, now); got != c.want {
				t.Errorf("snoozeUntil(%d) = %d, want %d", c.followUp, got, c.want)
			}
		})
	}
}
