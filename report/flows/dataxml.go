package flows

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// dataXML is the <Workflow> element of a solution export's
// Workflows/<name>-<GUID>.{json,xaml}.data.xml component file.
type dataXML struct {
	XMLName      xml.Name `xml:"Workflow"`
	WorkflowID   string   `xml:"WorkflowId,attr"`
	Name         string   `xml:"Name,attr"`
	JSONFileName string   `xml:"JsonFileName"`
	XAMLFileName string   `xml:"XamlFileName"`
	UniqueName   string   `xml:"UniqueName"`

	Type                         string `xml:"Type"`
	Subprocess                   string `xml:"Subprocess"`
	Category                     string `xml:"Category"`
	Mode                         string `xml:"Mode"`
	Scope                        string `xml:"Scope"`
	OnDemand                     string `xml:"OnDemand"`
	TriggerOnCreate              string `xml:"TriggerOnCreate"`
	TriggerOnDelete              string `xml:"TriggerOnDelete"`
	TriggerOnUpdateAttributeList string `xml:"TriggerOnUpdateAttributeList"`
	StateCode                    string `xml:"StateCode"`
	StatusCode                   string `xml:"StatusCode"`
	PrimaryEntity                string `xml:"PrimaryEntity"`

	LocalizedNames []struct {
		LanguageCode string `xml:"languagecode,attr"`
		Description  string `xml:"description,attr"`
	} `xml:"LocalizedNames>LocalizedName"`
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// FromDataXML reads the component metadata a solution export writes beside
// each process (Workflows/*.data.xml). ClientData and XAML stay empty: they
// live in the sibling file named by DefinitionFile (see ReadSolutionDir).
func FromDataXML(data []byte) (Workflow, error) {
	var d dataXML
	if err := xml.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &d); err != nil {
		return Workflow{}, fmt.Errorf("workflow data.xml: %w", err)
	}
	id := normalizeID(d.WorkflowID)
	if id == "" {
		return Workflow{}, fmt.Errorf("workflow data.xml: field WorkflowId: missing")
	}

	w := Workflow{
		ID:                           id,
		Name:                         d.Name,
		UniqueName:                   d.UniqueName,
		PrimaryEntity:                strings.ToLower(strings.TrimSpace(d.PrimaryEntity)),
		TriggerOnUpdateAttributeList: strings.TrimSpace(d.TriggerOnUpdateAttributeList),
		DefinitionFile:               firstNonEmpty(d.JSONFileName, d.XAMLFileName),
	}
	if w.Name == "" {
		for _, n := range d.LocalizedNames {
			w.Name = n.Description
			break
		}
	}

	ints := []struct {
		field string
		raw   string
		dst   *int
	}{
		{"Category", d.Category, &w.Category}, {"Type", d.Type, &w.Type},
		{"StateCode", d.StateCode, &w.StateCode}, {"StatusCode", d.StatusCode, &w.StatusCode},
		{"Mode", d.Mode, &w.Mode}, {"Scope", d.Scope, &w.Scope},
	}
	for _, f := range ints {
		if err := parseInt(f.raw, f.dst); err != nil {
			return Workflow{}, fmt.Errorf("workflow %s data.xml: field %s: %w", id, f.field, err)
		}
	}
	if strings.TrimSpace(d.Category) == "" {
		return Workflow{}, fmt.Errorf("workflow %s data.xml: field Category: missing", id)
	}

	bools := []struct {
		field string
		raw   string
		dst   *bool
	}{
		{"OnDemand", d.OnDemand, &w.OnDemand}, {"Subprocess", d.Subprocess, &w.Subprocess},
		{"TriggerOnCreate", d.TriggerOnCreate, &w.TriggerOnCreate},
		{"TriggerOnDelete", d.TriggerOnDelete, &w.TriggerOnDelete},
	}
	for _, f := range bools {
		if err := parseBool(f.raw, f.dst); err != nil {
			return Workflow{}, fmt.Errorf("workflow %s data.xml: field %s: %w", id, f.field, err)
		}
	}
	return w, nil
}

func parseInt(raw string, dst *int) error {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return err
	}
	*dst = n
	return nil
}

// parseBool accepts the 0/1 the export writes as well as true/false.
func parseBool(raw string, dst *bool) error {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "", "0", "false":
		*dst = false
	case "1", "true":
		*dst = true
	default:
		return fmt.Errorf("not a boolean: %q", raw)
	}
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// Solution is what the inventory takes from an unpacked solution's
// Other/Solution.xml.
type Solution struct {
	UniqueName  string
	Version     string
	WorkflowIDs []string // root components of type 29 (process), sorted
}

// componentTypeWorkflow is the solution component type of a process.
const componentTypeWorkflow = "29"

// ReadSolutionManifest reads Other/Solution.xml. Publisher contact details
// in it are ignored on purpose.
func ReadSolutionManifest(data []byte) (Solution, error) {
	var doc struct {
		Manifest struct {
			UniqueName string `xml:"UniqueName"`
			Version    string `xml:"Version"`
			Roots      []struct {
				Type string `xml:"type,attr"`
				ID   string `xml:"id,attr"`
			} `xml:"RootComponents>RootComponent"`
		} `xml:"SolutionManifest"`
	}
	if err := xml.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &doc); err != nil {
		return Solution{}, fmt.Errorf("solution manifest: %w", err)
	}
	s := Solution{UniqueName: doc.Manifest.UniqueName, Version: doc.Manifest.Version}
	for _, r := range doc.Manifest.Roots {
		if r.Type == componentTypeWorkflow && r.ID != "" {
			s.WorkflowIDs = append(s.WorkflowIDs, normalizeID(r.ID))
		}
	}
	sort.Strings(s.WorkflowIDs)
	return s, nil
}

// ReadSolutionDir turns an unpacked solution (the folder holding Workflows/
// and, optionally, Other/Solution.xml) into Workflow values, each with its
// clientdata or XAML read from the sibling definition file. Rows come back
// sorted by id.
func ReadSolutionDir(dir string) ([]Workflow, error) {
	metas, err := filepath.Glob(filepath.Join(dir, "Workflows", "*.data.xml"))
	if err != nil {
		return nil, fmt.Errorf("solution %s: %w", dir, err)
	}
	solution := ""
	if b, err := os.ReadFile(filepath.Join(dir, "Other", "Solution.xml")); err == nil {
		s, err := ReadSolutionManifest(b)
		if err != nil {
			return nil, fmt.Errorf("solution %s: %w", dir, err)
		}
		solution = s.UniqueName
	}

	var out []Workflow
	for _, meta := range metas {
		w, err := readComponent(dir, meta)
		if err != nil {
			return nil, err
		}
		w.Solution = solution
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func readComponent(dir, meta string) (Workflow, error) {
	b, err := os.ReadFile(meta)
	if err != nil {
		return Workflow{}, err
	}
	w, err := FromDataXML(b)
	if err != nil {
		return Workflow{}, fmt.Errorf("%s: %w", filepath.Base(meta), err)
	}
	path, err := definitionPath(dir, w)
	if err != nil {
		return Workflow{}, err
	}
	def, err := os.ReadFile(path)
	if err != nil {
		return Workflow{}, fmt.Errorf("workflow %s: definition file: %w", w.ID, err)
	}
	def = bytes.TrimPrefix(def, utf8BOM)
	if strings.EqualFold(filepath.Ext(path), ".xaml") {
		w.XAML = string(def)
	} else {
		w.ClientData = string(def)
	}
	return w, nil
}

// definitionPath finds the .json or .xaml beside a data.xml. The name the
// data.xml records goes stale when a process is renamed after export (the
// file keeps its GUID but changes its name part), so the GUID decides when
// the recorded name is missing.
func definitionPath(dir string, w Workflow) (string, error) {
	if w.DefinitionFile != "" {
		p := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(w.DefinitionFile, "/")))
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	suffix := "-" + strings.ToUpper(w.ID)
	entries, err := os.ReadDir(filepath.Join(dir, "Workflows"))
	if err != nil {
		return "", fmt.Errorf("workflow %s: definition file: %w", w.ID, err)
	}
	for _, e := range entries {
		name := e.Name()
		base := strings.TrimSuffix(name, filepath.Ext(name))
		ext := strings.ToLower(filepath.Ext(name))
		if (ext == ".json" || ext == ".xaml") && strings.HasSuffix(strings.ToUpper(base), suffix) {
			return filepath.Join(dir, "Workflows", name), nil
		}
	}
	return "", fmt.Errorf("workflow %s: definition file %q: not found", w.ID, w.DefinitionFile)
}
