package handlers

import (
	"context"

	"github.com/tend-app/tend/internal/keys"
)

// Installation resyncs repositories tend gains access to, and forgets those
// it loses.
type Installation struct{ Deps }

func (h *Installation) Handles() []string {
	return []string{"installation", "installation_repositories"}
}

func (h *Installation) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev installationPayload
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	installationID := ev.Installation.ID
	var added, removed []repository
	switch eventType {
	case "installation":
		switch ev.Action {
		case "created", "new_permissions_accepted", "unsuspend":
			added = ev.Repositories
		case "deleted":
			removed = ev.Repositories
		default:
			return ignore(ctx, "installation "+ev.Action)
		}
	case "installation_repositories":
		added, removed = ev.RepositoriesAdded, ev.RepositoriesRemoved
	}
	ctx, _ = repoContext(ctx, installationID, "")
	for _, r := range removed {
		if err := h.Index.ForgetRepo(ctx, r.FullName); err != nil {
			return err
		}
		if o, n, ok := splitFullName(r.FullName); ok {
			h.Configs.Invalidate(o, n)
		}
	}
	var ks []keys.Key
	for _, r := range added {
		if o, n, ok := splitFullName(r.FullName); ok {
			if k, err := keys.ForRepo(o, n); err == nil {
				ks = append(ks, k)
			}
		}
	}
	if len(ks) == 0 {
		return ignore(ctx, "no repositories added")
	}
	return h.enqueue(ctx, eventType, deliveryID, eventType+":"+ev.Action, ks)
}
