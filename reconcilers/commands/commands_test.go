package commands

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/command"
	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/keys"
)

// prByNumber finds the test's one PR.
type prByNumber int

func (n prByNumber) PR(ctx context.Context, client *github.Client, owner, repo string, k keys.Key) (*github.PullRequest, botpr.State, error) {
	pr, _, err := client.PullRequests.Get(ctx, owner, repo, int(n))
	if err != nil {
		return nil, botpr.State{}, err
	}
	st, _ := botpr.ParseState(pr.GetBody())
	return pr, st, nil
}

func setup(t *testing.T) (*fakegithub.Server, *github.Client, *Pipeline, keys.Key, int) {
	t.Helper()
	gh := fakegithub.New(t)
	gh.AddInstallation(1, "acme")
	gh.AddRepoWithFiles(1, "acme/web", "main", map[string]string{"a.txt": "a\n"})
	gh.Commit("acme/web", "tend/r/a.txt", map[string]string{"a.txt": "b\n"}, nil, "acme", "change")
	k := keys.MustParse("acme/web:r:a.txt")
	n, err := gh.OpenPR("acme/web", "tend/r/a.txt", "main", "Change a", "Body\n\n"+botpr.FormatState(botpr.State{Key: k.String()}), gh.BotLogin())
	if err != nil {
		t.Fatal(err)
	}
	gh.SetPermission("acme/web", "maya", "maintain")
	gh.SetPermission("acme/web", "rita", "triage")
	cc, err := githubapp.NewDefaultCachingClientCreator(gh.AppConfig())
	if err != nil {
		t.Fatal(err)
	}
	client, err := cc.NewInstallationClient(1)
	if err != nil {
		t.Fatal(err)
	}
	slug, _, _ := strings.Cut(gh.BotLogin(), "[")
	return gh, client, &Pipeline{Identity: botpr.NewIdentity(gh.AppID(), slug), PRs: prByNumber(n)}, k, n
}

func botReactions(gh *fakegithub.Server, login string, n int, id int64) []string {
	var out []string
	for _, c := range gh.Comments("acme/web", n) {
		if c.ID == id {
			for _, r := range c.Reactions {
				if r.User == login {
					out = append(out, r.Content)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// One pickup: a maintainer's instructions are taken up (eyes, pending, in
// the ledger); a triager is told once; help is answered; tend's own and
// plain comments are skipped. A second pickup (a redelivery) changes
// nothing; Finish acknowledges with +1 and clears the pending work.
func TestPickupAndFinish(t *testing.T) {
	gh, client, p, k, n := setup(t)
	ctx := context.Background()
	gh.AddComment("acme/web", n, "rita", "/reconcile")
	gh.AddComment("acme/web", n, "rita", "/reconcile skip")
	instr := gh.AddComment("acme/web", n, "maya", "/reconcile keep it short")
	gh.AddComment("acme/web", n, gh.BotLogin(), "/reconcile")
	gh.AddComment("acme/web", n, "maya", "/reconcile help")
	last := gh.AddComment("acme/web", n, "maya", "thanks")

	tg, err := p.Load(ctx, client, k)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Pickup(ctx, tg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Accepted != 1 || !b.Fresh || b.Recreate || b.Skip || !b.Resume || !slices.Equal(b.Instructions, []string{"keep it short"}) || b.Replies != 2 {
		t.Fatalf("batch %+v", b)
	}
	if got := botReactions(gh, gh.BotLogin(), n, instr); !slices.Equal(got, []string{"eyes"}) {
		t.Errorf("reactions after pickup: %v", got)
	}
	pr := gh.PullRequests("acme/web")[0]
	st, _ := botpr.ParseState(pr.Body)
	if st.Cmd == nil || st.Cmd.Seen != last || !slices.Equal(st.Cmd.Instructions, []string{"keep it short"}) || st.Cmd.Pending == nil || !slices.Equal(st.Cmd.Pending.Ack, []int64{instr}) || !slices.Equal(st.Cmd.Denied, []string{"rita"}) {
		t.Fatalf("ledger in the PR body: %+v", st.Cmd)
	}
	replies := 0
	for _, c := range gh.Comments("acme/web", n) {
		if c.User == gh.BotLogin() && (strings.Contains(c.Body, "@rita") || c.Body == command.HelpText) {
			replies++
		}
	}
	if replies != 2 {
		t.Errorf("%d replies, want the denial and the help", replies)
	}

	again, err := p.Load(ctx, client, k)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := p.Pickup(ctx, again, Options{}); err != nil || b.Accepted != 0 || b.Replies != 0 {
		t.Fatalf("second pickup %+v %v", b, err)
	}
	if again.Ledger.Pending == nil || !again.Ledger.Pending.Fresh {
		t.Fatalf("the pending work was not kept: %+v", again.Ledger)
	}
	if err := p.Finish(ctx, again, nil, true); err != nil {
		t.Fatal(err)
	}
	if got := botReactions(gh, gh.BotLogin(), n, instr); !slices.Equal(got, []string{"+1", "eyes"}) {
		t.Errorf("reactions after finish: %v", got)
	}
	st, _ = botpr.ParseState(gh.PullRequests("acme/web")[0].Body)
	if st.Cmd == nil || st.Cmd.Pending != nil || len(st.Cmd.Instructions) != 1 {
		t.Errorf("ledger after finish: %+v", st.Cmd)
	}
	if v := gh.TakeViolations(); len(v) > 0 {
		t.Errorf("OpenAPI violations: %v", v)
	}
}

// A run that failed for good answers its commands with confused and the
// reason; one that will be retried leaves them pending.
func TestFinishFailure(t *testing.T) {
	gh, client, p, k, n := setup(t)
	ctx := context.Background()
	id := gh.AddComment("acme/web", n, "maya", "/reconcile recreate")
	tg, err := p.Load(ctx, client, k)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := p.Pickup(ctx, tg, Options{}); err != nil || !b.Recreate {
		t.Fatalf("pickup %+v %v", b, err)
	}
	if err := p.Finish(ctx, tg, context.DeadlineExceeded, false); err != nil || tg.Ledger.Pending == nil {
		t.Fatalf("a retried failure finished the commands: %v", err)
	}
	if err := p.Finish(ctx, tg, context.DeadlineExceeded, true); err != nil {
		t.Fatal(err)
	}
	if got := botReactions(gh, gh.BotLogin(), n, id); !slices.Equal(got, []string{"confused", "eyes"}) {
		t.Errorf("reactions %v", got)
	}
	found := false
	for _, c := range gh.Comments("acme/web", n) {
		found = found || (c.User == gh.BotLogin() && strings.Contains(c.Body, "deadline exceeded"))
	}
	if !found {
		t.Errorf("no reply with the reason")
	}
}

// quietPRs says every PR is unchanged since tend opened it.
type quietPRs struct{}

func (quietPRs) CommentsUnread(owner, repo string, pr *github.PullRequest) bool { return false }

// A PR nothing changed since tend opened it has its comments left unread,
// unless a comment started the run: its webhook says there is one.
func TestQuietPRCommentsReadOnlyForAComment(t *testing.T) {
	gh, client, p, k, n := setup(t)
	ctx := context.Background()
	p.Quiet = quietPRs{}
	id := gh.AddComment("acme/web", n, "maya", "/reconcile")
	gh.ResetRequests()
	tg, err := p.Load(ctx, client, k)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := p.Pickup(ctx, tg, Options{}); err != nil || b.Accepted != 0 {
		t.Fatalf("pickup of a quiet PR: %+v %v", b, err)
	}
	for _, r := range gh.Requests() {
		if r.Operation == "issues/list-comments" {
			t.Errorf("the comments of a quiet PR were read")
		}
	}
	tg, err = p.Load(ctx, client, k)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := p.Pickup(ctx, tg, Options{Comment: true}); err != nil || b.Accepted != 1 {
		t.Fatalf("pickup started by a comment: %+v %v", b, err)
	}
	if got := botReactions(gh, gh.BotLogin(), n, id); !slices.Equal(got, []string{"eyes"}) {
		t.Errorf("reactions %v", got)
	}
}
