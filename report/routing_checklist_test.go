package report

import (
	"strings"
	"testing"
)

// Nothing left to create reads as done, not as a task "Create 0 teams".
func TestRoutingChecklistWhenAllMatched(t *testing.T) {
	cases := []struct {
		checklist [][]string
		want      []string
	}{
		{[][]string{{"team", "q1", "Billing", "", "3", "matched to Intercom team 8"}},
			[]string{"- [x] No team to create", "- [x] No admin to invite"}},
		{[][]string{{"team", "q1", "Billing", "", "3", "not in Intercom at replay run r1"},
			{"admin", "u1", "Mei", "mei@example.com", "2", "to be matched at replay"}},
			[]string{"- [ ] Create 1 teams", "- [ ] Invite 1 admins"}},
	}
	for _, c := range cases {
		var b strings.Builder
		writeRoutingChecklist(&b, c.checklist)
		for _, want := range c.want {
			if !strings.Contains(b.String(), want) {
				t.Errorf("checklist lacks %q:\n%s", want, b.String())
			}
		}
	}
}
