package replay

import (
	"errors"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/d2i/d2i/replay/intercomtest"
)

// replayedInto runs a clean replay of stageRows into srv.
func replayedInto(t *testing.T, srv *intercomtest.Server) (db, logDir string) {
	t.Helper()
	db, logDir = writeStage(t, stageRows), t.TempDir()
	sum, err := Run(t.Context(), testConfig(t, srv.URL, db, logDir))
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("replay: %v %+v", err, sum.Failures)
	}
	return db, logDir
}

func rollbackCfg(t *testing.T, url, logDir string) RollbackConfig {
	return RollbackConfig{BaseURL: url, Token: secretToken, LogDir: logDir, Retry: fastRetry, Logger: testLogger(t)}
}

func logFileNames(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// wantFullPlan is what rolling back stageRows' replay does: 3 contacts, 2
// companies (archived, so residue too), 2 links, 4 attributes, 3
// conversations and what went with them.
var wantFullPlan = map[string]map[UndoAction]int{
	KindDataAttribute:          {UndoArchive: 4},
	KindCompany:                {UndoDelete: 2, UndoResidue: 2},
	KindContact:                {UndoDelete: 3},
	KindContactCompany:         {UndoDetach: 2},
	KindConversation:           {UndoDelete: 3},
	KindConversationPart:       {UndoRemoved: 6},
	KindConversationAttributes: {UndoRemoved: 3},
	KindConversationState:      {UndoRemoved: 5},
}

// A preview reads but changes nothing and logs nothing, and plans exactly
// what the rollback after it then does.
func TestRollbackPreviewMatchesRollback(t *testing.T) {
	srv := newEmulator(t, nil)
	_, logDir := replayedInto(t, srv)
	before, counts, files := fingerprint(srv), srv.Counts(), logFileNames(t, logDir)

	cfg := rollbackCfg(t, srv.URL, logDir)
	cfg.Preview = true
	preview, err := Rollback(t.Context(), cfg)
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	if fingerprint(srv) != before || !maps.Equal(srv.Counts(), counts) {
		t.Errorf("preview changed the workspace: %v, was %v", srv.Counts(), counts)
	}
	if got := logFileNames(t, logDir); !slices.Equal(got, files) || preview.LogPath != "" {
		t.Errorf("preview left log files %v (was %v), LogPath %q", got, files, preview.LogPath)
	}
	if !reflect.DeepEqual(preview.Plan.Counts, wantFullPlan) {
		t.Errorf("preview plan = %v\nwant %v", preview.Plan.Counts, wantFullPlan)
	}
	if ids := preview.Plan.Examples[KindConversation][UndoDelete]; len(ids) != 3 {
		t.Errorf("preview lists conversation ids %v, want 3", ids)
	}

	rs, err := Rollback(t.Context(), rollbackCfg(t, srv.URL, logDir))
	if err != nil || len(rs.Failures) > 0 {
		t.Fatalf("rollback: %v %+v", err, rs.Failures)
	}
	if !reflect.DeepEqual(rs.Plan, preview.Plan) {
		t.Errorf("rollback plan %v differs from its preview %v", rs.Plan, preview.Plan)
	}
	for kind, actions := range wantFullPlan {
		sent := actions[UndoDelete] + actions[UndoRestore] + actions[UndoArchive] + actions[UndoDetach]
		if rs.Undone[kind] != sent || rs.Removed[kind] != actions[UndoRemoved] {
			t.Errorf("%s: undone %d removed %d, preview planned %v", kind, rs.Undone[kind], rs.Removed[kind], actions)
		}
	}
	if len(rs.Residue) != 2 || len(rs.HeldBack) != 0 {
		t.Errorf("residue %+v, held back %+v", rs.Residue, rs.HeldBack)
	}
	for _, k := range []string{"contact", "company", "conversation", "contact_company", "data_attribute"} {
		if n := srv.Counts()[k]; n != 0 {
			t.Errorf("after rollback the emulator holds %d %s", n, k)
		}
	}
}

// --kind conversation deletes the conversations (their parts, state and
// attributes with them) and keeps contacts, companies, links and
// attributes; a rerun then restores exactly the workspace of the replay.
func TestRollbackKindConversation(t *testing.T) {
	srv := newEmulator(t, nil)
	db, logDir := replayedInto(t, srv)
	first := fingerprint(srv)

	cfg := rollbackCfg(t, srv.URL, logDir)
	cfg.Kinds = []string{KindConversation}
	rs, err := Rollback(t.Context(), cfg)
	if err != nil || len(rs.Failures) > 0 {
		t.Fatalf("rollback: %v %+v", err, rs.Failures)
	}
	want := map[string]int{"contact": 3, "company": 2, "contact_company": 2, "conversation": 0,
		"conversation_part": 0, "data_attribute": 4}
	for k, n := range want {
		if got := srv.Counts()[k]; got != n {
			t.Errorf("emulator holds %d %s, want %d", got, k, n)
		}
	}
	if rs.Undone[KindConversation] != 3 || rs.Removed[KindConversationPart] != 6 || rs.Undone[KindContact] != 0 ||
		len(rs.Residue) != 0 {
		t.Errorf("summary: undone %v removed %v residue %+v", rs.Undone, rs.Removed, rs.Residue)
	}

	sum, err := Run(t.Context(), testConfig(t, srv.URL, db, logDir))
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("rerun: %v %+v", err, sum.Failures)
	}
	if sum.Kinds[KindConversation].Created != 3 || sum.Kinds[KindContact].Created != 0 {
		t.Errorf("rerun created conversations %+v, contacts %+v", *sum.Kinds[KindConversation],
			*sum.Kinds[KindContact])
	}
	if got := fingerprint(srv); got != first {
		t.Errorf("after rollback of conversations and a rerun:\n%s\nwant\n%s", got, first)
	}
}

func TestCheckRollbackKinds(t *testing.T) {
	tests := []struct {
		kinds []string
		want  string // "" = accepted; else a part of the error
	}{
		{nil, ""},
		{[]string{KindConversation}, ""},
		{[]string{KindContactCompany}, ""},
		{[]string{KindContact, KindConversation, KindContactCompany}, ""},
		{[]string{KindDataAttribute, KindCompany, KindContact, KindContactCompany, KindConversation}, ""},
		{[]string{KindContact}, "without contact_company, conversation would leave them pointing at what is " +
			"gone; use --kind contact,contact_company,conversation"},
		{[]string{KindCompany, KindContactCompany}, "without conversation would leave them pointing at what " +
			"is gone; use --kind company,contact_company,conversation"},
		{[]string{KindDataAttribute}, "use --kind company,contact,conversation,data_attribute"},
		{[]string{KindConversationPart}, "conversation_part cannot be rolled back on its own"},
		{[]string{KindCollection}, "use --kind article,collection"},
		{[]string{KindTag, KindContactTag}, "without company_tag, conversation_tag would leave"},
		{[]string{KindArticle}, ""},
		{[]string{"contacts"}, `unknown kind "contacts"`},
	}
	for _, tt := range tests {
		err := CheckRollbackKinds(tt.kinds)
		var ke *KindsError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%v: %v", tt.kinds, err)
		case tt.want != "" && (!errors.As(err, &ke) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%v: error %v, want one containing %q", tt.kinds, err, tt.want)
		}
	}
}

// --sample removes exactly the picked conversations: sampleRank orders
// inc2 < inc3 < inc1 with seed 7 and inc1 < inc2 < inc3 with seed 1.
func TestRollbackSample(t *testing.T) {
	tests := []struct {
		n     int
		seed  int64
		keep  []string // dynamics_case_id of the conversations left
		parts int      // parts removed with the picked conversations
	}{
		{2, 7, []string{"inc1"}, 3},
		{1, 1, []string{"inc2", "inc3"}, 3},
	}
	for _, tt := range tests {
		srv := newEmulator(t, nil)
		_, logDir := replayedInto(t, srv)
		cfg := rollbackCfg(t, srv.URL, logDir)
		cfg.Sample, cfg.Seed = tt.n, tt.seed
		rs, err := Rollback(t.Context(), cfg)
		if err != nil || len(rs.Failures) > 0 {
			t.Fatalf("rollback --sample %d --seed %d: %v %+v", tt.n, tt.seed, err, rs.Failures)
		}
		var left []string
		for _, cv := range srv.Conversations() {
			left = append(left, cv.CustomAttributes["dynamics_case_id"].(string))
		}
		slices.Sort(left)
		if !slices.Equal(left, tt.keep) {
			t.Errorf("sample %d seed %d left %v, want %v", tt.n, tt.seed, left, tt.keep)
		}
		if rs.Undone[KindConversation] != tt.n || rs.Removed[KindConversationPart] != tt.parts ||
			srv.Counts()["contact"] != 3 || srv.Counts()["company"] != 2 {
			t.Errorf("sample %d seed %d: undone %v removed %v, emulator %v", tt.n, tt.seed, rs.Undone, rs.Removed,
				srv.Counts())
		}
	}
}
