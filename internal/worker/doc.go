// Package worker dispatches keys from the queue to reconcilers. For a
// repository key it reloads the config and fans out into rule keys; for a
// rule key it lists the paths, issues and open PRs the rule owns and fans
// out into their keys; for a path or issue key it finds the rule and calls
// that rule's reconciler with a reconcilers.Request. It also discovers
// installed repositories tend has never looked at.
package worker
