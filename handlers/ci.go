package handlers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
)

// The handlers in this file turn news about a tend PR's checks and reviews
// into its key. They are hints: the key's run reads the checks, statuses,
// reviews and permissions again and decides whether the agent gets another
// round. Only what can be known without GitHub is filtered here (tend's own
// check runs, pending states, other branches).

type prRef struct {
	Number int `json:"number"`
	Head   struct {
		Ref string `json:"ref"`
	} `json:"head"`
}

type appRef struct {
	ID int64 `json:"id"`
}

type checkSuitePayload struct {
	envelope
	CheckSuite struct {
		HeadBranch   string  `json:"head_branch"`
		App          appRef  `json:"app"`
		PullRequests []prRef `json:"pull_requests"`
	} `json:"check_suite"`
}

type statusPayload struct {
	envelope
	State    string `json:"state"`
	Branches []struct {
		Name string `json:"name"`
	} `json:"branches"`
}

type workflowRunPayload struct {
	envelope
	WorkflowRun struct {
		HeadBranch   string  `json:"head_branch"`
		PullRequests []prRef `json:"pull_requests"`
	} `json:"workflow_run"`
}

// failedConclusion reports whether a check run's conclusion is a failure
// the agent could act on.
func failedConclusion(c string) bool {
	return c == "failure" || c == "timed_out" || c == "startup_failure"
}

// ciBranches collects the tend branches an event names: its head branch
// and the heads of its pull requests (at most 10).
func ciBranches(headBranch string, prs []prRef) []string {
	names := []string{headBranch}
	for _, pr := range prs {
		names = append(names, pr.Head.Ref)
	}
	return tendBranches(names)
}

func tendBranches(names []string) []string {
	var out []string
	for _, b := range names {
		if strings.HasPrefix(b, botpr.BranchPrefix) && !slices.Contains(out, b) && len(out) < 10 {
			out = append(out, b)
		}
	}
	return out
}

// foreignCheckRun maps a finished, failing check run of another app to the
// key of the tend PR it ran on.
func (h *CheckRun) foreignCheckRun(ctx context.Context, eventType, deliveryID string, ev *checkRunPayload) error {
	if !failedConclusion(ev.CheckRun.Conclusion) {
		// A success may still finish a failing set: its check_suite
		// "completed" says so.
		return ignore(ctx, "check run "+ev.CheckRun.Conclusion)
	}
	branches := ciBranches(ev.CheckRun.CheckSuite.HeadBranch, ev.CheckRun.PullRequests)
	return h.branchesChanged(ctx, eventType, deliveryID, "check_run:"+ev.CheckRun.Conclusion, &ev.envelope, branches)
}

// CheckSuite maps a finished suite of another app's check runs (a CI
// workflow) on a tend branch to the branch's key.
type CheckSuite struct{ Deps }

func (h *CheckSuite) Handles() []string { return []string{"check_suite"} }

func (h *CheckSuite) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev checkSuitePayload
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	if ev.Action != "completed" {
		return ignore(ctx, "check suite "+ev.Action)
	}
	if h.Identity != nil && ev.CheckSuite.App.ID == h.Identity.AppID {
		return ignore(ctx, "tend's own check suite")
	}
	branches := ciBranches(ev.CheckSuite.HeadBranch, ev.CheckSuite.PullRequests)
	return h.branchesChanged(ctx, eventType, deliveryID, "check_suite:completed", &ev.envelope, branches)
}

// Status maps a finished commit status on a tend branch to its key.
type Status struct{ Deps }

func (h *Status) Handles() []string { return []string{"status"} }

func (h *Status) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev statusPayload
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	if ev.State == "pending" {
		return ignore(ctx, "status pending")
	}
	var branches []string
	for _, b := range ev.Branches {
		branches = append(branches, b.Name)
	}
	return h.branchesChanged(ctx, eventType, deliveryID, "status:"+ev.State, &ev.envelope, tendBranches(branches))
}

// WorkflowRun maps a finished GitHub Actions workflow run on a tend branch
// to its key.
type WorkflowRun struct{ Deps }

func (h *WorkflowRun) Handles() []string { return []string{"workflow_run"} }

func (h *WorkflowRun) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev workflowRunPayload
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	if ev.Action != "completed" {
		return ignore(ctx, "workflow run "+ev.Action)
	}
	branches := ciBranches(ev.WorkflowRun.HeadBranch, ev.WorkflowRun.PullRequests)
	return h.branchesChanged(ctx, eventType, deliveryID, "workflow_run:completed", &ev.envelope, branches)
}

// Review maps a submitted review, or a new review comment, on a tend PR to
// its key. Whether the reviewer may steer tend is the run's question.
type Review struct{ Deps }

func (h *Review) Handles() []string {
	return []string{"pull_request_review", "pull_request_review_comment"}
}

func (h *Review) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev pullRequestPayload // the fields tend reads are the same
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	want := "submitted"
	if eventType == "pull_request_review_comment" {
		want = "created"
	}
	if ev.Action != want {
		return ignore(ctx, eventType+" "+ev.Action)
	}
	if h.Identity.IsBot(ev.Sender.Login, ev.Sender.Type) || ev.Sender.Type == "Bot" {
		return ignore(ctx, "review by a bot")
	}
	pr := ev.PullRequest
	k, ok := h.botPRKey(ev.Repository.FullName, pr.User, pr.Head.Ref, pr.Body)
	if !ok {
		return ignore(ctx, "not a tend pull request")
	}
	ctx, _ = repoContext(ctx, ev.Installation.ID, ev.Repository.FullName)
	return h.enqueue(ctx, eventType, deliveryID, eventType+":"+ev.Action, []keys.Key{k})
}

// branchesChanged enqueues the keys of the tend PRs on branches.
func (d Deps) branchesChanged(ctx context.Context, eventType, deliveryID, trigger string, ev *envelope, branches []string) error {
	if len(branches) == 0 {
		return ignore(ctx, "not on a tend branch")
	}
	owner, name, ok := splitFullName(ev.Repository.FullName)
	if !ok || ev.Installation.ID == 0 {
		return ignore(ctx, "payload names no repository or installation")
	}
	ctx, _ = repoContext(ctx, ev.Installation.ID, ev.Repository.FullName)
	loaded, err := d.loadConfig(ctx, ev.Installation.ID, owner, name)
	if err != nil {
		return d.unmapped(ctx, eventType, deliveryID, owner, name, err)
	}
	if !loaded.Managed() {
		return ignore(ctx, "repository has no valid .github/tend.yaml")
	}
	var ks []keys.Key
	for _, b := range branches {
		k, ok := BranchKey(owner, name, loaded.Config, b)
		if !ok {
			if k, ok, err = d.branchPRKey(ctx, ev.Installation.ID, owner, name, b); err != nil {
				return d.unmapped(ctx, eventType, deliveryID, owner, name, err)
			}
		}
		if ok && !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	return d.enqueue(ctx, eventType, deliveryID, trigger, ks)
}

// BranchKey is the key of the tend branch b when its name alone says so:
// a reading of the name (botpr.BranchKeys) that one of the repository's
// rules owns. ok is false when the name is ambiguous or hashed.
func BranchKey(owner, repo string, cfg *config.Config, b string) (keys.Key, bool) {
	var found []keys.Key
	for _, k := range botpr.BranchKeys(owner, repo, b) {
		r, ok := cfg.Rule(k.Rule)
		switch {
		case !ok:
		case k.Kind() == keys.KindIssue && r.On.IssueLabel != "":
			found = append(found, k)
		case k.Kind() == keys.KindPath && r.Matches(k.Path):
			found = append(found, k)
		}
	}
	if len(found) != 1 {
		return keys.Key{}, false
	}
	return found[0], true
}

// branchPRKey reads the key from the state block of the open tend PR on
// branch b, for branch names that cannot be read back.
func (d Deps) branchPRKey(ctx context.Context, installationID int64, owner, repo, b string) (keys.Key, bool, error) {
	client, err := d.Clients.NewInstallationClient(installationID)
	if err != nil {
		return keys.Key{}, false, fmt.Errorf("client for installation %d: %w", installationID, err)
	}
	prs, _, err := client.PullRequests.List(ctx, owner, repo, &github.PullRequestListOptions{State: "open", Head: owner + ":" + b, ListOptions: github.ListOptions{PerPage: 5}})
	if err != nil {
		return keys.Key{}, false, fmt.Errorf("find the PR of %s: %w", b, err)
	}
	for _, pr := range prs {
		u := user{Login: pr.GetUser().GetLogin(), Type: pr.GetUser().GetType()}
		if k, ok := d.botPRKey(owner+"/"+repo, u, pr.GetHead().GetRef(), pr.GetBody()); ok && pr.GetHead().GetRef() == b {
			return k, true, nil
		}
	}
	return keys.Key{}, false, nil
}
