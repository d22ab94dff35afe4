// Command loadtest measures tend's webhook intake and queue under load, on
// 127.0.0.1 only, bounded in count and time.
//
//	go run ./internal/loadtest intake [-duration 10s] [-rates 100,500,1000] [-workers 64]
//	go run ./internal/loadtest storm  [-deliveries 10000] [-paths 20] [-within 10s] [-reconcile 200ms]
//
// intake starts the real tend binary against an in-memory fake GitHub, and a
// baseline server (this program, re-executed) that only verifies the HMAC
// and decodes the JSON through the same go-githubapp dispatcher. Both get
// signed push deliveries over loopback at fixed rates and at saturation;
// the program prints deliveries/s and p50/p99 acknowledgement latency for
// each, in the same run, so their ratio means something on a noisy machine.
//
// storm sends many deliveries touching a few paths within a short window
// through the real handlers, queue and worker, with a reconciler that takes
// a fixed time, and reports runs per path and whether any event was lost.
package main
