// Package commands is the comment-command pipeline of a key's run: it
// reads the comments on the key's PR (and, for an issue request, on the
// issue) that are newer than the last one handled, checks that each
// command's author may use commands, answers what needs an answer (help,
// "you may not"), acknowledges what it takes up (an eyes reaction, then +1
// or confused), and remembers all of it in the key's ledger
// (botpr.Commands) so that a redelivered webhook does not apply a command
// twice and a lost one is found by the next run.
//
// The worker calls Load, Pickup and Finish around a reconciler; the run of
// a closed PR can use the same calls. It is level-triggered: nothing here
// depends on the webhook that started the run, except that a run a
// comment started always reads the comments, where another run skips
// those of a PR nothing changed since tend opened it (QuietPRs).
package commands
