package mapping

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sample is a small valid mapping built from the defaults.
func sample() *Mapping {
	m := defaults()
	m.Source = Source{OrgURL: "https://org.crm.dynamics.com", StartedAt: "2026-12-03T10:00:00Z"}
	m.DataAttributes = []DataAttribute{
		{SourceTable: "contact", SourceColumn: "new_loyaltytier", SourceType: "Picklist",
			Column: "new_loyaltytier", Model: "contact", Name: "new_loyaltytier", DataType: TypeString,
			Enabled: true, Values: []ValueMap{{1, "Gold"}, {2, "Silver: \"quoted\" # not a comment"}}},
		{SourceTable: "incident", SourceColumn: "new_productserial", SourceType: "String",
			Column: "new_productserial", Model: "conversation", Name: "new_productserial",
			DataType: TypeString, Enabled: true},
	}
	return m
}

func claims() CustomTable {
	return CustomTable{Table: "new_warrantyclaim", Key: "new_warrantyclaimid", Mode: ModeJSONAttribute,
		Model: "company", Link: "new_incidentid", Name: "warranty_claims", Columns: []string{"new_name"},
		MaxChars: DefaultMaxChars}
}

// A mapping sealed before custom tables existed keeps its seal: an empty
// list is left out of the hashed content.
func TestHashWithoutCustomTables(t *testing.T) {
	m := sample()
	before := m.Hash()
	m.CustomTables = []CustomTable{}
	if m.Hash() != before {
		t.Error("an empty custom_tables list changed the hash")
	}
	m.CustomTables = []CustomTable{claims()}
	if m.Hash() == before {
		t.Error("a custom table rule did not change the hash")
	}
}

func writeSample(t *testing.T) string {
	t.Helper()
	b, err := Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mapping.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMarshalRoundTrip(t *testing.T) {
	m := sample()
	b, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Unmarshal(b)
	if err != nil {
		t.Fatalf("unmarshal own output: %v\n%s", err, b)
	}
	if back.Hash() != m.Hash() {
		t.Errorf("hash changed through YAML: %s != %s", back.Hash(), m.Hash())
	}
	if got := back.DataAttributes[0].Values[1].Intercom; got != m.DataAttributes[0].Values[1].Intercom {
		t.Errorf("value label = %q", got)
	}
	again, _ := Marshal(back)
	if string(again) != string(b) {
		t.Errorf("marshal not stable:\n%s\n---\n%s", b, again)
	}
}

func TestConfirmVerify(t *testing.T) {
	path := writeSample(t)

	if _, err := LoadVerified(path); !errors.Is(err, ErrUnconfirmed) {
		t.Fatalf("unconfirmed: err = %v, want ErrUnconfirmed", err)
	}
	m, err := Confirm(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Confirmed, "sha256:") || len(m.Confirmed) != len("sha256:")+64 {
		t.Fatalf("seal = %q", m.Confirmed)
	}
	got, err := LoadVerified(path)
	if err != nil {
		t.Fatalf("verify after confirm: %v", err)
	}
	if got.Confirmed != m.Confirmed || got.ConfirmedAt == "" {
		t.Errorf("loaded seal %q at %q, confirmed %q", got.Confirmed, got.ConfirmedAt, m.Confirmed)
	}

	// Confirming again replaces the seal instead of adding a second one.
	if _, err := Confirm(path); err != nil {
		t.Fatalf("second confirm: %v", err)
	}
	b, _ := os.ReadFile(path)
	if n := strings.Count(string(b), "\nconfirmed: "); n != 1 {
		t.Errorf("%d seal lines after two confirms:\n%s", n, b)
	}
}

func TestEditAfterConfirmDetected(t *testing.T) {
	cases := []struct {
		name, from, to string
		wantErr        error
	}{
		{"one character in a value label", "intercom: Gold", "intercom: Gole", ErrChanged},
		{"one digit in the size cap", "max_bytes: 10485760", "max_bytes: 10485761", ErrChanged},
		{"an attribute switched off", "enabled: true", "enabled: fals", nil}, // not a bool: parse error
		{"a comment only", "# Format of this file.", "# Format of this file!", nil},
		{"seal removed", "confirmed: sha256:", "# confirmed: sha256:", ErrUnconfirmed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeSample(t)
			if _, err := Confirm(path); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(path)
			if !strings.Contains(string(b), tc.from) {
				t.Fatalf("%q not in file", tc.from)
			}
			edited := strings.Replace(string(b), tc.from, tc.to, 1)
			if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadVerified(path)
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			case tc.name == "a comment only" && err != nil:
				t.Errorf("comment edit broke the seal: %v", err)
			case tc.name == "an attribute switched off" && err == nil:
				t.Error("a malformed edit verified")
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(m *Mapping)
		want string // substring of the error; "" = valid
	}{
		{"sample is valid", func(*Mapping) {}, ""},
		{"bad character", func(m *Mapping) { m.DataAttributes[0].Name = "loyalty.tier" }, "may hold only"},
		{"bad type", func(m *Mapping) { m.DataAttributes[1].DataType = "datetime" }, "data_type"},
		{"values on a number", func(m *Mapping) { m.DataAttributes[0].DataType = TypeInteger }, "values need"},
		{"name clash across models", func(m *Mapping) { m.DataAttributes[1].Name = "New_LoyaltyTier" }, "already used"},
		{"clash with a stamp", func(m *Mapping) { m.DataAttributes[1].Name = "dynamics_case_id" }, "already used"},
		{"clash ignored when off", func(m *Mapping) {
			m.DataAttributes[1].Name, m.DataAttributes[1].Enabled = "new_loyaltytier", false
		}, ""},
		{"bad model", func(m *Mapping) { m.DataAttributes[1].Model = "ticket" }, "model"},
		{"over the cap", func(m *Mapping) {
			for i := range 250 {
				m.DataAttributes = append(m.DataAttributes, DataAttribute{SourceTable: "contact",
					SourceColumn: "c", Model: "contact", Name: "a" + strings.Repeat("x", i), DataType: TypeString,
					Enabled: true})
			}
		}, "Intercom allows 250"},
		{"Intercom built-in name", func(m *Mapping) { m.DataAttributes[1].Name = "Title" }, "built-in attributes"},
		{"type change", func(m *Mapping) { m.DataAttributes[1].DataType = TypeBoolean }, `cannot hold a String`},
		{"model of another table", func(m *Mapping) { m.DataAttributes[1].Model = "contact" },
			"incident rows become Intercom conversation objects"},
		{"custom table valid", func(m *Mapping) { m.CustomTables = []CustomTable{claims()} }, ""},
		{"custom table mode", func(m *Mapping) {
			m.CustomTables = []CustomTable{claims()}
			m.CustomTables[0].Mode = "merge"
		}, `custom table new_warrantyclaim: mode "merge"`},
		{"custom table on a conversation", func(m *Mapping) {
			m.CustomTables = []CustomTable{claims()}
			m.CustomTables[0].Model = "conversation"
		}, "goes on a company or a contact"},
		{"custom table name clash", func(m *Mapping) {
			m.CustomTables = []CustomTable{claims()}
			m.CustomTables[0].Name = "new_productserial"
		}, "already used by data attribute incident.new_productserial"},
		{"custom table skip needs no name", func(m *Mapping) {
			m.CustomTables = []CustomTable{{Table: "new_warrantyclaim", Key: "new_warrantyclaimid", Mode: ModeSkip}}
		}, ""},
		{"over_limit", func(m *Mapping) { m.Attachments.OverLimit = "drop" }, "over_limit"},
		{"max_bytes", func(m *Mapping) { m.Attachments.MaxBytes = 0 }, "max_bytes"},
		{"taxonomy", func(m *Mapping) { m.Taxonomy.Deeper = "drop" }, "taxonomy.deeper"},
		{"version", func(m *Mapping) { m.Version = 2 }, "version 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := sample()
			tc.edit(m)
			err := m.Validate()
			if tc.want == "" {
				if err != nil {
					t.Errorf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestUnmarshalRejectsUnknownKey(t *testing.T) {
	b, _ := Marshal(sample())
	typo := strings.Replace(string(b), "\n  over_limit:", "\n  overlimit:", 1)
	if _, err := Unmarshal([]byte(typo)); err == nil {
		t.Error("misspelt key accepted")
	}
}

func TestNamer(t *testing.T) {
	n := newNamer(defaults().Stamps)
	cases := []struct{ logical, model, want string }{
		{"new_tier", "contact", "new_tier"},
		{"new_tier", "company", "new_tier_company"},
		{"new_tier", "company", "new_tier_company_2"},
		{"name", "company", "dynamics_name"},
		{"dynamics_case_id", "conversation", "dynamics_case_id_conversation"},
		{"cr1.weird/col", "contact", "cr1_weird_col"},
	}
	for _, tc := range cases {
		if got := n.claim(tc.logical, tc.model); got != tc.want {
			t.Errorf("claim(%q, %q) = %q, want %q", tc.logical, tc.model, got, tc.want)
		}
		if !validName.MatchString(n.claim(tc.logical+"x", tc.model)) {
			t.Errorf("invalid name for %q", tc.logical)
		}
	}
}
