package changes_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gregjones/httpcache"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/reconcilers/changes"
)

// A rule resync's listing of the repository's open PRs serves the keys it
// enqueues: each finds its PR in that same listing, revalidated with a
// 304, instead of listing its own PRs. A PR closed since is still found,
// by the key's own listing of PRs in any state.
func TestOpenPRListingServesKeys(t *testing.T) {
	b := newApplyBench(t, map[string]string{"a.txt": "a\n", "b.txt": "b\n"})
	ctx := context.Background()
	// tend's client: every answer cached and revalidated.
	cache := httpcache.NewMemoryCache()
	cc, err := b.gh.ClientCreator(githubapp.WithClientCaching(true, func() httpcache.Cache { return cache }))
	if err != nil {
		t.Fatal(err)
	}
	if b.client, err = cc.NewInstallationClient(1); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a.txt", "b.txt"} {
		b.apply(t, b.change(t, "acme/web:r:"+p, p, "new "+p+"\n", 10), "pr-opened")
	}
	// A Manager that remembers nothing, as after a restart.
	fresh := &changes.Manager{Identity: b.manager.Identity, Counter: b.slots}
	b.gh.ResetRequests()
	open, err := fresh.OpenPRKeys(ctx, b.client, "acme", "web", "r")
	if err != nil || len(open) != 2 {
		t.Fatalf("open PR keys %v %v", open, err)
	}
	b.gh.ResetRequests()
	for _, p := range []string{"a.txt", "b.txt"} {
		pr, st, err := fresh.PR(ctx, b.client, "acme", "web", keys.MustParse("acme/web:r:"+p))
		if err != nil || pr == nil || pr.GetState() != "open" || st.Key != "acme/web:r:"+p {
			t.Fatalf("PR of %s: %v %+v %v", p, pr, st, err)
		}
	}
	for _, r := range b.gh.Requests() {
		if r.Operation != "pulls/list" || !r.NotModified || strings.Contains(r.Query, "head=") {
			t.Errorf("after the resync's listing, a key read %s %s?%s (status %d, conditional %v); want the same listing, 304", r.Method, r.Path, r.Query, r.Status, r.Conditional)
		}
	}

	a := b.gh.PullRequests(repoName)[0]
	b.gh.CloseIssue(repoName, a.Number, "maya")
	pr, _, err := fresh.PR(ctx, b.client, "acme", "web", keys.MustParse("acme/web:r:a.txt"))
	if err != nil || pr == nil || pr.GetNumber() != a.Number || pr.GetState() != "closed" {
		t.Fatalf("a PR closed after the resync: found %v %v", pr, err)
	}
}

// Comments need not be read while nothing changed a PR since tend opened
// it; a comment, a label or a push (each moves updated_at) changes that.
func TestCommentsUnreadAfterOpening(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func(b *applyBench, number int)
	}{
		{"comment", func(b *applyBench, n int) { b.gh.AddComment(repoName, n, "maya", "/reconcile") }},
		{"label", func(b *applyBench, n int) { b.gh.LabelIssue(repoName, n, "urgent", "maya") }},
		{"push", func(b *applyBench, n int) {
			b.gh.Commit(repoName, b.gh.PullRequests(repoName)[0].HeadRef, map[string]string{"a.txt": "mine\n"}, nil, "maya", "mine")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newApplyBench(t, map[string]string{"a.txt": "a\n"})
			k := keys.MustParse("acme/web:r:a.txt")
			out := b.apply(t, b.change(t, k.String(), "a.txt", "new\n", 10), "pr-opened")
			pr, _, err := b.manager.PR(ctx, b.client, "acme", "web", k)
			if err != nil || pr.GetNumber() != out.PR {
				t.Fatalf("PR %v %v", pr, err)
			}
			if b.manager.CommentsUnread("acme", "web", pr) {
				t.Fatal("a PR nothing changed since tend opened it: its comments must not need reading")
			}
			fakegithub.WaitNextSecond()
			tc.change(b, out.PR)
			if pr, _, err = b.manager.PR(ctx, b.client, "acme", "web", k); err != nil {
				t.Fatal(err)
			}
			if !b.manager.CommentsUnread("acme", "web", pr) {
				t.Errorf("after a %s, the PR's comments were not to be read", tc.name)
			}
		})
	}
}
