package intercomtest

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Search (spec §6): a filter {field, operator, value} or a group {operator: AND|OR,
// value: [...]}, at most two levels and 15 filters per group. Results come from what the
// index shows after SearchLag, not from the live objects.
// TODO: dates compare to the second, not by calendar day (spec §6 leaves this open).

type matcher func(fields map[string]any) bool

var contactSearchFields = map[string]bool{"id": true, "role": true, "email": true,
	"external_id": true, "name": true, "phone": true, "created_at": true, "updated_at": true,
	"signed_up_at": true, "last_seen_at": true, "email_domain": true}

var conversationSearchFields = map[string]bool{"id": true, "created_at": true,
	"updated_at": true, "state": true, "open": true, "read": true, "title": true,
	"contact_ids": true, "source.body": true, "source.author.id": true,
	"admin_assignee_id": true, "team_assignee_id": true}

// parseQuery builds a matcher; allowed says whether a field may be searched.
func parseQuery(q any, level int, allowed func(string) bool) (matcher, *apiError) {
	m, ok := q.(map[string]any)
	if !ok {
		return nil, invalid("query must be an object")
	}
	if has(m, "field") {
		return parseFilter(m, allowed)
	}
	if level >= 2 {
		return nil, invalid("Search queries can be nested at most 2 levels deep")
	}
	op := str(m, "operator")
	items, _ := m["value"].([]any)
	if (op != "AND" && op != "OR") || len(items) == 0 {
		return nil, invalid("A group needs operator AND or OR and a non-empty value list")
	}
	if len(items) > 15 {
		return nil, invalid("A search group can hold at most 15 filters")
	}
	var subs []matcher
	for _, it := range items {
		sub, e := parseQuery(it, level+1, allowed)
		if e != nil {
			return nil, e
		}
		subs = append(subs, sub)
	}
	return func(f map[string]any) bool {
		for _, sub := range subs {
			if sub(f) != (op == "AND") {
				return op != "AND"
			}
		}
		return op == "AND"
	}, nil
}

func parseFilter(m map[string]any, allowed func(string) bool) (matcher, *apiError) {
	field, op, want := str(m, "field"), str(m, "operator"), m["value"]
	if !allowed(field) {
		return nil, invalid("'%s' is not a searchable field", field)
	}
	switch op {
	case "=", "!=", "IN", "NIN", "<", ">", "<=", ">=", "~", "!~", "^", "$":
	default:
		return nil, invalid("'%s' is not a valid operator", op)
	}
	return func(f map[string]any) bool { return matchValue(f[field], op, want) }, nil
}

func matchValue(have any, op string, want any) bool {
	if list, ok := have.([]any); ok { // contact_ids: a filter on any element
		switch op {
		case "!=":
			return !slices.ContainsFunc(list, func(h any) bool { return equal(h, want) })
		case "NIN":
			return !slices.ContainsFunc(list, func(h any) bool { return matchValue(h, "IN", want) })
		}
		return slices.ContainsFunc(list, func(h any) bool { return matchValue(h, op, want) })
	}
	switch op {
	case "IN", "NIN":
		vals, _ := want.([]any)
		in := slices.ContainsFunc(vals, func(v any) bool { return equal(have, v) })
		return in == (op == "IN")
	case "=":
		return equal(have, want)
	case "!=":
		return !equal(have, want)
	case "<", ">", "<=", ">=":
		return compareNum(have, op, want)
	}
	h, w := strings.ToLower(fmt.Sprint(have)), strings.ToLower(fmt.Sprint(want))
	switch op {
	case "~":
		return strings.Contains(h, w)
	case "!~":
		return !strings.Contains(h, w)
	case "^":
		return strings.HasPrefix(h, w)
	case "$":
		return strings.HasSuffix(h, w)
	}
	return false
}

func equal(have, want any) bool {
	if have == nil || have == "" {
		return want == nil || want == ""
	}
	hf, hok := toFloat(have)
	wf, wok := toFloat(want)
	if hok && wok {
		return hf == wf
	}
	return strings.EqualFold(fmt.Sprint(have), fmt.Sprint(want))
}

func compareNum(have any, op string, want any) bool {
	h, ok1 := toFloat(have)
	w, ok2 := toFloat(want)
	if !ok1 || !ok2 {
		return false
	}
	switch op {
	case "<":
		return h < w
	case ">":
		return h > w
	case "<=":
		return h <= w
	}
	return h >= w
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	}
	return 0, false
}

// page cuts hits by the body's pagination {per_page, starting_after}.
func page(body map[string]any, hits []map[string]any,
	defaultPer int) ([]map[string]any, map[string]any, *apiError) {
	p := obj(body, "pagination")
	per := defaultPer
	if n, ok := num(p, "per_page"); ok {
		per = int(n)
	}
	if per < 1 || per > 150 {
		return nil, nil, invalid("per_page must be between 1 and 150")
	}
	offset := 0
	if cur := str(p, "starting_after"); cur != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cur)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		if err != nil || err2 != nil || n < 0 {
			return nil, nil, invalid("starting_after is not a valid cursor")
		}
		offset = n
	}
	total := len(hits)
	end := min(offset+per, total)
	pages := map[string]any{"type": "pages", "page": offset/per + 1, "per_page": per,
		"total_pages": (total + per - 1) / per}
	if end < total {
		pages["next"] = map[string]any{"page": offset/per + 2,
			"starting_after": base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(end)))}
	}
	if offset > total {
		offset = total
	}
	return hits[offset:end], pages, nil
}

// searchContacts answers POST /contacts/search.
func (s *Server) searchContacts(c *call) (any, *apiError) {
	match, e := parseQuery(c.body["query"], 0, func(f string) bool {
		return contactSearchFields[f] || strings.HasPrefix(f, "custom_attributes.")
	})
	if e != nil {
		return nil, e
	}
	var hits []map[string]any
	for _, f := range visible(s.st.contactIndex, c.now) {
		if match(f) {
			hits = append(hits, f)
		}
	}
	shown, pages, e := page(c.body, hits, 50)
	if e != nil {
		return nil, e
	}
	data := []any{}
	for _, f := range shown {
		if ct := s.st.contacts[str(f, "id")]; ct != nil {
			data = append(data, contactJSON(ct))
		} else { // deleted, but the index has not caught up
			data = append(data, map[string]any{"type": "contact", "id": f["id"], "role": f["role"],
				"email": nullable(str(f, "email")), "external_id": nullable(str(f, "external_id"))})
		}
	}
	return map[string]any{"type": "list", "data": data, "total_count": len(hits), "pages": pages}, nil
}

// searchConversations answers POST /conversations/search.
func (s *Server) searchConversations(c *call) (any, *apiError) {
	match, e := parseQuery(c.body["query"], 0, func(f string) bool {
		return conversationSearchFields[f] ||
			(s.opts.ConversationSearchCustomAttributes && strings.HasPrefix(f, "custom_attributes."))
	})
	if e != nil {
		return nil, e
	}
	var hits []map[string]any
	for _, f := range visible(s.st.convIndex, c.now) {
		if match(f) {
			hits = append(hits, f)
		}
	}
	shown, pages, e := page(c.body, hits, 20)
	if e != nil {
		return nil, e
	}
	data := []any{}
	for _, f := range shown {
		if cv := s.st.conversations[str(f, "id")]; cv != nil {
			data = append(data, s.conversationJSON(cv, nil))
		} else {
			data = append(data, map[string]any{"type": "conversation", "id": f["id"]})
		}
	}
	return map[string]any{"type": "conversation.list", "conversations": data,
		"total_count": len(hits), "pages": pages}, nil
}
