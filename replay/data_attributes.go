package replay

import (
	"context"
	"net/url"
)

// DataAttribute is a custom attribute of contacts, companies or conversations.
type DataAttribute struct {
	ID       ID     `json:"id"`
	Name     string `json:"name"`
	Model    string `json:"model"`
	DataType string `json:"data_type"`
	Archived bool   `json:"archived"`
}

// DataAttributeRequest creates a contact or company attribute (2.14).
type DataAttributeRequest struct {
	Name        string `json:"name"`
	Model       string `json:"model"`
	DataType    string `json:"data_type"`
	Description string `json:"description,omitempty"`
}

// ConversationAttributeRequest creates a conversation attribute (2.16).
type ConversationAttributeRequest struct {
	Name        string `json:"name"`
	DataType    string `json:"data_type"`
	Description string `json:"description,omitempty"`
}

type attributeList struct {
	Data []DataAttribute `json:"data"`
}

// ListDataAttributes calls GET /data_attributes?model=<model> including
// archived ones, whose names stay taken.
func (c *Client) ListDataAttributes(ctx context.Context, model string) ([]DataAttribute, error) {
	q := url.Values{"model": {model}, "include_archived": {"true"}}
	var out attributeList
	err := c.do(ctx, call{method: "GET", path: "/data_attributes", query: q, idempotent: true}, &out)
	return out.Data, err
}

// CreateDataAttribute calls POST /data_attributes. A clash of names is a 400,
// not a 409; callers list first. It is not resent after a lost answer: the
// resend's 400 clash would pass our own new attribute off as one that was
// there before, which rollback then leaves unarchived. The caller looks the
// attribute up instead (an *UncertainError).
func (c *Client) CreateDataAttribute(ctx context.Context, r DataAttributeRequest) (*DataAttribute, error) {
	var out DataAttribute
	err := c.do(ctx, call{method: "POST", path: "/data_attributes", body: r}, &out)
	return &out, err
}

// ArchiveDataAttribute calls PUT /data_attributes/{id} with archived=true
// (attributes cannot be deleted).
func (c *Client) ArchiveDataAttribute(ctx context.Context, id string) error {
	body := map[string]bool{"archived": true}
	return c.do(ctx, call{method: "PUT", path: "/data_attributes/" + escape(id), body: body, idempotent: true}, nil)
}

// UnarchiveDataAttribute calls PUT /data_attributes/{id} with
// archived=false, so values can be written to the attribute again.
func (c *Client) UnarchiveDataAttribute(ctx context.Context, id string) error {
	body := map[string]bool{"archived": false}
	return c.do(ctx, call{method: "PUT", path: "/data_attributes/" + escape(id), body: body, idempotent: true}, nil)
}

// ListConversationAttributes calls GET /conversations/attributes (2.16).
func (c *Client) ListConversationAttributes(ctx context.Context) ([]DataAttribute, error) {
	q := url.Values{"include_archived": {"true"}}
	var out attributeList
	err := c.do(ctx, call{method: "GET", path: "/conversations/attributes", query: q,
		version: Version216, idempotent: true}, &out)
	for i := range out.Data {
		out.Data[i].Model = "conversation"
	}
	return out.Data, err
}

// CreateConversationAttribute calls POST /conversations/attributes (2.16).
// Like CreateDataAttribute it is not resent after a lost answer.
func (c *Client) CreateConversationAttribute(ctx context.Context,
	r ConversationAttributeRequest) (*DataAttribute, error) {
	var out DataAttribute
	err := c.do(ctx, call{method: "POST", path: "/conversations/attributes", body: r,
		version: Version216}, &out)
	out.Model = "conversation"
	return &out, err
}

// ArchiveConversationAttribute calls DELETE /conversations/attributes/{id}
// (2.16), which archives.
func (c *Client) ArchiveConversationAttribute(ctx context.Context, id string) error {
	return c.do(ctx, call{method: "DELETE", path: "/conversations/attributes/" + escape(id),
		version: Version216, idempotent: true}, nil)
}
