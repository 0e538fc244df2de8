package intercomtest

import (
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// Loosening relaxes one known defect of Intercom's published OpenAPI description
// (docs/spec intercom-api.md §2 and its fact-check log). This is the only place the
// request check is loosened; each entry fails to load if the defect is no longer there,
// so a fixed description makes the entry's removal visible.
type Loosening struct {
	Name   string
	Reason string
	apply  func(doc *openapi3.T) error
}

// Loosenings is the one list of relaxations applied to both embedded descriptions.
var Loosenings = []Loosening{
	{
		Name: "create_conversation_request.from.id has no uuid format",
		Reason: "from.id is a 24-hex Intercom contact id (minLength/maxLength 24), which " +
			"can never be a uuid; a validator that checks formats would reject every real id " +
			"(spec §2 and §10.1).",
		apply: func(doc *openapi3.T) error {
			from, err := property(doc, "create_conversation_request", "from")
			if err != nil {
				return err
			}
			id := from.Properties["id"]
			if id == nil || id.Value == nil || id.Value.Format != "uuid" {
				return fmt.Errorf("from.id no longer has format uuid")
			}
			id.Value.Format = ""
			return nil
		},
	},
	{
		Name: "company custom_attributes values may be any JSON scalar",
		Reason: "create_or_update_company_request types custom attribute values as strings " +
			"only, yet integer, float and boolean company attributes exist and the schema's " +
			"own example sends a boolean (spec §8, fact-check 20).",
		apply: func(doc *openapi3.T) error {
			ca, err := property(doc, "create_or_update_company_request", "custom_attributes")
			if err != nil {
				return err
			}
			ap := ca.AdditionalProperties.Schema
			if ap == nil || ap.Value == nil || !ap.Value.Type.Is("string") {
				return fmt.Errorf("company custom_attributes values are no longer string-only")
			}
			ca.AdditionalProperties.Schema = scalarSchema()
			return nil
		},
	},
	{
		Name: "conversation custom_attributes values may be booleans and decimals",
		Reason: "the custom_attributes schema used by PUT /conversations/{id} has an anyOf " +
			"without boolean or number branches although boolean and decimal conversation " +
			"attributes exist and its own example sends true and 155.5 (spec §10.4, fact-check 27).",
		apply: func(doc *openapi3.T) error {
			ref := doc.Components.Schemas["custom_attributes"]
			if ref == nil || ref.Value == nil || ref.Value.AdditionalProperties.Schema == nil {
				return fmt.Errorf("components.schemas.custom_attributes not found")
			}
			ap := ref.Value.AdditionalProperties.Schema.Value
			if len(ap.AnyOf) == 0 {
				return fmt.Errorf("custom_attributes values no longer use anyOf")
			}
			for _, s := range ap.AnyOf {
				if s.Value != nil && (s.Value.Type.Is("boolean") || s.Value.Type.Is("number")) {
					return fmt.Errorf("custom_attributes anyOf already allows %v", s.Value.Type)
				}
			}
			ap.AnyOf = append(ap.AnyOf,
				openapi3.NewSchemaRef("", openapi3.NewBoolSchema()),
				openapi3.NewSchemaRef("", openapi3.NewFloat64Schema()))
			return nil
		},
	},
	{
		Name: "POST /tags body: one branch per body shape",
		Reason: "the request is a oneOf of create/rename, tag companies, untag companies and " +
			"tag users with no additionalProperties: false, so {name,companies} and {name,users} " +
			"match several branches and no valid tagging body passes (spec §15, fact-check 32). " +
			"The branches are made strict and the two company ones, which differ only in an " +
			"optional untag flag, are one, so that each shape matches exactly one branch.",
		apply: strictTagBranches,
	},
	{
		Name: "POST /contacts/{contact_id}/notes: contact_id is a string",
		Reason: "the create types contact_id integer while the list on the same path types it " +
			"string; contact ids are 24-hex strings, so no real create would pass (spec §2).",
		apply: stringNoteContactID,
	},
}

// stringNoteContactID retypes the create-note path parameter contact_id as
// the string it is everywhere else.
func stringNoteContactID(doc *openapi3.T) error {
	item := doc.Paths.Value("/contacts/{contact_id}/notes")
	if item == nil || item.Post == nil {
		return fmt.Errorf("POST /contacts/{contact_id}/notes not found")
	}
	for _, p := range item.Post.Parameters {
		if p.Value == nil || p.Value.Name != "contact_id" || p.Value.Schema == nil || p.Value.Schema.Value == nil {
			continue
		}
		if !p.Value.Schema.Value.Type.Is("integer") {
			return fmt.Errorf("contact_id of POST /contacts/{contact_id}/notes is no longer an integer")
		}
		// A copy: the schema may be shared with other parameters.
		p.Value.Schema = openapi3.NewSchemaRef("", openapi3.NewStringSchema())
		return nil
	}
	return fmt.Errorf("POST /contacts/{contact_id}/notes has no contact_id parameter")
}

// strictTagBranches replaces POST /tags's oneOf with closed copies of its
// branches: create/rename, companies (tag or untag) and users.
func strictTagBranches(doc *openapi3.T) error {
	item := doc.Paths.Value("/tags")
	if item == nil || item.Post == nil || item.Post.RequestBody == nil || item.Post.RequestBody.Value == nil {
		return fmt.Errorf("POST /tags has no request body")
	}
	media := item.Post.RequestBody.Value.Content.Get("application/json")
	if media == nil || media.Schema == nil || media.Schema.Value == nil || len(media.Schema.Value.OneOf) != 4 {
		return fmt.Errorf("POST /tags body is no longer a oneOf of four schemas")
	}
	var branches openapi3.SchemaRefs
	for _, name := range []string{"create_or_update_tag_request", "untag_company_request",
		"tag_multiple_users_request"} {
		ref := doc.Components.Schemas[name]
		if ref == nil || ref.Value == nil {
			return fmt.Errorf("components.schemas.%s not found", name)
		}
		if ref.Value.AdditionalProperties.Has != nil {
			return fmt.Errorf("components.schemas.%s already says whether it is closed", name)
		}
		branches = append(branches, openapi3.NewSchemaRef("", closed(ref.Value)))
	}
	media.Schema = openapi3.NewSchemaRef("", &openapi3.Schema{OneOf: branches})
	return nil
}

// closed copies an object schema, and the object schema of its array
// properties' items, with additionalProperties: false.
func closed(s *openapi3.Schema) *openapi3.Schema {
	no := false
	c := *s
	c.AdditionalProperties = openapi3.AdditionalProperties{Has: &no}
	c.Properties = openapi3.Schemas{}
	for name, p := range s.Properties {
		if p.Value != nil && p.Value.Items != nil && p.Value.Items.Value != nil {
			arr := *p.Value
			arr.Items = openapi3.NewSchemaRef("", closed(p.Value.Items.Value))
			c.Properties[name] = openapi3.NewSchemaRef("", &arr)
			continue
		}
		c.Properties[name] = p
	}
	return &c
}

func property(doc *openapi3.T, schema, prop string) (*openapi3.Schema, error) {
	ref := doc.Components.Schemas[schema]
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("components.schemas.%s not found", schema)
	}
	p := ref.Value.Properties[prop]
	if p == nil || p.Value == nil {
		return nil, fmt.Errorf("components.schemas.%s.%s not found", schema, prop)
	}
	return p.Value, nil
}

func scalarSchema() *openapi3.SchemaRef {
	s := &openapi3.Schema{Nullable: true, AnyOf: openapi3.SchemaRefs{
		openapi3.NewSchemaRef("", openapi3.NewStringSchema()),
		openapi3.NewSchemaRef("", openapi3.NewFloat64Schema()),
		openapi3.NewSchemaRef("", openapi3.NewBoolSchema()),
	}}
	return openapi3.NewSchemaRef("", s)
}
