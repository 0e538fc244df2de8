package replay

import (
	"context"
	"testing"

	"github.com/d2i/d2i/replay/intercomtest"
)

func TestTagsMarkEveryMigratedObjectOnce(t *testing.T) {
	db := writeStage(t, stageRows)
	srv := newEmulator(t, nil)
	logDir := t.TempDir()
	cfg := testConfig(t, srv.URL, db, logDir)
	cfg.Tag = DefaultTag

	sum, err := Run(t.Context(), cfg)
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("run: %v %+v", err, sum.Failures)
	}
	checkTagged(t, srv.TaggedWith(DefaultTag), 3, 3, 2)
	if tags := srv.Tags(); len(tags) != 1 || tags[0].Name != DefaultTag {
		t.Errorf("tags = %+v, want one %q", tags, DefaultTag)
	}
	want := map[string]int{KindTag: 1, KindConversationTag: 3, KindContactTag: 3, KindCompanyTag: 2}
	for kind, n := range want {
		if c := sum.Kinds[kind]; c == nil || c.Created+c.Existing != n {
			t.Errorf("%s: %+v, want %d written", kind, c, n)
		}
	}
	if srv.Notifications() != 0 {
		t.Errorf("notifications = %d", srv.Notifications())
	}

	// A rerun tags nothing again and creates no second tag.
	again, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for kind, n := range want {
		if c := again.Kinds[kind]; c == nil || c.Skipped != n || c.Created != 0 {
			t.Errorf("rerun %s: %+v, want %d skipped", kind, c, n)
		}
	}
	if len(srv.Tags()) != 1 {
		t.Errorf("rerun made tags %+v", srv.Tags())
	}

	// Rollback untags and deletes the tag it created.
	rs := rollbackAll(t, srv.URL, logDir)
	if len(rs.Failures) > 0 {
		t.Fatalf("rollback failures %+v", rs.Failures)
	}
	if tags := srv.Tags(); len(tags) != 0 {
		t.Errorf("after rollback tags = %+v", tags)
	}
}

func TestTagThatExistedIsKeptByRollback(t *testing.T) {
	db := writeStage(t, stageRows)
	srv := newEmulator(t, nil)
	precreate(t, srv.URL, func(ctx context.Context, c *Client) error {
		_, err := c.CreateTag(ctx, "migrated from dynamics") // names compare case-insensitively
		return err
	})
	logDir := t.TempDir()
	cfg := testConfig(t, srv.URL, db, logDir)
	cfg.Tag = DefaultTag
	sum, err := Run(t.Context(), cfg)
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("run: %v %+v", err, sum.Failures)
	}
	if c := sum.Kinds[KindTag]; c == nil || c.Existing != 1 || c.Created != 0 {
		t.Errorf("tag counts %+v, want existing", c)
	}
	checkTagged(t, srv.TaggedWith(DefaultTag), 3, 3, 2)

	rollbackAll(t, srv.URL, logDir)
	if tags := srv.Tags(); len(tags) != 1 {
		t.Errorf("rollback deleted a tag it did not create: %+v", tags)
	}
	checkTagged(t, srv.TaggedWith(DefaultTag), 0, 0, 0)
}

func TestNoTagByDefault(t *testing.T) {
	db := writeStage(t, stageRows)
	srv := newEmulator(t, nil)
	if _, err := Run(t.Context(), testConfig(t, srv.URL, db, t.TempDir())); err != nil {
		t.Fatal(err)
	}
	if tags := srv.Tags(); len(tags) != 0 {
		t.Errorf("tags = %+v, want none without Config.Tag", tags)
	}
}

func TestPlanCountsTagging(t *testing.T) {
	db := writeStage(t, stageRows)
	p, err := Plan(t.Context(), PlanConfig{DBPath: db, Tag: DefaultTag})
	if err != nil {
		t.Fatal(err)
	}
	planned := map[string]int{}
	for _, k := range p.Kinds {
		planned[k.Kind] = k.Writes
	}
	want := map[string]int{KindTag: 1, KindConversationTag: 3, KindContactTag: 3, KindCompanyTag: 2}
	for kind, n := range want {
		if planned[kind] != n {
			t.Errorf("plan %s = %d writes, want %d", kind, planned[kind], n)
		}
	}

	// The plan's tag writes are a real run's intents.
	srv := newEmulator(t, nil)
	cfg := testConfig(t, srv.URL, db, t.TempDir())
	cfg.Tag = DefaultTag
	sum, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	writes, _, _ := intentsByKind(readRecords(t, sum.LogPath))
	for kind, n := range want {
		if writes[kind] != n {
			t.Errorf("run %s = %d intents, want %d", kind, writes[kind], n)
		}
	}
	// The plan also reads the tag list once, as replay does.
	if p.WorkspaceReads != 6 {
		t.Errorf("workspace reads = %d, want 6 (attribute lists, admins, teams, tags)", p.WorkspaceReads)
	}
}

func checkTagged(t *testing.T, got intercomtest.Tagged, conversations, contacts, companies int) {
	t.Helper()
	if len(got.Conversations) != conversations || len(got.Contacts) != contacts || len(got.Companies) != companies {
		t.Errorf("tagged %d conversations, %d contacts, %d companies; want %d, %d, %d",
			len(got.Conversations), len(got.Contacts), len(got.Companies), conversations, contacts, companies)
	}
}
