package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/reconcilers/agent"
	"github.com/tend-app/tend/reconcilers/agent/worktree"
	"github.com/tend-app/tend/reconcilers/changes"
)

// localOwner is the owner of the repository name a local run shows the
// model: a checkout has no owner/repo.
const localOwner = "local"

// localRequest is the issue number of the request --task gives.
const localRequest = 1

// agentPlanner previews agent rules on the checkout: the model and the
// checkout's read-only source are set up once, on the first agent rule.
type agentPlanner struct {
	o              planOptions
	stdout, stderr io.Writer

	started bool
	rec     *agent.Reconciler
	src     *worktree.DirSource
	err     error // no credentials, or a bad setting
}

// checkTask checks --task: it previews a request, so it needs --rule
// naming an agent rule that answers issues, and no --path.
func checkTask(o planOptions, rules []config.Rule) error {
	if o.task == "" {
		return nil
	}
	if o.rule == "" || o.path != "" {
		return errors.New("--task previews one request: give it with --rule and without --path")
	}
	r := rules[0]
	if r.Reconciler != config.ReconcilerAgent || r.On.IssueLabel == "" {
		return fmt.Errorf("--task: rule %q does not answer issues (it needs reconciler: agent and on.issues.label)", r.Name)
	}
	return nil
}

// plan previews an agent rule on each of its keys, or says why it cannot:
// without model credentials the rule is skipped with a note, or is an
// error when --rule names it.
func (p *agentPlanner) plan(ctx context.Context, r config.Rule, files []string) (bool, error) {
	if err := p.start(ctx); err != nil {
		if errors.Is(err, agent.ErrNoCredentials) && p.o.rule == "" {
			fmt.Fprintf(p.stderr, "tend plan: skipping agent rule %q: %v\n", r.Name, err)
			return false, nil
		}
		if errors.Is(err, agent.ErrNoCredentials) {
			return false, fmt.Errorf("rule %q uses the agent reconciler, which needs model credentials: %w", r.Name, err)
		}
		return false, fmt.Errorf("rule %q: %w", r.Name, err)
	}
	ks, err := p.keys(r, files)
	if err != nil {
		return false, err
	}
	changed := false
	for _, k := range ks {
		ch, err := p.planKey(ctx, r, k)
		if err != nil {
			return false, err
		}
		changed = changed || ch
	}
	return changed, nil
}

// start builds the model client and the checkout's source once.
func (p *agentPlanner) start(ctx context.Context) error {
	if p.started {
		return p.err
	}
	p.started = true
	s, err := agentSettings()
	if err != nil {
		p.err = err
		return err
	}
	model, err := agent.NewGenAIModel(ctx, nil)
	if err != nil {
		p.err = err
		return err
	}
	if p.src, err = worktree.OpenDir(p.o.dir); err != nil {
		p.err = err
		return err
	}
	p.rec = &agent.Reconciler{Model: model, ModelName: s.Model, Budgets: s.agentBudgets()}
	return nil
}

func (p *agentPlanner) close() {
	if p.src != nil {
		_ = p.src.Close()
	}
}

// keys lists the keys the rule has in the checkout: its matched paths, or
// the request --task gives. Issues and releases are events a checkout does
// not have; plan says what it does about them.
func (p *agentPlanner) keys(r config.Rule, files []string) ([]keys.Key, error) {
	owner, repo := localOwner, localRepoName(p.o.dir)
	if p.o.task != "" {
		k, err := keys.ForIssue(owner, repo, r.Name, localRequest)
		return []keys.Key{k}, err
	}
	if r.On.IssueLabel != "" {
		fmt.Fprintf(p.stderr, "tend plan: rule %q also answers issues labelled %q; plan reads no issues: preview a request with --rule %s --task TEXT\n", r.Name, r.On.IssueLabel, r.Name)
	}
	if len(r.On.Release) > 0 {
		fmt.Fprintf(p.stderr, "tend plan: rule %q also runs on releases of %s; plan runs its paths as a periodic check, without a release\n", r.Name, strings.Join(r.On.Release, ", "))
	}
	var out []keys.Key
	for _, f := range files {
		if !r.Matches(f) {
			continue
		}
		k, err := keys.ForPath(owner, repo, r.Name, f)
		if err != nil {
			fmt.Fprintf(p.stderr, "tend plan: rule %q: skipping %s: %v\n", r.Name, f, err)
			continue
		}
		out = append(out, k)
	}
	return out, nil
}

// planKey runs the agent on one key and prints its diff and check run. A
// run that ends without an answer (a budget, a refusal) is an error: plan
// cannot say what would change.
func (p *agentPlanner) planKey(ctx context.Context, r config.Rule, k keys.Key) (bool, error) {
	name := r.Name + ":" + k.Path
	if k.Kind() == keys.KindIssue {
		name = r.Name + "#request"
	}
	pv, err := p.rec.Preview(ctx, agent.LocalRun{
		Key: k, Rule: r, Request: p.o.task, BaseBranch: localBranch(p.o.dir), Source: p.src,
		Log: zerolog.New(zerolog.ConsoleWriter{Out: p.stderr, NoColor: true}).Level(zerolog.WarnLevel).With().Timestamp().Logger(),
	})
	if err != nil {
		return false, fmt.Errorf("rule %q, %s: %w", r.Name, name, err)
	}
	changed := false
	for _, f := range pv.Files {
		changed = changed || f.Differs()
	}
	switch {
	case changed:
		fmt.Fprintf(p.stdout, "# %s: %s\n", name, pv.Title)
		for _, f := range pv.Files {
			if err := writeFileDiff(p.stdout, f); err != nil {
				return false, err
			}
		}
	case pv.Ending == agent.EndSubmitted || pv.Ending == agent.EndNoChange:
		fmt.Fprintf(p.stdout, "# %s: no change\n", name)
	default:
		fmt.Fprintf(p.stdout, "# %s: %s\n", name, pv.CheckTitle)
	}
	fmt.Fprintf(p.stdout, "\nCheck run (%s): %s\n%s\n\n%s\n", pv.Conclusion, pv.CheckTitle, pv.Summary, pv.Text)
	if pv.Ending != agent.EndSubmitted && pv.Ending != agent.EndNoChange {
		return false, fmt.Errorf("rule %q, %s: the agent did not finish: %s", r.Name, name, pv.CheckTitle)
	}
	return changed, nil
}

// writeFileDiff writes one changed file's diff against the checkout.
func writeFileDiff(w io.Writer, f changes.FileChange) error {
	from, to := "a/"+f.Path, "b/"+f.Path
	if !f.BaseExists {
		from = "/dev/null"
	}
	if f.Delete {
		to = "/dev/null"
	}
	return writeNamedDiff(w, f.Path, from, to, f.Base, f.Desired)
}

// localRepoName names the checkout's repository for the model: its
// directory's name when that is a valid repository name.
func localRepoName(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "checkout"
	}
	name := strings.ToLower(filepath.Base(abs))
	if _, err := keys.ForRepo(localOwner, name); err != nil {
		return "checkout"
	}
	return name
}

// localBranch is the checkout's current branch (from .git/HEAD), else
// "HEAD": the model is told which branch it sees.
func localBranch(dir string) string {
	head, err := readBounded(filepath.Join(dir, ".git", "HEAD"), 1024)
	if err != nil {
		return "HEAD"
	}
	if b, ok := strings.CutPrefix(strings.TrimSpace(string(head)), "ref: refs/heads/"); ok && b != "" {
		return b
	}
	return "HEAD"
}
