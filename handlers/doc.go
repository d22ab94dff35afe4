// Package handlers turns GitHub webhooks into keys.
//
// Each handler is a go-githubapp EventHandler for one family of events. It
// decodes the payload, decides which keys the event may have made out of
// date — using the repository's cached `.github/tend.yaml` and the rule index
// in the database — and enqueues them durably, in one transaction with the
// delivery id, before GitHub gets its answer. Handlers never write to
// GitHub and never reconcile anything themselves: an event is only a hint
// that a key should be looked at again.
//
// News about a tend PR — other apps' finished checks and statuses on its
// branch, reviews, the removal of tend/needs-human — maps to the PR's key by
// its branch name (or the state block of the open PR on it); the run
// decides whether the agent gets another round.
//
// Events caused by tend's own bot are dropped where acting on them would
// loop (tend editing or pushing to its own PRs, its own comments).
package handlers
