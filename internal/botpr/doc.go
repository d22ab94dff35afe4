// Package botpr is what the webhook handlers and the change manager must
// agree on about tend's own pull requests: who tend's bot account is
// (Identity), the branch each key's PR lives on (BranchPrefix, BranchName),
// and the machine-readable state block at the end of every PR body (State),
// with what the PR proposes and what people declined (Proposal, Decline).
//
// It is a leaf: handlers use it to recognise and route events about tend's
// PRs without importing the reconcilers that write them.
package botpr
