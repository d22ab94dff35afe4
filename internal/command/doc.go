// Package command parses tend's comment commands (`/reconcile …`) and
// holds the words tend answers them with. It is a leaf: the webhook
// handlers use it to decide whether a comment is worth a run, and the
// command pipeline the run uses to decide what the comment asks for.
package command
