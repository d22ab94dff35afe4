package handlers

import (
	"context"
	"strings"

	"github.com/tend-app/tend/internal/keys"
)

// CheckRun maps "Re-run" and action buttons on tend's own check runs to the
// key the check run reports on, which tend stores as its external id, and
// failing check runs of other apps on tend's branches to their keys (ci.go).
type CheckRun struct{ Deps }

func (h *CheckRun) Handles() []string { return []string{"check_run"} }

func (h *CheckRun) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev checkRunPayload
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	ours := h.Identity != nil && h.Identity.AppID != 0 && ev.CheckRun.App.ID == h.Identity.AppID
	switch {
	case ev.Action == "completed" && !ours && h.Identity != nil && h.Identity.AppID != 0:
		return h.foreignCheckRun(ctx, eventType, deliveryID, &ev)
	case ev.Action != "rerequested" && ev.Action != "requested_action":
		return ignore(ctx, "check run "+ev.Action)
	case !ours:
		return ignore(ctx, "not a tend check run")
	}
	k, err := keys.Parse(ev.CheckRun.ExternalID)
	if err != nil || !strings.EqualFold(k.FullName(), ev.Repository.FullName) {
		return ignore(ctx, "check run carries no key of this repository")
	}
	ctx, _ = repoContext(ctx, ev.Installation.ID, ev.Repository.FullName)
	trigger := "check_run:" + ev.Action
	if ev.Action == "requested_action" {
		// The run reads which button from its trigger: a click leaves no
		// trace on GitHub that a run could read instead.
		switch id := ev.RequestedAction.Identifier; id {
		case "reconcile", "recreate":
			trigger += ":" + id
		default:
			return ignore(ctx, "unknown check run action")
		}
	}
	return h.enqueue(ctx, eventType, deliveryID, trigger, []keys.Key{k})
}
