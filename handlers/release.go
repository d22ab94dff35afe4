package handlers

import (
	"context"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/keys"
)

// Release maps a published release to the rules, in any installed
// repository, that subscribe to releases of its repository.
type Release struct{ Deps }

func (h *Release) Handles() []string { return []string{"release"} }

func (h *Release) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev github.ReleaseEvent
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	switch ev.GetAction() {
	case "published", "released":
	default:
		return ignore(ctx, "release "+ev.GetAction())
	}
	if ev.GetRelease().GetDraft() {
		return ignore(ctx, "draft release")
	}
	source := ev.GetRepo().GetFullName()
	if source == "" {
		return ignore(ctx, "payload names no repository")
	}
	ctx, _ = repoContext(ctx, ev.GetInstallation().GetID(), source)
	subs, err := h.Index.ReleaseSubscribers(ctx, source)
	if err != nil {
		return err
	}
	var ks []keys.Key
	for _, s := range subs {
		owner, name, ok := splitFullName(s.Repo)
		if !ok {
			continue
		}
		if k, err := keys.ForRule(owner, name, s.Rule); err == nil {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		return ignore(ctx, "no rule subscribes to releases of "+source)
	}
	return h.enqueue(ctx, eventType, deliveryID, ks)
}
