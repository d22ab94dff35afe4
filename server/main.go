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

const usage = `usage:
  server                     run tend (configuration from the environment; see README.md)
  server validate FILE...    check .github/tend.yaml files ("-" reads stdin)
  server dlq list            list dead-lettered keys
  server dlq retry KEY       put a dead-lettered key back in the queue
  server enqueue KEY...      enqueue keys by hand
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
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
