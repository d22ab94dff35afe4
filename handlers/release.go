package handlers

import (
	"context"
	"strings"

	"github.com/tend-app/tend/internal/keys"
)

// Release maps a published release to the rules, in any installed
// repository, that subscribe to releases of its repository.
type Release struct{ Deps }

func (h *Release) Handles() []string { return []string{"release"} }

func (h *Release) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev releasePayload
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	switch ev.Action {
	case "published", "released":
	default:
		return ignore(ctx, "release "+ev.Action)
	}
	if ev.Release.Draft {
		return ignore(ctx, "draft release")
	}
	source := ev.Repository.FullName
	if source == "" {
		return ignore(ctx, "payload names no repository")
	}
	ctx, _ = repoContext(ctx, ev.Installation.ID, source)
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
	return h.enqueue(ctx, eventType, deliveryID, "release:"+strings.ToLower(source)+"@"+ev.Release.TagName, ks)
}
