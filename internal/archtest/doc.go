// Package archtest holds tests that keep tend's shape: the top level is the
// card's, and imports point one way (server → handlers → queue → store →
// config → keys; server → worker → reconcilers/{images,agent} →
// reconcilers/changes). It has no code of its own.
package archtest
