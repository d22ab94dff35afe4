package agent

import (
	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/clip"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/reconcilers"
	"github.com/tend-app/tend/reconcilers/agent/worktree"
	"github.com/tend-app/tend/reconcilers/changes"
	"github.com/tend-app/tend/reconcilers/commands"
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
	// Requests keeps tend's status comment on request issues (nil: tend
	// comments once per outcome instead).
	Requests *commands.Pipeline
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

	outages outages
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
	// recreate: the run regenerates the PR from the base branch, so the
	// PR's own changes (and people's commits) are not its starting point.
	recreate bool
	// prior is the key's newest PR and what people declined.
	prior *changes.Prior
	// keySHA is the blob SHA of the key's file on the base (path keys).
	keySHA string
}

// prHead is the head commit of the key's open PR, or "".
func (rn *run) prHead() string {
	if rn.pr == nil {
		return ""
	}
	return rn.pr.GetHead().GetSHA()
}

// Reconcile implements reconcilers.Reconciler. It reads what the run
// depends on, skips the run when none of it changed or people took the PR
// over, and otherwise runs the model within the key's budgets.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcilers.Request) (reconcilers.Result, error) {
	k := req.Key
	if k.Kind() != keys.KindPath && k.Kind() != keys.KindIssue {
		return reconcilers.Result{}, reconcilers.Permanent(fmt.Errorf("the agent reconciler works on files and issues; %s is a %s key", k, k.Kind()))
	}
	rn, err := r.begin(ctx, req)
	if err != nil {
		return reconcilers.Result{}, err
	}
	var fileSHA string
	var res reconcilers.Result
	var done bool
	if k.Kind() == keys.KindIssue {
		res, done, err = r.readIssue(ctx, rn)
	} else {
		fileSHA, res, done, err = r.readKeyFile(ctx, rn)
	}
	if done || err != nil {
		return res, err
	}
	r.readRelease(ctx, rn)
	rn.inputs, rn.keySHA = r.inputsHash(rn, fileSHA), fileSHA
	if res, done, err := r.feedbackGate(ctx, rn); done || err != nil {
		return res, err
	}
	if res, done, err := r.skip(ctx, rn); done || err != nil {
		return res, err
	}
	target := rn.base.Commit
	if rn.pr != nil {
		target = rn.pr.GetHead().GetSHA()
	}
	if r.Model == nil {
		return r.noCredentials(ctx, rn, target)
	}
	day := r.now().UTC().Format("2006-01-02")
	if res, done, err := r.dailyBudgetSpent(ctx, rn, target, day); done || err != nil {
		return res, err
	}
	res, err = r.runAgent(ctx, rn, target, day)
	if err == nil && rn.fb.due() {
		// Each failing head and each review is used once.
		_, err = r.Changes.SaveFeedback(ctx, rn.req.Client, k.Owner, k.Repo, k, rn.fb.next)
	}
	return res, err
}

// begin reads the base branch, the key's newest PR and what people
// declined (a writer's command on a declined PR withdraws the decline).
func (r *Reconciler) begin(ctx context.Context, req reconcilers.Request) (*run, error) {
	k := req.Key
	base, err := changes.ReadBase(ctx, req.Client, k.Owner, k.Repo, req.DefaultBranch)
	if err != nil {
		return nil, err
	}
	prior, err := r.Changes.PriorOf(ctx, req.Client, k, req.PRRead, req.PR, req.Steering.Reconsider || req.Steering.Recreate)
	if err != nil {
		return nil, err
	}
	rn := &run{req: req, k: k, base: base, recreate: req.Steering.Recreate, prior: prior}
	if pr := prior.PR; pr != nil && pr.GetState() == "open" {
		rn.pr, rn.st = pr, prior.State
	}
	return rn, nil
}

// readIssue reads the issue of an issue key. The run is done when the
// number names a pull request, or when the request was withdrawn — the
// issue was closed, lost its label, or was deleted — and the key's PR is
// closed.
func (r *Reconciler) readIssue(ctx context.Context, rn *run) (reconcilers.Result, bool, error) {
	k, client := rn.k, rn.req.Client
	is, withdrawn, err := r.readRequest(ctx, client, k, rn.req.Rule.On.IssueLabel)
	switch {
	case err != nil:
		return reconcilers.Result{}, true, err
	case is == nil:
		return reconcilers.Result{Outcome: "not-an-issue"}, true, nil
	case withdrawn == "":
		rn.issue = is
		return reconcilers.Result{}, false, nil
	}
	out, err := r.Changes.Close(ctx, client, k.Owner, k.Repo, k, withdrawn)
	if err != nil {
		return reconcilers.Result{}, true, err
	}
	return reconcilers.Result{Outcome: "request-withdrawn", Enqueue: out.Wake}, true, nil
}

// readKeyFile looks up the file of a path key and returns its blob SHA
// (its content is the model's to read, through the size-bounded tools).
// The run is done when the file is gone: so is the key, and its PR is
// closed as resolved.
func (r *Reconciler) readKeyFile(ctx context.Context, rn *run) (string, reconcilers.Result, bool, error) {
	k, client := rn.k, rn.req.Client
	keyFile, err := changes.StatFile(ctx, client, k.Owner, k.Repo, rn.base.Commit, k.Path)
	if err != nil {
		return "", reconcilers.Result{}, true, err
	}
	if keyFile.Exists {
		return keyFile.SHA, reconcilers.Result{}, false, nil
	}
	if rn.pr == nil {
		return "", reconcilers.Result{Outcome: "noop"}, true, nil
	}
	out, err := r.Changes.Apply(ctx, client, k.Owner, k.Repo, r.change(rn))
	if err != nil {
		return "", reconcilers.Result{}, true, err
	}
	return "", reconcilers.Result{Outcome: out.Action, Enqueue: out.Wake}, true, nil
}

// readRelease reads the release that triggered the run, if one did. A
// release that cannot be read is logged: the run goes on without it.
func (r *Reconciler) readRelease(ctx context.Context, rn *run) {
	owner, repo, tag, ok := parseReleaseTrigger(rn.req.Trigger)
	if !ok {
		return
	}
	rel, _, err := rn.req.Client.Repositories.GetReleaseByTag(ctx, owner, repo, tag)
	if err != nil {
		rn.req.Log.Warn().Err(err).Str("release", owner+"/"+repo+"@"+tag).Msg("reading the triggering release")
		return
	}
	rn.release, rn.relRepo = rel, owner+"/"+repo
}

// skip ends the run without the model when nothing it depends on changed
// since the last run (unless people asked for a run), when people declined
// what it would propose (see stillDeclined), or when people pushed to the
// PR and did not ask to recreate it (the change manager says so once and
// leaves it alone; the agent spends no tokens on it).
func (r *Reconciler) skip(ctx context.Context, rn *run) (reconcilers.Result, bool, error) {
	k := rn.k
	memo, err := r.Usage.GetAgentMemo(ctx, k.String())
	if err != nil {
		return reconcilers.Result{}, true, err
	}
	head := rn.prHead()
	asked := rn.req.Steering.Fresh || rn.recreate || rn.req.Steering.Reconsider || rn.fb.due()
	if memo.Inputs == rn.inputs && memo.Head == head && !asked {
		r.Metrics.record("unchanged", nil)
		return reconcilers.Result{Outcome: "unchanged"}, true, nil
	}
	if rn.pr == nil {
		return r.declined(ctx, rn)
	}
	if head == rn.st.Head || rn.recreate {
		return reconcilers.Result{}, false, nil
	}
	out, err := r.Changes.Apply(ctx, rn.req.Client, k.Owner, k.Repo, r.change(rn))
	if err != nil {
		return reconcilers.Result{}, true, err
	}
	return reconcilers.Result{Outcome: out.Action, PR: out.PR}, true, r.remember(ctx, rn, out.Action, head)
}

// declined ends the run of a key without an open PR when people declined
// what it would work on. It is not remembered in the memo, which does not
// cover every file the declined run read.
func (r *Reconciler) declined(ctx context.Context, rn *run) (reconcilers.Result, bool, error) {
	declined, err := r.stillDeclined(ctx, rn)
	if err != nil || !declined {
		return reconcilers.Result{}, err != nil, err
	}
	r.Metrics.record("declined", nil)
	return reconcilers.Result{Outcome: "declined"}, true, nil
}

// noCredentials reports on a check run that the agent cannot run.
func (r *Reconciler) noCredentials(ctx context.Context, rn *run, target string) (reconcilers.Result, error) {
	k := rn.k
	why := ErrNoCredentials
	if r.ModelErr != nil {
		why = r.ModelErr
	}
	err := changes.PostCheck(ctx, rn.req.Client, k.Owner, k.Repo, changes.Check{
		Name: changes.CheckName(rn.req.Rule.Name), HeadSHA: target, ExternalID: k.String(), Conclusion: "failure",
		Title: "No model credentials", Summary: "tend cannot run the agent for this rule: " + why.Error() + ".\n\nOther rules keep working. Once credentials are configured, the next resync runs this rule.",
	})
	r.Metrics.record("no-credentials", nil)
	if err != nil {
		return reconcilers.Result{}, err
	}
	return reconcilers.Result{Outcome: "no-credentials"}, r.remember(ctx, rn, "no-credentials", rn.prHead())
}

// dailyBudgetSpent ends the run when the key spent its tokens for the day:
// a check run says so, and the key comes back tomorrow.
func (r *Reconciler) dailyBudgetSpent(ctx context.Context, rn *run, target, day string) (reconcilers.Result, bool, error) {
	k := rn.k
	spent, err := r.Usage.TokensOn(ctx, k.String(), day)
	if err != nil {
		return reconcilers.Result{}, true, err
	}
	daily := r.daily()
	if spent < daily {
		return reconcilers.Result{}, false, nil
	}
	tomorrow := r.now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	err = changes.PostCheck(ctx, rn.req.Client, k.Owner, k.Repo, changes.Check{
		Name: changes.CheckName(rn.req.Rule.Name), HeadSHA: target, ExternalID: k.String(), Conclusion: "neutral",
		Title: "Daily token budget spent", Summary: fmt.Sprintf("This key used %d model tokens today; its daily budget is %d. tend runs it again after %s.", spent, daily, tomorrow.Format(time.RFC3339)),
	})
	r.Metrics.record("budget-daily", nil)
	if err != nil {
		return reconcilers.Result{}, true, err
	}
	return reconcilers.Result{Outcome: "budget-daily", RequeueAfter: time.Until(tomorrow) + time.Minute}, true, nil
}

func (r *Reconciler) daily() int64 {
	if r.DailyTokens > 0 {
		return r.DailyTokens
	}
	return 2_000_000
}

// runAgent runs the model on the worktree and lands the result.
func (r *Reconciler) runAgent(ctx context.Context, rn *run, target, day string) (reconcilers.Result, error) {
	if err := r.startCheck(ctx, rn, target); err != nil {
		return reconcilers.Result{}, err
	}
	l, tree, prFiles, err := r.newLoop(ctx, rn, day)
	if err != nil {
		return reconcilers.Result{}, err
	}
	rec, err := l.run(ctx)
	if err != nil {
		return r.runFailed(ctx, rn, rec, err)
	}
	r.outages.reset(rn.k.String())
	rn.req.Log.Info().Str("ending", string(rec.Ending)).Int("turns", len(rec.Turns)).Int64("tokens", rec.Tokens).Int("tool_calls", len(rec.Calls)).Dur("model_time", rec.Duration).Msg("agent run finished")
	r.Metrics.record(string(rec.Ending), rec)
	if rec.Ending == EndSubmitted || rec.Ending == EndNoChange {
		return r.land(ctx, rn, rec, tree, prFiles, target)
	}
	return r.reportUnfinished(ctx, rn, rec, target)
}

// startCheck starts an in-progress check run on the key's PR, which shows
// that tend is working on it.
func (r *Reconciler) startCheck(ctx context.Context, rn *run, target string) error {
	if rn.pr == nil {
		return nil
	}
	k := rn.k
	cr, _, err := rn.req.Client.Checks.CreateCheckRun(ctx, k.Owner, k.Repo, github.CreateCheckRunOptions{
		Name: changes.CheckName(rn.req.Rule.Name), HeadSHA: target, ExternalID: github.Ptr(k.String()), Status: github.Ptr("in_progress"),
		Output: &github.CheckRunOutput{Title: github.Ptr("Reconciling"), Summary: github.Ptr("tend's agent is working on this key.")},
	})
	if err != nil {
		return fmt.Errorf("start check run: %w", err)
	}
	rn.checkRun = cr.GetID()
	return nil
}

// newLoop builds the worktree of a run and the conversation that works on
// it. It also returns the files of the open PR, read at its head.
func (r *Reconciler) newLoop(ctx context.Context, rn *run, day string) (*loop, *worktree.Tree, map[string]*[]byte, error) {
	req, k, client := rn.req, rn.k, rn.req.Client
	src, prFiles, err := r.source(ctx, rn)
	if err != nil {
		return nil, nil, nil, err
	}
	task, err := r.taskPrompt(ctx, rn, prFiles)
	if err != nil {
		return nil, nil, nil, err
	}
	ct := &contextTools{client: client, owner: k.Owner, repo: k.Repo, release: rn.release, relRepo: rn.relRepo, issue: rn.issue}
	ct.writers = func(ctx context.Context) ([]*github.IssueComment, error) { return r.writersComments(ctx, client, k) }
	l, tree, err := r.startSession(ctx, session{
		key: k, rule: req.Rule, baseBranch: rn.base.Branch, src: src, task: task, ctxTools: ct, log: req.Log,
		onTokens: func(n int64) {
			if _, err := r.Usage.AddTokens(context.WithoutCancel(ctx), k.String(), day, n); err != nil {
				req.Log.Warn().Err(err).Msg("recording tokens")
			}
		},
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return l, tree, prFiles, nil
}

// land hands a submitted (or no-change) run to the change manager, which
// opens, updates or resolves the key's PR, and reports the outcome.
func (r *Reconciler) land(ctx context.Context, rn *run, rec *Record, tree *worktree.Tree, prFiles map[string]*[]byte, target string) (reconcilers.Result, error) {
	k := rn.k
	c := r.change(rn)
	c.Fresh = c.Fresh && rn.checkRun == 0 // the run's own check run is fresh
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
		c.Proposal = r.proposal(rn, tree.Reads(), prFiles)
	}
	out, err := r.Changes.Apply(ctx, rn.req.Client, k.Owner, k.Repo, c)
	if err != nil {
		return reconcilers.Result{}, err
	}
	pushed := out.Action == "pr-opened" || out.Action == "pr-updated"
	if out.Head != "" && out.Head != target && pushed {
		r.finishCheck(ctx, rn, "neutral", "Superseded", fmt.Sprintf("This run produced commit %s; its check run has the result.", out.Head), nil)
	} else {
		summary := "**" + outcomeText(rec.Ending, out.Action) + "**\n\n" + rec.Rationale
		r.finishCheck(ctx, rn, "success", outcomeText(rec.Ending, out.Action), summary, rec)
	}
	if rn.issue != nil {
		if err := r.answerIssue(ctx, rn, rec, out); err != nil {
			return reconcilers.Result{}, err
		}
	}
	newHead := ""
	if out.Head != "" && (pushed || out.Action == "up-to-date") {
		newHead = out.Head
	}
	return reconcilers.Result{Outcome: out.Action, RequeueAfter: out.RequeueAfter, Enqueue: out.Wake, PR: out.PR}, r.remember(ctx, rn, string(rec.Ending), newHead)
}

// reportUnfinished reports a run that ended on a budget, a refusal, or no
// answer: nothing reaches a branch. The memo keeps the key from running
// again until its inputs change.
func (r *Reconciler) reportUnfinished(ctx context.Context, rn *run, rec *Record, target string) (reconcilers.Result, error) {
	k := rn.k
	conclusion, title, summary := unfinishedCheck(rec)
	summary += "\n\nNothing was changed. tend runs this key again when the file, the rule or the request changes."
	if rn.checkRun != 0 {
		r.finishCheck(ctx, rn, conclusion, title, summary, rec)
	} else if err := changes.PostCheck(ctx, rn.req.Client, k.Owner, k.Repo, changes.Check{
		Name: changes.CheckName(rn.req.Rule.Name), HeadSHA: target, ExternalID: k.String(), Conclusion: conclusion,
		Title: title, Summary: summary, Text: trace(rec), Reconcilable: true,
	}); err != nil {
		return reconcilers.Result{}, err
	}
	return reconcilers.Result{Outcome: string(rec.Ending)}, r.remember(ctx, rn, string(rec.Ending), rn.prHead())
}

// unfinishedCheck is the conclusion, title and summary of the check run
// of a run that ended without submitting or saying no change is needed.
func unfinishedCheck(rec *Record) (conclusion, title, summary string) {
	conclusion = "neutral"
	if !rec.Ending.Budget() {
		conclusion = "failure"
	}
	title = map[Ending]string{EndTurns: "Turn budget spent", EndTokens: "Token budget spent", EndTime: "Time budget spent", EndBlocked: "The model refused", EndNoAnswer: "The model did not finish"}[rec.Ending]
	return conclusion, title, rec.Rationale
}

// change is the key's Change with everything but its files.
func (r *Reconciler) change(rn *run) *changes.Change {
	c := &changes.Change{Key: rn.k, Rule: rn.req.Rule.Name, PullRequests: rn.req.Config.PullRequests, Base: rn.base, Trigger: changes.DescribeTrigger(rn.req.Trigger),
		Fresh: rn.req.Steering.Fresh, Recreate: rn.recreate, Prior: rn.prior}
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
	out := &github.CheckRunOutput{Title: github.Ptr(title), Summary: github.Ptr(clip.Text(summary, 60000, truncated))}
	if rec != nil {
		out.Text = github.Ptr(clip.Text(trace(rec), 60000, truncated))
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
	w("v2", r.ModelName, rn.req.Rule.Name, rn.req.Rule.Prompt, strings.Join(rn.req.Rule.Edits, "\x01"), rn.k.String(), fileSHA)
	if rn.issue != nil {
		// Comments on the request are not inputs: only accepted commands
		// (which ask for a run themselves) and edits to the request are.
		w(rn.issue.GetTitle(), rn.issue.GetBody())
	}
	w("instructions", strconv.Itoa(len(rn.req.Steering.Instructions)))
	w(rn.req.Steering.Instructions...)
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
