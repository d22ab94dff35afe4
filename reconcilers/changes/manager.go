package changes

import (
	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/clip"

	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v89/github"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/keys"
)

// PRCounter reserves slots under a repository's open-PR limit. The store
// implements it with an atomic counter, so concurrent workers cannot both
// take the last slot; OpenPRKeys re-counts from GitHub on every resync.
// Keys over the limit are remembered, and woken when a tend PR of their
// repository closes.
type PRCounter interface {
	ReservePR(ctx context.Context, repo, key string, limit int) (bool, error)
	ReleasePR(ctx context.Context, repo, key string) error
	SyncPRSlots(ctx context.Context, repo string, open []string) error
	WaitForSlot(ctx context.Context, repo, key string) error
	StopWaiting(ctx context.Context, repo, key string) error
	Waiting(ctx context.Context, repo string, n int) ([]string, error)
}

// Manager applies Changes.
type Manager struct {
	Identity *botpr.Identity
	// Counter enforces pull_requests.limit; nil means no limit.
	Counter PRCounter
	// Declines remembers what people declined per key; nil leaves it to
	// the PRs alone.
	Declines Declines
	// LimitRetry is when a key over the open-PR limit is tried again
	// (default 30 minutes).
	LimitRetry time.Duration

	memory memory // see openprs.go
}

// Outcome says what Apply did.
type Outcome struct {
	// Action is one of: noop, up-to-date, pr-opened, pr-updated,
	// resolved, declined, human-edits, limited.
	Action string
	PR     int
	Head   string
	// RequeueAfter is set when the key must be tried again later (limited).
	RequeueAfter time.Duration
	// Wake are keys that waited for a PR slot which this run saw freed.
	Wake []keys.Key
}

// Apply makes GitHub match c for owner/repo.
func (m *Manager) Apply(ctx context.Context, client *github.Client, owner, repo string, c *Change) (Outcome, error) {
	prior := c.Prior
	if prior == nil || prior.key != c.Key.String() {
		var err error
		if prior, err = m.Prior(ctx, client, owner, repo, c.Key, c.Recreate); err != nil {
			return Outcome{}, err
		}
	}
	pr, st := prior.PR, prior.State
	branch := botpr.BranchName(c.Key)
	diff := c.differing()
	hash := c.desiredHash()

	// A declined PR people asked for again is reopened (`/reconcile
	// recreate` asks for a new one, made from the base branch).
	if len(diff) > 0 && prior.Reconsidered() && !c.Recreate {
		reopened, rst, limited, err := m.reopen(ctx, client, owner, repo, branch, pr, st, c)
		if err != nil || limited != nil {
			return deref(limited), err
		}
		if reopened != nil {
			pr, st = reopened, rst
		}
	}
	if pr != nil && pr.GetState() == "open" {
		return m.applyToOpenPR(ctx, client, owner, repo, branch, pr, st, c, diff, hash)
	}
	// A person closed a PR with this very content (PRs from before
	// proposals existed have only their hash), or declined every rewrite
	// proposed: declined, even if the reconciler did not leave them out.
	declined := len(diff) > 0 && !prior.Reconsidered() && !c.Recreate &&
		(prior.Decline.Hash == hash || (c.Proposal != nil && prior.Decline.CoversRewrites(*c.Proposal)))
	if len(diff) == 0 || declined {
		return m.nothingToPropose(ctx, owner, repo, c, pr, declined || c.Withheld > 0)
	}
	return m.open(ctx, client, owner, repo, branch, pr, st, c, diff, hash)
}

func deref(o *Outcome) Outcome {
	if o == nil {
		return Outcome{}
	}
	return *o
}

// applyToOpenPR makes the key's open PR match c: it leaves people's
// commits alone, resolves the PR when nothing differs any more, and
// regenerates it when the desired state changed or the moved base
// conflicts with it.
func (m *Manager) applyToOpenPR(ctx context.Context, client *github.Client, owner, repo, branch string, pr *github.PullRequest, st botpr.State, c *Change, diff []FileChange, hash string) (Outcome, error) {
	out := Outcome{PR: pr.GetNumber(), Head: pr.GetHead().GetSHA()}
	// People's commits are never overwritten, nor their branch deleted,
	// even when the base branch caught up — unless they asked for it with
	// `/reconcile recreate`.
	overwrite := pr.GetHead().GetSHA() != st.Head
	if overwrite && !c.Recreate && !st.HumanNotified {
		ours, err := m.ownHead(ctx, client, owner, repo, pr, st, c)
		if err != nil {
			return Outcome{}, err
		}
		if ours {
			// tend's own branch move, which it never saw land: adopt it.
			zerolog.Ctx(ctx).Info().Int("pr", pr.GetNumber()).Str("head", short(pr.GetHead().GetSHA())).Msg("the PR's head is tend's own unrecorded commit; adopting it")
			st.Head, overwrite = pr.GetHead().GetSHA(), false
		}
	}
	if overwrite && !c.Recreate {
		return m.humanEdits(ctx, client, owner, repo, pr, st, c)
	}
	if len(diff) == 0 {
		if c.Incomplete {
			out.Action = "incomplete"
			return out, nil
		}
		return m.resolve(ctx, client, owner, repo, pr, st, c)
	}
	// A PR against another branch than the base (the default branch
	// changed) is regenerated on the base and retargeted.
	retarget := pr.GetBase().GetRef() != c.Base.Branch
	if st.Hash == hash && st.BaseHash == c.baseHash() && !overwrite && !retarget {
		upToDate := st.Base == c.Base.Commit
		if !upToDate {
			conflicting, err := m.conflicting(ctx, client, owner, repo, pr.GetNumber())
			if err != nil {
				return Outcome{}, err
			}
			upToDate = !conflicting
		}
		if upToDate {
			return m.upToDate(ctx, client, owner, repo, out, c, diff)
		}
		zerolog.Ctx(ctx).Info().Int("pr", pr.GetNumber()).Msg("PR conflicts with the moved base; regenerating")
	}
	return m.update(ctx, client, owner, repo, branch, pr, st, c, diff, hash)
}

// nothingToPropose answers a run that opens no PR: the key neither waits
// for a PR slot nor holds one (its PR, if any, is closed). declined says
// that what it would propose was declined by people.
func (m *Manager) nothingToPropose(ctx context.Context, owner, repo string, c *Change, pr *github.PullRequest, declined bool) (Outcome, error) {
	if err := m.leaveSlot(ctx, owner, repo, c.Key); err != nil {
		return Outcome{}, err
	}
	out := Outcome{Action: "noop"}
	if declined {
		out.Action = "declined"
	}
	if pr != nil {
		// The key's last PR closed (merged, declined or resolved): its
		// slot may be free for a key that waits.
		out.PR = pr.GetNumber()
		out.Wake = m.wake(ctx, owner, repo, c.PullRequests.Limit)
	}
	return out, nil
}

// reserve takes a slot under the repository's open-PR limit for c's key.
// When the limit is reached it returns the "limited" outcome (the key
// waits); otherwise release gives the slot back if the PR cannot be made.
func (m *Manager) reserve(ctx context.Context, client *github.Client, owner, repo string, c *Change) (release func(), limited *Outcome, err error) {
	release = func() {}
	if m.Counter == nil {
		return release, nil, nil
	}
	full := strings.ToLower(owner + "/" + repo)
	ok, err := m.Counter.ReservePR(ctx, full, c.Key.String(), c.PullRequests.Limit)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		// The count may be stale (people merge and close PRs): count
		// again from GitHub before making the key wait.
		if _, err := m.OpenPRKeys(ctx, client, owner, repo, ""); err != nil {
			return nil, nil, err
		}
		if ok, err = m.Counter.ReservePR(ctx, full, c.Key.String(), c.PullRequests.Limit); err != nil {
			return nil, nil, err
		}
	}
	if !ok {
		retry := m.LimitRetry
		if retry <= 0 {
			retry = 30 * time.Minute
		}
		if err := m.Counter.WaitForSlot(ctx, full, c.Key.String()); err != nil {
			return nil, nil, err
		}
		zerolog.Ctx(ctx).Info().Int("limit", c.PullRequests.Limit).Dur("retry_in", retry).Msg("open-PR limit reached; key waits")
		return nil, &Outcome{Action: "limited", RequeueAfter: retry}, nil
	}
	if err := m.Counter.StopWaiting(ctx, full, c.Key.String()); err != nil {
		return nil, nil, err
	}
	return func() {
		if err := m.Counter.ReleasePR(context.WithoutCancel(ctx), full, c.Key.String()); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("releasing an open-PR slot")
		}
	}, nil, nil
}

// reopen reopens a declined PR that a writer asked for again, when its
// branch still holds tend's last commit, and returns it with its new state
// (the decline marks cleared, so a later close counts as a new decline).
// It returns a nil PR when the PR cannot be reopened: a new one is opened
// instead.
func (m *Manager) reopen(ctx context.Context, client *github.Client, owner, repo, branch string, pr *github.PullRequest, st botpr.State, c *Change) (*github.PullRequest, botpr.State, *Outcome, error) {
	ref, _, err := client.Git.GetRef(ctx, owner, repo, "heads/"+branch)
	if err != nil {
		if isStatus(err, http.StatusNotFound) {
			return nil, st, nil, nil
		}
		return nil, st, nil, fmt.Errorf("read branch %s: %w", branch, err)
	}
	if ref.GetObject().GetSHA() != st.Head || pr.GetHead().GetSHA() != st.Head {
		return nil, st, nil, nil
	}
	release, limited, err := m.reserve(ctx, client, owner, repo, c)
	if err != nil || limited != nil {
		return nil, st, limited, err
	}
	st.Declined, st.Reconsidered = false, false
	reopened, _, err := client.PullRequests.Edit(ctx, owner, repo, pr.GetNumber(), &github.PullRequest{
		State: github.Ptr("open"), Body: github.Ptr(botpr.ReplaceState(pr.GetBody(), st)),
	})
	if err != nil {
		release()
		if isStatus(err, http.StatusUnprocessableEntity) {
			return nil, st, nil, nil
		}
		return nil, st, nil, fmt.Errorf("reopen PR #%d: %w", pr.GetNumber(), err)
	}
	zerolog.Ctx(ctx).Info().Int("pr", pr.GetNumber()).Msg("reopened a declined PR on request")
	return reopened, st, nil, nil
}

// leaveSlot takes a key off the repository's open-PR count and off the
// keys that wait for a slot.
func (m *Manager) leaveSlot(ctx context.Context, owner, repo string, k keys.Key) error {
	if m.Counter == nil {
		return nil
	}
	full := strings.ToLower(owner + "/" + repo)
	if err := m.Counter.StopWaiting(ctx, full, k.String()); err != nil {
		return err
	}
	return m.Counter.ReleasePR(ctx, full, k.String())
}

// wake returns keys waiting for a PR slot in the repository. Waking more
// keys than there are free slots is harmless: those over the limit wait
// again.
func (m *Manager) wake(ctx context.Context, owner, repo string, limit int) []keys.Key {
	if m.Counter == nil {
		return nil
	}
	names, err := m.Counter.Waiting(ctx, strings.ToLower(owner+"/"+repo), max(limit, 1))
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("reading keys waiting for a PR slot")
		return nil
	}
	var out []keys.Key
	for _, n := range names {
		if k, err := keys.Parse(n); err == nil {
			out = append(out, k)
		}
	}
	return out
}

// PR returns the newest PR tend's bot opened for key (open or closed, nil
// when none) and its state block.
func (m *Manager) PR(ctx context.Context, client *github.Client, owner, repo string, k keys.Key) (*github.PullRequest, botpr.State, error) {
	return m.findPR(ctx, client, owner, repo, botpr.BranchName(k))
}

// findPR returns the newest PR tend's bot opened from branch, and its state.
func (m *Manager) findPR(ctx context.Context, client *github.Client, owner, repo, branch string) (*github.PullRequest, botpr.State, error) {
	// An open bot PR is the branch's newest: tend opens one only when the
	// branch has none open.
	if pr, ok, err := m.openPR(ctx, client, owner, repo, branch); err != nil || ok {
		st, _ := botpr.ParseState(pr.GetBody())
		return pr, st, err
	}
	prs, _, err := client.PullRequests.List(ctx, owner, repo, &github.PullRequestListOptions{
		State: "all", Head: owner + ":" + branch, Sort: "created", Direction: "desc",
		ListOptions: github.ListOptions{PerPage: 20},
	})
	if err != nil {
		return nil, botpr.State{}, fmt.Errorf("list PRs of %s: %w", branch, err)
	}
	for _, pr := range prs {
		if pr.GetHead().GetRef() != branch || !m.Identity.IsBot(pr.GetUser().GetLogin(), pr.GetUser().GetType()) {
			continue
		}
		st, _ := botpr.ParseState(pr.GetBody())
		return pr, st, nil
	}
	return nil, botpr.State{}, nil
}

// conflicting asks GitHub whether a PR still merges cleanly. An unknown
// answer (GitHub computes it lazily) counts as clean; the next run asks again.
func (m *Manager) conflicting(ctx context.Context, client *github.Client, owner, repo string, number int) (bool, error) {
	pr, _, err := client.PullRequests.Get(ctx, owner, repo, number)
	if err != nil {
		return false, fmt.Errorf("read PR #%d: %w", number, err)
	}
	return pr.Mergeable != nil && !pr.GetMergeable(), nil
}

// writeCommit writes the differing files on top of the base: one tree with
// inline contents (deletions as sha: null), one commit whose parent is the
// base head. Content that is not UTF-8 cannot travel inline and is written
// as a blob first.
func (m *Manager) writeCommit(ctx context.Context, client *github.Client, owner, repo string, c *Change, diff []FileChange) (string, error) {
	entries := make([]*github.TreeEntry, 0, len(diff))
	for _, f := range diff {
		mode := f.Mode
		if mode != "100755" {
			mode = "100644" // links and submodules are never written
		}
		e := &github.TreeEntry{Path: github.Ptr(f.Path), Mode: github.Ptr(mode), Type: github.Ptr("blob")}
		switch {
		case f.Delete:
			// SHA and Content both nil: go-github sends "sha": null.
		case utf8.Valid(f.Desired):
			e.Content = github.Ptr(string(f.Desired))
		default:
			blob, _, err := client.Git.CreateBlob(ctx, owner, repo, github.Blob{
				Content: github.Ptr(encodeBase64(f.Desired)), Encoding: github.Ptr("base64"),
			})
			if err != nil {
				return "", fmt.Errorf("write blob for %s: %w", f.Path, err)
			}
			e.SHA = blob.SHA
		}
		entries = append(entries, e)
	}
	tree, _, err := client.Git.CreateTree(ctx, owner, repo, c.Base.Tree, entries)
	if err != nil {
		return "", fmt.Errorf("write tree: %w", err)
	}
	commit, _, err := client.Git.CreateCommit(ctx, owner, repo, github.Commit{
		Message: github.Ptr(commitMessage(c)),
		Tree:    &github.Tree{SHA: tree.SHA},
		Parents: []*github.Commit{{SHA: github.Ptr(c.Base.Commit)}},
	}, nil)
	if err != nil {
		return "", fmt.Errorf("write commit: %w", err)
	}
	return commit.GetSHA(), nil
}

func commitMessage(c *Change) string {
	return oneLine(c.Title, 72) + "\n\nReconciled by tend.\n\ntend-key: " + c.Key.String() + "\n"
}

func (m *Manager) newState(c *Change, hash, head string) botpr.State {
	prop := &botpr.Proposal{Hash: hash}
	if c.Proposal != nil && !c.Proposal.Empty() {
		bounded := c.Proposal.Bounded()
		prop = &bounded
	}
	return botpr.State{Version: 1, Key: c.Key.String(), Hash: hash, BaseHash: c.baseHash(), Base: c.Base.Commit, Head: head, Extra: c.Extra, Proposal: prop}
}

// open proposes the change in a new PR, within the repository's limit.
func (m *Manager) open(ctx context.Context, client *github.Client, owner, repo, branch string, prev *github.PullRequest, prevState botpr.State, c *Change, diff []FileChange, hash string) (Outcome, error) {
	release, limited, err := m.reserve(ctx, client, owner, repo, c)
	if err != nil || limited != nil {
		return deref(limited), err
	}
	head, err := m.writeCommit(ctx, client, owner, repo, c, diff)
	if err != nil {
		release()
		return Outcome{}, err
	}
	if err := m.pointBranch(ctx, client, owner, repo, branch, head, prev, prevState); err != nil {
		release()
		return Outcome{}, err
	}
	st := m.newState(c, hash, head)
	pr, resp, err := client.PullRequests.Create(ctx, owner, repo, &github.NewPullRequest{
		Title: github.Ptr(oneLine(c.Title, 256)),
		Head:  github.Ptr(branch),
		Base:  github.Ptr(c.Base.Branch),
		Body:  github.Ptr(renderBody(c, st)),
	})
	if err != nil {
		release()
		return Outcome{}, fmt.Errorf("open PR: %w", err)
	}
	if labels := c.PullRequests.Labels; len(labels) > 0 {
		if _, resp, err = client.Issues.AddLabelsToIssue(ctx, owner, repo, pr.GetNumber(), labels); err != nil {
			return Outcome{}, fmt.Errorf("label PR #%d: %w", pr.GetNumber(), err)
		}
	}
	m.openedQuiet(owner, repo, branch, pr.GetNumber(), resp)
	if err := m.report(ctx, client, owner, repo, head, c, diff); err != nil {
		return Outcome{}, err
	}
	return Outcome{Action: "pr-opened", PR: pr.GetNumber(), Head: head}, nil
}

// pointBranch creates the PR branch at head, or moves an existing one that
// only holds tend's own work (a leftover of an earlier, closed PR).
func (m *Manager) pointBranch(ctx context.Context, client *github.Client, owner, repo, branch, head string, prev *github.PullRequest, prevState botpr.State) error {
	_, _, err := client.Git.CreateRef(ctx, owner, repo, github.CreateRef{Ref: "refs/heads/" + branch, SHA: head})
	if err == nil {
		return nil
	}
	if !isStatus(err, http.StatusUnprocessableEntity) {
		return fmt.Errorf("create branch %s: %w", branch, err)
	}
	ref, _, gerr := client.Git.GetRef(ctx, owner, repo, "heads/"+branch)
	if gerr != nil {
		return fmt.Errorf("create branch %s: %w (and reading it: %v)", branch, err, gerr)
	}
	current := ref.GetObject().GetSHA()
	ours := prev != nil && prevState.Head != "" && current == prevState.Head
	if !ours {
		commit, _, cerr := client.Git.GetCommit(ctx, owner, repo, current)
		if cerr != nil {
			return fmt.Errorf("read head of branch %s: %w", branch, cerr)
		}
		ours = strings.Contains(commit.GetMessage(), "tend-key: ")
	}
	if !ours {
		return fmt.Errorf("branch %s exists with commits tend did not write; delete it to let tend open its PR", branch)
	}
	if _, _, err := client.Git.UpdateRef(ctx, owner, repo, "heads/"+branch, github.UpdateRef{SHA: head, Force: github.Ptr(true)}); err != nil {
		return fmt.Errorf("move branch %s: %w", branch, err)
	}
	return nil
}

// update regenerates an open PR from the current base: a new commit,
// force-pushed (only ever over tend's own head), and a refreshed body.
func (m *Manager) update(ctx context.Context, client *github.Client, owner, repo, branch string, pr *github.PullRequest, prev botpr.State, c *Change, diff []FileChange, hash string) (Outcome, error) {
	head, err := m.writeCommit(ctx, client, owner, repo, c, diff)
	if err != nil {
		return Outcome{}, err
	}
	if _, _, err := client.Git.UpdateRef(ctx, owner, repo, "heads/"+branch, github.UpdateRef{SHA: head, Force: github.Ptr(true)}); err != nil {
		return Outcome{}, fmt.Errorf("update branch %s: %w", branch, err)
	}
	st := m.newState(c, hash, head)
	st.HumanNotified = prev.HumanNotified && !c.Recreate
	st.Cmd = prev.Cmd
	c.keepFeedback(&st, prev)
	edit := &github.PullRequest{
		Title: github.Ptr(oneLine(c.Title, 256)),
		Body:  github.Ptr(renderBody(c, st)),
	}
	if pr.GetBase().GetRef() != c.Base.Branch {
		edit.Base = &github.PullRequestBranch{Ref: github.Ptr(c.Base.Branch)}
	}
	if _, _, err := client.PullRequests.Edit(ctx, owner, repo, pr.GetNumber(), edit); err != nil {
		return Outcome{}, fmt.Errorf("update PR #%d: %w", pr.GetNumber(), err)
	}
	if err := m.report(ctx, client, owner, repo, head, c, diff); err != nil {
		return Outcome{}, err
	}
	return Outcome{Action: "pr-updated", PR: pr.GetNumber(), Head: head}, nil
}

// resolve closes a PR whose change the base branch already has.
func (m *Manager) resolve(ctx context.Context, client *github.Client, owner, repo string, pr *github.PullRequest, st botpr.State, c *Change) (Outcome, error) {
	msg := "The base branch already has the desired state, so this pull request is no longer needed. Closing it and deleting its branch."
	if err := m.closePR(ctx, client, owner, repo, pr, st, c.Key, msg); err != nil {
		return Outcome{}, err
	}
	return Outcome{Action: "resolved", PR: pr.GetNumber(), Wake: m.wake(ctx, owner, repo, c.PullRequests.Limit)}, nil
}

// closePR closes a tend PR (marking its state block, so the close is not
// taken for a person declining it), says why in a comment, deletes its
// branch when it holds only tend's work, and gives its slot back.
func (m *Manager) closePR(ctx context.Context, client *github.Client, owner, repo string, pr *github.PullRequest, st botpr.State, k keys.Key, msg string) error {
	st.Resolved = true
	if _, _, err := client.PullRequests.Edit(ctx, owner, repo, pr.GetNumber(), &github.PullRequest{State: github.Ptr("closed"), Body: github.Ptr(botpr.ReplaceState(pr.GetBody(), st))}); err != nil {
		return fmt.Errorf("close PR #%d: %w", pr.GetNumber(), err)
	}
	if _, _, err := client.Issues.CreateComment(ctx, owner, repo, pr.GetNumber(), &github.IssueComment{Body: github.Ptr(msg)}); err != nil {
		return fmt.Errorf("comment on PR #%d: %w", pr.GetNumber(), err)
	}
	if pr.GetHead().GetSHA() == st.Head {
		if _, err := client.Git.DeleteRef(ctx, owner, repo, "heads/"+pr.GetHead().GetRef()); err != nil && !isStatus(err, http.StatusUnprocessableEntity) && !isStatus(err, http.StatusNotFound) {
			return fmt.Errorf("delete branch of PR #%d: %w", pr.GetNumber(), err)
		}
	}
	if m.Counter != nil {
		if err := m.Counter.ReleasePR(ctx, strings.ToLower(owner+"/"+repo), k.String()); err != nil {
			return err
		}
	}
	return nil
}

// humanEdits leaves a PR alone once people pushed to its branch, saying so
// once.
func (m *Manager) humanEdits(ctx context.Context, client *github.Client, owner, repo string, pr *github.PullRequest, st botpr.State, c *Change) (Outcome, error) {
	out := Outcome{Action: "human-edits", PR: pr.GetNumber(), Head: pr.GetHead().GetSHA()}
	if c.Fresh {
		if err := m.reportHandsOff(ctx, client, owner, repo, pr, st, c); err != nil {
			return Outcome{}, err
		}
	}
	if st.HumanNotified {
		return out, nil
	}
	msg := fmt.Sprintf("Someone other than tend pushed to `%s`, so tend has stopped updating this pull request: it never overwrites people's commits.\n\n"+
		"To hand it back, comment `/reconcile recreate` (tend regenerates it from the base branch, discarding the extra commits), "+
		"or reset the branch to tend's last commit %s.", pr.GetHead().GetRef(), short(st.Head))
	if _, _, err := client.Issues.CreateComment(ctx, owner, repo, pr.GetNumber(), &github.IssueComment{Body: github.Ptr(msg)}); err != nil {
		return Outcome{}, fmt.Errorf("comment on PR #%d: %w", pr.GetNumber(), err)
	}
	st.HumanNotified = true
	if _, _, err := client.PullRequests.Edit(ctx, owner, repo, pr.GetNumber(), &github.PullRequest{Body: github.Ptr(botpr.ReplaceState(pr.GetBody(), st))}); err != nil {
		return Outcome{}, fmt.Errorf("update PR #%d: %w", pr.GetNumber(), err)
	}
	return out, nil
}

// Close closes the open PR of a key that tend no longer manages (its rule
// was removed, or the repository's config), with reason as the comment.
func (m *Manager) Close(ctx context.Context, client *github.Client, owner, repo string, k keys.Key, reason string) (Outcome, error) {
	pr, st, err := m.findPR(ctx, client, owner, repo, botpr.BranchName(k))
	if err != nil {
		return Outcome{}, err
	}
	if pr == nil || pr.GetState() != "open" {
		return Outcome{Action: "noop"}, nil
	}
	if err := m.closePR(ctx, client, owner, repo, pr, st, k, reason); err != nil {
		return Outcome{}, err
	}
	return Outcome{Action: "closed", PR: pr.GetNumber(), Wake: m.wake(ctx, owner, repo, 1)}, nil
}

// OpenPRKeys lists the keys of the open PRs tend's bot has for rule in a
// repository ("" for every rule), and re-counts the repository's open tend
// PRs for the limit.
func (m *Manager) OpenPRKeys(ctx context.Context, client *github.Client, owner, repo, rule string) ([]keys.Key, error) {
	prefix := botpr.BranchPrefix + rule + "/"
	if rule == "" {
		prefix = botpr.BranchPrefix
	}
	var out []keys.Key
	var all []string
	err := m.eachOpenBotPR(ctx, client, owner, repo, func(pr *github.PullRequest) bool {
		k, ok := botpr.StateKey(pr.GetBody())
		if !ok || !strings.EqualFold(k.FullName(), owner+"/"+repo) {
			return true
		}
		all = append(all, k.String())
		if strings.HasPrefix(pr.GetHead().GetRef(), prefix) && (rule == "" || k.Rule == rule) {
			out = append(out, k)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if m.Counter != nil {
		if err := m.Counter.SyncPRSlots(ctx, strings.ToLower(owner+"/"+repo), all); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// oneLine puts s on one line (runs of white space become one space) of at
// most n bytes.
func oneLine(s string, n int) string {
	return clip.Text(strings.Join(strings.Fields(s), " "), n, "…")
}
