// Package reconcilers is the contract between tend's queue and the code that
// makes files match their desired state, shaped like controller-runtime's
// reconcile package: the Reconciler interface, the Request a run is given,
// the Result it returns, and the error helpers (Permanent, RetryAfter) that
// say how a failure should be retried.
//
// Reconcilers are level-triggered, like a Kubernetes controller's. A
// Request names the key and carries a GitHub client; its Trigger says what
// last asked for the key ("push:a..b", "resync") as a hint for
// explanations and prompts, never as data to act on. A reconciler reads the
// current state of the repository itself, so running it twice in a row is
// harmless.
//
// This package imports no queue and no database; the worker that
// dispatches keys to reconcilers is internal/worker.
package reconcilers
