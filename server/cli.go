package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/clip"
	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/queue"
)

// validate checks config files and prints every problem with its position.
func validate(paths []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(paths) > 0 && paths[0] == "--" {
		paths = paths[1:]
	}
	if len(paths) == 0 {
		fmt.Fprint(stderr, commandHelp["validate"])
		return 2
	}
	failed := false
	for _, p := range paths {
		var data []byte
		var err error
		name := p
		if p == "-" {
			name = "<stdin>"
			data, err = io.ReadAll(io.LimitReader(stdin, config.MaxFileSize+1))
		} else {
			data, err = readBounded(p, config.MaxFileSize+1)
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			failed = true
			continue
		}
		cfg, err := config.Parse(name, data)
		if err != nil {
			var errs config.Errors
			if errors.As(err, &errs) {
				for _, e := range errs {
					fmt.Fprintln(stdout, e.Error())
				}
			} else {
				fmt.Fprintln(stdout, err)
			}
			failed = true
			continue
		}
		fmt.Fprintf(stdout, "%s: ok (%d rules)\n", name, len(cfg.Rules))
	}
	if failed {
		return 1
	}
	return 0
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// openQueue opens the configured database and a queue that runs nothing.
func openQueue(ctx context.Context, stderr io.Writer) (*queue.Queue, func(), error) {
	s, err := loadSettings()
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	log := zerolog.New(stderr).Level(zerolog.WarnLevel)
	q, err := queue.New(ctx, st, nil, queue.Options{InsertOnly: true, Logger: log, Settle: s.Settle, MaxAttempts: s.MaxAttempts})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return q, func() { st.Close() }, nil
}

func dlq(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] == "retry" && len(args) != 2) || (args[0] != "list" && args[0] != "retry") {
		fmt.Fprint(stderr, commandHelp["dlq"])
		return 2
	}
	q, done, err := openQueue(ctx, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "tend:", err)
		return 1
	}
	defer done()
	switch args[0] {
	case "list":
		dead, err := q.DeadLetters(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "tend:", err)
			return 1
		}
		if len(dead) == 0 {
			fmt.Fprintln(stdout, "no dead letters")
			return 0
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tSTATE\tATTEMPTS\tSINCE\tLAST ERROR")
		for _, j := range dead {
			since := ""
			if j.FinalizedAt != nil {
				since = j.FinalizedAt.UTC().Format(time.RFC3339)
			}
			last := ""
			if len(j.Errors) > 0 {
				last = oneLine(j.Errors[len(j.Errors)-1], 120)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", j.Key, j.State, j.Attempt, since, last)
		}
		_ = tw.Flush()
	case "retry":
		k, err := keys.Parse(args[1])
		if err != nil {
			fmt.Fprintln(stderr, "tend:", err)
			return 2
		}
		msg, err := q.Redrive(ctx, k.String())
		if err != nil {
			fmt.Fprintln(stderr, "tend:", err)
			return 1
		}
		fmt.Fprintln(stdout, msg)
	}
	return 0
}

func enqueue(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, commandHelp["enqueue"])
		return 2
	}
	var ks []keys.Key
	for _, a := range args {
		k, err := keys.Parse(a)
		if err != nil {
			fmt.Fprintln(stderr, "tend:", err)
			return 2
		}
		ks = append(ks, k)
	}
	q, done, err := openQueue(ctx, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "tend:", err)
		return 1
	}
	defer done()
	res, err := q.Enqueue(ctx, ks...)
	if err != nil {
		fmt.Fprintln(stderr, "tend:", err)
		return 1
	}
	fmt.Fprintf(stdout, "enqueued %d, already queued %d\n", res.Inserted, res.Collapsed)
	return 0
}

// oneLine puts s on one line of at most n bytes.
func oneLine(s string, n int) string {
	return clip.Text(strings.NewReplacer("\n", " ", "\t", " ").Replace(s), n, "…")
}
