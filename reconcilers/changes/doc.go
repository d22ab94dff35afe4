// Package changes is tend's change manager: given a key and the desired
// content of the files it owns, it makes GitHub match — one bot pull request
// per key on a branch derived from the key, written through the Git Data API
// (one tree with inline contents, one commit, one ref update: a constant
// number of requests whatever the number of files, and commits GitHub shows
// as verified), and a check run that says what changed and why.
//
// It is where tend's manners live: a PR whose change landed on the base
// branch is closed as resolved; a PR a person closed unmerged is a decline,
// recorded per key (Declines, and the PR's state block) and said once on the
// PR, and what it proposed (Proposal: image rewrites, the agent's request
// and the files it read) is not proposed again until it differs or a writer
// comments /reconcile on the closed PR (decline.go, reconsider.go); commits people push to a bot branch are
// never overwritten; a repository never has more open tend PRs than its
// limit. Every decision is made from what GitHub says now — the PR, its
// hidden state block (trusted only in a body written by tend's bot) and the
// base branch — so running twice is harmless.
package changes
