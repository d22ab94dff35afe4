// Package prompts holds the agent reconciler's prompt templates
// (text/template, embedded): the system prompt — the agent's role, its
// tools, what it may touch and how to finish — and one template per trigger:
// push or resync, release, issue, and continuing an open PR.
//
// Prompts stay short and do not grow with the repository: they name the
// path and the request, and the model reads what it needs through tools.
// Text that comes from outside (issue bodies, release notes, comments) is
// fenced and labelled as data, bounded, and never changes what the tools
// allow: confinement is enforced by the tools, not by the prompt.
package prompts
