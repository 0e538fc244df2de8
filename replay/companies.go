package replay

import (
	"context"
	"encoding/json"
	"net/url"
)

// Company is the part of an Intercom company replay reads.
type Company struct {
	ID               ID              `json:"id"`
	CompanyID        string          `json:"company_id"`
	Name             string          `json:"name"`
	Website          string          `json:"website"`
	Industry         string          `json:"industry"`
	Size             int64           `json:"size"`
	RemoteCreatedAt  int64           `json:"remote_created_at"`
	CustomAttributes json.RawMessage `json:"custom_attributes,omitempty"`
}

// CompanyRequest is the body of POST /companies (create-or-update on
// company_id) and PUT /companies/{id}.
type CompanyRequest struct {
	CompanyID        string          `json:"company_id,omitempty"`
	Name             string          `json:"name,omitempty"`
	Website          string          `json:"website,omitempty"`
	Industry         string          `json:"industry,omitempty"`
	Size             int64           `json:"size,omitempty"`
	RemoteCreatedAt  int64           `json:"remote_created_at,omitempty"`
	CustomAttributes json.RawMessage `json:"custom_attributes,omitempty"`
}

// UpsertCompany calls POST /companies: found by company_id it is updated,
// otherwise created, so a resend is harmless.
func (c *Client) UpsertCompany(ctx context.Context, r CompanyRequest) (*Company, error) {
	var out Company
	err := c.do(ctx, call{method: "POST", path: "/companies", body: r, idempotent: true}, &out)
	return &out, err
}

// FindCompany calls GET /companies?company_id=; a missing company is *NotFound.
// The answer is either a company or a list holding it.
func (c *Client) FindCompany(ctx context.Context, companyID string) (*Company, error) {
	var raw struct {
		Company
		Type string    `json:"type"`
		Data []Company `json:"data"`
	}
	q := url.Values{"company_id": {companyID}}
	if err := c.do(ctx, call{method: "GET", path: "/companies", query: q, idempotent: true}, &raw); err != nil {
		return nil, err
	}
	if raw.Type == "list" {
		for _, co := range raw.Data {
			if co.CompanyID == companyID {
				return &co, nil
			}
		}
		return nil, &NotFound{APIError{Method: "GET", Path: "/companies", Status: 404, Code: "company_not_found"}}
	}
	return &raw.Company, nil
}

// UpdateCompany calls PUT /companies/{id}.
func (c *Client) UpdateCompany(ctx context.Context, id string, r CompanyRequest) error {
	r.CompanyID = "" // immutable once set
	return c.do(ctx, call{method: "PUT", path: "/companies/" + escape(id), body: r, idempotent: true}, nil)
}

// DeleteCompany calls DELETE /companies/{id}; Intercom archives it asynchronously.
func (c *Client) DeleteCompany(ctx context.Context, id string) error {
	return c.do(ctx, call{method: "DELETE", path: "/companies/" + escape(id), idempotent: true}, nil)
}
