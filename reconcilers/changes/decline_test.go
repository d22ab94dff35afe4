package changes

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v89/github"
	"github.com/gregjones/httpcache"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/keys"
)

// memDeclines is Declines in memory.
type memDeclines struct {
	mu sync.Mutex
	m  map[string]string
}

func (d *memDeclines) Decline(_ context.Context, key string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m[key], nil
}

func (d *memDeclines) SetDecline(_ context.Context, _, key, v string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m[key] = v
	return nil
}

func (d *memDeclines) ClearDecline(_ context.Context, key string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.m, key)
	return nil
}

type declineBench struct {
	gh     *fakegithub.Server
	client *github.Client
	m      *Manager
	store  *memDeclines
	k      keys.Key
}

func newDeclineBench(t *testing.T) *declineBench {
	t.Helper()
	gh := fakegithub.New(t)
	gh.AddInstallation(1, "acme")
	gh.AddRepoWithFiles(1, "acme/web", "main", map[string]string{"a.txt": "old\n"})
	gh.SetPermission("acme/web", "alice", "write")
	// As the server does: every cached answer is revalidated.
	cc, err := gh.ClientCreator(githubapp.WithClientCaching(true, func() httpcache.Cache { return httpcache.NewMemoryCache() }))
	if err != nil {
		t.Fatal(err)
	}
	client, err := cc.NewInstallationClient(1)
	if err != nil {
		t.Fatal(err)
	}
	store := &memDeclines{m: map[string]string{}}
	return &declineBench{gh: gh, client: client, store: store, k: keys.MustParse("acme/web:r:a.txt"),
		m: &Manager{Identity: botpr.NewIdentity(gh.AppID(), "tend"), Declines: store}}
}

// apply proposes a.txt with content, as rewrite.
func (b *declineBench) apply(t *testing.T, content, rewrite string) Outcome {
	t.Helper()
	ctx := context.Background()
	base, err := ReadBase(ctx, b.client, "acme", "web", "main")
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := b.gh.File("acme/web", "main", "a.txt")
	out, err := b.m.Apply(ctx, b.client, "acme", "web", &Change{
		Key: b.k, Rule: "r", Base: base, Title: "t", PullRequests: config.PullRequests{Limit: 10},
		Files:    []FileChange{{Path: "a.txt", Base: []byte(cur), BaseExists: true, Desired: []byte(content)}},
		Proposal: &botpr.Proposal{Rewrites: []string{rewrite}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (b *declineBench) prior(t *testing.T) *Prior {
	t.Helper()
	return b.priorAsked(t, false)
}

// priorAsked is prior when people asked for the key's change anyway.
func (b *declineBench) priorAsked(t *testing.T, reconsider bool) *Prior {
	t.Helper()
	p, err := b.m.Prior(context.Background(), b.client, "acme", "web", b.k, reconsider)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (b *declineBench) notes(pr int) int {
	n := 0
	for _, c := range b.gh.Comments("acme/web", pr) {
		if strings.Contains(c.Body, declinedMarker) {
			n++
		}
	}
	return n
}

// The bookkeeping of one decline: noted once (database, state block,
// comment), restored from the PR when the database lost it, withdrawn when
// people ask for the change anyway.
func TestDeclineBookkeeping(t *testing.T) {
	b := newDeclineBench(t)
	out := b.apply(t, "new\n", "img:1@sha256:1")
	if out.Action != "pr-opened" {
		t.Fatalf("apply: %+v", out)
	}
	if p := b.prior(t); p.Decline.Has(out.PR) || b.notes(out.PR) != 0 {
		t.Fatalf("an open PR counts as declined")
	}
	b.gh.ClosePR("acme/web", out.PR, "alice")

	for i := 0; i < 3; i++ {
		p := b.prior(t)
		if !p.Decline.Has(out.PR) || !p.Decline.DeclinedRewrite("img:1@sha256:1") || !p.State.Declined {
			t.Fatalf("look %d: decline %+v, state %+v", i, p.Decline, p.State)
		}
	}
	if n := b.notes(out.PR); n != 1 {
		t.Errorf("%d decline comments after three looks, want 1", n)
	}
	if again := b.apply(t, "new\n", "img:1@sha256:1"); again.Action != "declined" || len(b.gh.PullRequests("acme/web")) != 1 {
		t.Errorf("proposing the declined rewrite again = %+v", again)
	}
	if other := b.apply(t, "other\n", "img:1@sha256:1"); other.Action != "declined" {
		t.Errorf("other content with only the declined rewrite = %+v", other)
	}

	// The database loses the row: the closed PR's state block restores it.
	b.store.ClearDecline(context.Background(), b.k.String())
	if p := b.prior(t); !p.Decline.DeclinedRewrite("img:1@sha256:1") {
		t.Errorf("the decline was not restored from the PR: %+v", p.Decline)
	}
	if stored, _ := b.store.Decline(context.Background(), b.k.String()); !strings.Contains(stored, "img:1@sha256:1") {
		t.Errorf("the restored decline was not stored: %q", stored)
	}

	// People ask for it anyway.
	p := b.priorAsked(t, true)
	if !p.Reconsidered() || p.Decline.Has(out.PR) || len(p.Decline.Rewrites) != 0 {
		t.Fatalf("after asking: reconsidered %v, decline %+v", p.Reconsidered(), p.Decline)
	}
	if stored, _ := b.store.Decline(context.Background(), b.k.String()); stored != "" {
		t.Errorf("the withdrawn decline is still stored: %q", stored)
	}
	if again := b.prior(t); !again.Reconsidered() || again.Decline.Has(out.PR) {
		t.Errorf("a later look undid the withdrawal")
	}
	// Applying reopens the PR, marks cleared, so a later close is a new decline.
	re := b.apply(t, "new\n", "img:1@sha256:1")
	if re.PR != out.PR || re.Action != "up-to-date" {
		t.Fatalf("apply after /reconcile = %+v; want PR #%d reopened", re, out.PR)
	}
	// GitHub's timestamps have whole seconds, as the fake's do: a second
	// close in the same second as the first would look like the same one.
	fakegithub.WaitNextSecond()
	b.gh.ClosePR("acme/web", out.PR, "alice")
	if p := b.prior(t); !p.Decline.Has(out.PR) || b.notes(out.PR) != 2 {
		t.Errorf("a second close: decline %+v, %d comments", p.Decline, b.notes(out.PR))
	}
}

// A merged PR and a PR tend closed itself are not declines.
func TestNoDeclineWhenMergedOrResolved(t *testing.T) {
	b := newDeclineBench(t)
	out := b.apply(t, "new\n", "img:1@sha256:1")
	if err := b.gh.MergePR("acme/web", out.PR, "alice"); err != nil {
		t.Fatal(err)
	}
	if p := b.prior(t); p.Decline.Has(out.PR) || b.notes(out.PR) != 0 {
		t.Errorf("a merged PR counts as declined")
	}
	second := b.apply(t, "newer\n", "img:1@sha256:2")
	if second.Action != "pr-opened" {
		t.Fatalf("apply: %+v", second)
	}
	b.gh.Commit("acme/web", "main", map[string]string{"a.txt": "newer\n"}, nil, "alice", "by hand")
	if res := b.apply(t, "newer\n", "img:1@sha256:2"); res.Action != "resolved" {
		t.Fatalf("apply after the base caught up = %+v", res)
	}
	if p := b.prior(t); p.Decline.Has(second.PR) || b.notes(second.PR) != 0 {
		t.Errorf("a PR tend resolved counts as declined")
	}
}

func TestDeclinedMessage(t *testing.T) {
	img := declinedMessage(botpr.Proposal{Rewrites: []string{"ghcr.io/a/b:1@sha256:abc", "x:`y`@sha256:1"}})
	for _, want := range []string{"`ghcr.io/a/b:1@sha256:abc`", "a tag that moves to a new digest", "/reconcile", "x:'y'"} {
		if !strings.Contains(img, want) {
			t.Errorf("images message lacks %q:\n%s", want, img)
		}
	}
	agent := declinedMessage(botpr.Proposal{Inputs: "i", Reads: map[string]string{"a.md": "s", "b.md": "t"}})
	for _, want := range []string{"prompt", "the request", "2 file(s) the agent read", "/reconcile"} {
		if !strings.Contains(agent, want) {
			t.Errorf("agent message lacks %q:\n%s", want, agent)
		}
	}
	if other := declinedMessage(botpr.Proposal{Hash: "h"}); !strings.Contains(other, "differs from this one") {
		t.Errorf("hash message: %s", other)
	}
}

// A person who reopens a declined PR wants it after all: the decline is
// withdrawn, and the PR keeps its change.
func TestReopenedByPerson(t *testing.T) {
	b := newDeclineBench(t)
	out := b.apply(t, "new\n", "img:1@sha256:1")
	b.gh.ClosePR("acme/web", out.PR, "alice")
	if p := b.prior(t); !p.Decline.Has(out.PR) {
		t.Fatalf("not declined: %+v", p.Decline)
	}
	b.gh.ReopenPR("acme/web", out.PR, "alice")
	p := b.prior(t)
	if p.Decline.Has(out.PR) || len(p.Decline.Rewrites) != 0 || p.State.Declined {
		t.Fatalf("after the reopen: decline %+v, state %+v", p.Decline, p.State)
	}
	if stored, _ := b.store.Decline(context.Background(), b.k.String()); stored != "" {
		t.Errorf("the withdrawn decline is still stored: %q", stored)
	}
	if res := b.apply(t, "new\n", "img:1@sha256:1"); res.Action != "up-to-date" || res.PR != out.PR {
		t.Errorf("apply on the reopened PR = %+v", res)
	}
	// Closed again later: a new decline, said once more.
	fakegithub.WaitNextSecond()
	b.gh.ClosePR("acme/web", out.PR, "alice")
	if p := b.prior(t); !p.Decline.Has(out.PR) || b.notes(out.PR) != 2 {
		t.Errorf("closed again: decline %+v, %d comments", p.Decline, b.notes(out.PR))
	}
}
