package intercomtest

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Working set of name characters (spec §9: the documented message speaks of alphanumerics,
// currency symbols and hyphens; spaces are shown accepted, underscores are unverified).
var attrName = regexp.MustCompile(`^[A-Za-z0-9 _-]+$`)

var modelNoun = map[string]string{"contact": "people", "company": "company", "conversation": "conversation"}

func (s *Server) attrByName(model, name string) *DataAttributeInfo {
	for _, a := range s.st.attrs {
		if a.Model == model && a.Name == name {
			return a
		}
	}
	return nil
}

func dataAttributeJSON(a *DataAttributeInfo, adminID string) map[string]any {
	m := map[string]any{"type": "data_attribute", "id": a.ID, "model": a.Model, "name": a.Name,
		"full_name": "custom_attributes." + a.Name, "label": a.Name, "description": a.Description,
		"data_type": a.DataType, "api_writable": true, "ui_writable": true,
		"messenger_writable": false, "custom": true, "archived": a.Archived,
		"admin_id": adminID, "created_at": a.CreatedAt, "updated_at": a.UpdatedAt}
	if a.DataType == "options" || len(a.Options) > 0 {
		// The response schema has no "options" type: list attributes come back as strings
		// with plain-string options (spec §9).
		m["data_type"] = "string"
		m["options"] = slices.Clone(a.Options)
	}
	return m
}

func (s *Server) adminID() string {
	if len(s.st.admins) == 0 {
		return ""
	}
	return s.st.admins[0].ID
}

// listDataAttributes answers GET /data_attributes?model=&include_archived=.
func (s *Server) listDataAttributes(c *call) (any, *apiError) {
	q := c.r.URL.Query()
	model := q.Get("model")
	if model == "conversation" && c.version >= "2.16" {
		return nil, errf(http.StatusUnprocessableEntity, "parameter_invalid",
			"model=conversation is no longer supported. Use GET /conversations/attributes instead")
	}
	archived := q.Get("include_archived") == "true"
	out := []any{}
	for _, a := range s.sortedAttrs() {
		if (model == "" && a.Model == "conversation" && c.version >= "2.16") ||
			(model != "" && a.Model != model) || (a.Archived && !archived) {
			continue
		}
		out = append(out, dataAttributeJSON(a, s.adminID()))
	}
	return map[string]any{"type": "list", "data": out}, nil
}

// sortedAttrs returns the attribute records ordered by id; s.mu must be held.
func (s *Server) sortedAttrs() []*DataAttributeInfo {
	var out []*DataAttributeInfo
	for _, a := range s.st.attrs {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *DataAttributeInfo) int { return int(a.ID - b.ID) })
	return out
}

// createDataAttribute answers POST /data_attributes (contact and company only).
func (s *Server) createDataAttribute(c *call) (any, *apiError) {
	name, model, dataType := str(c.body, "name"), str(c.body, "model"), str(c.body, "data_type")
	if model != "contact" && model != "company" {
		return nil, invalid("The Data Attribute model field must be either contact or company")
	}
	switch dataType {
	case "string", "integer", "float", "boolean", "date", "datetime", "options":
	default:
		return nil, invalid("Data Type isn't an option")
	}
	opts, e := optionValues(c.body["options"])
	if e != nil {
		return nil, e
	}
	if dataType == "options" && len(opts) < 2 {
		// TODO: the real text for too few list options is undocumented (spec §9).
		return nil, invalid("List attributes need at least two options")
	}
	a, e := s.newAttribute(c, model, name, dataType, opts)
	if e != nil {
		return nil, e
	}
	a.Description = str(c.body, "description")
	return dataAttributeJSON(a, s.adminID()), nil
}

// newAttribute checks name rules, clashes and the workspace cap, then stores the attribute.
func (s *Server) newAttribute(c *call, model, name, dataType string,
	opts []string) (*DataAttributeInfo, *apiError) {
	if !attrName.MatchString(name) {
		return nil, invalid("Name must only contain alphanumeric characters, currency symbols, and hyphens")
	}
	live := 0
	for _, a := range s.st.attrs {
		// Archived names stay reserved (spec §20, undocumented): they clash too.
		if strings.EqualFold(a.Name, name) {
			return nil, invalid("You already have '%s' in your %s data. "+
				"To save this as new %s data, use a different name.", name, modelNoun[a.Model], modelNoun[model])
		}
		if !a.Archived && a.Model != "conversation" {
			live++
		}
	}
	if model != "conversation" && live >= s.opts.MaxDataAttributes {
		// TODO: the real message for the 250-attribute cap is undocumented.
		return nil, invalid("You have reached the limit of %d custom data attributes", s.opts.MaxDataAttributes)
	}
	s.st.nextAttr++
	a := &DataAttributeInfo{ID: s.st.nextAttr, Model: model, Name: name, DataType: dataType,
		Options: opts, CreatedAt: c.now.Unix(), UpdatedAt: c.now.Unix()}
	s.st.attrs[a.ID] = a
	return a, nil
}

// optionValues reads [{"value":"a"}] (2.14 form), ["a"] (2.11 form) or [{"label":"a"}] (2.16).
func optionValues(v any) ([]string, *apiError) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, invalid("Options isn't an array")
	}
	var out []string
	for _, o := range list {
		switch o := o.(type) {
		case string:
			out = append(out, o)
		case map[string]any:
			out = append(out, str(o, "value")+str(o, "label"))
		}
	}
	return out, nil
}

// updateDataAttribute answers PUT /data_attributes/{id}: archive, description, options.
func (s *Server) updateDataAttribute(c *call) (any, *apiError) {
	id, _ := strconv.ParseInt(c.r.PathValue("data_attribute_id"), 10, 64)
	a := s.st.attrs[id]
	if a == nil || a.Model == "conversation" {
		return nil, errf(http.StatusNotFound, "field_not_found", "We couldn't find that data attribute to update")
	}
	if v, ok := c.body["archived"].(bool); ok {
		// TODO: 422 data_invalid when the attribute is used by a segment or rule.
		a.Archived = v
	}
	if has(c.body, "description") {
		a.Description = str(c.body, "description")
	}
	if has(c.body, "options") {
		opts, e := optionValues(c.body["options"])
		if e != nil {
			return nil, e
		}
		a.Options = opts
	}
	a.UpdatedAt = c.now.Unix()
	return dataAttributeJSON(a, s.adminID()), nil
}

// ---- 2.16 conversation attributes ----

func conversationAttributeJSON(a *DataAttributeInfo, adminID string) map[string]any {
	m := map[string]any{"type": "conversation_attribute", "id": a.ID, "name": a.Name,
		"description": a.Description, "data_type": a.DataType, "archived": a.Archived,
		"required": false, "visible_to_team_ids": []any{}, "admin_id": adminID,
		"created_at": a.CreatedAt, "updated_at": a.UpdatedAt}
	if a.DataType == "list" {
		opts := []any{}
		for i, o := range a.Options {
			opts = append(opts, map[string]any{"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", a.ID*100+int64(i)),
				"label": o, "archived": false})
		}
		m["options"] = opts
	}
	return m
}

func (s *Server) listConversationAttributes(c *call) (any, *apiError) {
	archived := c.r.URL.Query().Get("include_archived") == "true"
	out := []any{}
	for _, a := range s.sortedAttrs() {
		if a.Model == "conversation" && (archived || !a.Archived) {
			out = append(out, conversationAttributeJSON(a, s.adminID()))
		}
	}
	return map[string]any{"type": "list", "data": out}, nil
}

func (s *Server) createConversationAttribute(c *call) (any, *apiError) {
	dataType := str(c.body, "data_type")
	switch dataType {
	case "string", "integer", "list", "decimal", "boolean", "datetime", "relationship", "files":
	default:
		return nil, errf(http.StatusUnprocessableEntity, "parameter_invalid", "Data type isn't an option")
	}
	opts, e := optionValues(c.body["options"])
	if e != nil {
		return nil, e
	}
	a, e := s.newAttribute(c, "conversation", str(c.body, "name"), dataType, opts)
	if e != nil {
		return nil, e
	}
	a.Description = str(c.body, "description")
	return conversationAttributeJSON(a, s.adminID()), nil
}

// archiveConversationAttribute answers DELETE /conversations/attributes/{id}, a soft delete.
func (s *Server) archiveConversationAttribute(c *call) (any, *apiError) {
	id, _ := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	a := s.st.attrs[id]
	if a == nil || a.Model != "conversation" {
		return nil, errf(http.StatusNotFound, "conversation_attribute_not_found",
			"Conversation attribute not found")
	}
	a.Archived, a.UpdatedAt = true, c.now.Unix()
	return conversationAttributeJSON(a, s.adminID()), nil
}

// ---- custom attribute values on objects ----

// checkCustomAttributes verifies that every key exists as a live attribute of model and
// that its value has the attribute's type.
func (s *Server) checkCustomAttributes(model string, ca map[string]any) *apiError {
	for k, v := range ca {
		a := s.attrByName(model, k)
		if a == nil || a.Archived {
			if model == "conversation" {
				return invalid("Conversation attribute '%s' does not exist", k)
			}
			// TODO: the exact text for an unknown contact/company attribute is undocumented.
			return invalid("Custom attribute '%s' does not exist", k)
		}
		if !valueFits(a, v) {
			return invalid("Custom attribute '%s' must be of type %s", k, a.DataType)
		}
	}
	return nil
}

func valueFits(a *DataAttributeInfo, v any) bool {
	if v == nil {
		return true
	}
	switch a.DataType {
	case "string":
		_, ok := v.(string)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	case "float", "decimal":
		_, ok := v.(float64)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "date", "datetime":
		f, ok := v.(float64)
		_, isStr := v.(string)
		return (ok && f == math.Trunc(f)) || (isStr && a.Model == "conversation")
	case "options", "list":
		sv, ok := v.(string)
		return ok && (len(a.Options) == 0 || slices.Contains(a.Options, sv))
	}
	return true
}
