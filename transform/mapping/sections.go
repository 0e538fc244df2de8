package mapping

const fileHeader = `# d2i mapping file: how this Dynamics 365 org's data lands in Intercom.
# Drafted by 'd2i map propose'; edit it, then seal it with 'd2i map confirm FILE'.
# transform and replay refuse a mapping whose seal no longer matches its content,
# so confirm again after every edit. Comments and layout are not sealed; values are.
`

type section struct {
	name    string
	comment string
	value   any
}

// sections lists the file's top-level keys in the order they are written,
// each with the comment that explains it to the person editing the file.
func (m *Mapping) sections() []section {
	out := []section{
		{"version", `Format of this file.`, map[string]any{"version": m.Version}},
		{"source", `The snapshot this mapping was drafted from (for the record; not checked).`,
			map[string]any{"source": m.Source}},
		{"data_attributes", `
			Custom Dataverse columns and the Intercom data attributes they become.
			contact -> contact, account -> company, incident -> conversation.
			name: letters, digits, space, _ and - only; unique across all models.
			data_type: string | integer | float | boolean | date (unix seconds). Picklists become
			strings through values (option code -> Intercom text; several choices joined with
			", "; a code without a value leaves the attribute off that object, with a note).
			Lookups carry the target's id; set column to _<name>_value__formatted for its name.
			enabled: false keeps a column out of Intercom (Intercom allows 250 per workspace).
			replay creates missing attributes, conversation ones through API version 2.16
			(2.14 cannot); one that exists with another type stops replay before it writes.`,
			map[string]any{"data_attributes": nonNil(m.DataAttributes)}},
		{"custom_tables", `
			The org's own tables (IsCustomEntity) and what becomes of their rows.
			mode: json_attribute gathers the rows of one parent into a JSON array held in
			the string data attribute name on its company or contact (model); link is the
			lookup naming the parent (an account, a contact, or a case whose company or
			contact is taken); columns are copied into each row's object; a parent whose
			JSON is longer than max_chars has its rows rejected, never truncated.
			skip: the rows are out of scope. note: not replayed yet, out of scope too.`,
			map[string]any{"custom_tables": nonNil(m.CustomTables)}},
		{"stamps", `
			Source ids written into every migrated object, so each can be traced back to
			Dynamics and found again when a replay is rerun. Not editable in this version.`,
			map[string]any{"stamps": nonNil(m.Stamps)}},
		{"contacts", `
			Dedupe: contacts whose first well-formed address among email_columns has the
			same dedupe_key become one Intercom user; the survivor is chosen in the order
			listed. lead_when: a contact without any well-formed address becomes a lead.`,
			map[string]any{"contacts": m.Contacts}},
		{"teams", `
			Queues become Intercom teams, matched to existing teams by exact name (the API
			cannot create teams). overrides pair a queue id with a differently named team.`,
			map[string]any{"teams": m.Teams}},
		{"admins", `
			Users (systemuser) become Intercom admins, matched by lower-cased email
			(internalemailaddress); the API cannot create admins. overrides pair a
			systemuser id with a different admin email.`,
			map[string]any{"admins": m.Admins}},
		{"attachments", `
			Attachments larger than max_bytes (Intercom documents no limit: this is our
			own cap). over_limit: split sends them in numbered parts of at most max_bytes
			(name.ext.part1of3, ...); list leaves them behind, listed in the channel-asset
			report.`,
			map[string]any{"attachments": m.Attachments}},
		{"taxonomy", `
			Subject and category trees deeper than max_depth (Intercom's collection nesting
			depth is undocumented; 3 is a working assumption). deeper: flatten joins the
			extra levels into one name ("Parent / Child"); tag keeps the deepest level
			allowed and tags items with the rest of the path.`,
			map[string]any{"taxonomy": m.Taxonomy}},
	}
	if m.Deletes != nil {
		// Written only when set, so that a file sealed before deletes
		// existed keeps its seal when rewritten.
		out = append(out, section{"deletes", `
			What a delta replay does in Intercom with objects deleted in Dynamics after an
			earlier replay wrote them (d2i snapshot --delta-from, transform, replay into the
			same log directory). keep leaves them; delete removes them (companies: Intercom
			archives); contacts may also be archive, the one deletion rollback can undo.
			Objects replay matched rather than created are never deleted.`,
			map[string]any{"deletes": m.Deletes}})
	}
	return out
}

// nonNil makes an empty list print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
