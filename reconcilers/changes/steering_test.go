package changes_test

import (
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/keys"
)

// What people ask through commands and buttons: a fresh check run on an
// up-to-date PR and on one people took over; recreate over a person's
// commit; a declined change proposed again; the command ledger kept
// across updates.
func TestApplySteering(t *testing.T) {
	b := newApplyBench(t, map[string]string{"deploy/a.yaml": "image: app:1\n"})
	opened := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:2\n", 10), "pr-opened")
	checks := func() int { return len(b.gh.CheckRuns(repoName)) }
	before := checks()

	b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:2\n", 10), "up-to-date")
	if checks() != before {
		t.Fatalf("an up-to-date run without a request posted a check run")
	}
	fresh := b.change(t, keyA, "deploy/a.yaml", "image: app:2\n", 10)
	fresh.Fresh = true
	if out := b.apply(t, fresh, "up-to-date"); out.Head != opened.Head || checks() != before+1 {
		t.Fatalf("a fresh run on an up-to-date PR: %+v, %d new check runs", out, checks()-before)
	}
	// Recreate on a PR nobody pushed to changes nothing.
	same := b.change(t, keyA, "deploy/a.yaml", "image: app:2\n", 10)
	same.Recreate, same.Fresh = true, true
	if out := b.apply(t, same, "up-to-date"); out.Head != opened.Head {
		t.Errorf("recreate rewrote a PR only tend wrote: %+v", out)
	}

	// The ledger in the state block survives tend's own updates.
	pr := b.pr(t, opened.PR)
	st, _ := botpr.ParseState(pr.Body)
	st.Cmd = &botpr.Commands{Seen: 42, Instructions: []string{"keep it short"}}
	if _, _, err := b.client.PullRequests.Edit(t.Context(), "acme", "web", opened.PR, &github.PullRequest{Body: github.Ptr(botpr.ReplaceState(pr.Body, st))}); err != nil {
		t.Fatal(err)
	}
	updated := b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:3\n", 10), "pr-updated")
	if st, _ := botpr.ParseState(b.pr(t, opened.PR).Body); st.Cmd == nil || st.Cmd.Seen != 42 || st.Head != updated.Head {
		t.Fatalf("the ledger was lost by an update: %+v", st.Cmd)
	}

	// A person's commit: a fresh run says hands off; recreate discards it.
	branch := botpr.BranchName(keys.MustParse(keyA))
	b.gh.Commit(repoName, branch, map[string]string{"deploy/a.yaml": "image: app:3 # mine\n"}, nil, "alice", "Mine")
	handsOff := b.change(t, keyA, "deploy/a.yaml", "image: app:3\n", 10)
	handsOff.Fresh = true
	before = checks()
	b.apply(t, handsOff, "human-edits")
	runs := b.gh.CheckRuns(repoName)
	if len(runs) != before+1 || !strings.Contains(runs[len(runs)-1].Output.Summary, "/reconcile recreate") || runs[len(runs)-1].Conclusion != "neutral" {
		t.Fatalf("hands-off check run: %+v", runs[len(runs)-1])
	}
	recreate := b.change(t, keyA, "deploy/a.yaml", "image: app:3\n", 10)
	recreate.Recreate = true
	out := b.apply(t, recreate, "pr-updated")
	base, _ := b.gh.Branch(repoName, "main")
	commits := b.gh.CommitsOn(repoName, branch)
	if b.fileOn(t, out.Head, "deploy/a.yaml") != "image: app:3\n" || len(commits[0].Parents) != 1 || commits[0].Parents[0] != base {
		t.Errorf("recreate: head %+v on base %s", commits[0], base)
	}
	if st, _ := botpr.ParseState(b.pr(t, opened.PR).Body); st.HumanNotified || st.Head != out.Head {
		t.Errorf("state after recreate: %+v", st)
	}

	// Declined, then recreate: proposed again.
	b.gh.ClosePR(repoName, opened.PR, "alice")
	b.apply(t, b.change(t, keyA, "deploy/a.yaml", "image: app:3\n", 10), "declined")
	again := b.change(t, keyA, "deploy/a.yaml", "image: app:3\n", 10)
	again.Recreate = true
	if out := b.apply(t, again, "pr-opened"); out.PR == opened.PR {
		t.Errorf("recreate after a decline reused the closed PR")
	}
}
