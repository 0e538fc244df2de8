package intercomtest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Contact is the emulator's record of a contact (user or lead).
type Contact struct {
	ID, Role, ExternalID, Email, Name, Phone, Avatar string
	SignedUpAt, LastSeenAt                           int64
	OwnerID                                          int64
	UnsubscribedFromEmails                           bool
	CustomAttributes                                 map[string]any
	CompanyIDs                                       []string // Intercom company ids attached
	CreatedAt, UpdatedAt                             int64
	Archived                                         bool
}

// Company is the emulator's record of a company.
type Company struct {
	ID, CompanyID, Name, Website, Industry, Plan string
	Size, MonthlySpend, RemoteCreatedAt          int64
	CustomAttributes                             map[string]any
	CreatedAt, UpdatedAt                         int64
}

// Conversation is the emulator's record of a conversation with its parts in order.
type Conversation struct {
	ID, Title, State       string
	ContactID, ContactRole string // the contact that started it (or was messaged)
	SourceAdminID          string // set when an admin's outbound message opened it
	Body, MessageID        string // the opening message (source)
	AdminAssigneeID        string
	TeamAssigneeID         string
	CompanyID              string
	Read                   bool
	SnoozedUntil           int64
	CreatedAt, UpdatedAt   int64
	CustomAttributes       map[string]any
	Parts                  []Part
}

// Part is one conversation part.
type Part struct {
	ID, PartType, Body   string
	AuthorType, AuthorID string // admin | user | lead | team
	AssignedToType       string // admin | team, for assignment parts
	AssignedToID         string
	Attachments          int
	Files                []File // attachment_files and attachment_urls as stored (attachments.go)
	CreatedAt, UpdatedAt int64
	NotifiedAt           int64
}

// Notification is one customer notification the real Intercom would have sent.
type Notification struct {
	Seq            int // request number (from 1) that caused it
	RequestID      string
	Method, Path   string
	Version        string
	ConversationID string
	PartID         string
	ContactIDs     []string
	Reason         string // e.g. "admin comment reply without skip_notifications"
}

// DataAttributeInfo is a custom data attribute as the emulator holds it.
type DataAttributeInfo struct {
	ID          int64
	Model, Name string
	DataType    string // as created: string | integer | float | boolean | date | datetime | options | ...
	Options     []string
	Description string
	Archived    bool
	CreatedAt   int64
	UpdatedAt   int64
}

// searchVersion is what search sees of an object from a given time on.
type searchVersion struct {
	at     time.Time
	fields map[string]any // nil = deleted
}

type state struct {
	contacts      map[string]*Contact
	companies     map[string]*Company
	conversations map[string]*Conversation
	attrs         map[int64]*DataAttributeInfo
	admins        []Admin
	teams         []Team
	tags          tagStore
	help          helpCenterStore
	notes         noteStore

	contactIndex map[string][]searchVersion
	convIndex    map[string][]searchVersion

	notifications []Notification
	nextHex       uint64
	nextConv      int64
	nextMessage   int64
	nextPart      int64
	nextAttr      int64
}

func newState(opts Options, now time.Time) *state {
	st := &state{
		contacts: map[string]*Contact{}, companies: map[string]*Company{},
		conversations: map[string]*Conversation{}, attrs: map[int64]*DataAttributeInfo{},
		admins: slices.Clone(opts.Admins), teams: slices.Clone(opts.Teams),
		contactIndex: map[string][]searchVersion{}, convIndex: map[string][]searchVersion{},
		nextHex: 0x1bb69f9f2193ba00, nextConv: 1000, nextMessage: 403918000, nextPart: 100,
		nextAttr: 15000,
	}
	for _, a := range opts.DataAttributes {
		st.nextAttr++
		st.attrs[st.nextAttr] = &DataAttributeInfo{ID: st.nextAttr, Model: a.Model, Name: a.Name,
			DataType: a.DataType, Options: slices.Clone(a.Options), CreatedAt: now.Unix(),
			UpdatedAt: now.Unix()}
	}
	return st
}

// hexID returns a 24-hex id as Intercom gives contacts and companies.
func (st *state) hexID(now time.Time) string {
	st.nextHex++
	return fmt.Sprintf("%08x%016x", uint32(now.Unix()), st.nextHex)
}

func (st *state) convID() string    { st.nextConv++; return fmt.Sprint(st.nextConv) }
func (st *state) messageID() string { st.nextMessage++; return fmt.Sprint(st.nextMessage) }
func (st *state) partID() string    { st.nextPart++; return fmt.Sprint(st.nextPart) }

func (st *state) admin(id string) (Admin, bool) {
	for _, a := range st.admins {
		if a.ID == id {
			return a, true
		}
	}
	return Admin{}, false
}

func (st *state) team(id string) (Team, bool) {
	for _, t := range st.teams {
		if t.ID == id {
			return t, true
		}
	}
	return Team{}, false
}

// index records what search will show of an object from at on. Versions already
// superseded by one visible at now are dropped, so memory stays bounded by the lag.
func index(ix map[string][]searchVersion, id string, now, at time.Time, fields map[string]any) {
	vs := ix[id]
	keep := 0
	for i, v := range vs {
		if !v.at.After(now) {
			keep = i
		}
	}
	ix[id] = append(vs[keep:], searchVersion{at: at, fields: fields})
}

// visible returns, per id, the newest version search may show at now.
func visible(ix map[string][]searchVersion, now time.Time) []map[string]any {
	var out []map[string]any
	for _, id := range slices.Sorted(maps.Keys(ix)) {
		vs := ix[id]
		var cur map[string]any
		keep := 0
		for i, v := range vs {
			if !v.at.After(now) {
				cur, keep = v.fields, i
			}
		}
		ix[id] = vs[keep:] // older versions can never be shown again
		if cur != nil {
			out = append(out, cur)
		} else if len(vs) == keep+1 && !vs[keep].at.After(now) {
			delete(ix, id) // deleted, and the index has caught up
		}
	}
	return out
}

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// ---- read helpers for tests ----

// Counts returns how many live objects the emulator holds, by kind: contact, company,
// contact_company, conversation, conversation_part, data_attribute (live custom ones).
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := map[string]int{"contact": len(s.st.contacts), "company": len(s.st.companies),
		"conversation": len(s.st.conversations)}
	for _, ct := range s.st.contacts {
		c["contact_company"] += len(ct.CompanyIDs)
	}
	for _, cv := range s.st.conversations {
		c["conversation_part"] += len(cv.Parts)
	}
	for _, a := range s.st.attrs {
		if !a.Archived {
			c["data_attribute"]++
		}
	}
	return c
}

// Contacts returns copies of all contacts, ordered by id.
func (s *Server) Contacts() []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Contact
	for _, id := range slices.Sorted(maps.Keys(s.st.contacts)) {
		c := *s.st.contacts[id]
		c.CustomAttributes = maps.Clone(c.CustomAttributes)
		c.CompanyIDs = slices.Clone(c.CompanyIDs)
		out = append(out, c)
	}
	return out
}

// Companies returns copies of all companies, ordered by id.
func (s *Server) Companies() []Company {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Company
	for _, id := range slices.Sorted(maps.Keys(s.st.companies)) {
		c := *s.st.companies[id]
		c.CustomAttributes = maps.Clone(c.CustomAttributes)
		out = append(out, c)
	}
	return out
}

// Conversations returns copies of all conversations with their parts, ordered by id.
func (s *Server) Conversations() []Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Conversation
	for _, id := range slices.SortedFunc(maps.Keys(s.st.conversations), byNumber) {
		out = append(out, copyConversation(s.st.conversations[id]))
	}
	return out
}

// Conversation returns one conversation with its parts in order.
func (s *Server) Conversation(id string) (Conversation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.st.conversations[id]
	if !ok {
		return Conversation{}, false
	}
	return copyConversation(c), true
}

// DataAttributes returns all custom data attributes, archived ones included, by id.
func (s *Server) DataAttributes() []DataAttributeInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []DataAttributeInfo
	for _, id := range slices.Sorted(maps.Keys(s.st.attrs)) {
		a := *s.st.attrs[id]
		a.Options = slices.Clone(a.Options)
		out = append(out, a)
	}
	return out
}

// Notifications returns how many customer notifications the real Intercom would have sent.
func (s *Server) Notifications() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.notifications)
}

// NotificationLog lists the requests that caused notifications, in order.
func (s *Server) NotificationLog() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.notifications)
}

// Requests returns how many authenticated requests the server has counted.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

func copyConversation(c *Conversation) Conversation {
	out := *c
	out.CustomAttributes = maps.Clone(c.CustomAttributes)
	out.Parts = slices.Clone(c.Parts)
	return out
}

func byNumber(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}
