package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Entity is the part of an EntityDefinitions answer a proposal needs.
type Entity struct {
	LogicalName          string      `json:"LogicalName"`
	PrimaryIdAttribute   string      `json:"PrimaryIdAttribute"`
	PrimaryNameAttribute string      `json:"PrimaryNameAttribute"`
	IsCustomEntity       *bool       `json:"IsCustomEntity"`
	Attributes           []Attribute `json:"Attributes"`
}

// Attribute is one AttributeMetadata entry.
type Attribute struct {
	LogicalName       string  `json:"LogicalName"`
	AttributeType     string  `json:"AttributeType"`
	AttributeOf       *string `json:"AttributeOf"`
	IsCustomAttribute bool    `json:"IsCustomAttribute"`
	IsValidForRead    *bool   `json:"IsValidForRead"`
	DisplayName       Label   `json:"DisplayName"`
	// Targets are the tables a lookup may point at.
	Targets []string `json:"Targets"`
}

// Label is a Dataverse localized label.
type Label struct {
	UserLocalizedLabel *struct {
		Label string `json:"Label"`
	} `json:"UserLocalizedLabel"`
	LocalizedLabels []struct {
		Label        string `json:"Label"`
		LanguageCode int    `json:"LanguageCode"`
	} `json:"LocalizedLabels"`
}

// Text prefers the user's language, then English (1033), then any label.
func (l Label) Text() string {
	if l.UserLocalizedLabel != nil && l.UserLocalizedLabel.Label != "" {
		return l.UserLocalizedLabel.Label
	}
	for _, ll := range l.LocalizedLabels {
		if ll.LanguageCode == 1033 && ll.Label != "" {
			return ll.Label
		}
	}
	for _, ll := range l.LocalizedLabels {
		if ll.Label != "" {
			return ll.Label
		}
	}
	return ""
}

// ReadEntity decodes an EntityDefinitions answer for table: a single entity
// (what the snapshot saves) or a collection {"value": [...]} holding it.
func ReadEntity(b []byte, table string) (*Entity, error) {
	var probe struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("decode EntityDefinitions %s: %w", table, err)
	}
	if len(bytes.TrimSpace(probe.Value)) == 0 {
		var e Entity
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("decode EntityDefinitions %s: %w", table, err)
		}
		if e.LogicalName != "" && e.LogicalName != table {
			return nil, fmt.Errorf("EntityDefinitions %s: answer is for %q", table, e.LogicalName)
		}
		return &e, nil
	}
	var list []Entity
	if err := json.Unmarshal(probe.Value, &list); err != nil {
		return nil, fmt.Errorf("decode EntityDefinitions %s: %w", table, err)
	}
	for i := range list {
		if list[i].LogicalName == table {
			return &list[i], nil
		}
	}
	return nil, fmt.Errorf("EntityDefinitions: no entity %s among %d", table, len(list))
}

// optionAttr is one attribute of a Picklist/MultiSelectPicklist cast answer.
type optionAttr struct {
	LogicalName     string     `json:"LogicalName"`
	OptionSet       *optionSet `json:"OptionSet"`
	GlobalOptionSet *optionSet `json:"GlobalOptionSet"`
}

type optionSet struct {
	Options []struct {
		Value int32 `json:"Value"`
		Label Label `json:"Label"`
	} `json:"Options"`
}

// Options maps attribute → option code → label.
type Options map[string]map[int32]string

// ReadOptions decodes an attribute cast answer with option sets expanded: a
// collection {"value": [...]} or a single attribute entity.
func ReadOptions(b []byte, into Options) error {
	var resp struct {
		Value []optionAttr `json:"value"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return fmt.Errorf("decode option sets: %w", err)
	}
	if resp.Value == nil {
		var one optionAttr
		if err := json.Unmarshal(b, &one); err != nil {
			return fmt.Errorf("decode option set: %w", err)
		}
		resp.Value = []optionAttr{one}
	}
	for _, a := range resp.Value {
		set := a.OptionSet
		if set == nil || len(set.Options) == 0 {
			set = a.GlobalOptionSet
		}
		if a.LogicalName == "" || set == nil {
			continue
		}
		labels := map[int32]string{}
		for _, o := range set.Options {
			labels[o.Value] = o.Label.Text()
		}
		into[a.LogicalName] = labels
	}
	return nil
}

// optionCasts are the cast answers the snapshot saves beside a table's
// definition whose labels feed value maps.
var optionCasts = []string{"PicklistAttributeMetadata", "MultiSelectPicklistAttributeMetadata"}

// readTableMeta reads metadata/<table>.json and its saved option labels; a
// table whose definition was not saved gives (nil, nil, nil).
func readTableMeta(snapDir, table string) (*Entity, Options, error) {
	b, err := os.ReadFile(filepath.Join(snapDir, "metadata", table+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read metadata of %s: %w", table, err)
	}
	ent, err := ReadEntity(b, table)
	if err != nil {
		return nil, nil, err
	}
	opts := Options{}
	for _, cast := range optionCasts {
		b, err := os.ReadFile(filepath.Join(snapDir, "metadata", table, cast+".json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue // the org refused the cast; codes stay unlabelled
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %s of %s: %w", cast, table, err)
		}
		if err := ReadOptions(b, opts); err != nil {
			return nil, nil, fmt.Errorf("%s of %s: %w", cast, table, err)
		}
	}
	return ent, opts, nil
}
