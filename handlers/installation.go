package handlers

import (
	"context"

	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/queue"
)

// Installation resyncs repositories tend gains access to, and forgets those
// it loses.
type Installation struct{ Deps }

func (h *Installation) Handles() []string {
	return []string{"installation", "installation_repositories"}
}

// installationChange is what an installation event means for tend.
type installationChange struct {
	added, removed []repository
	// all: every repository of the installation is to be resynced, though
	// the payload may not list them (GitHub's unsuspend and
	// new_permissions_accepted carry none, and a created event may omit
	// them).
	all bool
	// uninstalled: every repository tend knows through the installation is
	// to be forgotten, listed in the payload or not.
	uninstalled bool
}

// change maps an installation event to what it adds and removes; ok is
// false for actions tend ignores (suspend: runs stop by themselves).
func (ev *installationPayload) change(eventType string) (c installationChange, ok bool) {
	if eventType == "installation_repositories" {
		return installationChange{added: ev.RepositoriesAdded, removed: ev.RepositoriesRemoved}, true
	}
	switch ev.Action {
	case "created":
		return installationChange{added: ev.Repositories, all: len(ev.Repositories) == 0}, true
	case "new_permissions_accepted", "unsuspend":
		return installationChange{added: ev.Repositories, all: true}, true
	case "deleted":
		return installationChange{removed: ev.Repositories, uninstalled: true}, true
	}
	return installationChange{}, false
}

func (h *Installation) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev installationPayload
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	installationID := ev.Installation.ID
	ctx, _ = repoContext(ctx, installationID, "")
	c, ok := ev.change(eventType)
	if !ok {
		return ignore(ctx, "installation "+ev.Action)
	}
	var known []string
	if (c.all || c.uninstalled) && installationID > 0 {
		var err error
		if known, err = h.Index.ReposOfInstallation(ctx, installationID); err != nil {
			return err
		}
	}
	if err := h.forget(ctx, c.removed, known, c.uninstalled); err != nil {
		return err
	}
	ks := repoKeys(c.added)
	d := queue.Delivery{ID: deliveryID, Event: eventType, Trigger: eventType + ":" + ev.Action}
	if c.all && installationID > 0 {
		// The repositories tend knows resync at once; a durable job lists
		// the installation through GitHub for the others, so this delivery
		// is acknowledged without calling GitHub.
		ks = append(ks, repoKeys(fullNames(known))...)
		d.Installations = []int64{installationID}
	}
	if len(ks) == 0 && len(d.Installations) == 0 {
		return ignore(ctx, "no repositories added")
	}
	return h.intake(ctx, d, ks)
}

// forget drops what tend knows of the removed repositories and, on an
// uninstall, of every repository it knows through the installation.
func (h *Installation) forget(ctx context.Context, removed []repository, known []string, uninstalled bool) error {
	names := make([]string, 0, len(removed)+len(known))
	for _, r := range removed {
		names = append(names, r.FullName)
	}
	if uninstalled {
		names = append(names, known...)
	}
	for _, full := range names {
		if err := h.Index.ForgetRepo(ctx, full); err != nil {
			return err
		}
		if o, n, ok := splitFullName(full); ok {
			h.Configs.Invalidate(o, n)
		}
	}
	return nil
}

// repoKeys returns the repository keys of repos, leaving out invalid names.
func repoKeys(repos []repository) []keys.Key {
	var ks []keys.Key
	for _, r := range repos {
		if o, n, ok := splitFullName(r.FullName); ok {
			if k, err := keys.ForRepo(o, n); err == nil {
				ks = append(ks, k)
			}
		}
	}
	return ks
}

// fullNames wraps repository names as payload repositories.
func fullNames(names []string) []repository {
	out := make([]repository, len(names))
	for i, n := range names {
		out[i] = repository{FullName: n}
	}
	return out
}
