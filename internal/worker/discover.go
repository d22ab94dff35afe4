package worker

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/tend-app/tend/internal/keys"
)

// Known lists the repositories whose config tend has loaded.
type Known interface {
	KnownRepos(ctx context.Context) (map[string]bool, error)
}

// Discoverer finds installed repositories tend has never looked at — the
// App was installed while tend was down, or before this database existed —
// and returns their repository keys. It runs periodically on the leader.
type Discoverer struct {
	Clients githubapp.ClientCreator
	Known   Known
	// MaxRepos bounds the keys one pass returns; the rest come next time.
	MaxRepos int
}

func (d *Discoverer) Discover(ctx context.Context) ([]keys.Key, error) {
	app, err := d.Clients.NewAppClient()
	if err != nil {
		return nil, fmt.Errorf("app client: %w", err)
	}
	known, err := d.Known.KnownRepos(ctx)
	if err != nil {
		return nil, err
	}
	limit := d.MaxRepos
	if limit <= 0 {
		limit = 1000
	}
	installs, err := githubapp.NewInstallationsService(app).ListAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("list installations: %w", err)
	}
	var out []keys.Key
	for _, inst := range installs {
		client, err := d.Clients.NewInstallationClient(inst.ID)
		if err != nil {
			return nil, fmt.Errorf("client for installation %d: %w", inst.ID, err)
		}
		opts := &github.ListOptions{PerPage: 100}
		for {
			repos, resp, err := client.Apps.ListRepos(ctx, opts)
			if err != nil {
				return nil, fmt.Errorf("list repositories of installation %d: %w", inst.ID, err)
			}
			for _, r := range repos.Repositories {
				full := strings.ToLower(r.GetFullName())
				if known[full] || r.GetArchived() {
					continue
				}
				owner, name, _ := strings.Cut(full, "/")
				if k, err := keys.ForRepo(owner, name); err == nil {
					out = append(out, k)
					if len(out) >= limit {
						return out, nil
					}
				}
			}
			if resp.NextPage == 0 {
				break
			}
			opts.Page = resp.NextPage
		}
	}
	return out, nil
}
