package mapping

import (
	"fmt"
	"maps"
	"slices"
)

// DeletePolicy says what a delta replay does in Intercom with an object
// whose source row was deleted in Dynamics after an earlier replay wrote
// it. Keep is the default for every kind: a deletion in the source is often
// a clean-up the customer does not want mirrored into history.
type DeletePolicy struct {
	Contacts      string `yaml:"contacts,omitempty" json:",omitempty"`      // keep | archive | delete
	Companies     string `yaml:"companies,omitempty" json:",omitempty"`     // keep | delete
	Conversations string `yaml:"conversations,omitempty" json:",omitempty"` // keep | delete
	Articles      string `yaml:"articles,omitempty" json:",omitempty"`      // keep | delete
}

// Delete actions.
const (
	DeleteKeep    = "keep"
	DeleteArchive = "archive"
	DeleteDelete  = "delete"
)

// deleteActions lists the actions each kind allows: only contacts can be
// archived by API, and archiving is the one deletion rollback can undo.
var deleteActions = map[string][]string{
	"contacts":      {DeleteKeep, DeleteArchive, DeleteDelete},
	"companies":     {DeleteKeep, DeleteDelete},
	"conversations": {DeleteKeep, DeleteDelete},
	"articles":      {DeleteKeep, DeleteDelete},
}

// Actions returns each kind's action (contacts, companies, conversations,
// articles), with keep for what p leaves empty; p may be nil.
func (p *DeletePolicy) Actions() map[string]string {
	out := map[string]string{}
	if p != nil {
		out["contacts"], out["companies"], out["conversations"], out["articles"] =
			p.Contacts, p.Companies, p.Conversations, p.Articles
	}
	for kind := range deleteActions {
		if out[kind] == "" {
			out[kind] = DeleteKeep
		}
	}
	return out
}

func (p *DeletePolicy) validate() []error {
	var errs []error
	actions := p.Actions()
	for _, kind := range slices.Sorted(maps.Keys(actions)) {
		if action := actions[kind]; !slices.Contains(deleteActions[kind], action) {
			errs = append(errs, fmt.Errorf("deletes.%s: %q is not one of %v", kind, action, deleteActions[kind]))
		}
	}
	return errs
}
