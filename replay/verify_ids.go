package replay

import (
	"container/heap"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"strings"
)

// idMaps maps staged source ids to Intercom ids. Objects come from the
// write logs, read the way a resuming replay reads them (an undone write is
// not mapped); admins and teams are matched again, as replay matches them.
type idMaps struct {
	companies     map[string]string
	contacts      map[string]string
	conversations map[string]string
	parts         map[string]string
	notes         map[string]string // phonecall source_id -> note id
	admins        map[string]string // systemuser source_id -> admin id
	teams         map[string]string // queue source_id -> team id
}

// writtenOps names the op step whose outcome carries each kind's Intercom id.
var writtenOps = map[string]string{
	KindCompany:          "upsert",
	KindContact:          "create",
	KindConversation:     "create",
	KindConversationPart: "create",
	KindContactNote:      "create",
}

func readIDMaps(dir string) (*idMaps, error) {
	ps, err := loadPrior(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	m := &idMaps{companies: map[string]string{}, contacts: map[string]string{},
		conversations: map[string]string{}, parts: map[string]string{}, notes: map[string]string{}, admins: map[string]string{},
		teams: map[string]string{}}
	byKind := map[string]map[string]string{KindCompany: m.companies, KindContact: m.contacts,
		KindConversation: m.conversations, KindConversationPart: m.parts, KindContactNote: m.notes}
	for key, st := range ps {
		if !st.done || st.intercomID == "" {
			continue
		}
		kind, rest, _ := strings.Cut(key, ":")
		i := strings.LastIndexByte(rest, ':')
		if i < 0 || writtenOps[kind] != rest[i+1:] {
			continue
		}
		byKind[kind][rest[:i]] = st.intercomID
	}
	return m, nil
}

// matchPeople matches staged admins by e-mail and teams by name, as replay
// does, so that assignees and part authors can be compared.
func (m *idMaps) matchPeople(ctx context.Context, db *sql.DB, c *Client) error {
	sAdmins, err := readAdmins(ctx, db)
	if err != nil {
		return err
	}
	sTeams, err := readTeams(ctx, db)
	if err != nil {
		return err
	}
	if len(sAdmins) > 0 {
		admins, err := c.ListAdmins(ctx)
		if err != nil {
			return fmt.Errorf("list admins: %w", err)
		}
		byEmail := map[string]string{}
		for _, a := range admins {
			byEmail[normEmail(a.Email)] = string(a.ID)
		}
		for _, a := range sAdmins {
			if id, ok := byEmail[normEmail(a.Email)]; ok && a.Email != "" {
				m.admins[a.SourceID] = id
			}
		}
	}
	if len(sTeams) > 0 {
		teams, err := c.ListTeams(ctx)
		if err != nil {
			return fmt.Errorf("list teams: %w", err)
		}
		byName := map[string]string{}
		for _, t := range teams {
			byName[strings.TrimSpace(t.Name)] = string(t.ID)
		}
		for _, t := range sTeams {
			if id, ok := byName[strings.TrimSpace(t.Name)]; ok {
				m.teams[t.SourceID] = id
			}
		}
	}
	return nil
}

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// selection is what a sample checks: the chosen conversations and the
// contacts and companies they depend on. nil means everything.
type selection struct {
	conversations map[string]bool
	contacts      map[string]bool
	companies     map[string]bool
}

func (s *selection) has(set map[string]bool, id string) bool { return s == nil || set[id] }

// sampleConversations picks n conversations: those whose hash of (seed,
// source_id) is smallest. The pick depends on the seed and the ids only,
// not on row order, and needs memory for n ids.
func sampleConversations(ctx context.Context, db *sql.DB, n int, seed int64) (*selection, error) {
	h := &rankHeap{}
	err := scanRows(ctx, db, "stage.conversations", `select source_id from stage.conversations`,
		func(scan func(...any) error) error {
			var id string
			if err := scan(ns{&id}); err != nil {
				return err
			}
			r := sampleRank(seed, id)
			if h.Len() < n {
				heap.Push(h, ranked{r, id})
			} else if r < (*h)[0].rank {
				(*h)[0] = ranked{r, id}
				heap.Fix(h, 0)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	sel := &selection{conversations: map[string]bool{}, contacts: map[string]bool{},
		companies: map[string]bool{}}
	for _, r := range *h {
		sel.conversations[r.id] = true
	}
	return sel, sel.addDependencies(ctx, db)
}

// addDependencies adds the conversations' contacts (starter and part
// authors) and companies (the conversation's and its contacts').
func (s *selection) addDependencies(ctx context.Context, db *sql.DB) error {
	pr := newPartReader(db)
	err := eachConversation(ctx, db, func(c stageConversation) error {
		if !s.conversations[c.SourceID] {
			return nil
		}
		s.addID(s.contacts, c.ContactSourceID)
		s.addID(s.companies, c.CompanySourceID)
		parts, err := pr.read(ctx, c.SourceID)
		for _, p := range parts {
			s.addID(s.contacts, p.ContactSourceID)
		}
		return err
	})
	if err != nil {
		return err
	}
	return eachContact(ctx, db, func(c stageContact) error {
		if s.contacts[c.SourceID] {
			s.addID(s.companies, c.CompanySourceID)
		}
		return nil
	})
}

func (s *selection) addID(set map[string]bool, id string) {
	if id != "" {
		set[id] = true
	}
}

func sampleRank(seed int64, id string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(id))
	return h.Sum64()
}

type ranked struct {
	rank uint64
	id   string
}

// rankHeap is a max-heap on rank, so the largest kept rank is evicted first.
type rankHeap []ranked

func (h rankHeap) Len() int { return len(h) }
func (h rankHeap) Less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank > h[j].rank
	}
	return h[i].id > h[j].id
}
func (h rankHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *rankHeap) Push(x any)   { *h = append(*h, x.(ranked)) }
func (h *rankHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
