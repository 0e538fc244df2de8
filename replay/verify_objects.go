package replay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// The read-back shapes hold every field verify compares; JSON null decodes
// to "" or 0, which is also how an unset staged value reads.
type vCompany struct {
	ID               ID             `json:"id"`
	CompanyID        string         `json:"company_id"`
	Name             string         `json:"name"`
	Website          string         `json:"website"`
	Industry         string         `json:"industry"`
	Size             int64          `json:"size"`
	RemoteCreatedAt  int64          `json:"remote_created_at"`
	CustomAttributes map[string]any `json:"custom_attributes"`
}

type vContact struct {
	ID               ID             `json:"id"`
	Role             string         `json:"role"`
	ExternalID       string         `json:"external_id"`
	Email            string         `json:"email"`
	Name             string         `json:"name"`
	Phone            string         `json:"phone"`
	SignedUpAt       int64          `json:"signed_up_at"`
	Unsubscribed     bool           `json:"unsubscribed_from_emails"`
	CustomAttributes map[string]any `json:"custom_attributes"`
	Companies        struct {
		Data []struct {
			ID ID `json:"id"`
		} `json:"data"`
	} `json:"companies"`
}

type vConversation struct {
	ID              ID              `json:"id"`
	CreatedAt       int64           `json:"created_at"`
	Title           string          `json:"title"`
	State           string          `json:"state"`
	AdminAssigneeID ID              `json:"admin_assignee_id"`
	TeamAssigneeID  ID              `json:"team_assignee_id"`
	Company         json.RawMessage `json:"company"`
	Source          struct {
		Body string `json:"body"`
	} `json:"source"`
	Contacts struct {
		Contacts []struct {
			ID ID `json:"id"`
		} `json:"contacts"`
	} `json:"contacts"`
	CustomAttributes map[string]any `json:"custom_attributes"`
	Parts            struct {
		Parts []Part `json:"conversation_parts"`
	} `json:"conversation_parts"`
}

func (v *verifier) get(ctx context.Context, path string, out any) error {
	return v.c.do(ctx, call{method: "GET", path: path, idempotent: true}, out)
}

// cmp collects the differing fields of one object and tallies every
// compared field for verify.csv.
type cmp struct {
	v      *verifier
	kind   string
	fields []string
	notes  []string
}

func (c *cmp) eq(field string, same bool) {
	c.v.tally(c.kind, field, !same)
	if !same {
		c.fields = append(c.fields, field)
	}
}

// attrs compares each staged custom attribute with Intercom's value of the
// same name; attributes Intercom holds beyond staging are not ours to judge.
func (c *cmp) attrs(staged json.RawMessage, got map[string]any) {
	var want map[string]any
	if len(staged) > 0 {
		_ = json.Unmarshal(staged, &want) // staging holds a JSON object (contracts §2)
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		c.eq("custom_attributes."+k, sameJSON(want[k], got[k]))
	}
}

func (c *cmp) verdict(sourceID, intercomID string) verdict {
	sym := VerifyEqual
	if len(c.fields) > 0 {
		sym = VerifyDiffer
	}
	return verdict{sym: sym, kind: c.kind, sourceID: sourceID, intercomID: intercomID, fields: c.fields,
		notes: c.notes}
}

// sameJSON compares two decoded JSON values by their encoding, so 1 and
// 1.0 agree and map order does not matter.
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// normWebsite ignores what Intercom may add to a website: a scheme, a
// trailing slash, letter case.
func normWebsite(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	return strings.TrimRight(s, "/")
}

// normPhone keeps digits and a leading plus: formatting is not a difference.
func normPhone(s string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		if (r >= '0' && r <= '9') || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// normBody is a message body as compared: the text without markup, entities
// decoded, whitespace collapsed. Intercom rewrites the HTML it is sent (it
// wraps plain text in <p>, adds classes and rel attributes, re-encodes
// entities), so only the text is stable between what we sent and what it
// shows.
func normBody(s string) string { return strings.Join(strings.Fields(htmlToText(s)), " ") }

// bodyDigest names a body in the report without showing it.
func bodyDigest(s string) string {
	sum := sha256.Sum256([]byte(normBody(s)))
	return hex.EncodeToString(sum[:6])
}

func (v *verifier) companies(ctx context.Context, sel *selection) error {
	return v.feed(ctx, func(submit func(task) error) error {
		return eachCompany(ctx, v.db, func(s stageCompany) error {
			if sel != nil && !sel.companies[s.SourceID] {
				return nil
			}
			return submit(func(ctx context.Context) []verdict { return []verdict{v.company(ctx, s)} })
		})
	})
}

func (v *verifier) company(ctx context.Context, s stageCompany) verdict {
	id, ok := v.ids.companies[s.SourceID]
	if !ok {
		return verdict{sym: VerifyMissing, kind: KindCompany, sourceID: s.SourceID}
	}
	var got vCompany
	if err := v.get(ctx, "/companies/"+escape(id), &got); err != nil {
		return failVerdict(KindCompany, s.SourceID, id, err)
	}
	c := &cmp{v: v, kind: KindCompany}
	c.eq("company_id", got.CompanyID == s.CompanyID)
	c.eq("name", strings.TrimSpace(got.Name) == strings.TrimSpace(s.Name))
	c.eq("website", normWebsite(got.Website) == normWebsite(s.Website))
	c.eq("industry", strings.TrimSpace(got.Industry) == strings.TrimSpace(s.Industry))
	c.eq("size", got.Size == s.Size)
	c.eq("remote_created_at", got.RemoteCreatedAt == s.RemoteCreatedAt)
	c.attrs(s.CustomAttributes, got.CustomAttributes)
	return c.verdict(s.SourceID, id)
}

func (v *verifier) contacts(ctx context.Context, sel *selection) error {
	return v.feed(ctx, func(submit func(task) error) error {
		return eachContact(ctx, v.db, func(s stageContact) error {
			if sel != nil && !sel.contacts[s.SourceID] {
				return nil
			}
			return submit(func(ctx context.Context) []verdict { return []verdict{v.contact(ctx, s)} })
		})
	})
}

// contact compares one contact. The e-mail is compared as Intercom matches
// it (trimmed, case-insensitive); the company link only when staging has
// one, since a contact may belong to companies that are not ours.
func (v *verifier) contact(ctx context.Context, s stageContact) verdict {
	id, ok := v.ids.contacts[s.SourceID]
	if !ok {
		return verdict{sym: VerifyMissing, kind: KindContact, sourceID: s.SourceID}
	}
	var got vContact
	if err := v.get(ctx, "/contacts/"+escape(id), &got); err != nil {
		return failVerdict(KindContact, s.SourceID, id, err)
	}
	role := s.Role
	if role == "" {
		role = "user" // replay's default
	}
	c := &cmp{v: v, kind: KindContact}
	c.eq("role", got.Role == role)
	c.eq("email", normEmail(got.Email) == normEmail(s.Email))
	c.eq("external_id", got.ExternalID == s.ExternalID)
	c.eq("name", strings.TrimSpace(got.Name) == strings.TrimSpace(s.Name))
	c.eq("phone", normPhone(got.Phone) == normPhone(s.Phone))
	c.eq("signed_up_at", got.SignedUpAt == s.SignedUpAt)
	c.eq("unsubscribed_from_emails", got.Unsubscribed == s.Unsubscribed)
	c.attrs(s.CustomAttributes, got.CustomAttributes)
	if s.CompanySourceID != "" {
		// TODO: Intercom lists at most 10 companies here; read
		// /contacts/{id}/companies for contacts with more.
		want := v.ids.companies[s.CompanySourceID]
		linked := false
		for _, co := range got.Companies.Data {
			linked = linked || (want != "" && string(co.ID) == want)
		}
		c.eq("company", linked)
	}
	return c.verdict(s.SourceID, id)
}
