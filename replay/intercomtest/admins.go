package intercomtest

import "net/http"

func adminJSON(a Admin, teams []Team) map[string]any {
	teamIDs := []any{}
	for _, t := range teams {
		for _, id := range t.AdminIDs {
			if id == a.ID {
				teamIDs = append(teamIDs, intOrString(t.ID))
			}
		}
	}
	return map[string]any{"type": "admin", "id": a.ID, "name": a.Name, "email": a.Email,
		"job_title": nil, "away_mode_enabled": false, "away_mode_reassign": false,
		"has_inbox_seat": true, "team_ids": teamIDs, "avatar": nil, "email_verified": true}
}

func teamJSON(t Team) map[string]any {
	ids := []any{}
	for _, id := range t.AdminIDs {
		ids = append(ids, intOrString(id))
	}
	return map[string]any{"type": "team", "id": t.ID, "name": t.Name, "admin_ids": ids}
}

// getMe answers GET /me with the first configured admin and the workspace.
func (s *Server) getMe(c *call) (any, *apiError) {
	if len(s.st.admins) == 0 {
		return nil, errf(http.StatusNotFound, "admin_not_found", "Admin not found")
	}
	me := adminJSON(s.st.admins[0], s.st.teams)
	me["app"] = map[string]any{"type": "app", "id_code": "intercomtest", "name": "intercomtest",
		"region": "US", "timezone": "UTC", "created_at": c.now.Unix(), "identity_verification": false}
	return me, nil
}

func (s *Server) listAdmins(c *call) (any, *apiError) {
	out := []any{}
	for _, a := range s.st.admins {
		out = append(out, adminJSON(a, s.st.teams))
	}
	return map[string]any{"type": "admin.list", "admins": out}, nil
}

func (s *Server) getAdmin(c *call) (any, *apiError) {
	a, ok := s.st.admin(c.r.PathValue("admin_id"))
	if !ok {
		return nil, errf(http.StatusNotFound, "admin_not_found", "Admin not found")
	}
	return adminJSON(a, s.st.teams), nil
}

func (s *Server) listTeams(c *call) (any, *apiError) {
	out := []any{}
	for _, t := range s.st.teams {
		out = append(out, teamJSON(t))
	}
	return map[string]any{"type": "team.list", "teams": out}, nil
}

func (s *Server) getTeam(c *call) (any, *apiError) {
	t, ok := s.st.team(c.r.PathValue("team_id"))
	if !ok {
		return nil, errf(http.StatusNotFound, "team_not_found", "Team not found")
	}
	return teamJSON(t), nil
}
