package mapping

import (
	"strconv"
	"strings"
)

// reservedNames are Intercom's own attribute names on contacts, companies and
// conversations; a custom attribute of the same name would be refused or
// confusing, so such a column gets a "dynamics_" prefix.
var reservedNames = set("id", "type", "name", "email", "phone", "role", "external_id", "user_id",
	"company_id", "created_at", "updated_at", "signed_up_at", "last_seen_at", "owner_id", "avatar",
	"website", "industry", "plan", "size", "monthly_spend", "session_count", "user_count", "tags",
	"title", "state", "priority", "open", "read", "source", "location", "language", "unsubscribed_from_emails")

// maxNameLen keeps names readable in Intercom's UI.
// TODO: confirm Intercom's limit on data attribute name length; none is documented.
const maxNameLen = 190

// namer hands out names that are valid for Intercom and unique across every
// model (Intercom refuses a name used by another model too).
type namer struct{ used map[string]bool }

func newNamer(stamps []Stamp) *namer {
	n := &namer{used: map[string]bool{}}
	for _, s := range stamps {
		if name, ok := strings.CutPrefix(s.Field, "custom_attributes."); ok {
			n.used[strings.ToLower(name)] = true
		}
	}
	return n
}

// claim proposes a name for a column: its logical name with invalid
// characters replaced, suffixed with the model and then a number on clashes.
func (n *namer) claim(logicalName, model string) string {
	base := sanitize(logicalName)
	if reservedNames[strings.ToLower(base)] {
		base = "dynamics_" + base
	}
	candidates := []string{base, base + "_" + model}
	for _, c := range candidates {
		if !n.used[strings.ToLower(c)] {
			n.used[strings.ToLower(c)] = true
			return c
		}
	}
	for i := 2; ; i++ {
		c := base + "_" + model + "_" + strconv.Itoa(i)
		if !n.used[strings.ToLower(c)] {
			n.used[strings.ToLower(c)] = true
			return c
		}
	}
}

// sanitize keeps [A-Za-z0-9 _-] and turns anything else into "_".
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == ' ', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.TrimSpace(b.String())
	if len(out) > maxNameLen {
		out = out[:maxNameLen]
	}
	if out == "" {
		out = "attribute"
	}
	return out
}
