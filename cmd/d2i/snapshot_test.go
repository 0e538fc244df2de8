package main

import (
	"strings"
	"testing"

	"github.com/d2i/d2i/snapshot"
)

func TestCheckAbsent(t *testing.T) {
	complete := &snapshot.TableManifest{Status: snapshot.StatusComplete}
	absent := &snapshot.TableManifest{Status: snapshot.StatusAbsent}

	cases := []struct {
		name    string
		tables  map[string]*snapshot.TableManifest
		named   []string
		wantErr string
	}{
		{"default set missing Omnichannel", map[string]*snapshot.TableManifest{"incident": complete, "msdyn_ocsession": absent}, nil, ""},
		{"named table present", map[string]*snapshot.TableManifest{"incident": complete}, []string{"incident"}, ""},
		{"named table missing", map[string]*snapshot.TableManifest{"incident": complete, "incdent": absent}, []string{"incident", "incdent"}, "incdent"},
		{"nothing found", map[string]*snapshot.TableManifest{"incident": absent, "contact": absent}, nil, "Dataverse environment"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkAbsent(&snapshot.Manifest{Tables: c.tables}, c.named)

			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("error = %v, want one naming %q", err, c.wantErr)
			}
		})
	}
}
