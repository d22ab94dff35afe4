package handlers

import (
	"context"
	"strings"

	"github.com/tend-app/tend/internal/keys"
)

// Repository follows a repository that was renamed or transferred (what
// tend knows moves to the new name) or whose default branch changed; either
// way the repository is resynced under its current name.
type Repository struct{ Deps }

func (h *Repository) Handles() []string { return []string{"repository"} }

// repositoryPayload is a "repository" event; changes names what was
// renamed, transferred or edited.
type repositoryPayload struct {
	envelope
	Changes struct {
		Repository struct {
			Name struct {
				From string `json:"from"`
			} `json:"name"`
		} `json:"repository"`
		Owner struct {
			From struct {
				User         *user `json:"user"`
				Organization *user `json:"organization"`
			} `json:"from"`
		} `json:"owner"`
		DefaultBranch *struct {
			From string `json:"from"`
		} `json:"default_branch"`
	} `json:"changes"`
}

// formerName returns the repository's name before a rename or transfer.
func (ev *repositoryPayload) formerName() string {
	owner, name, _ := strings.Cut(ev.Repository.FullName, "/")
	switch ev.Action {
	case "renamed":
		name = ev.Changes.Repository.Name.From
	case "transferred":
		owner = ""
		if from := ev.Changes.Owner.From; from.User != nil {
			owner = from.User.Login
		} else if from.Organization != nil {
			owner = from.Organization.Login
		}
	}
	if owner == "" || name == "" {
		return ""
	}
	return owner + "/" + name
}

func (h *Repository) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev repositoryPayload
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	ctx, _ = repoContext(ctx, ev.Installation.ID, ev.Repository.FullName)
	owner, name, ok := splitFullName(ev.Repository.FullName)
	if !ok {
		return ignore(ctx, "invalid repository name")
	}
	switch {
	case ev.Action == "renamed" || ev.Action == "transferred":
		former := ev.formerName()
		if former == "" || strings.EqualFold(former, ev.Repository.FullName) {
			return ignore(ctx, "repository "+ev.Action+" without its former name")
		}
		if err := h.Index.RenameRepo(ctx, former, ev.Repository.FullName); err != nil {
			return err
		}
		if o, n, ok := splitFullName(former); ok {
			h.Configs.Invalidate(o, n)
		}
	case ev.Action == "edited" && ev.Changes.DefaultBranch != nil:
		// Recorded at once, so that every replica's next run proposes
		// against the new branch; the repository's resync then reads it
		// from GitHub again (deliveries can arrive out of order).
		if b := ev.Repository.DefaultBranch; b != "" {
			if err := h.Index.SetDefaultBranch(ctx, ev.Repository.FullName, b); err != nil {
				return err
			}
		}
	default:
		return ignore(ctx, "repository "+ev.Action)
	}
	k, err := keys.ForRepo(owner, name)
	if err != nil {
		return ignore(ctx, "invalid repository name")
	}
	return h.enqueue(ctx, eventType, deliveryID, TriggerResyncAll+":repository:"+ev.Action, []keys.Key{k})
}
