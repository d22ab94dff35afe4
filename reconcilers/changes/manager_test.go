package changes_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/reconcilers/changes"
)

// The decisions of Manager.Apply, each against the fake GitHub through the
// real go-github client, as a reconciler makes them: read the base, say
// what the key's files should hold, apply.

const repoName = "acme/web"

type applyBench struct {
	gh      *fakegithub.Server
	client  *github.Client
	manager *changes.Manager
	slots   *memSlots
}

func newApplyBench(t *testing.T, files map[string]string) *applyBench {
	t.Helper()
	gh := fakegithub.New(t)
	gh.AddInstallation(1, "acme")
	gh.AddRepoWithFiles(1, repoName, "main", files)
	cc, err := gh.ClientCreator()
	if err != nil {
		t.Fatal(err)
	}
	client, err := cc.NewInstallationClient(1)
	if err != nil {
		t.Fatal(err)
	}
	slots := newMemSlots()
	m := &changes.Manager{Identity: botpr.NewIdentity(gh.AppID(), "tend"), Counter: slots, LimitRetry: 7 * time.Minute}
	return &applyBench{gh: gh, client: client, manager: m, slots: slots}
}

// change builds the Change a reconciler would: the key's file as it is on
// the default branch now, and its desired content.
func (b *applyBench) change(t *testing.T, key, path, desired string, limit int) *changes.Change {
	t.Helper()
	ctx := context.Background()
	k := keys.MustParse(key)
	base, err := changes.ReadBase(ctx, b.client, "acme", "web", "main")
	if err != nil {
		t.Fatal(err)
	}
	f, err := changes.ReadFile(ctx, b.client, "acme", "web", base.Commit, path)
	if err != nil {
		t.Fatal(err)
	}
	return &changes.Change{
		Key: k, Rule: k.Rule, Base: base, Title: "Reconcile " + path, Summary: "Make " + path + " hold what it should.",
		Files:        []changes.FileChange{{Path: path, Base: f.Content, BaseExists: f.Exists, Desired: []byte(desired)}},
		PullRequests: config.PullRequests{Limit: limit, Labels: []string{"tend"}},
	}
}

func (b *applyBench) apply(t *testing.T, c *changes.Change, want string) changes.Outcome {
	t.Helper()
	out, err := b.manager.Apply(context.Background(), b.client, "acme", "web", c)
	if err != nil {
		t.Fatalf("apply %s: %v", c.Key, err)
	}
	if out.Action != want {
		t.Fatalf("apply %s: action %q, want %q (%+v)", c.Key, out.Action, want, out)
	}
	return out
}

func (b *applyBench) pr(t *testing.T, number int) fakegithub.PullRequest {
	t.Helper()
	for _, pr := range b.gh.PullRequests(repoName) {
		if pr.Number == number {
			return pr
		}
	}
	t.Fatalf("no PR #%d", number)
	return fakegithub.PullRequest{}
}

func (b *applyBench) openPRs() []fakegithub.PullRequest {
	var out []fakegithub.PullRequest
	for _, pr := range b.gh.PullRequests(repoName) {
		if pr.State == "open" {
			out = append(out, pr)
		}
	}
	return out
}

func (b *applyBench) fileOn(t *testing.T, ref, path string) string {
	t.Helper()
	got, ok := b.gh.File(repoName, ref, path)
	if !ok {
		t.Fatalf("%s has no %s", ref, path)
	}
	return got
}

const keyA = "acme/web:pin:deploy/a.yaml"

// Open, then up to date, then update in place when the desired state moves.
func TestApplyOpensUpdatesAndLeavesAlone(t *testing.T) {
	b := newApplyBench(t, map[string]string{"deploy/a.yaml": "image: app:1\n"})
	if out := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:1\n", 10), "noop"); out.PR != 0 {
		t.Errorf("noop named PR #%d", out.PR)
	}
	if len(b.gh.PullRequests(repoName)) != 0 {
		t.Fatalf("a change with nothing to do opened a PR")
	}

	opened := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:1@sha256:aa\n", 10), "pr-opened")
	pr := b.pr(t, opened.PR)
	branch := botpr.BranchName(keys.MustParse(keyA))
	if pr.State != "open" || pr.User != b.gh.BotLogin() || pr.HeadRef != branch || pr.BaseRef != "main" || pr.HeadSHA != opened.Head || !slices.Equal(pr.Labels, []string{"tend"}) {
		t.Errorf("opened PR = %+v", pr)
	}
	if got := b.fileOn(t, branch, "deploy/a.yaml"); got != "image: app:1@sha256:aa\n" {
		t.Errorf("branch holds %q", got)
	}
	if st, ok := botpr.ParseState(pr.Body); !ok || st.Key != keyA || st.Head != opened.Head {
		t.Errorf("state block = %+v %v", st, ok)
	}
	if runs := b.gh.CheckRuns(repoName); len(runs) != 1 || runs[0].HeadSHA != opened.Head || runs[0].Conclusion != "success" {
		t.Errorf("check runs = %+v", runs)
	}

	same := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:1@sha256:aa\n", 10), "up-to-date")
	if same.PR != opened.PR || same.Head != opened.Head {
		t.Errorf("up to date moved the PR: %+v", same)
	}

	updated := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:1@sha256:bb\n", 10), "pr-updated")
	if updated.PR != opened.PR || updated.Head == opened.Head {
		t.Errorf("update = %+v, want PR #%d on a new head", updated, opened.PR)
	}
	if got := b.fileOn(t, branch, "deploy/a.yaml"); got != "image: app:1@sha256:bb\n" {
		t.Errorf("updated branch holds %q", got)
	}
	if st, _ := botpr.ParseState(b.pr(t, opened.PR).Body); st.Head != updated.Head {
		t.Errorf("state block head %s, want %s", st.Head, updated.Head)
	}
	if n := len(b.gh.PullRequests(repoName)); n != 1 {
		t.Errorf("%d PRs, want the one updated in place", n)
	}
}

// The base moves: an unrelated commit leaves the PR alone; a commit to the
// key's own file regenerates the PR on top of the new base.
func TestApplyWhenTheBaseMoves(t *testing.T) {
	b := newApplyBench(t, map[string]string{"deploy/a.yaml": "image: app:1\nreplicas: 1\n"})
	opened := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:1@sha256:aa\nreplicas: 1\n", 10), "pr-opened")

	b.gh.Commit(repoName, "main", map[string]string{"README.md": "hello\n"}, nil, "alice", "Unrelated")
	if out := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:1@sha256:aa\nreplicas: 1\n", 10), "up-to-date"); out.Head != opened.Head {
		t.Errorf("an unrelated base commit rewrote the PR: %+v", out)
	}

	newBase := b.gh.Commit(repoName, "main", map[string]string{"deploy/a.yaml": "image: app:1\nreplicas: 3\n"}, nil, "alice", "Scale up")
	out := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:1@sha256:aa\nreplicas: 3\n", 10), "pr-updated")
	if out.PR != opened.PR || out.Head == opened.Head {
		t.Fatalf("regenerate = %+v", out)
	}
	commits := b.gh.CommitsOn(repoName, botpr.BranchName(keys.MustParse(keyA)))
	if len(commits) == 0 || !slices.Contains(commits[0].Parents, newBase) {
		t.Errorf("the regenerated commit is not on top of the new base %s: %+v", newBase, commits)
	}
	if got := b.fileOn(t, out.Head, "deploy/a.yaml"); got != "image: app:1@sha256:aa\nreplicas: 3\n" {
		t.Errorf("regenerated file = %q", got)
	}
}

// The base branch gets the desired state by other means: the PR is closed
// as resolved, with a comment, and its branch deleted.
func TestApplyResolves(t *testing.T) {
	b := newApplyBench(t, map[string]string{"deploy/a.yaml": "image: app:1\n"})
	opened := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:2\n", 10), "pr-opened")
	b.gh.Commit(repoName, "main", map[string]string{"deploy/a.yaml": "image: app:2\n"}, nil, "alice", "Bump by hand")

	out := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:2\n", 10), "resolved")
	pr := b.pr(t, opened.PR)
	if out.PR != opened.PR || pr.State != "closed" || pr.Merged {
		t.Errorf("resolved PR = %+v", pr)
	}
	if len(pr.Comments) != 1 || !strings.Contains(pr.Comments[0].Body, "already has the desired state") {
		t.Errorf("comments = %+v", pr.Comments)
	}
	if slices.Contains(b.gh.Branches(repoName), botpr.BranchName(keys.MustParse(keyA))) {
		t.Errorf("the resolved PR's branch was kept")
	}
	if st, _ := botpr.ParseState(pr.Body); !st.Resolved {
		t.Errorf("the state block does not say resolved, so the close would read as declined")
	}
	// Afterwards the key has nothing to do.
	b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:2\n", 10), "noop")
}

// A person closes the PR: the same proposal is not made again, a new
// desired state is.
func TestApplyDeclined(t *testing.T) {
	b := newApplyBench(t, map[string]string{"deploy/a.yaml": "image: app:1\n"})
	opened := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:2\n", 10), "pr-opened")
	b.gh.ClosePR(repoName, opened.PR, "alice")

	if out := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:2\n", 10), "declined"); out.PR != opened.PR {
		t.Errorf("declined = %+v", out)
	}
	if n := len(b.openPRs()); n != 0 {
		t.Fatalf("a declined proposal was made again (%d open PRs)", n)
	}
	again := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:3\n", 10), "pr-opened")
	if again.PR == opened.PR || len(b.openPRs()) != 1 {
		t.Errorf("a new desired state after a decline: %+v, open %d", again, len(b.openPRs()))
	}
	if got := b.fileOn(t, again.Head, "deploy/a.yaml"); got != "image: app:3\n" {
		t.Errorf("new proposal holds %q", got)
	}
}

// A person pushes to the PR's branch: tend stops updating it, says so once,
// and never overwrites the commit, even when the desired state moves.
func TestApplyHumanCommit(t *testing.T) {
	b := newApplyBench(t, map[string]string{"deploy/a.yaml": "image: app:1\n"})
	opened := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:2\n", 10), "pr-opened")
	branch := botpr.BranchName(keys.MustParse(keyA))
	human := b.gh.Commit(repoName, branch, map[string]string{"deploy/a.yaml": "image: app:2 # pinned by alice\n"}, nil, "alice", "My tweak")

	for i, desired := range []string{"image: app:2\n", "image: app:3\n"} {
		out := b.apply(t, b.change(t, keyA, "deploy/a.yaml", desired, 10), "human-edits")
		if out.PR != opened.PR || out.Head != human {
			t.Errorf("run %d: %+v, want PR #%d at the human commit", i, out, opened.PR)
		}
	}
	if head, _ := b.gh.Branch(repoName, branch); head != human {
		t.Errorf("the branch moved from the human commit to %s", head)
	}
	pr := b.pr(t, opened.PR)
	if len(pr.Comments) != 1 || !strings.Contains(pr.Comments[0].Body, "/reconcile recreate") {
		t.Errorf("comments = %+v; want one explaining how to hand the PR back", pr.Comments)
	}
	if st, _ := botpr.ParseState(pr.Body); !st.HumanNotified || st.Head != opened.Head {
		t.Errorf("state block = %+v", st)
	}
}

// The open-PR limit: a key over it waits and is retried later; when a tend
// PR of the repository closes, the run that sees it wakes the waiting key,
// which then opens its PR.
func TestApplyOpenPRLimit(t *testing.T) {
	b := newApplyBench(t, map[string]string{"deploy/a.yaml": "image: app:1\n", "deploy/b.yaml": "image: db:1\n"})
	const keyB = "acme/web:pin:deploy/b.yaml"
	first := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:2\n", 1), "pr-opened")

	limited := b.apply(t, b.change(t, keyB, "deploy/b.yaml", "image: db:2\n", 1), "limited")
	if limited.RequeueAfter != 7*time.Minute || limited.PR != 0 {
		t.Errorf("limited = %+v, want a retry after LimitRetry", limited)
	}
	if n := len(b.openPRs()); n != 1 {
		t.Fatalf("%d open PRs over a limit of 1", n)
	}
	if w := b.slots.waiting(); !slices.Equal(w, []string{keyB}) {
		t.Errorf("waiting keys = %v", w)
	}

	if err := b.gh.MergePR(repoName, first.PR, "alice"); err != nil {
		t.Fatal(err)
	}
	done := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:2\n", 1), "noop")
	if len(done.Wake) != 1 || done.Wake[0].String() != keyB {
		t.Fatalf("the run that saw the merge woke %v, want %s", done.Wake, keyB)
	}
	b.apply(t, b.change(t, keyB, "deploy/b.yaml", "image: db:2\n", 1), "pr-opened")
	if w := b.slots.waiting(); len(w) != 0 {
		t.Errorf("still waiting: %v", w)
	}
}

// memSlots is an in-memory PRCounter with the contract the store keeps: a
// key holding a slot keeps it, a recount replaces the holders with the open
// PRs' keys, and keys over the limit wait in arrival order.
type memSlots struct {
	mu      sync.Mutex
	held    map[string]map[string]bool // repo -> keys holding a slot
	waiters map[string][]string        // repo -> waiting keys
}

func newMemSlots() *memSlots {
	return &memSlots{held: map[string]map[string]bool{}, waiters: map[string][]string{}}
}

func (s *memSlots) ReservePR(_ context.Context, repo, key string, limit int) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[repo] == nil {
		s.held[repo] = map[string]bool{}
	}
	if s.held[repo][key] {
		return true, nil
	}
	if limit > 0 && len(s.held[repo]) >= limit {
		return false, nil
	}
	s.held[repo][key] = true
	return true, nil
}

func (s *memSlots) ReleasePR(_ context.Context, repo, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.held[repo], key)
	return nil
}

func (s *memSlots) SyncPRSlots(_ context.Context, repo string, open []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held[repo] = map[string]bool{}
	for _, k := range open {
		s.held[repo][k] = true
	}
	return nil
}

func (s *memSlots) WaitForSlot(_ context.Context, repo, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.waiters[repo], key) {
		s.waiters[repo] = append(s.waiters[repo], key)
	}
	return nil
}

func (s *memSlots) StopWaiting(_ context.Context, repo, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiters[repo] = slices.DeleteFunc(s.waiters[repo], func(k string) bool { return k == key })
	return nil
}

func (s *memSlots) Waiting(_ context.Context, repo string, n int) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.waiters[repo]
	return slices.Clone(w[:min(n, len(w))]), nil
}

func (s *memSlots) waiting() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waiters[strings.ToLower(repoName)])
}
