// Package archtest holds tests that keep tend's shape: the top level is the
// card's, and imports point one way (server → handlers → queue → store →
// config → keys; server → worker → reconcilers/{images,agent} →
// reconcilers/changes), and production functions stay small (at most 80
// lines, cyclomatic complexity at most 20). It has no code of its own.
package archtest
