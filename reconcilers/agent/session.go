package agent

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/prompts"
	"github.com/tend-app/tend/reconcilers/agent/worktree"
	"github.com/tend-app/tend/reconcilers/images"
)

// session is what one conversation with the model is built from. A run on
// GitHub (newLoop) and a preview on a local checkout (Preview) differ only
// in it: where the files come from, the task, the context tools and where
// tokens are counted; the policy, prompts, tools and budgets are the same.
type session struct {
	key        keys.Key
	rule       config.Rule
	baseBranch string
	src        worktree.Source
	task       string
	// ctxTools answers get_release and get_issue; startSession gives it
	// the run's image resolver.
	ctxTools *contextTools
	log      zerolog.Logger
	// onTokens is told about every turn's tokens (nil: not counted).
	onTokens func(n int64)
}

// startSession builds the worktree on the session's source, confined by
// the rule's edits, and the loop that talks with the model about it.
func (r *Reconciler) startSession(ctx context.Context, s session) (*loop, *worktree.Tree, error) {
	pol := r.Policy
	pol.KeyPath = s.key.Path
	pol.Edits = s.rule.Edits
	tree, err := worktree.New(ctx, s.src, pol)
	if err != nil {
		return nil, nil, fmt.Errorf("list the repository: %w", err)
	}
	budgets := r.Budgets
	budgets.defaults()
	system, err := systemPrompt(s, tree, budgets)
	if err != nil {
		return nil, nil, err
	}
	s.ctxTools.resolver = images.NewRegistryResolver()
	if r.NewResolver != nil {
		s.ctxTools.resolver = r.NewResolver()
	}
	l := &loop{
		model: r.Model, name: r.ModelName, budgets: budgets, system: system, task: s.task, ws: tree, ctxTools: s.ctxTools,
		decls: append(tree.Declarations(), contextDeclarations(s.ctxTools.release != nil, s.ctxTools.issue != nil)...),
		log:   s.log, onTokens: s.onTokens,
	}
	return l, tree, nil
}

// systemPrompt renders the system prompt: the agent's role, its tools and
// what it may write.
func systemPrompt(s session, tree *worktree.Tree, budgets Budgets) (string, error) {
	var tools []string
	for _, d := range tree.Declarations() {
		tools = append(tools, d.Name)
	}
	k := s.key
	return prompts.Render("system", prompts.System{
		Repo: k.FullName(), Rule: s.rule.Name, Path: k.Path, Issue: k.Issue, Edits: s.rule.Edits,
		Workflows: worktree.WorkflowsAllowed(s.rule.Edits), Tools: tools, MaxTurns: budgets.MaxTurns, BaseBranch: s.baseBranch,
	})
}
