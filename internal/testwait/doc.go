// Package testwait is the one way tests wait for something to become true:
// a condition polled until a deadline, never a fixed sleep. Tests wait on a
// mechanism (a job's state, a run log, a file on a branch) that makes the
// condition true; the timeout only bounds a broken run.
package testwait
