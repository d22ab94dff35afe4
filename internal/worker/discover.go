package worker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/keys"
)

// Known lists the repositories whose config tend has loaded.
type Known interface {
	KnownRepos(ctx context.Context) (map[string]bool, error)
}

// Discoverer lists the repositories of installations through GitHub. It
// runs periodically on the leader to find installed repositories tend has
// never looked at — the App was installed while tend was down, or before
// this database existed — and, through InstallationRepos, for the
// deliveries that ask to resync every repository of an installation.
type Discoverer struct {
	Clients githubapp.ClientCreator
	Known   Known
	// MaxRepos bounds the keys one pass returns; the rest come next time.
	MaxRepos int
}

func (d *Discoverer) limit() int {
	if d.MaxRepos <= 0 {
		return 1000
	}
	return d.MaxRepos
}

// Discover returns the keys of installed repositories tend does not know.
// An installation GitHub refuses (suspended, or uninstalled meanwhile) is
// passed over: its unsuspend webhook lists it.
func (d *Discoverer) Discover(ctx context.Context) ([]keys.Key, error) {
	app, err := d.Clients.NewAppClient()
	if err != nil {
		return nil, fmt.Errorf("app client: %w", err)
	}
	known, err := d.Known.KnownRepos(ctx)
	if err != nil {
		return nil, err
	}
	installs, err := githubapp.NewInstallationsService(app).ListAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("list installations: %w", err)
	}
	limit := d.limit()
	var out []keys.Key
	for _, inst := range installs {
		if len(out) >= limit {
			break
		}
		ks, err := d.installationRepos(ctx, inst.ID, limit-len(out), func(full string) bool { return known[full] })
		if unreachable(err) {
			zerolog.Ctx(ctx).Info().Err(err).Int64(githubapp.LogKeyInstallationID, inst.ID).Msg("installation refused; not discovering its repositories")
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ks...)
	}
	return out, nil
}

// InstallationRepos returns the keys of every repository of an
// installation (archived ones aside), up to MaxRepos. An installation GitHub
// refuses — suspended again, or uninstalled — has none to resync.
func (d *Discoverer) InstallationRepos(ctx context.Context, installationID int64) ([]keys.Key, error) {
	ks, err := d.installationRepos(ctx, installationID, d.limit(), nil)
	if unreachable(err) {
		zerolog.Ctx(ctx).Info().Err(err).Int64(githubapp.LogKeyInstallationID, installationID).Msg("installation refused; nothing to resync")
		return nil, nil
	}
	return ks, err
}

// installationRepos lists up to limit repository keys of an installation,
// leaving out archived repositories and those skip (if any) reports.
func (d *Discoverer) installationRepos(ctx context.Context, installationID int64, limit int, skip func(full string) bool) ([]keys.Key, error) {
	client, err := d.Clients.NewInstallationClient(installationID)
	if err != nil {
		return nil, fmt.Errorf("client for installation %d: %w", installationID, err)
	}
	var out []keys.Key
	opts := &github.ListOptions{PerPage: 100}
	for {
		repos, resp, err := client.Apps.ListRepos(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list repositories of installation %d: %w", installationID, err)
		}
		for _, r := range repos.Repositories {
			full := strings.ToLower(r.GetFullName())
			if r.GetArchived() || (skip != nil && skip(full)) {
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
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// unreachable reports whether GitHub refused an installation's token for a
// reason retrying cannot fix soon: the installation is suspended (403) or
// gone (404).
func unreachable(err error) bool {
	if suspended(err) {
		return true
	}
	var tokenErr *ghinstallation.HTTPError
	return errors.As(err, &tokenErr) && tokenErr.Response != nil && tokenErr.Response.StatusCode == http.StatusNotFound
}
