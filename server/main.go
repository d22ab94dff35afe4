package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: tend [COMMAND] [ARGS]

  tend                       run tend (configuration from the environment; see README.md)
  tend validate FILE...      check .github/tend.yaml files ("-" reads stdin)
  tend plan --dir CHECKOUT   show the changes tend would propose for a local checkout
  tend dlq list              list dead-lettered keys
  tend dlq retry KEY         put a dead-lettered key back in the queue
  tend enqueue KEY...        enqueue keys by hand

"tend COMMAND --help" explains a command. From a checkout, "go run ./server"
stands for "tend".
`

// commandHelp is each subcommand's --help text.
var commandHelp = map[string]string{
	"serve": `usage: tend [serve]

Runs tend: the webhook endpoint, the queue and its workers, the setup page
while no GitHub App is registered, /status, /metrics and the River UI.
Configuration comes from the environment (see README.md); the App's
credentials also from TEND_DATA_DIR/github-app.json, which the setup page
writes. Stops cleanly on SIGINT or SIGTERM.
`,
	"validate": `usage: tend validate FILE...

Checks .github/tend.yaml files and prints every problem as
FILE:LINE:COLUMN: message. "-" reads standard input (name a file that
starts with "-" as ./-name).

Exit status: 0 every file is valid, 1 problems were found, 2 usage error.
`,
	"plan": `usage: tend plan --dir CHECKOUT [--rule NAME] [--path PATH] [--task TEXT]

Reads CHECKOUT/.github/tend.yaml and runs its rules against the files of
the checkout, with no GitHub and without writing anything: for each key
(rule and path) it prints the unified diff tend would propose and the
check run's summary.

images rules resolve tags with the registries (the default keychain:
Docker config and credential helpers, else anonymous).

agent rules run the model on each matched path, as a periodic check would
on GitHub: the same prompts, tools, edits confinement, acceptance gate and
budgets (TEND_MODEL, TEND_AGENT_MAX_TURNS, TEND_AGENT_MAX_TOKENS,
TEND_AGENT_MAX_WALL), reading the checkout and keeping every edit in
memory. They need model credentials: GEMINI_API_KEY (or GOOGLE_API_KEY),
or GOOGLE_GENAI_USE_VERTEXAI with GOOGLE_CLOUD_PROJECT and
GOOGLE_CLOUD_LOCATION. Without them an agent rule is skipped with a note,
or is an error when --rule names it. Issues and releases are events a
checkout does not have: a rule's issue requests are previewed only with
--task, and release-triggered rules run as a periodic check.

  --dir CHECKOUT   the repository checkout (required)
  --rule NAME      only this rule
  --path PATH      only this path, relative to the checkout
  --task TEXT      with --rule naming an agent rule that answers issues
                   (on.issues.label): preview the request TEXT (its first
                   line is the issue's title) instead of the rule's paths

Exit status: 0 no changes, 2 changes, 1 error (as terraform plan
-detailed-exitcode). A model that fails, or an agent run that ends on a
budget or a refusal, is an error.
`,
	"dlq": `usage: tend dlq list
       tend dlq retry KEY

list prints the dead-lettered keys (those that failed every attempt) with
their last error; retry puts one back in the queue. Reads DATABASE_URL or
TEND_DATA_DIR like the server, and works while it runs.
`,
	"enqueue": `usage: tend enqueue KEY...

Enqueues keys by hand, as a webhook would. A key is owner/repo (resync
every rule of the repository, even when its config did not change),
owner/repo:rule (resync one rule), owner/repo:rule:path
(reconcile one path) or owner/repo:rule#42 (the request in issue 42). Reads DATABASE_URL or
TEND_DATA_DIR like the server, and works while it runs.
`,
}

// isHelp reports whether args ask for help ("-h", "--help" or "help"
// first, or "-h"/"--help" anywhere before "--").
func isHelp(args []string) bool {
	for i, a := range args {
		switch {
		case a == "--":
			return false
		case a == "-h" || a == "--help" || a == "-help":
			return true
		case a == "help" && i == 0:
			return true
		}
	}
	return false
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	if cmd == "help" && len(args) > 1 {
		cmd, args = args[1], []string{args[1], "--help"}
	}
	name := cmd
	if name == "" {
		name = "serve"
	}
	if help, ok := commandHelp[name]; ok && len(args) > 1 && isHelp(args[1:]) {
		fmt.Fprint(stdout, help)
		return 0
	}
	switch cmd {
	case "", "serve":
		s, err := loadSettings()
		if err != nil {
			fmt.Fprintln(stderr, "tend:", err)
			return 2
		}
		log := newLogger(s, stdout)
		if err := serve(ctx, s, log); err != nil {
			log.Error().Err(err).Msg("tend stopped")
			return 1
		}
		return 0
	case "validate":
		return validate(args[1:], stdin, stdout, stderr)
	case "dlq":
		return dlq(ctx, args[1:], stdout, stderr)
	case "enqueue":
		return enqueue(ctx, args[1:], stdout, stderr)
	case "plan":
		return plan(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "tend: unknown command %q\n%s", cmd, usage)
	return 2
}

func newLogger(s *settings, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(s.LogLevel)
	if err != nil || level == zerolog.NoLevel {
		level = zerolog.InfoLevel
	}
	var out io.Writer = w
	if s.LogFormat == "console" {
		out = zerolog.ConsoleWriter{Out: w}
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}
