package agent

import (
	"context"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/reconcilers/commands"
)

// writers answers, once per login and run, whether a user has write
// access to the repository (commands.WriteAccess: the same rule as for
// comment commands).
type writers struct {
	client      *github.Client
	owner, repo string
	seen        map[string]bool
}

func newWriters(client *github.Client, owner, repo string) *writers {
	return &writers{client: client, owner: owner, repo: repo, seen: map[string]bool{}}
}

func (w *writers) has(ctx context.Context, login string) (bool, error) {
	if ok, known := w.seen[login]; known {
		return ok, nil
	}
	ok, err := commands.WriteAccess(ctx, w.client, w.owner, w.repo, login)
	if err != nil {
		return false, err
	}
	w.seen[login] = ok
	return ok, nil
}
