package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinySnapshot is just enough of a snapshot for 'map propose': a manifest and
// a contact definition with one custom picklist and its labels.
func tinySnapshot(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"manifest.json": `{"org_url":"https://org.crm.dynamics.com","started_at":"2026-12-03T10:00:00Z",
			"complete":true,"tables":{}}`,
		"metadata/contact.json": `{"LogicalName":"contact","EntitySetName":"contacts",
			"PrimaryIdAttribute":"contactid","Attributes":[
			{"LogicalName":"contactid","AttributeType":"Uniqueidentifier","IsCustomAttribute":false},
			{"LogicalName":"new_tier","AttributeType":"Picklist","IsCustomAttribute":true,
			 "AttributeOf":null,"IsValidForRead":true}]}`,
		"metadata/contact/PicklistAttributeMetadata.json": `{"value":[{"LogicalName":"new_tier",
			"OptionSet":{"Options":[{"Value":1,"Label":{"UserLocalizedLabel":{"Label":"Gold"}}}]}}]}`,
	}
	for rel, body := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestMapProposeConfirm(t *testing.T) {
	snap := tinySnapshot(t)
	var out, errOut bytes.Buffer
	if code := run([]string{"map", "propose", snap}, &out, &errOut); code != exitOK {
		t.Fatalf("propose: exit %d, stderr %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "name: new_tier") || !strings.Contains(out.String(), "intercom: Gold") {
		t.Fatalf("proposal lacks the custom picklist:\n%s", out.String())
	}
	path := filepath.Join(t.TempDir(), "mapping.yaml")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	out.Reset()
	if code := run([]string{"map", "confirm", path}, &out, &errOut); code != exitOK {
		t.Fatalf("confirm: exit %d, stderr %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "sha256:") {
		t.Errorf("confirm output %q lacks the hash", out.String())
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "\nconfirmed: sha256:") {
		t.Errorf("file not sealed:\n%s", b)
	}
}

func TestMapUsageMistakesExitTwo(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"map"},
		{"map", "propose"},
		{"map", "frobnicate", dir},
		{"map", "propose", dir}, // no manifest.json
		{"map", "confirm", filepath.Join(dir, "missing.yaml")},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(args, &out, &errOut); code != exitUsage {
				t.Errorf("exit %d, want %d; stderr: %s", code, exitUsage, errOut.String())
			}
		})
	}
}
