package snapshot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// defaultTables is every Dataverse table the migration reads (spec §13).
// Omnichannel tables are listed even though many orgs lack them: a missing
// one is recorded "absent", not failed. msdyn_ocrecording is read for its
// rows only; its File columns (the recordings) are not columns in Parquet.
var defaultTables = []string{
	"incident", "incidentresolution", "contact", "account",
	"email", "phonecall", "task", "appointment", "activityparty",
	"activitymimeattachment", "annotation",
	"knowledgearticle", "category", "knowledgearticlescategories", "languagelocale",
	"queue", "queuemembership", "queueitem", "systemuser", "team", "teammembership",
	"entitlement", "entitlementchannel", "entitlementtemplate",
	"sla", "slaitem", "slakpiinstance", "calendar", "workflow",
	"msdyn_ocliveworkitem", "msdyn_ocsession", "msdyn_transcript", "msdyn_ocrecording",
}

// DefaultTables returns the logical names Run reads when Config.Tables is
// empty, before the org's custom tables are added to them.
func DefaultTables() []string { return append([]string(nil), defaultTables...) }

// firstPartyPrefixes are publisher prefixes of Microsoft solutions. Their
// tables report IsCustomEntity true (spec §9.4) but hold no customer-made
// data model, and an org with Dynamics apps has hundreds of them.
// TODO: also ask publishers?$select=customizationprefix to tell ISV solutions apart.
var firstPartyPrefixes = []string{
	"msdyn_", "msdynce_", "msdynmkt_", "msdyncrm_", "msfp_", "mspp_", "adx_", "mspcat_",
	"msft_", "msevtmgt_", "msa_", "mserp_", "msgp_", "msbi_", "msnfp_", "msiot_", "cdm_",
}

// withCustomTables appends the org's custom tables to tables, skipping
// those already listed and Microsoft first-party ones.
func withCustomTables(ctx context.Context, c *client, tables []string) ([]string, error) {
	custom, err := c.customTables(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, t := range tables {
		seen[t] = true
	}
	out := append([]string(nil), tables...)
	for _, t := range custom {
		if seen[t] || firstParty(t) {
			continue
		}
		if !validLogicalName(t) {
			c.log.Warn("dataverse custom table skipped: unusable logical name", "table", t)
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	c.log.Info("dataverse custom tables discovered", "custom", len(out)-len(tables))
	return out, nil
}

func firstParty(table string) bool {
	for _, p := range firstPartyPrefixes {
		if strings.HasPrefix(table, p) {
			return true
		}
	}
	return false
}

// customTables lists the logical names of entities flagged IsCustomEntity,
// sorted so that a rerun reads them in the same order.
func (c *client) customTables(ctx context.Context) ([]string, error) {
	u := c.base + "EntityDefinitions?$select=LogicalName,IsCustomEntity&$filter=" +
		url.PathEscape("IsCustomEntity eq true")
	body, err := c.get(ctx, u, false, reqTag{"EntityDefinitions", "custom tables"})
	if err != nil {
		return nil, fmt.Errorf("discover custom tables: %w", err)
	}
	var resp struct {
		Value []struct {
			LogicalName    string `json:"LogicalName"`
			IsCustomEntity *bool  `json:"IsCustomEntity"`
		} `json:"value"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("discover custom tables: decode EntityDefinitions: %w", err)
	}
	var out []string
	for _, e := range resp.Value {
		// A server that ignored the filter still says which entities are custom.
		if e.IsCustomEntity != nil && !*e.IsCustomEntity {
			continue
		}
		out = append(out, e.LogicalName)
	}
	sort.Strings(out)
	return out, nil
}
