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
