package replay

import (
	"context"
	"encoding/json"
)

// Contact is the part of an Intercom contact (user or lead) replay reads.
type Contact struct {
	ID               ID             `json:"id"`
	Role             string         `json:"role"`
	ExternalID       string         `json:"external_id"`
	Email            string         `json:"email"`
	CreatedAt        int64          `json:"created_at"`
	CustomAttributes map[string]any `json:"custom_attributes"`
}

// ContactRequest is the body of POST /contacts.
type ContactRequest struct {
	Role             string          `json:"role"`
	ExternalID       string          `json:"external_id,omitempty"`
	Email            string          `json:"email,omitempty"`
	Name             string          `json:"name,omitempty"`
	Phone            string          `json:"phone,omitempty"`
	SignedUpAt       int64           `json:"signed_up_at,omitempty"`
	Unsubscribed     bool            `json:"unsubscribed_from_emails,omitempty"` // false is Intercom's default
	CustomAttributes json.RawMessage `json:"custom_attributes,omitempty"`
}

// SearchQuery is one filter of the search DSL, or a group of them.
type SearchQuery struct {
	Field    string `json:"field,omitempty"`
	Operator string `json:"operator"`
	Value    any    `json:"value"`
}

type searchRequest struct {
	Query      SearchQuery `json:"query"`
	Pagination *pagination `json:"pagination,omitempty"`
}

type pagination struct {
	PerPage       int    `json:"per_page"`
	StartingAfter string `json:"starting_after,omitempty"`
}

type pages struct {
	Next *struct {
		StartingAfter string `json:"starting_after"`
	} `json:"next"`
}

// CreateContact calls POST /contacts. It is not resent after a lost answer:
// a lead would be duplicated, and a user's resend must be read as a 409.
func (c *Client) CreateContact(ctx context.Context, r ContactRequest) (*Contact, error) {
	var out Contact
	err := c.do(ctx, call{method: "POST", path: "/contacts", body: r}, &out)
	return &out, err
}

// GetContact calls GET /contacts/{id}.
func (c *Client) GetContact(ctx context.Context, id string) (*Contact, error) {
	var out Contact
	err := c.do(ctx, call{method: "GET", path: "/contacts/" + escape(id), idempotent: true}, &out)
	return &out, err
}

// SearchContacts calls POST /contacts/search and follows the body cursor.
// Search lags writes by minutes: an empty answer proves nothing about a
// contact created moments ago.
func (c *Client) SearchContacts(ctx context.Context, q SearchQuery) ([]Contact, error) {
	var all []Contact
	req := searchRequest{Query: q, Pagination: &pagination{PerPage: 150}}
	for {
		var out struct {
			Data  []Contact `json:"data"`
			Pages pages     `json:"pages"`
		}
		cl := call{method: "POST", path: "/contacts/search", body: req, idempotent: true}
		if err := c.do(ctx, cl, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Data...)
		if out.Pages.Next == nil || out.Pages.Next.StartingAfter == "" || len(out.Data) == 0 {
			return all, nil
		}
		req.Pagination.StartingAfter = out.Pages.Next.StartingAfter
	}
}

// DeleteContact calls DELETE /contacts/{id}.
func (c *Client) DeleteContact(ctx context.Context, id string) error {
	return c.do(ctx, call{method: "DELETE", path: "/contacts/" + escape(id), idempotent: true}, nil)
}

// AttachCompany calls POST /contacts/{id}/companies; attaching twice is harmless.
func (c *Client) AttachCompany(ctx context.Context, contactID, companyID string) error {
	body := map[string]string{"id": companyID}
	return c.do(ctx, call{method: "POST", path: attachPath(contactID), body: body, idempotent: true}, nil)
}

// DetachCompany calls DELETE /contacts/{id}/companies/{company id}.
func (c *Client) DetachCompany(ctx context.Context, contactID, companyID string) error {
	return c.do(ctx, call{method: "DELETE", path: attachPath(contactID) + "/" + escape(companyID),
		idempotent: true}, nil)
}

func attachPath(contactID string) string { return "/contacts/" + escape(contactID) + "/companies" }
