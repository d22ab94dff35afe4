package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/reconcilers/images"
)

// Exit codes of `tend plan`, as `terraform plan -detailed-exitcode`.
const (
	planNoChanges = 0
	planError     = 1
	planChanges   = 2
)

// planFileLimit bounds the files plan reads, like the reconcilers' limits
// on what they read from GitHub.
const planFileLimit = 10 << 20

// planOptions are plan's flags.
type planOptions struct {
	dir, rule, path string
	// task is the text of a request, for a rule that answers issues.
	task string
}

// plan prints, for each key of a local checkout, the unified diff tend
// would propose and the check run's summary. It neither talks to GitHub
// nor writes to the checkout.
func plan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("plan", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, commandHelp["plan"]) }
	var o planOptions
	fl.StringVar(&o.dir, "dir", "", "the checkout")
	fl.StringVar(&o.rule, "rule", "", "only this rule")
	fl.StringVar(&o.path, "path", "", "only this path (relative to the checkout)")
	fl.StringVar(&o.task, "task", "", "the text of a request, for --rule naming an agent rule that answers issues")
	if err := fl.Parse(args); err != nil || o.dir == "" || fl.NArg() > 0 {
		if err == nil {
			fl.Usage()
		}
		return planError
	}
	changed, err := runPlan(ctx, o, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "tend plan:", err)
		return planError
	}
	if changed {
		return planChanges
	}
	return planNoChanges
}

func runPlan(ctx context.Context, o planOptions, stdout, stderr io.Writer) (bool, error) {
	cfg, err := loadLocalConfig(o.dir)
	if err != nil {
		return false, err
	}
	rules, err := selectRules(cfg, o.rule)
	if err != nil {
		return false, err
	}
	if err := checkTask(o, rules); err != nil {
		return false, err
	}
	files, err := checkoutFiles(o.dir, o.path)
	if err != nil {
		return false, err
	}
	agents := &agentPlanner{o: o, stdout: stdout, stderr: stderr}
	defer agents.close()
	changed := false
	for _, r := range rules {
		var ch bool
		switch r.Reconciler {
		case config.ReconcilerImages:
			ch, err = planImages(ctx, o.dir, r, files, stdout)
		case config.ReconcilerAgent:
			ch, err = agents.plan(ctx, r, files)
		default:
			err = fmt.Errorf("rule %q: reconciler %q is not known to this version of tend", r.Name, r.Reconciler)
		}
		if err != nil {
			return false, err
		}
		changed = changed || ch
	}
	return changed, nil
}

// loadLocalConfig reads and validates the checkout's .github/tend.yaml
// (or .yml).
func loadLocalConfig(dir string) (*config.Config, error) {
	for _, name := range []string{".github/tend.yaml", ".github/tend.yml"} {
		data, err := readBounded(filepath.Join(dir, name), config.MaxFileSize+1)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		cfg, err := config.Parse(name, data)
		if err != nil {
			return nil, fmt.Errorf("invalid config:\n%w", err)
		}
		return cfg, nil
	}
	return nil, fmt.Errorf("%s has no .github/tend.yaml: tend would not manage it", dir)
}

func selectRules(cfg *config.Config, name string) ([]config.Rule, error) {
	if name == "" {
		return cfg.Rules, nil
	}
	for _, r := range cfg.Rules {
		if r.Name == name {
			return []config.Rule{r}, nil
		}
	}
	names := make([]string, 0, len(cfg.Rules))
	for _, r := range cfg.Rules {
		names = append(names, r.Name)
	}
	return nil, fmt.Errorf("no rule %q (rules: %s)", name, strings.Join(names, ", "))
}

// checkoutFiles lists the checkout's regular files as slash paths, .git
// excluded; only one when path is given.
func checkoutFiles(dir, path string) ([]string, error) {
	if path != "" {
		p := filepath.ToSlash(filepath.Clean(path))
		if p == ".." || strings.HasPrefix(p, "../") || filepath.IsAbs(path) {
			return nil, fmt.Errorf("--path %q must be inside the checkout", path)
		}
		return []string{p}, nil
	}
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	slices.Sort(out)
	return out, nil
}

// planImages previews the images rule on each matched file, resolving tags
// with the registries (default keychain).
func planImages(ctx context.Context, dir string, r config.Rule, files []string, stdout io.Writer) (bool, error) {
	resolver := images.NewRegistryResolver()
	changed := false
	for _, p := range files {
		if !r.Matches(p) {
			continue
		}
		content, err := readBounded(filepath.Join(dir, filepath.FromSlash(p)), planFileLimit)
		if err != nil {
			return false, fmt.Errorf("read %s: %w", p, err)
		}
		pv := images.PreviewFile(ctx, p, content, resolver)
		if err := ctx.Err(); err != nil {
			return false, err
		}
		// A key is owner/repo:rule:path; a checkout has no owner/repo.
		key := r.Name + ":" + p
		if bytes.Equal(pv.Desired, content) && len(pv.Failures) == 0 {
			fmt.Fprintf(stdout, "# %s: no change\n", key)
			continue
		}
		if !bytes.Equal(pv.Desired, content) {
			changed = true
			fmt.Fprintf(stdout, "# %s: %s\n", key, pv.Title)
			if err := writeDiff(stdout, p, content, pv.Desired); err != nil {
				return false, err
			}
		}
		fmt.Fprintf(stdout, "\n%s\n%s\n", pv.Summary, pv.Details)
	}
	return changed, nil
}

func writeDiff(w io.Writer, path string, before, after []byte) error {
	return writeNamedDiff(w, path, "a/"+path, "b/"+path, before, after)
}

// writeNamedDiff writes a unified diff whose sides are named from and to
// (/dev/null for a file created or deleted, as git does).
func writeNamedDiff(w io.Writer, path, from, to string, before, after []byte) error {
	d := difflib.UnifiedDiff{A: diffLines(before), B: diffLines(after), FromFile: from, ToFile: to, Context: 3}
	if err := difflib.WriteUnifiedDiff(w, d); err != nil {
		return fmt.Errorf("diff %s: %w", path, err)
	}
	return nil
}

// diffLines splits content into lines that each end in a newline (a
// missing final newline is not shown). difflib.SplitLines adds an empty
// last line that the file does not have, which showed in the diff.
func diffLines(content []byte) []string {
	lines := strings.SplitAfter(string(content), "\n")
	if lines[len(lines)-1] == "" {
		return lines[:len(lines)-1]
	}
	lines[len(lines)-1] += "\n"
	return lines
}
