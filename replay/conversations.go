package replay

import (
	"context"
	"encoding/json"
)

// Conversation is the part of an Intercom conversation replay reads.
type Conversation struct {
	ID              ID     `json:"id"`
	State           string `json:"state"`
	CreatedAt       int64  `json:"created_at"`
	AdminAssigneeID ID     `json:"admin_assignee_id"`
	TeamAssigneeID  ID     `json:"team_assignee_id"`
	Title           string `json:"title"`
	Source          struct {
		Body string `json:"body"`
	} `json:"source"`
	CustomAttributes json.RawMessage `json:"custom_attributes,omitempty"`
	Parts            struct {
		Parts      []Part `json:"conversation_parts"`
		TotalCount int    `json:"total_count"`
	} `json:"conversation_parts"`
}

// Part is one conversation part.
type Part struct {
	ID        ID     `json:"id"`
	PartType  string `json:"part_type"`
	Body      string `json:"body"`
	CreatedAt int64  `json:"created_at"`
	// Attachments are the part's files as Intercom lists them (verify).
	Attachments []PartAttachment `json:"attachments"`
	Author      struct {
		Type string `json:"type"`
		ID   ID     `json:"id"`
	} `json:"author"`
}

// From names the contact a conversation starts from.
type From struct {
	Type string `json:"type"` // user | lead | contact
	ID   string `json:"id"`
}

// ConversationRequest is the body of POST /conversations. Body is plain text.
type ConversationRequest struct {
	From      From   `json:"from"`
	Body      string `json:"body"`
	CreatedAt int64  `json:"created_at,omitempty"`
}

// Message is the answer to POST /conversations.
type Message struct {
	ID             ID `json:"id"`
	ConversationID ID `json:"conversation_id"`
}

// ReplyRequest is the body of POST /conversations/{id}/reply for an admin
// (Type admin, AdminID) or a contact (Type user, IntercomUserID).
type ReplyRequest struct {
	Type              string `json:"type"`
	MessageType       string `json:"message_type"`
	AdminID           string `json:"admin_id,omitempty"`
	IntercomUserID    string `json:"intercom_user_id,omitempty"`
	Body              string `json:"body"`
	CreatedAt         int64  `json:"created_at,omitempty"`
	SkipNotifications *bool  `json:"skip_notifications,omitempty"` // 2.15+ admin replies only
	// AttachmentFiles carry files inline, at most 10 (attachments.go).
	AttachmentFiles []AttachmentFile `json:"attachment_files,omitempty"`
}

// UpdateConversationRequest is the body of PUT /conversations/{id}.
type UpdateConversationRequest struct {
	Title            string          `json:"title,omitempty"`
	CustomAttributes json.RawMessage `json:"custom_attributes,omitempty"`
	CompanyID        string          `json:"company_id,omitempty"`
}

// PartRequest is the body of POST /conversations/{id}/parts (close, snoozed,
// open, assignment). These are stamped "now" by Intercom.
type PartRequest struct {
	MessageType  string `json:"message_type"`
	Type         string `json:"type,omitempty"`
	AdminID      string `json:"admin_id"`
	AssigneeID   string `json:"assignee_id,omitempty"`
	SnoozedUntil int64  `json:"snoozed_until,omitempty"`
}

// CreateConversation calls POST /conversations. Not resent after a lost
// answer: there is no idempotency key.
func (c *Client) CreateConversation(ctx context.Context, r ConversationRequest) (*Message, error) {
	var out Message
	err := c.do(ctx, call{method: "POST", path: "/conversations", body: r}, &out)
	return &out, err
}

// GetConversation calls GET /conversations/{id} (at most 500 parts).
func (c *Client) GetConversation(ctx context.Context, id string) (*Conversation, error) {
	var out Conversation
	err := c.do(ctx, call{method: "GET", path: "/conversations/" + escape(id), idempotent: true}, &out)
	return &out, err
}

// SearchConversations calls POST /conversations/search and follows the cursor.
func (c *Client) SearchConversations(ctx context.Context, q SearchQuery) ([]Conversation, error) {
	var all []Conversation
	req := searchRequest{Query: q, Pagination: &pagination{PerPage: 150}}
	for {
		var out struct {
			Conversations []Conversation `json:"conversations"`
			Pages         pages          `json:"pages"`
		}
		cl := call{method: "POST", path: "/conversations/search", body: req, idempotent: true}
		if err := c.do(ctx, cl, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Conversations...)
		if out.Pages.Next == nil || out.Pages.Next.StartingAfter == "" || len(out.Conversations) == 0 {
			return all, nil
		}
		req.Pagination.StartingAfter = out.Pages.Next.StartingAfter
	}
}

// Reply calls POST /conversations/{id}/reply with the given version. Not
// resent after a lost answer; the caller reads the conversation instead.
func (c *Client) Reply(ctx context.Context, convID string, r ReplyRequest, version string) (*Conversation, error) {
	var out Conversation
	err := c.do(ctx, call{method: "POST", path: replyPath(convID), body: r, version: version}, &out)
	return &out, err
}

// UpdateConversation calls PUT /conversations/{id}.
func (c *Client) UpdateConversation(ctx context.Context, id string, r UpdateConversationRequest) error {
	return c.do(ctx, call{method: "PUT", path: "/conversations/" + escape(id), body: r, idempotent: true}, nil)
}

// ManageConversation calls POST /conversations/{id}/parts.
func (c *Client) ManageConversation(ctx context.Context, id string, r PartRequest) (*Conversation, error) {
	var out Conversation
	err := c.do(ctx, call{method: "POST", path: partsPath(id), body: r}, &out)
	return &out, err
}

// DeleteConversation calls DELETE /conversations/{id} (2.13+, permanent).
func (c *Client) DeleteConversation(ctx context.Context, id string) error {
	return c.do(ctx, call{method: "DELETE", path: "/conversations/" + escape(id), idempotent: true}, nil)
}

func replyPath(id string) string { return "/conversations/" + escape(id) + "/reply" }
func partsPath(id string) string { return "/conversations/" + escape(id) + "/parts" }
