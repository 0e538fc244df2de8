package dataversetest

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

// Churn asks for deterministic changes to one table: rows appended,
// updated (new versionnumber, modifiedon and primary name) and deleted.
type Churn struct{ Inserts, Updates, Deletes int }

// Changed lists the primary keys a Churn touched.
type Changed struct{ Inserted, Updated, Deleted []string }

// changeLog overlays mutations on the generated org. Its memory grows with
// the number of changes, never with the org. Every change gets the next
// stamp; a delta token is the stamp it was minted at.
type changeLog struct {
	mu       sync.Mutex
	stamp    int64
	tables   map[string]*tableChanges
	minToken int64 // tokens minted before this stamp have expired
}

type tableChanges struct {
	inserted int
	events   []change
	latest   map[int]int // row index -> position in events of its latest change
}

type change struct {
	stamp   int64
	index   int
	deleted bool
}

func (l *changeLog) table(t string) *tableChanges {
	if l.tables == nil {
		l.tables = map[string]*tableChanges{}
	}
	tc := l.tables[t]
	if tc == nil {
		tc = &tableChanges{latest: map[int]int{}}
		l.tables[t] = tc
	}
	return tc
}

// latestOf returns the row's latest change, if any. Callers hold l.mu.
func (tc *tableChanges) latestOf(i int) (change, bool) {
	if tc == nil {
		return change{}, false
	}
	p, ok := tc.latest[i]
	if !ok {
		return change{}, false
	}
	return tc.events[p], true
}

func (tc *tableChanges) record(stamp int64, i int, deleted bool) {
	tc.latest[i] = len(tc.events)
	tc.events = append(tc.events, change{stamp: stamp, index: i, deleted: deleted})
}

// Churn applies c to a table and returns the keys it touched. The rows it
// picks depend only on the org, the table and the number of changes made so
// far, so the same sequence of calls gives the same org.
func (s *Server) Churn(table string, c Churn) (Changed, error) {
	if s.org.Entity(table) == nil {
		return Changed{}, fmt.Errorf("dataversetest: churn: unknown table %q", table)
	}
	l := &s.changes
	l.mu.Lock()
	defer l.mu.Unlock()
	tc := l.table(table)
	var out Changed
	base := s.org.Count(table)
	for k := 0; k < c.Inserts; k++ {
		l.stamp++
		i := base + tc.inserted
		tc.inserted++
		tc.record(l.stamp, i, false)
		out.Inserted = append(out.Inserted, s.org.ID(table, i))
	}
	pickLive := func(salt int) (int, bool) {
		n := base + tc.inserted
		start := int(mixIndex(table, l.stamp, salt) % uint64(n))
		for d := 0; d < n; d++ {
			i := (start + d) % n
			if ch, ok := tc.latestOf(i); !ok || !ch.deleted {
				return i, true
			}
		}
		return 0, false
	}
	for k := 0; k < c.Updates; k++ {
		i, ok := pickLive(1)
		if !ok {
			break
		}
		l.stamp++
		tc.record(l.stamp, i, false)
		out.Updated = append(out.Updated, s.org.ID(table, i))
	}
	for k := 0; k < c.Deletes; k++ {
		i, ok := pickLive(2)
		if !ok {
			break
		}
		l.stamp++
		tc.record(l.stamp, i, true)
		out.Deleted = append(out.Deleted, s.org.ID(table, i))
	}
	return out, nil
}

// ExpireDeltaTokens makes every delta token minted so far expired, as if
// the org's expirechangetrackingindays had passed.
func (s *Server) ExpireDeltaTokens() {
	s.changes.mu.Lock()
	defer s.changes.mu.Unlock()
	s.changes.stamp++
	s.changes.minToken = s.changes.stamp
}

func mixIndex(table string, stamp int64, salt int) uint64 {
	h := uint64(1469598103934665603)
	for _, b := range []byte(table) {
		h = (h ^ uint64(b)) * 1099511628211
	}
	h ^= uint64(stamp)*0x9e3779b97f4a7c15 + uint64(salt)
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9
	h = (h ^ (h >> 27)) * 0x94d049bb133111eb
	return h ^ (h >> 31)
}

// ---- the org as the server sees it: generated rows plus changes ----

func (s *Server) count(table string) int {
	s.changes.mu.Lock()
	defer s.changes.mu.Unlock()
	n := s.org.Count(table)
	if tc := s.changes.tables[table]; tc != nil {
		n += tc.inserted
	}
	return n
}

// changeTime is the modifiedon of a change: the org's clock advances one
// minute per change after its generated history.
func changeTime(stamp int64) time.Time {
	return time.Date(2025, 11, 30, 0, 0, 0, 0, time.UTC).Add(time.Duration(stamp) * time.Minute)
}

// rowAt returns row i as changed; ok is false for a deleted row.
func (s *Server) rowAt(table string, i int) (sampleorg.Row, bool, error) {
	s.changes.mu.Lock()
	ch, changed := s.changes.tables[table].latestOf(i)
	s.changes.mu.Unlock()
	if changed && ch.deleted {
		return nil, false, nil
	}
	base := s.org.Count(table)
	src := i
	if i >= base {
		src = i % base
	}
	row, err := s.org.Row(table, src)
	if err != nil || !changed {
		return row, err == nil, err
	}
	e := s.org.Entity(table)
	row[e.PrimaryIdAttribute] = s.org.ID(table, i)
	row["versionnumber"] = int64(9_000_000_000_000) + ch.stamp
	if _, ok := row["modifiedon"]; ok {
		row["modifiedon"] = changeTime(ch.stamp)
	}
	if i >= base {
		if _, ok := row["createdon"]; ok {
			row["createdon"] = changeTime(ch.stamp)
		}
	}
	if name, ok := row[e.PrimaryNameAttribute].(string); ok && i < base {
		row[e.PrimaryNameAttribute] = name + " (edited)"
	}
	return row, true, nil
}

// position parses the row index out of a primary key (the generator keeps
// it in the last 12 hex digits); deleted rows keep their position, which is
// what keyset paging resumes from.
func (s *Server) position(table, id string) (int, bool) {
	id = strings.ToLower(strings.Trim(id, "{}"))
	if len(id) != 36 {
		return 0, false
	}
	n, err := strconv.ParseInt(id[24:], 16, 64)
	if err != nil || n < 0 || int(n) >= s.count(table) || s.org.ID(table, int(n)) != id {
		return 0, false
	}
	return int(n), true
}

// lookup finds a live row by primary key.
func (s *Server) lookup(table, id string) (sampleorg.Row, bool, error) {
	i, ok := s.position(table, id)
	if !ok {
		return nil, false, nil
	}
	return s.rowAt(table, i)
}

// ---- delta queries (spec §8) ----

const deltaExpired = "Version stamp associated with the client has expired. Please perform a full sync."

func (s *Server) currentStamp() int64 {
	s.changes.mu.Lock()
	defer s.changes.mu.Unlock()
	return s.changes.stamp
}

// deltaToken renders <stamp>!<MM/dd/yyyy HH:mm:ss> like the real token.
func deltaToken(stamp int64, at time.Time) string {
	return fmt.Sprintf("%d!%s", stamp, at.UTC().Format("01/02/2006 15:04:05"))
}

func (s *Server) parseDeltaToken(tok string) (int64, error) {
	st, when, ok := strings.Cut(tok, "!")
	stamp, err := strconv.ParseInt(st, 10, 64)
	if !ok || err != nil {
		return 0, fmt.Errorf("The delta token '%s' is not valid.", tok)
	}
	at, err := time.Parse("01/02/2006 15:04:05", when)
	if err != nil {
		return 0, fmt.Errorf("The delta token '%s' is not valid.", tok)
	}
	s.changes.mu.Lock()
	expired := stamp < s.changes.minToken || stamp > s.changes.stamp
	s.changes.mu.Unlock()
	if expired || time.Since(at) > s.opt.DeltaTokenLifetime {
		return 0, errExpired
	}
	return stamp, nil
}

var errExpired = fmt.Errorf("%s", deltaExpired)

// deltaEntry is one row of a delta response.
type deltaEntry struct {
	index   int
	deleted bool
}

// deltaEntries lists the rows whose latest change lies in (since, upto]:
// upserts first, then deletes, each in change order (§8.2 point 5).
func (s *Server) deltaEntries(table string, since, upto int64) []deltaEntry {
	s.changes.mu.Lock()
	defer s.changes.mu.Unlock()
	tc := s.changes.tables[table]
	if tc == nil {
		return nil
	}
	var ups, dels []deltaEntry
	for p, ch := range tc.events {
		if ch.stamp <= since || ch.stamp > upto || tc.latest[ch.index] != p {
			continue
		}
		if ch.deleted {
			dels = append(dels, deltaEntry{ch.index, true})
		} else {
			ups = append(ups, deltaEntry{ch.index, false})
		}
	}
	return append(ups, dels...)
}
