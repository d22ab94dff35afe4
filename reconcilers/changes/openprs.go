package changes

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v89/github"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/tend-app/tend/internal/botpr"
)

// memoryEntries bounds what a Manager remembers per PR and per branch
// (a few dozen bytes each). Forgetting only costs a request.
const memoryEntries = 50000

// memory is what a Manager remembers between runs to spare requests. None
// of it is trusted as the state of GitHub: it only picks which of two
// equally fresh reads to make, or says that tend itself made the PR's
// last change.
type memory struct {
	once sync.Once
	// open holds the branches ("owner/repo:branch") that had an open bot
	// PR when tend last listed their repository's open PRs, or opened one.
	open *lru.Cache[string, struct{}]
	// quiet holds, per PR ("owner/repo#number"), the second (GitHub's
	// clock) by which tend had opened the PR and knew it had no comments.
	quiet *lru.Cache[string, time.Time]
}

func (m *Manager) mem() *memory {
	m.memory.once.Do(func() {
		m.memory.open, _ = lru.New[string, struct{}](memoryEntries)
		m.memory.quiet, _ = lru.New[string, time.Time](memoryEntries)
	})
	return &m.memory
}

func branchID(owner, repo, branch string) string {
	return strings.ToLower(owner+"/"+repo) + ":" + branch
}

func prID(owner, repo string, number int) string {
	return fmt.Sprintf("%s#%d", strings.ToLower(owner+"/"+repo), number)
}

// eachOpenBotPR calls visit with every open PR of the repository that
// tend's bot opened from a tend branch, page by page, until visit returns
// false. OpenPRKeys (a rule resync) and findPR (a run of a key whose PR
// was open at that resync) make this same listing, so the resync's answer
// is the one GitHub revalidates with a 304 for each of the keys it
// enqueues, instead of each key listing its own PRs.
func (m *Manager) eachOpenBotPR(ctx context.Context, client *github.Client, owner, repo string, visit func(*github.PullRequest) bool) error {
	opts := &github.PullRequestListOptions{State: "open", ListOptions: github.ListOptions{PerPage: 100}}
	for {
		prs, resp, err := client.PullRequests.List(ctx, owner, repo, opts)
		if err != nil {
			return fmt.Errorf("list open PRs: %w", err)
		}
		for _, pr := range prs {
			if !strings.HasPrefix(pr.GetHead().GetRef(), botpr.BranchPrefix) || !m.Identity.IsBot(pr.GetUser().GetLogin(), pr.GetUser().GetType()) {
				continue
			}
			m.mem().open.Add(branchID(owner, repo, pr.GetHead().GetRef()), struct{}{})
			if !visit(pr) {
				return nil
			}
		}
		if resp.NextPage == 0 {
			return nil
		}
		opts.Page = resp.NextPage
	}
}

// openPR finds branch's open bot PR in the repository's listing of open
// PRs when tend last saw one there; found is false when it did not, or
// when the PR is not open any more (the caller then lists the branch's
// PRs in any state, as without the hint).
func (m *Manager) openPR(ctx context.Context, client *github.Client, owner, repo, branch string) (*github.PullRequest, bool, error) {
	id := branchID(owner, repo, branch)
	if !m.mem().open.Contains(id) {
		return nil, false, nil
	}
	var found *github.PullRequest
	err := m.eachOpenBotPR(ctx, client, owner, repo, func(pr *github.PullRequest) bool {
		if pr.GetHead().GetRef() == branch {
			found = pr
		}
		return found == nil
	})
	if err != nil {
		return nil, false, err
	}
	if found == nil {
		m.mem().open.Remove(id)
		return nil, false, nil
	}
	return found, true, nil
}

// openedQuiet remembers that tend just opened PR number (and labelled
// it): it has no comments, and nothing but tend changed it up to the
// second of resp, GitHub's answer to tend's last write to it.
func (m *Manager) openedQuiet(owner, repo, branch string, number int, resp *github.Response) {
	m.mem().open.Add(branchID(owner, repo, branch), struct{}{})
	if resp == nil || resp.Response == nil {
		return
	}
	at, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return
	}
	m.mem().quiet.Add(prID(owner, repo, number), at.UTC())
}

// CommentsUnread reports whether tend may have to read pr's comments:
// false only when pr has not changed (its updated_at) since the second in
// which tend opened it knowing it had no comments. A comment moves a PR's
// updated_at, as do pushes, edits and labels; GitHub keeps it to the
// second, so the one comment this misses is one posted within that same
// second whose webhook was lost too: it is read once anything changes the
// PR again.
func (m *Manager) CommentsUnread(owner, repo string, pr *github.PullRequest) bool {
	at, ok := m.mem().quiet.Get(prID(owner, repo, pr.GetNumber()))
	if !ok || pr.UpdatedAt == nil || pr.GetState() != "open" {
		return true
	}
	if pr.UpdatedAt.After(at) {
		// Changed since: read them, and from now on by the cached listing.
		m.mem().quiet.Remove(prID(owner, repo, pr.GetNumber()))
		return true
	}
	return false
}
