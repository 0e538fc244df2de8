package flows

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ownerFormatted lists where the owner's display name sits: the Web API
// annotation, then the snapshot's Parquet column (contracts §1).
var ownerFormatted = []string{
	"_ownerid_value@OData.Community.Display.V1.FormattedValue",
	"_ownerid_value__formatted",
}

// FromRecord builds a Workflow from one row of the workflow table, keyed by
// logical name: a Web API record (as decoded JSON) or a snapshot row read
// from Parquet. Numbers may be any Go numeric type or json.Number.
func FromRecord(rec map[string]any) (Workflow, error) {
	id := normalizeID(str(rec["workflowid"]))
	if id == "" {
		return Workflow{}, fmt.Errorf("workflow record: field workflowid: missing")
	}
	w := Workflow{
		ID:                           id,
		Name:                         str(rec["name"]),
		UniqueName:                   str(rec["uniquename"]),
		PrimaryEntity:                strings.ToLower(str(rec["primaryentity"])),
		OwnerID:                      normalizeID(str(rec["_ownerid_value"])),
		ClientData:                   str(rec["clientdata"]),
		XAML:                         str(rec["xaml"]),
		TriggerOnUpdateAttributeList: str(rec["triggeronupdateattributelist"]),
	}
	for _, k := range ownerFormatted {
		if s := str(rec[k]); s != "" {
			w.OwnerName = s
			break
		}
	}

	ints := map[string]*int{
		"category": &w.Category, "type": &w.Type, "statecode": &w.StateCode,
		"statuscode": &w.StatusCode, "mode": &w.Mode, "scope": &w.Scope,
	}
	for _, k := range sortedKeys(ints) {
		if err := recordInt(rec[k], ints[k]); err != nil {
			return Workflow{}, fmt.Errorf("workflow %s: field %s: %w", id, k, err)
		}
	}
	if rec["category"] == nil {
		return Workflow{}, fmt.Errorf("workflow %s: field category: missing", id)
	}

	bools := map[string]*bool{
		"ondemand": &w.OnDemand, "subprocess": &w.Subprocess,
		"triggeroncreate": &w.TriggerOnCreate, "triggerondelete": &w.TriggerOnDelete,
	}
	for _, k := range sortedKeys(bools) {
		if err := recordBool(rec[k], bools[k]); err != nil {
			return Workflow{}, fmt.Errorf("workflow %s: field %s: %w", id, k, err)
		}
	}
	return w, nil
}

func str(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case *string:
		if s != nil {
			return *s
		}
	}
	return ""
}

func recordInt(v any, dst *int) error {
	switch n := v.(type) {
	case nil:
		return nil
	case int:
		*dst = n
	case int32:
		*dst = int(n)
	case int64:
		*dst = int(n)
	case float64:
		*dst = int(n)
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return err
		}
		*dst = int(i)
	case string:
		i, err := strconv.Atoi(n)
		if err != nil {
			return err
		}
		*dst = i
	default:
		return fmt.Errorf("unexpected %T", v)
	}
	return nil
}

func recordBool(v any, dst *bool) error {
	switch b := v.(type) {
	case nil:
		return nil
	case bool:
		*dst = b
		return nil
	case string:
		return parseBool(b, dst)
	}
	var n int
	if err := recordInt(v, &n); err != nil {
		return err
	}
	*dst = n != 0
	return nil
}
