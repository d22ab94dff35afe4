// Package reconcilers defines the one interface every reconciler
// implements, and the worker that runs keys: it finds the key's
// installation, loads the repository's config, finds the rule, and calls the
// rule's reconciler with a GitHub client — or, for repository and rule keys,
// fans out into the keys beneath them.
//
// Reconcilers are level-triggered, like a Kubernetes controller's: they get
// a key and a client, nothing about the event that caused the run, and read
// the current state of the repository themselves. Running one twice in a row
// must be harmless.
package reconcilers
