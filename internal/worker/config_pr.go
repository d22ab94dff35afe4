package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/reconcilers"
	"github.com/tend-app/tend/reconcilers/changes"
)

// ConfigPRReporter reports the config a pull request proposes (the change
// manager implements it).
type ConfigPRReporter interface {
	ReportConfigPR(ctx context.Context, client *github.Client, owner, repo string, r changes.ConfigPRReport) error
}

// configFiles are the config's spellings, in the order the loader tries
// them.
var configFiles = []string{config.Path, ".github/tend.yml"}

// checkConfigPR runs owner/repo:tend-config#N: when open pull request N
// changes the config, its head commit gets a "tend / config" check run.
func (w *Worker) checkConfigPR(ctx context.Context, client *github.Client, k keys.Key) (reconcilers.Result, error) {
	if w.ConfigPR == nil {
		return reconcilers.Result{Outcome: "noop"}, nil
	}
	pr, _, err := client.PullRequests.Get(ctx, k.Owner, k.Repo, k.Issue)
	if err != nil {
		return reconcilers.Result{}, fmt.Errorf("read pull request #%d: %w", k.Issue, err)
	}
	if pr.GetState() != "open" {
		return reconcilers.Result{Outcome: "pr-closed"}, nil
	}
	path, err := changedConfig(ctx, client, k)
	if err != nil || path == "" {
		return reconcilers.Result{Outcome: "config-untouched"}, err
	}
	head := pr.GetHead().GetSHA()
	rep := changes.ConfigPRReport{PR: k.Issue, HeadSHA: head, Path: path}
	file, err := changes.ReadFile(ctx, client, k.Owner, k.Repo, head, path)
	if err != nil {
		return reconcilers.Result{}, err
	}
	if !file.Exists {
		rep.Removed = true
	} else if rep.Config, err = config.Parse(path, file.Content); err != nil {
		rep.Invalid = asErrors(err, path)
	} else if rep.Matches, err = w.countMatches(ctx, client, k, head, rep.Config); err != nil {
		return reconcilers.Result{}, err
	}
	if err := w.ConfigPR.ReportConfigPR(ctx, client, k.Owner, k.Repo, rep); err != nil {
		return reconcilers.Result{}, err
	}
	return reconcilers.Result{Outcome: "config-checked"}, nil
}

// changedConfig returns the config file pull request k.Issue changes, or "".
func changedConfig(ctx context.Context, client *github.Client, k keys.Key) (string, error) {
	opts := &github.ListOptions{PerPage: 100}
	for page := 0; page < 30; page++ { // GitHub lists at most 3,000 files
		files, resp, err := client.PullRequests.ListFiles(ctx, k.Owner, k.Repo, k.Issue, opts)
		if err != nil {
			return "", fmt.Errorf("list files of pull request #%d: %w", k.Issue, err)
		}
		for _, f := range files {
			if slices.Contains(configFiles, f.GetFilename()) {
				return f.GetFilename(), nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return "", nil
}

func (w *Worker) countMatches(ctx context.Context, client *github.Client, k keys.Key, ref string, cfg *config.Config) (map[string]int, error) {
	out := map[string]int{}
	for _, r := range cfg.Rules {
		paths, err := w.listPaths(ctx, client, k.Owner, k.Repo, ref, r)
		if err != nil {
			return nil, err
		}
		out[r.Name] = len(paths)
	}
	return out, nil
}

// asErrors returns a parse error's positioned problems.
func asErrors(err error, path string) config.Errors {
	var errs config.Errors
	if errors.As(err, &errs) {
		return errs
	}
	return config.Errors{{File: path, Msg: err.Error()}}
}
