package mapping

import (
	"strings"
	"testing"
)

func TestDeletePolicy(t *testing.T) {
	tests := []struct {
		name    string
		policy  *DeletePolicy
		wantErr string
		actions map[string]string
	}{
		{name: "absent keeps everything",
			actions: map[string]string{"contacts": "keep", "companies": "keep", "conversations": "keep", "articles": "keep"}},
		{name: "partly set", policy: &DeletePolicy{Contacts: "archive", Conversations: "delete"},
			actions: map[string]string{"contacts": "archive", "companies": "keep", "conversations": "delete", "articles": "keep"}},
		{name: "only contacts archive", policy: &DeletePolicy{Companies: "archive"},
			wantErr: `deletes.companies: "archive" is not one of [keep delete]`},
		{name: "unknown action", policy: &DeletePolicy{Articles: "purge"},
			wantErr: `deletes.articles: "purge"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := sample()
			m.Deletes = tc.policy
			err := m.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Validate = %v, want %q", err, tc.wantErr)
			}
			for kind, want := range tc.actions {
				if got := tc.policy.Actions()[kind]; got != want {
					t.Errorf("%s: %q, want %q", kind, got, want)
				}
			}
		})
	}
}

// A mapping sealed before deletes existed keeps its seal, and survives a
// rewrite (as 'd2i map confirm' does) without gaining the section.
func TestHashWithoutDeletes(t *testing.T) {
	m := sample()
	m.Deletes = nil
	before := m.Hash()
	b, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "deletes:") {
		t.Error("a mapping without a delete policy was written with one")
	}
	back, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Hash() != before {
		t.Error("rewriting a mapping without deletes changed its hash")
	}
	m.Deletes = &DeletePolicy{Contacts: DeleteArchive}
	if m.Hash() == before {
		t.Error("a delete policy did not change the hash")
	}
}
