// Package agent is the `agent` reconciler: a Gemini model (through
// google.golang.org/genai, with function calling) edits the files of a key
// through tools, and tend lands what it wrote as the key's bot PR through
// the change manager.
//
// The model is untrusted like any outside input. It works on an in-memory
// worktree (package worktree) whose tools confine every path to the rule's
// `edits` globs; its submission passes an acceptance gate (parsable
// YAML/JSON/TOML, edit set, sizes) before anything reaches a branch; each
// run is bounded in turns, tokens and wall time, and each key in tokens per
// day. A run whose inputs — the rule, the file, the request, the open PR —
// have not changed since the last run is skipped without calling the model,
// so resyncs cost no tokens and a spent budget is not retried in a loop.
//
// On its own open PR the agent also gets feedback (feedback.go): when the
// checks of other apps and the commit statuses on the PR head finish with
// failures, a new round with the failures and the tails of GitHub Actions
// job logs, at most the rule's ci_rounds per PR, then the PR is labelled
// tend/needs-human (hold.go); and reviews requesting changes and review
// comments from people with write access, each used once.
//
// The model failing is expected (loop.go, model.go, outage.go): a
// transient fault — 429, 5xx, a timeout, a cut or wrong-shaped answer — is
// retried a bounded number of times within the run, waiting what the API's
// RetryInfo asks; then the key is requeued (reconcilers.RetryAfter), never
// dead-lettered. An unusable answer gets a correction, a bad tool call a
// tool error. A failed run writes nothing to the repository.
//
// Preview (preview.go) runs the same agent — policy, prompts, tools, gate
// and budgets, set up by the code a GitHub run uses (session.go) — on a
// local checkout for `tend plan`, returning the changes and the check run
// instead of opening a PR.
//
// Each run is explained: the check run lists the outcome and the model's
// rationale, and a table of every tool call and the tokens each turn used.
package agent
