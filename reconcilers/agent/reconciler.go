package agent

import (
	"github.com/tend-app/tend/internal/botpr"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/reconcilers"
	"github.com/tend-app/tend/reconcilers/agent/worktree"
	"github.com/tend-app/tend/reconcilers/changes"
	"github.com/tend-app/tend/reconcilers/images"
)

// Usage is what the agent persists: tokens spent per key and day, and the
// memo of each key's last run. The server adapts the store to it, so that
// the agent imports no database.
type Usage interface {
	AddTokens(ctx context.Context, key, day string, n int64) (int64, error)
	TokensOn(ctx context.Context, key, day string) (int64, error)
	GetAgentMemo(ctx context.Context, key string) (Memo, error)
	SetAgentMemo(ctx context.Context, key string, m Memo) error
}

// Memo is what the agent remembers of its last run of a key: the hash of
// the run's inputs, its outcome and the PR head it left. A run whose inputs
// and head match the memo is skipped without calling the model.
type Memo struct {
	Inputs, Outcome, Head string
	At                    time.Time
}

// Reconciler is the agent reconciler.
type Reconciler struct {
	Changes *changes.Manager
	// Model is nil when no credentials are configured; ModelErr says why.
	Model     Model
	ModelErr  error
	ModelName string
	Budgets   Budgets
	// DailyTokens bounds the tokens one key may spend per UTC day
	// (default 2,000,000).
	DailyTokens int64
	Usage       Usage
	// NewResolver returns the image resolver of one run (resolve_image).
	NewResolver func() images.Resolver
	Metrics     *Metrics
	// Limits of the worktree (zero: its defaults).
	Policy worktree.Policy
	Now    func() time.Time
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// run holds what one Reconcile gathered.
type run struct {
	req      reconcilers.Request
	k        keys.Key
	base     changes.Base
	pr       *github.PullRequest // open PR of the key, if any
	st       botpr.State
	issue    *github.Issue
	release  *github.RepositoryRelease
	relRepo  string
	inputs   string
	checkRun int64     // the in-progress check run, if one was created
	fb       *feedback // CI and review feedback on the open PR (feedback.go)
}

// Reconcile implements reconcilers.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcilers.Request) (reconcilers.Result, error) {
	k := req.Key
	if k.Kind() != keys.KindPath && k.Kind() != keys.KindIssue {
		return reconcilers.Result{}, reconcilers.Permanent(fmt.Errorf("the agent reconciler works on files and issues; %s is a %s key", k, k.Kind()))
	}
	client := req.Client
	base, err := changes.ReadBase(ctx, client, k.Owner, k.Repo, req.DefaultBranch)
	if err != nil {
		return reconcilers.Result{}, err
	}
	rn := &run{req: req, k: k, base: base}
	pr, st, err := r.Changes.PR(ctx, client, k.Owner, k.Repo, k)
	if err != nil {
		return reconcilers.Result{}, err
	}
	if pr != nil && pr.GetState() == "open" {
		rn.pr, rn.st = pr, st
	}

	var keyFile changes.File
	switch k.Kind() {
	case keys.KindIssue:
		is, _, err := client.Issues.Get(ctx, k.Owner, k.Repo, k.Issue)
		if err != nil {
			return reconcilers.Result{}, fmt.Errorf("read issue #%d: %w", k.Issue, err)
		}
		if is.IsPullRequest() {
			return reconcilers.Result{Outcome: "not-an-issue"}, nil
		}
		labelled := slices.ContainsFunc(is.Labels, func(l *github.Label) bool { return strings.EqualFold(l.GetName(), req.Rule.On.IssueLabel) })
		if is.GetState() != "open" || !labelled {
			why := fmt.Sprintf("Issue #%d was closed, so this pull request is no longer needed.", k.Issue)
			if is.GetState() == "open" {
				why = fmt.Sprintf("Issue #%d no longer carries the `%s` label, so tend no longer works on it. Closing this pull request.", k.Issue, req.Rule.On.IssueLabel)
			}
			out, err := r.Changes.Close(ctx, client, k.Owner, k.Repo, k, why)
			if err != nil {
				return reconcilers.Result{}, err
			}
			return reconcilers.Result{Outcome: "request-withdrawn", Enqueue: out.Wake}, nil
		}
		rn.issue = is
	case keys.KindPath:
		keyFile, err = changes.ReadFile(ctx, client, k.Owner, k.Repo, base.Commit, k.Path)
		if err != nil {
			return reconcilers.Result{}, err
		}
		if !keyFile.Exists && rn.pr == nil {
			return reconcilers.Result{Outcome: "noop"}, nil
		}
		if !keyFile.Exists {
			// The file is gone: so is the key. Its PR is closed as resolved.
			c := r.change(rn)
			out, err := r.Changes.Apply(ctx, client, k.Owner, k.Repo, c)
			if err != nil {
				return reconcilers.Result{}, err
			}
			return reconcilers.Result{Outcome: out.Action, Enqueue: out.Wake}, nil
		}
	}
	if owner, repo, tag, ok := parseReleaseTrigger(req.Trigger); ok {
		rel, _, err := client.Repositories.GetReleaseByTag(ctx, owner, repo, tag)
		if err != nil {
			req.Log.Warn().Err(err).Str("release", owner+"/"+repo+"@"+tag).Msg("reading the triggering release")
		} else {
			rn.release, rn.relRepo = rel, owner+"/"+repo
		}
	}

	rn.inputs = r.inputsHash(rn, keyFile.SHA)
	if res, done, err := r.feedbackGate(ctx, rn); done || err != nil {
		return res, err
	}
	memo, err := r.Usage.GetAgentMemo(ctx, k.String())
	if err != nil {
		return reconcilers.Result{}, err
	}
	head := ""
	if rn.pr != nil {
		head = rn.pr.GetHead().GetSHA()
	}
	if memo.Inputs == rn.inputs && memo.Head == head && !rn.fb.due() {
		// Nothing the run depends on changed since the last one.
		r.Metrics.record("unchanged", nil)
		return reconcilers.Result{Outcome: "unchanged"}, nil
	}
	if rn.pr != nil && rn.pr.GetHead().GetSHA() != rn.st.Head {
		// People pushed to the PR: the change manager says so once and
		// leaves it alone; the agent does not spend tokens on it.
		out, err := r.Changes.Apply(ctx, client, k.Owner, k.Repo, r.change(rn))
		if err != nil {
			return reconcilers.Result{}, err
		}
		return reconcilers.Result{Outcome: out.Action}, r.remember(ctx, rn, out.Action, head)
	}

	target := base.Commit
	if rn.pr != nil {
		target = rn.pr.GetHead().GetSHA()
	}
	if r.Model == nil {
		why := ErrNoCredentials
		if r.ModelErr != nil {
			why = r.ModelErr
		}
		err := changes.PostCheck(ctx, client, k.Owner, k.Repo, changes.Check{
			Name: changes.CheckName(req.Rule.Name), HeadSHA: target, ExternalID: k.String(), Conclusion: "failure",
			Title: "No model credentials", Summary: "tend cannot run the agent for this rule: " + why.Error() + ".\n\nOther rules keep working. Once credentials are configured, the next resync runs this rule.",
		})
		r.Metrics.record("no-credentials", nil)
		if err != nil {
			return reconcilers.Result{}, err
		}
		return reconcilers.Result{Outcome: "no-credentials"}, r.remember(ctx, rn, "no-credentials", head)
	}
	day := r.now().UTC().Format("2006-01-02")
	spent, err := r.Usage.TokensOn(ctx, k.String(), day)
	if err != nil {
		return reconcilers.Result{}, err
	}
	if daily := r.daily(); spent >= daily {
		tomorrow := r.now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		err := changes.PostCheck(ctx, client, k.Owner, k.Repo, changes.Check{
			Name: changes.CheckName(req.Rule.Name), HeadSHA: target, ExternalID: k.String(), Conclusion: "neutral",
			Title: "Daily token budget spent", Summary: fmt.Sprintf("This key used %d model tokens today; its daily budget is %d. tend runs it again after %s.", spent, daily, tomorrow.Format(time.RFC3339)),
		})
		r.Metrics.record("budget-daily", nil)
		if err != nil {
			return reconcilers.Result{}, err
		}
		return reconcilers.Result{Outcome: "budget-daily", RequeueAfter: time.Until(tomorrow) + time.Minute}, nil
	}
	res, err := r.runAgent(ctx, rn, target, day)
	if err == nil && rn.fb.due() {
		// Each failing head and each review is used once.
		_, err = r.Changes.SaveFeedback(ctx, client, k.Owner, k.Repo, k, rn.fb.next)
	}
	return res, err
}

func (r *Reconciler) daily() int64 {
	if r.DailyTokens > 0 {
		return r.DailyTokens
	}
	return 2_000_000
}

// runAgent runs the model on the worktree and lands the result.
func (r *Reconciler) runAgent(ctx context.Context, rn *run, target, day string) (reconcilers.Result, error) {
	req, k, client := rn.req, rn.k, rn.req.Client
	if rn.pr != nil {
		// The PR shows that tend is working on it.
		cr, _, err := client.Checks.CreateCheckRun(ctx, k.Owner, k.Repo, github.CreateCheckRunOptions{
			Name: changes.CheckName(req.Rule.Name), HeadSHA: target, ExternalID: github.Ptr(k.String()), Status: github.Ptr("in_progress"),
			Output: &github.CheckRunOutput{Title: github.Ptr("Reconciling"), Summary: github.Ptr("tend's agent is working on this key.")},
		})
		if err != nil {
			return reconcilers.Result{}, fmt.Errorf("start check run: %w", err)
		}
		rn.checkRun = cr.GetID()
	}
	src, prFiles, err := r.source(ctx, rn)
	if err != nil {
		return reconcilers.Result{}, err
	}
	pol := r.Policy
	pol.KeyPath = k.Path
	pol.Edits = req.Rule.Edits
	tree, err := worktree.New(ctx, src, pol)
	if err != nil {
		return reconcilers.Result{}, fmt.Errorf("list the repository: %w", err)
	}
	system, task, err := r.prompts(ctx, rn, tree, prFiles)
	if err != nil {
		return reconcilers.Result{}, err
	}
	resolver := images.Resolver(images.NewRegistryResolver())
	if r.NewResolver != nil {
		resolver = r.NewResolver()
	}
	ct := &contextTools{client: client, owner: k.Owner, repo: k.Repo, release: rn.release, relRepo: rn.relRepo, issue: rn.issue, resolver: resolver}
	ct.writers = func(ctx context.Context) ([]*github.IssueComment, error) { return r.writersComments(ctx, client, k) }
	budgets := r.Budgets
	budgets.defaults()
	l := &loop{
		model: r.Model, name: r.ModelName, budgets: budgets, system: system, task: task, ws: tree, ctxTools: ct,
		decls: append(tree.Declarations(), contextDeclarations(rn.release != nil, rn.issue != nil)...), log: req.Log,
		onTokens: func(n int64) {
			if _, err := r.Usage.AddTokens(context.WithoutCancel(ctx), k.String(), day, n); err != nil {
				req.Log.Warn().Err(err).Msg("recording tokens")
			}
		},
	}
	rec, err := l.run(ctx)
	if err != nil {
		var rq *errRequeue
		r.Metrics.record("model-error", rec)
		r.finishCheck(ctx, rn, "neutral", "The model is unavailable", "tend could not reach the model ("+bounded(err.Error(), 300)+"). It tries again later.", rec)
		if errors.As(err, &rq) {
			return reconcilers.Result{}, reconcilers.RetryAfter(err, rq.after)
		}
		return reconcilers.Result{}, err
	}
	req.Log.Info().Str("ending", string(rec.Ending)).Int("turns", len(rec.Turns)).Int64("tokens", rec.Tokens).Int("tool_calls", len(rec.Calls)).Dur("model_time", rec.Duration).Msg("agent run finished")
	r.Metrics.record(string(rec.Ending), rec)

	switch rec.Ending {
	case EndSubmitted, EndNoChange:
		c := r.change(rn)
		c.Details = trace(rec)
		if rec.Ending == EndSubmitted {
			files, err := tree.Changes(ctx)
			if err != nil {
				return reconcilers.Result{}, err
			}
			modes := tree.Modes()
			for i := range files {
				files[i].Mode = modes[files[i].Path]
			}
			c.Files = r.withBase(ctx, rn, files, prFiles)
			c.Title, c.Summary = rec.Title, rec.Rationale
		}
		out, err := r.Changes.Apply(ctx, client, k.Owner, k.Repo, c)
		if err != nil {
			return reconcilers.Result{}, err
		}
		summary := "**" + outcomeText(rec.Ending, out.Action) + "**\n\n" + rec.Rationale
		if out.Head != "" && out.Head != target && (out.Action == "pr-opened" || out.Action == "pr-updated") {
			r.finishCheck(ctx, rn, "neutral", "Superseded", fmt.Sprintf("This run produced commit %s; its check run has the result.", out.Head), nil)
		} else {
			r.finishCheck(ctx, rn, "success", outcomeText(rec.Ending, out.Action), summary, rec)
		}
		if rn.issue != nil {
			if err := r.answerIssue(ctx, rn, rec, out); err != nil {
				return reconcilers.Result{}, err
			}
		}
		newHead := ""
		if out.Head != "" && (out.Action == "pr-opened" || out.Action == "pr-updated" || out.Action == "up-to-date") {
			newHead = out.Head
		}
		return reconcilers.Result{Outcome: out.Action, RequeueAfter: out.RequeueAfter, Enqueue: out.Wake}, r.remember(ctx, rn, string(rec.Ending), newHead)
	default:
		// A budget, a refusal, or no answer: nothing reaches a branch. The
		// memo keeps the key from running again until its inputs change.
		conclusion := "neutral"
		if !rec.Ending.Budget() {
			conclusion = "failure"
		}
		title := map[Ending]string{EndTurns: "Turn budget spent", EndTokens: "Token budget spent", EndTime: "Time budget spent", EndBlocked: "The model refused", EndNoAnswer: "The model did not finish"}[rec.Ending]
		summary := rec.Rationale + "\n\nNothing was changed. tend runs this key again when the file, the rule or the request changes."
		if rn.checkRun != 0 {
			r.finishCheck(ctx, rn, conclusion, title, summary, rec)
		} else if err := changes.PostCheck(ctx, client, k.Owner, k.Repo, changes.Check{
			Name: changes.CheckName(req.Rule.Name), HeadSHA: target, ExternalID: k.String(), Conclusion: conclusion,
			Title: title, Summary: summary, Text: trace(rec), Reconcilable: true,
		}); err != nil {
			return reconcilers.Result{}, err
		}
		head := ""
		if rn.pr != nil {
			head = rn.pr.GetHead().GetSHA()
		}
		return reconcilers.Result{Outcome: string(rec.Ending)}, r.remember(ctx, rn, string(rec.Ending), head)
	}
}

// change is the key's Change with everything but its files.
func (r *Reconciler) change(rn *run) *changes.Change {
	c := &changes.Change{Key: rn.k, Rule: rn.req.Rule.Name, PullRequests: rn.req.Config.PullRequests, Base: rn.base, Trigger: changes.DescribeTrigger(rn.req.Trigger)}
	if rn.k.Kind() == keys.KindIssue {
		c.Fixes = rn.k.Issue
	}
	c.CIRounds = rn.req.Rule.CIRounds
	if rn.fb.due() || (rn.fb != nil && rn.fb.changed) {
		c.Feedback = rn.fb.next.Clone()
	}
	if rn.k.Kind() == keys.KindPath {
		// A key with no changed files: nothing differs, so an open PR is
		// resolved and no new one is opened.
		c.Files = []changes.FileChange{{Path: rn.k.Path, Delete: true}}
	}
	return c
}

func (r *Reconciler) remember(ctx context.Context, rn *run, outcome, head string) error {
	return r.Usage.SetAgentMemo(ctx, rn.k.String(), Memo{Inputs: rn.inputs, Outcome: outcome, Head: head})
}

// finishCheck completes the in-progress check run, if one was started.
func (r *Reconciler) finishCheck(ctx context.Context, rn *run, conclusion, title, summary string, rec *Record) {
	if rn.checkRun == 0 {
		return
	}
	summary += changes.FeedbackLine(rn.feedbackRecord(), rn.req.Rule.CIRounds)
	out := &github.CheckRunOutput{Title: github.Ptr(title), Summary: github.Ptr(bounded(summary, 60000))}
	if rec != nil {
		out.Text = github.Ptr(bounded(trace(rec), 60000))
	}
	_, _, err := rn.req.Client.Checks.UpdateCheckRun(context.WithoutCancel(ctx), rn.k.Owner, rn.k.Repo, rn.checkRun, github.UpdateCheckRunOptions{
		Name: changes.CheckName(rn.req.Rule.Name), Status: github.Ptr("completed"), Conclusion: github.Ptr(conclusion), Output: out,
	})
	if err != nil {
		rn.req.Log.Warn().Err(err).Msg("completing the check run")
	}
}

// inputsHash identifies everything a run depends on besides the rest of
// the repository and the open PR (remembered apart, as the memo's head):
// the model, the rule, the key's file or request, the triggering release.
func (r *Reconciler) inputsHash(rn *run, fileSHA string) string {
	h := sha256.New()
	w := func(parts ...string) {
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
	}
	w("v1", r.ModelName, rn.req.Rule.Name, rn.req.Rule.Prompt, strings.Join(rn.req.Rule.Edits, "\x01"), rn.k.String(), fileSHA)
	if rn.issue != nil {
		w(rn.issue.GetTitle(), rn.issue.GetBody(), strconv.Itoa(rn.issue.GetComments()))
	}
	if rn.release != nil {
		w(rn.relRepo, rn.release.GetTagName())
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func parseReleaseTrigger(t string) (owner, repo, tag string, ok bool) {
	rest, ok := strings.CutPrefix(t, "release:")
	if !ok {
		return "", "", "", false
	}
	full, tag, ok := strings.Cut(rest, "@")
	if !ok || tag == "" {
		return "", "", "", false
	}
	owner, repo, ok = strings.Cut(full, "/")
	return owner, repo, tag, ok && owner != "" && repo != ""
}

func outcomeText(e Ending, action string) string {
	switch action {
	case "pr-opened":
		return "Opened a pull request"
	case "pr-updated":
		return "Updated the pull request"
	case "resolved":
		return "Closed the pull request: nothing needs to change"
	case "up-to-date":
		return "The pull request is up to date"
	case "declined":
		return "Not proposed again: people closed this proposal"
	case "limited":
		return "Waiting for a pull request slot"
	}
	if e == EndNoChange {
		return "Nothing needs to change"
	}
	return action
}
