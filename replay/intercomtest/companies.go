package intercomtest

import (
	"maps"
	"math"
	"net/http"
	"slices"
)

var companyKeys = map[string]bool{"name": true, "company_id": true, "plan": true, "size": true,
	"website": true, "industry": true, "custom_attributes": true, "remote_created_at": true,
	"monthly_spend": true}

func (s *Server) userCount(companyID string) int {
	n := 0
	for _, c := range s.st.contacts {
		if slices.Contains(c.CompanyIDs, companyID) {
			n++
		}
	}
	return n
}

func (s *Server) companyJSON(co *Company) map[string]any {
	ca := maps.Clone(co.CustomAttributes)
	if ca == nil {
		ca = map[string]any{}
	}
	plan := map[string]any{}
	if co.Plan != "" {
		plan = map[string]any{"type": "plan", "id": co.Plan, "name": co.Plan}
	}
	return map[string]any{"type": "company", "id": co.ID, "company_id": co.CompanyID,
		"app_id": "intercomtest", "name": nullable(co.Name), "website": nullable(co.Website),
		"industry": nullable(co.Industry), "size": co.Size, "monthly_spend": co.MonthlySpend,
		"remote_created_at": nullableInt(co.RemoteCreatedAt), "created_at": co.CreatedAt,
		"updated_at": co.UpdatedAt, "last_request_at": 0, "session_count": 0,
		"user_count": s.userCount(co.ID), "plan": plan, "custom_attributes": ca,
		"tags":     map[string]any{"type": "tag.list", "tags": []any{}},
		"segments": map[string]any{"type": "segment.list", "segments": []any{}}}
}

// upsertCompany answers POST /companies: found by company_id ⇒ updated, else created.
func (s *Server) upsertCompany(c *call) (any, *apiError) {
	for _, k := range slices.Sorted(maps.Keys(c.body)) {
		if !companyKeys[k] {
			return nil, errf(http.StatusBadRequest, "bad_request", "bad '%s' parameter", k)
		}
	}
	ca := obj(c.body, "custom_attributes")
	if e := s.checkCustomAttributes("company", ca); e != nil {
		return nil, e
	}
	key := str(c.body, "company_id")
	co := s.companyByKey(key)
	if co == nil {
		co = &Company{ID: s.st.hexID(c.now), CompanyID: key, CreatedAt: c.now.Unix()}
		s.st.companies[co.ID] = co
	}
	applyCompanyFields(co, c.body, ca)
	co.UpdatedAt = c.now.Unix()
	return s.companyJSON(co), nil
}

func applyCompanyFields(co *Company, b, ca map[string]any) {
	for key, dst := range map[string]*string{"name": &co.Name, "website": &co.Website,
		"industry": &co.Industry, "plan": &co.Plan} {
		if has(b, key) {
			*dst = str(b, key)
		}
	}
	for key, dst := range map[string]*int64{"size": &co.Size, "remote_created_at": &co.RemoteCreatedAt,
		"monthly_spend": &co.MonthlySpend} {
		if has(b, key) {
			*dst, _ = num(b, key) // floats truncate, as documented for monthly_spend
		}
	}
	co.MonthlySpend = min(co.MonthlySpend, math.MaxInt32)
	if len(ca) > 0 && co.CustomAttributes == nil {
		co.CustomAttributes = map[string]any{}
	}
	for k, v := range ca {
		co.CustomAttributes[k] = v
	}
}

func (s *Server) companyByKey(key string) *Company {
	if key == "" {
		return nil
	}
	for _, co := range s.st.companies {
		if co.CompanyID == key {
			return co
		}
	}
	return nil
}

func (s *Server) getCompany(c *call) (any, *apiError) {
	co := s.st.companies[c.r.PathValue("company_id")]
	if co == nil {
		return nil, errf(http.StatusNotFound, "company_not_found", "Company Not Found")
	}
	return s.companyJSON(co), nil
}

// findCompanies answers GET /companies?company_id= (a list wrapper, as OAS14's example)
// and, without a filter, lists the companies that have at least one user.
func (s *Server) findCompanies(c *call) (any, *apiError) {
	q := c.r.URL.Query()
	var found []any
	switch {
	case q.Has("company_id"):
		co := s.companyByKey(q.Get("company_id"))
		if co == nil {
			return nil, errf(http.StatusNotFound, "company_not_found", "Company Not Found")
		}
		found = append(found, s.companyJSON(co))
	default:
		// TODO: name/tag_id/segment_id filters and page/per_page paging.
		for _, id := range slices.Sorted(maps.Keys(s.st.companies)) {
			if s.userCount(id) > 0 {
				found = append(found, s.companyJSON(s.st.companies[id]))
			}
		}
	}
	if found == nil {
		found = []any{}
	}
	return map[string]any{"type": "list", "data": found, "total_count": len(found),
		"pages": map[string]any{"type": "pages", "page": 1, "per_page": 15,
			"total_pages": max(1, (len(found)+14)/15)}}, nil
}

// deleteCompany answers DELETE /companies/{id}. The real archive is asynchronous; here it
// is immediate, and contacts are detached.
func (s *Server) deleteCompany(c *call) (any, *apiError) {
	id := c.r.PathValue("company_id")
	if s.st.companies[id] == nil {
		return nil, errf(http.StatusNotFound, "company_not_found", "Company Not Found")
	}
	delete(s.st.companies, id)
	for _, ct := range s.st.contacts {
		ct.CompanyIDs = slices.DeleteFunc(ct.CompanyIDs, func(x string) bool { return x == id })
	}
	return map[string]any{"id": id, "object": "company", "deleted": true}, nil
}
