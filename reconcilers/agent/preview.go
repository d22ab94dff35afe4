package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v89/github"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/prompts"
	"github.com/tend-app/tend/reconcilers/agent/worktree"
	"github.com/tend-app/tend/reconcilers/changes"
)

// LocalRun is one key of an agent rule run on files that are not on
// GitHub (`tend plan`). It gets the policy, prompts, tools, acceptance
// gate and budgets of a run on GitHub; what differs is the source of the
// files, that there is no pull request, and that the trigger is a
// periodic check (path keys) or a request given as text (issue keys).
type LocalRun struct {
	// Key is a path key, or an issue key for a request.
	Key  keys.Key
	Rule config.Rule
	// Request is the request of an issue key; its first line is the
	// issue's title.
	Request    string
	BaseBranch string
	// Source holds the files; the run only reads it.
	Source worktree.Source
	Log    zerolog.Logger
}

// Preview is what a local run would propose, and the check run tend would
// post for it.
type Preview struct {
	Ending Ending
	// Title is the pull request's title (submitted runs).
	Title string
	// Files are the changed files, with their content before the run.
	Files []changes.FileChange
	// The check run: conclusion, title, summary and text (the trace).
	Conclusion, CheckTitle, Summary, Text string
}

// Preview runs the model on a local source. Nothing is written anywhere:
// the changes stay in the returned Preview. A model that fails (after the
// run's retries) is an error, as is a Reconciler without a model.
func (r *Reconciler) Preview(ctx context.Context, lr LocalRun) (*Preview, error) {
	if r.Model == nil {
		if r.ModelErr != nil {
			return nil, r.ModelErr
		}
		return nil, ErrNoCredentials
	}
	k := lr.Key
	if k.Kind() != keys.KindPath && k.Kind() != keys.KindIssue {
		return nil, fmt.Errorf("the agent reconciler works on files and issues; %s is a %s key", k, k.Kind())
	}
	task, issue, err := localTask(lr)
	if err != nil {
		return nil, err
	}
	ct := &contextTools{issue: issue, writers: func(context.Context) ([]*github.IssueComment, error) { return nil, nil }}
	l, tree, err := r.startSession(ctx, session{key: k, rule: lr.Rule, baseBranch: lr.BaseBranch, src: lr.Source, task: task, ctxTools: ct, log: lr.Log})
	if err != nil {
		return nil, err
	}
	rec, err := l.run(ctx)
	if err != nil {
		return nil, fmt.Errorf("the model failed: %w", err)
	}
	p := &Preview{Ending: rec.Ending, Text: trace(rec)}
	switch rec.Ending {
	case EndSubmitted:
		if p.Files, err = tree.Changes(ctx); err != nil {
			return nil, err
		}
		p.Title, p.Conclusion, p.CheckTitle = rec.Title, "success", "Would open a pull request"
		p.Summary = "**" + p.CheckTitle + ": " + rec.Title + "**\n\n" + rec.Rationale
	case EndNoChange:
		p.Conclusion, p.CheckTitle = "success", outcomeText(EndNoChange, "")
		p.Summary = "**" + p.CheckTitle + "**\n\n" + rec.Rationale
	default:
		p.Conclusion, p.CheckTitle, p.Summary = unfinishedCheck(rec)
	}
	return p, nil
}

// localTask renders the task of a local run: a periodic check of the
// key's path, or the request of an issue key, which get_issue also
// returns.
func localTask(lr LocalRun) (string, *github.Issue, error) {
	k := lr.Key
	task := prompts.Task{Repo: k.FullName(), Rule: lr.Rule.Name, Path: k.Path, Prompt: lr.Rule.Prompt}
	if k.Kind() != keys.KindIssue {
		text, err := prompts.Render("push", task)
		return text, nil, err
	}
	title, _, _ := strings.Cut(strings.TrimSpace(lr.Request), "\n")
	issue := &github.Issue{
		Number: github.Ptr(k.Issue), Title: github.Ptr(title), Body: github.Ptr(lr.Request), State: github.Ptr("open"),
		User: &github.User{Login: github.Ptr("local")},
	}
	task.Issue, task.IssueTitle, task.IssueBody, task.IssueBy = k.Issue, title, lr.Request, "local"
	text, err := prompts.Render("issue", task)
	return text, issue, err
}
