//go:build race

package main

// raceDetector is true when the tests run under the race detector, which
// slows them several times over and makes their timings meaningless.
const raceDetector = true
