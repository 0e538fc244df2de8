package replay

import "context"

// Admin is an Intercom teammate. Admins cannot be created by API.
type Admin struct {
	ID    ID     `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// Team is an Intercom team. Teams cannot be created by API.
type Team struct {
	ID   ID     `json:"id"`
	Name string `json:"name"`
}

// ListAdmins calls GET /admins.
func (c *Client) ListAdmins(ctx context.Context) ([]Admin, error) {
	var out struct {
		Admins []Admin `json:"admins"`
	}
	err := c.do(ctx, call{method: "GET", path: "/admins", idempotent: true}, &out)
	return out.Admins, err
}

// ListTeams calls GET /teams.
func (c *Client) ListTeams(ctx context.Context) ([]Team, error) {
	var out struct {
		Teams []Team `json:"teams"`
	}
	err := c.do(ctx, call{method: "GET", path: "/teams", idempotent: true}, &out)
	return out.Teams, err
}
