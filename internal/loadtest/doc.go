// Command loadtest measures tend's webhook intake and queue under load, on
// 127.0.0.1 only, bounded in count and time.
//
//	go run ./internal/loadtest intake [-duration 10s] [-rates 100,500,1000] [-workers 64]
//	go run ./internal/loadtest storm  [-deliveries 10000] [-paths 20] [-within 10s] [-reconcile 200ms]
//	go run ./internal/loadtest scale  [-repos 1000] [-paths 10] [-images 20] [-workers 16] [-postgres URL] [-replicas 1]
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
// a fixed time, and reports runs per path and whether any event was lost,
// and the program's peak RSS.
//
// scale simulates an organisation: repos repositories × paths files of one
// installation under the images rule, on the fake GitHub with a loopback
// registry and the real tend binary on SQLite, or with -postgres (default
// $DATABASE_URL) on a throwaway Postgres database shared by -replicas tend
// processes. It measures a first full
// resync (start-up discovery; every path gets a PR), two warm resyncs with
// nothing changed and a no-op reconcile of every path key: wall time,
// requests, those that count against the rate limit (not 304) by
// operation, writes, and tend's peak and current RSS.
package main
