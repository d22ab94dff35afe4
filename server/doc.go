// Command server is tend: `go run ./server` starts the service, with an
// embedded SQLite database in TEND_DATA_DIR (or Postgres when DATABASE_URL
// is set). Without GitHub App credentials it starts in setup mode: its
// page registers the App through GitHub's manifest flow (setup.go), and
// webhooks are answered with 503 until then. The built binary is named
// tend.
//
// Subcommands for operators:
//
//	tend validate FILE...        check .github/tend.yaml files, print errors with positions
//	tend plan --dir CHECKOUT     the diffs tend would propose for a local checkout (plan.go)
//	tend dlq list                list dead-lettered keys
//	tend dlq retry KEY           re-drive a dead-lettered key
//	tend enqueue KEY...          enqueue keys by hand
package main
