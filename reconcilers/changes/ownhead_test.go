package changes_test

import (
	"context"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/keys"
)

// A PR head its state block does not name is tend's own when GitHub moved
// the branch although tend never saw the answer: a commit tend's bot
// committed, with the key's trailer, on the base branch. tend adopts it and
// goes on updating; a commit that lacks any of the three is people's.
func TestApplyAdoptsItsOwnUnrecordedHead(t *testing.T) {
	const trailer = "\n\nReconciled by tend.\n\ntend-key: " + keyA + "\n"
	cases := []struct {
		name      string
		message   string
		committer *github.CommitAuthor // nil: tend's bot, as GitHub records it
		onHead    bool                 // the commit sits on the PR's head, not the base
		want      string
	}{
		{name: "tend's commit", message: "Pin app:3" + trailer, want: "pr-updated"},
		{name: "committed by a person", message: "Pin app:3" + trailer, committer: &github.CommitAuthor{Name: github.Ptr("alice"), Email: github.Ptr("alice@example.com")}, want: "human-edits"},
		{name: "on top of tend's head", message: "Pin app:3" + trailer, onHead: true, want: "human-edits"},
		{name: "another key's trailer", message: "Pin app:3\n\ntend-key: acme/web:pin:deploy/b.yaml\n", want: "human-edits"},
		{name: "no trailer", message: "Pin app:3\n", want: "human-edits"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			b := newApplyBench(t, map[string]string{"deploy/a.yaml": "image: app:1\n"})
			opened := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:2\n", 10), "pr-opened")
			branch := botpr.BranchName(keys.MustParse(keyA))

			// The write that landed behind tend's back: a commit of app:3,
			// and the branch moved to it; the PR body still names the old head.
			c := b.change(t, keyA, "deploy/a.yaml", "image: app:3\n", 10)
			parent := c.Base.Commit
			if tc.onHead {
				parent = opened.Head
			}
			tree, _, err := b.client.Git.CreateTree(ctx, "acme", "web", c.Base.Tree, []*github.TreeEntry{{Path: github.Ptr("deploy/a.yaml"), Mode: github.Ptr("100644"), Type: github.Ptr("blob"), Content: github.Ptr("image: app:3\n")}})
			if err != nil {
				t.Fatal(err)
			}
			commit, _, err := b.client.Git.CreateCommit(ctx, "acme", "web", github.Commit{Message: github.Ptr(tc.message), Tree: tree, Parents: []*github.Commit{{SHA: github.Ptr(parent)}}, Committer: tc.committer}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := b.client.Git.UpdateRef(ctx, "acme", "web", "heads/"+branch, github.UpdateRef{SHA: commit.GetSHA(), Force: github.Ptr(true)}); err != nil {
				t.Fatal(err)
			}

			out := b.apply(t, c, tc.want)
			head, _ := b.gh.Branch(repoName, branch)
			st, _ := botpr.ParseState(b.pr(t, opened.PR).Body)
			if tc.want == "human-edits" {
				if head != commit.GetSHA() {
					t.Errorf("the branch moved off the commit tend does not own")
				}
				return
			}
			if out.PR != opened.PR || head != out.Head || st.Head != head || st.HumanNotified || len(b.pr(t, opened.PR).Comments) != 0 {
				t.Errorf("out %+v, branch at %s, state %+v: want the PR updated in place and its state naming the branch head", out, head, st)
			}
			if got := b.fileOn(t, branch, "deploy/a.yaml"); got != "image: app:3\n" {
				t.Errorf("branch holds %q", got)
			}
		})
	}
}
