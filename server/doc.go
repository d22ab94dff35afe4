// Command server is tend: `go run ./server` starts the service, with an
// embedded SQLite database in TEND_DATA_DIR (or Postgres when DATABASE_URL
// is set). Without GitHub App credentials it starts in setup mode: it
// serves a page that says how to configure it and answers webhooks with 503.
// `go build -o tend ./server` builds the binary under its name.
//
// Subcommands for operators:
//
//	tend validate FILE...      check .github/tend.yaml files, print errors with positions
//	tend dlq list              list dead-lettered keys
//	tend dlq retry KEY         re-drive a dead-lettered key
//	tend enqueue KEY...        enqueue keys by hand
package main
