package handlers

import (
	"context"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/keys"
)

// Installation resyncs repositories tend gains access to, and forgets those
// it loses.
type Installation struct{ Deps }

func (h *Installation) Handles() []string {
	return []string{"installation", "installation_repositories"}
}

func (h *Installation) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var added, removed []*github.Repository
	var installationID int64
	switch eventType {
	case "installation":
		var ev github.InstallationEvent
		if err := decode(eventType, deliveryID, payload, &ev); err != nil {
			return err
		}
		installationID = ev.GetInstallation().GetID()
		switch ev.GetAction() {
		case "created", "new_permissions_accepted", "unsuspend":
			added = ev.Repositories
		case "deleted":
			removed = ev.Repositories
		default:
			return ignore(ctx, "installation "+ev.GetAction())
		}
	case "installation_repositories":
		var ev github.InstallationRepositoriesEvent
		if err := decode(eventType, deliveryID, payload, &ev); err != nil {
			return err
		}
		installationID = ev.GetInstallation().GetID()
		added, removed = ev.RepositoriesAdded, ev.RepositoriesRemoved
	}
	ctx, _ = repoContext(ctx, installationID, "")
	for _, r := range removed {
		if err := h.Index.ForgetRepo(ctx, r.GetFullName()); err != nil {
			return err
		}
		if o, n, ok := splitFullName(r.GetFullName()); ok {
			h.Configs.Invalidate(o, n)
		}
	}
	var ks []keys.Key
	for _, r := range added {
		if o, n, ok := splitFullName(r.GetFullName()); ok {
			if k, err := keys.ForRepo(o, n); err == nil {
				ks = append(ks, k)
			}
		}
	}
	if len(ks) == 0 {
		return ignore(ctx, "no repositories added")
	}
	return h.enqueue(ctx, eventType, deliveryID, ks)
}
