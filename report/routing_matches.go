package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// RouteMatches is what the latest replay run matched: staged systemuser and
// queue ids to Intercom admin and team ids, read from the write log's
// "matches" record (contracts §3). Nil means no replay has run yet.
type RouteMatches struct {
	Run             string
	Time            string
	Admins          map[string]string
	Teams           map[string]string
	UnmatchedAdmins []string
	UnmatchedTeams  []string
}

// readRouteMatches returns the newest matches record of the logs in dir, or
// nil when there is none. A torn or foreign line is skipped: the audit
// report is the one that flags it.
func readRouteMatches(dir string) (*RouteMatches, error) {
	if dir == "" {
		return nil, nil
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("routing inventory: list write logs in %s: %w", dir, err)
	}
	sort.Strings(paths)
	var newest *RouteMatches
	for _, p := range paths {
		if err := scanMatches(p, &newest); err != nil {
			return nil, err
		}
	}
	return newest, nil
}

func scanMatches(path string, newest **RouteMatches) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("routing inventory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !strings.Contains(string(line), `"type":"matches"`) {
			continue
		}
		var rec struct {
			Run, Time string
			Matches   struct {
				Admins          map[string]string `json:"admins"`
				Teams           map[string]string `json:"teams"`
				UnmatchedAdmins []string          `json:"unmatched_admins"`
				UnmatchedTeams  []string          `json:"unmatched_teams"`
			}
		}
		if json.Unmarshal(line, &rec) != nil {
			continue
		}
		if *newest == nil || rec.Time > (*newest).Time {
			m := rec.Matches
			*newest = &RouteMatches{Run: rec.Run, Time: rec.Time, Admins: m.Admins, Teams: m.Teams,
				UnmatchedAdmins: m.UnmatchedAdmins, UnmatchedTeams: m.UnmatchedTeams}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("routing inventory: read %s: %w", path, err)
	}
	return nil
}

// matchText says what replay found for one staged admin or team.
func (m *RouteMatches) matchText(kind, sourceID string) (string, bool) {
	ids := m.Admins
	if kind == "team" {
		ids = m.Teams
	}
	if id, ok := ids[sourceID]; ok {
		return fmt.Sprintf("matched to Intercom %s %s", kind, id), true
	}
	return fmt.Sprintf("not in Intercom at replay run %s", m.Run), false
}

// applyMatches replaces "to be matched at replay" in the queue and member
// rows with what the latest run found.
func (m *RouteMatches) applyMatches(queues, members [][]string) {
	if m == nil {
		return
	}
	for _, q := range queues {
		if strings.HasPrefix(q[5], "staged as team") {
			text, _ := m.matchText("team", q[0])
			q[5] = strings.Replace(q[5], "to be matched at replay", text, 1)
		}
	}
	for _, r := range members {
		if strings.HasPrefix(r[6], "staged as admin") {
			text, _ := m.matchText("admin", r[2])
			r[6] = "staged as admin; " + text
		}
	}
}

// checklistStatus appends to each checklist row (kind, source id, name,
// e-mail, conversations) whether Intercom already has it.
func (m *RouteMatches) checklistStatus(rows [][]string) [][]string {
	for i, r := range rows {
		status := "to be matched at replay"
		if m != nil {
			status, _ = m.matchText(r[0], r[1])
		}
		rows[i] = append(r, status)
	}
	return rows
}

// missing says whether a checklist row still needs the admin's hand.
func missing(row []string) bool { return !strings.HasPrefix(row[5], "matched to Intercom") }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
