package handlers

import (
	"context"
	"slices"
	"strings"

	"github.com/google/go-github/v89/github"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
)

// Push maps pushes to the default branch to the keys of the paths they
// changed, and a push that changes a config to a resync of every repository
// that reads it.
type Push struct{ Deps }

func (h *Push) Handles() []string { return []string{"push"} }

// payloadCommitLimit: GitHub lists at most this many commits in a push
// payload; a push that reaches it may have more, so the payload cannot be
// trusted to name every changed file.
const payloadCommitLimit = 20

// payloadFileLimit: GitHub truncates a commit's file lists in payloads;
// past this many files the compare API is asked instead.
const payloadFileLimit = 3000

// compareFileLimit: the compare API lists at most 300 files.
const compareFileLimit = 300

const zeroSHA = "0000000000000000000000000000000000000000"

func (h *Push) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev pushPayload
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	repo := ev.Repository
	owner, name, ok := splitFullName(repo.FullName)
	if !ok {
		return ignore(ctx, "payload names no repository")
	}
	installationID := ev.Installation.ID
	if installationID == 0 {
		return ignore(ctx, "payload names no installation")
	}
	ctx, log := repoContext(ctx, installationID, repo.FullName)
	if ev.Ref != "refs/heads/"+repo.DefaultBranch || repo.DefaultBranch == "" {
		return ignore(ctx, "not the default branch")
	}
	if ev.Deleted || ev.After == zeroSHA {
		return ignore(ctx, "branch deleted")
	}

	loaded, err := h.loadConfig(ctx, installationID, owner, name)
	if err != nil {
		return h.unmapped(ctx, eventType, deliveryID, owner, name, err)
	}
	paths, complete := payloadPaths(&ev)
	if !complete && loaded.Managed() {
		paths, complete = h.comparePaths(ctx, log, installationID, owner, name, &ev)
	}

	ks, err := h.configKeys(ctx, owner, name, paths, complete)
	if err != nil {
		return err
	}
	trigger := "push:" + ev.Before + ".." + ev.After
	switch {
	case !loaded.Managed():
		if len(ks) == 0 {
			return ignore(ctx, "repository has no valid .github/tend.yaml")
		}
	case !complete:
		// Nothing says which files changed: every push-triggered rule lists
		// its paths again.
		log.Info().Bool("forced", ev.Forced).Int("commits", len(ev.Commits)).Msg("push does not list all its files; resyncing push-triggered rules")
		ks = append(ks, ruleKeys(owner, name, loaded.Config, func(r config.Rule) bool { return r.On.Push })...)
	default:
		ks = append(ks, PathKeys(owner, name, loaded.Config, paths)...)
	}
	return h.enqueue(ctx, eventType, deliveryID, trigger, ks)
}

// configKeys returns the repository keys a push calls for: a repository
// key reloads its config and resyncs every rule if the config changed. It
// is needed when the push changed the config, or may have (nothing says
// which files it changed), for this repository and for those whose config
// is read from it (the owner's .github repository, remote references).
func (h *Push) configKeys(ctx context.Context, owner, name string, paths []string, complete bool) ([]keys.Key, error) {
	var ks []keys.Key
	if !complete || touchesOwnConfig(paths) {
		h.Configs.Invalidate(owner, name)
		if k, err := keys.ForRepo(owner, name); err == nil {
			ks = append(ks, k)
		}
	}
	users, err := h.reposUsingConfig(ctx, owner+"/"+name)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if !complete || slices.Contains(paths, u.Path) {
			if o, n, ok := splitFullName(u.Repo); ok {
				h.Configs.Invalidate(o, n)
				if k, err := keys.ForRepo(o, n); err == nil {
					ks = append(ks, k)
				}
			}
		}
	}
	return ks, nil
}

// PathKeys maps changed paths to the keys of the push-triggered rules that
// match them. Deleted paths count too: the reconciler decides what a
// deletion means for its key.
func PathKeys(owner, repo string, cfg *config.Config, paths []string) []keys.Key {
	var out []keys.Key
	for _, p := range paths {
		if keys.ValidatePath(p) != nil {
			continue
		}
		for _, r := range cfg.Rules {
			if r.On.Push && r.Matches(p) {
				if k, err := keys.ForPath(owner, repo, r.Name, p); err == nil {
					out = append(out, k)
				}
			}
		}
	}
	return out
}

// payloadPaths collects the files a push changed from its payload, and
// reports whether the payload can be trusted to list them all.
func payloadPaths(ev *pushPayload) ([]string, bool) {
	if !comparable(ev) {
		return nil, false
	}
	if len(ev.Commits) >= payloadCommitLimit || len(ev.Commits) == 0 {
		return nil, false
	}
	seen := map[string]bool{}
	var out []string
	for _, c := range ev.Commits {
		for _, list := range [][]string{c.Added, c.Modified, c.Removed} {
			for _, p := range list {
				if !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
		}
	}
	if len(out) >= payloadFileLimit {
		return nil, false
	}
	return out, true
}

// comparable reports whether a push has a meaningful "before": a forced
// push's compare misses files changed only in the commits it threw away,
// and a new branch has nothing to compare with.
func comparable(ev *pushPayload) bool {
	return !ev.Forced && !ev.Created && ev.Before != zeroSHA && len(ev.Before) >= 40
}

func touchesOwnConfig(paths []string) bool {
	return slices.ContainsFunc(paths, func(p string) bool {
		return p == config.Path || p == ".github/tend.yml"
	})
}

// comparePaths asks GitHub which files changed between the push's before
// and after commits. It reports false when the answer is incomplete or the
// request failed: the caller then falls back to a resync.
func (h *Push) comparePaths(ctx context.Context, log *zerolog.Logger, installationID int64, owner, repo string, ev *pushPayload) ([]string, bool) {
	if !comparable(ev) {
		return nil, false
	}
	client, err := h.Clients.NewInstallationClient(installationID)
	if err != nil {
		log.Warn().Err(err).Msg("compare: no client")
		return nil, false
	}
	cmp, _, err := client.Repositories.CompareCommits(ctx, owner, repo, ev.Before, ev.After, &github.ListOptions{PerPage: 100})
	if err != nil {
		log.Warn().Err(err).Msg("compare failed")
		return nil, false
	}
	if len(cmp.Files) >= compareFileLimit || strings.EqualFold(cmp.GetStatus(), "diverged") {
		return nil, false
	}
	var out []string
	for _, f := range cmp.Files {
		out = append(out, f.GetFilename())
		if prev := f.GetPreviousFilename(); prev != "" {
			out = append(out, prev)
		}
	}
	return out, true
}
