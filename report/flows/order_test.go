package flows

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func nodesAfter(deps map[string][]string) map[string]wdlNode {
	nodes := map[string]wdlNode{}
	for name, after := range deps {
		n := wdlNode{RunAfter: map[string]json.RawMessage{}}
		for _, d := range after {
			n.RunAfter[d] = json.RawMessage(`["Succeeded"]`)
		}
		nodes[name] = n
	}
	return nodes
}

func TestRunOrder(t *testing.T) {
	cases := []struct {
		name string
		deps map[string][]string
		want []string
	}{
		{"independent by name", map[string][]string{"b": nil, "a": nil, "c": nil}, []string{"a", "b", "c"}},
		{"dependency before name", map[string][]string{"a": {"z"}, "z": nil}, []string{"z", "a"}},
		{"chain", map[string][]string{"a": {"b"}, "b": {"c"}, "c": nil}, []string{"c", "b", "a"}},
		{"ready ties by name", map[string][]string{"d": {"a"}, "b": {"a"}, "a": nil, "c": nil},
			[]string{"a", "b", "c", "d"}},
		{"outside dependency ignored", map[string][]string{"a": {"parent"}}, []string{"a"}},
		// The cycle's members and what waits on them follow by name.
		{"cycle rest by name", map[string][]string{"y": {"x"}, "x": {"y"}, "m": nil, "e": {"y"}},
			[]string{"m", "e", "x", "y"}},
	}
	for _, c := range cases {
		if got := runOrder(nodesAfter(c.deps)); !slices.Equal(got, c.want) {
			t.Errorf("%s: runOrder = %v, want %v", c.name, got, c.want)
		}
	}
}

// A flow with a huge clientdata (tens of thousands of actions, one after
// another) must list in well under a second; the quadratic sort took
// minutes.
func TestRunOrderLargeFlow(t *testing.T) {
	const n = 50000
	deps := make(map[string][]string, n)
	for i := range n {
		name := fmt.Sprintf("a%06d", i)
		if i > 0 {
			deps[name] = []string{fmt.Sprintf("a%06d", i-1)}
		} else {
			deps[name] = nil
		}
	}
	nodes := nodesAfter(deps)
	start := time.Now()
	got := runOrder(nodes)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("runOrder of %d chained actions took %s", n, took)
	}
	if len(got) != n || got[0] != "a000000" || got[n-1] != fmt.Sprintf("a%06d", n-1) {
		t.Errorf("runOrder of a chain: %d names, first %s", len(got), got[0])
	}
}

// A flow of thousands of steps lists the first MaxListedSteps in the
// Markdown and says how many more there are; its CSV steps field fits a
// spreadsheet cell.
func TestLargeFlowIsCapped(t *testing.T) {
	const n = 3000
	e := Entry{ID: "big", Name: "Generated flow", Kind: "Cloud flow"}
	for i := range n {
		e.Actions = append(e.Actions, Action{Path: fmt.Sprintf("Compose_%05d", i), Type: "Compose",
			Connector: "shared_commondataserviceforapps", OperationID: "UpdateRecord"})
	}
	md := Markdown([]Entry{e})
	if !strings.Contains(md, fmt.Sprintf("\n%d more steps are not listed", n-MaxListedSteps)) {
		t.Errorf("Markdown does not say how many steps it left out")
	}
	if strings.Contains(md, fmt.Sprintf("Compose_%05d", MaxListedSteps)) {
		t.Errorf("Markdown lists step %d, past the cap of %d", MaxListedSteps+1, MaxListedSteps)
	}
	records, err := csv.NewReader(strings.NewReader(CSV([]Entry{e}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	steps := records[1][slices.Index(csvHeader, "steps")]
	if len(steps) > 32767 || !strings.HasSuffix(steps, " more steps") {
		t.Errorf("CSV steps field is %d characters, ends %q", len(steps), steps[max(0, len(steps)-30):])
	}
}
