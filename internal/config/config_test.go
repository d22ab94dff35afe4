package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseFull(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(".github/tend.yaml", data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if cfg.PullRequests.Limit != 5 || strings.Join(cfg.PullRequests.Labels, ",") != "tend,dependencies" {
		t.Errorf("pull_requests = %+v", cfg.PullRequests)
	}
	if len(cfg.Rules) != 4 {
		t.Fatalf("got %d rules", len(cfg.Rules))
	}
	pin, docs, weekly, never := cfg.Rules[0], cfg.Rules[1], cfg.Rules[2], cfg.Rules[3]
	if !pin.On.Push || pin.On.Resync != DefaultResync || pin.Line != 6 {
		t.Errorf("defaults not applied: %+v", pin)
	}
	if !pin.Matches("deploy/app.yaml") || pin.Matches("deploy/sub/app.yaml") || !pin.Matches("Dockerfile") {
		t.Errorf("pin-images globs match wrongly")
	}
	if docs.On.IssueLabel != "tend" || strings.Join(docs.ReleaseSources("Acme/Web"), ",") != "acme/upstream,acme/web" {
		t.Errorf("docs triggers = %+v sources=%v", docs.On, docs.ReleaseSources("Acme/Web"))
	}
	if !docs.SubscribesTo("acme/web", "ACME/Upstream") || docs.SubscribesTo("acme/web", "acme/other") {
		t.Errorf("SubscribesTo is wrong")
	}
	if !docs.MayEdit("docs/a.md", "docs/deep/b.md") || docs.MayEdit("docs/a.md", "README.md") {
		t.Errorf("docs edits globs wrong")
	}
	if docs.CIRounds != DefaultCIRounds || weekly.CIRounds != 0 {
		t.Errorf("ci_rounds: docs %d (want the default %d), weekly %d (want 0)", docs.CIRounds, DefaultCIRounds, weekly.CIRounds)
	}
	if weekly.On.Push || weekly.On.Resync != 7*24*time.Hour || weekly.Paths[0] != "CHANGELOG.md" {
		t.Errorf("weekly = %+v", weekly)
	}
	if !weekly.MayEdit("CHANGELOG.md", "CHANGELOG.md") || weekly.MayEdit("CHANGELOG.md", "x") || weekly.MayEdit("", "CHANGELOG.md") {
		t.Errorf("default edits must be exactly the key's own path")
	}
	if never.On.Resync != 0 || !never.Matches("a/b/Containerfile") {
		t.Errorf("never = %+v", never)
	}
	if never.Update != UpdateMinor || strings.Join(never.Ignore, ",") != "ghcr.io/acme/**,docker.io/library/busybox" {
		t.Errorf("never: update %q, ignore %q", never.Update, never.Ignore)
	}
	if pin.Update != UpdateDigest || len(pin.Ignore) != 0 {
		t.Errorf("pin-images: update %q (want the default digest), ignore %q", pin.Update, pin.Ignore)
	}
	if got := cfg.RulesFor("docs/x.md"); len(got) != 1 || got[0].Name != "docs" {
		t.Errorf("RulesFor = %+v", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // each must appear in the error text, with its position
	}{
		{"unknown top", "version: 1\nrules: []\nrulez: []\n", []string{`x.yaml:3:1: the top level: unknown field "rulez"`}},
		{"unknown rule field", "version: 1\nrules:\n  - name: a\n    reconciler: images\n    paths: [a]\n    path: [b]\n", []string{`x.yaml:6:5: rule "a": unknown field "path"`}},
		{"duplicate rule", "version: 1\nrules:\n  - {name: a, reconciler: images, paths: [x]}\n  - {name: a, reconciler: images, paths: [y]}\n", []string{`x.yaml:4:5: rule "a" is already defined on line 3`}},
		{"reserved rule name", "version: 1\nrules:\n  - {name: tend-config, reconciler: images, paths: [x]}\n", []string{`x.yaml:3:12: rule "tend-config".name "tend-config" is reserved`}},
		{"duplicate rule, both broken", "version: 1\nrules:\n  - {name: a, reconciler: nope, paths: [x]}\n  - {name: a, reconciler: images, paths: [y], prompt: p}\n", []string{`x.yaml:3:27: rule "a": unknown reconciler "nope"`, `x.yaml:4:5: rule "a" is already defined on line 3`, `x.yaml:4:55: rule "a": "prompt" is only read`}},
		{"bad glob", "version: 1\nrules:\n  - name: a\n    reconciler: images\n    paths: [\"deploy/[\"]\n", []string{`x.yaml:5:13: rule "a".paths: glob "deploy/[" is not a valid pattern`}},
		{"escaping glob", "version: 1\nrules:\n  - {name: a, reconciler: images, paths: [\"../x\", \"/etc/*\", \".git/config\"]}\n", []string{`"../x" must be a clean path`, `"/etc/*" must be relative`, `".git/config" points into .git`}},
		{"unknown reconciler", "version: 1\nrules:\n  - {name: a, reconciler: magic, paths: [x]}\n", []string{`x.yaml:3:27: rule "a": unknown reconciler "magic" (known: images, agent)`}},
		{"unknown trigger", "version: 1\nrules:\n  - name: a\n    reconciler: images\n    paths: [x]\n    on: {cron: daily}\n", []string{`x.yaml:6:10: rule "a".on: unknown field "cron"`}},
		{"bad types", "version: \"1\"\nrules:\n  - name: a\n    reconciler: images\n    paths: [x]\n    on: {push: yes, resync: 5}\n", []string{`x.yaml:1:10: version must be a whole number`, `x.yaml:6:16: rule "a".on.push must be true or false`, `x.yaml:6:29: rule "a".on.resync: "5" is not a duration`}},
		{"missing", "rules:\n  - name: a\n", []string{`x.yaml:1:1: missing "version: 1"`, `missing "reconciler"`}},
		{"bad version", "version: 2\nrules: []\n", []string{`x.yaml:1:10: unsupported version 2`}},
		{"agent needs prompt", "version: 1\nrules:\n  - {name: a, reconciler: agent, paths: [x]}\n", []string{`needs a "prompt"`}},
		{"images no prompt", "version: 1\nrules:\n  - {name: a, reconciler: images, paths: [x], prompt: hi, on: {issues: {label: x}}}\n", []string{`"prompt" is only read by the agent`, `issue requests need the agent reconciler`}},
		{"bad name", "version: 1\nrules:\n  - {name: Pin_Images, reconciler: images, paths: [x]}\n", []string{`must match [a-z0-9-]+`}},
		{"bad release", "version: 1\nrules:\n  - {name: a, reconciler: agent, prompt: p, paths: [x], on: {release: [\"not a repo\"]}}\n", []string{`"not a repo" must be "self" or owner/name`}},
		{"short resync", "version: 1\nrules:\n  - {name: a, reconciler: images, paths: [x], on: {resync: 1m}}\n", []string{`1m is shorter than the minimum 10m0s`}},
		{"bad resync", "version: 1\nrules:\n  - {name: a, reconciler: images, paths: [x], on: {resync: soon}}\n", []string{`"soon" is not a duration`}},
		{"syntax", "version: 1\nrules:\n  - name: a\n   reconciler: x\n", []string{`x.yaml:2: invalid YAML: did not find expected`}},
		{"dup key", "version: 1\nversion: 1\nrules: []\n", []string{`x.yaml:2:1: the top level: "version" is already set on line 1`}},
		{"two docs", "version: 1\nrules: []\n---\nversion: 1\n", []string{`more than one YAML document`}},
		{"empty", "  \n", []string{`file is empty`}},
		{"not a map", "- a\n", []string{`the top level must be a mapping`}},
		{"limit", "version: 1\npull_requests: {limit: 0, labels: [\"\"]}\nrules: []\n", []string{`limit must be between 1 and 100`, `empty label`}},
		{"issues without edits", "version: 1\nrules:\n  - {name: a, reconciler: agent, prompt: p, paths: [x], on: {issues: {label: l}}}\n", []string{`issue requests need "edits"`}},
		{"ci_rounds range", "version: 1\nrules:\n  - {name: a, reconciler: agent, prompt: p, paths: [x], ci_rounds: 11}\n  - {name: b, reconciler: agent, prompt: p, paths: [x], ci_rounds: -1}\n", []string{`x.yaml:3:68: rule "a".ci_rounds must be between 0 and 10, found 11`, `x.yaml:4:68: rule "b".ci_rounds must be between 0 and 10, found -1`}},
		{"ci_rounds type", "version: 1\nrules:\n  - {name: a, reconciler: agent, prompt: p, paths: [x], ci_rounds: many}\n", []string{`x.yaml:3:68: rule "a".ci_rounds must be a whole number`}},
		{"ci_rounds on images", "version: 1\nrules:\n  - {name: a, reconciler: images, paths: [x], ci_rounds: 2}\n", []string{`x.yaml:3:58: rule "a": "ci_rounds" is only read by the agent reconciler`}},
		{"bad update", "version: 1\nrules:\n  - name: a\n    reconciler: images\n    paths: [x]\n    update: latest\n", []string{`x.yaml:6:13: rule "a".update: unknown value "latest" (known: digest, patch, minor, major)`}},
		{"update type", "version: 1\nrules:\n  - {name: a, reconciler: images, paths: [x], update: [minor]}\n", []string{`x.yaml:3:55: rule "a".update must be a string, found a list`}},
		{"bad ignore", "version: 1\nrules:\n  - name: a\n    reconciler: images\n    paths: [x]\n    ignore: [nginx, \"nginx@sha256:ab\", \"a[\", \" x\", 3]\n", []string{`x.yaml:6:21: rule "a".ignore: "nginx@sha256:ab" must be an image name or glob`, `x.yaml:6:40: rule "a".ignore: "a[" is not a valid glob`, `x.yaml:6:46: rule "a".ignore: " x" must be an image name`, `x.yaml:6:52: rule "a".ignore: each entry must be a string`}},
		{"agent update", "version: 1\nrules:\n  - {name: a, reconciler: agent, prompt: p, paths: [x], update: minor, ignore: [x]}\n", []string{`x.yaml:3:57: rule "a": "update" is only read by the images reconciler`, `x.yaml:3:72: rule "a": "ignore" is only read by the images reconciler`}},
		{"empty paths", "version: 1\nrules:\n  - {name: a, reconciler: images, paths: []}\n", []string{`paths: the list is empty`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.in))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want Errors, got %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestParseBounded(t *testing.T) {
	// A billion-laughs style file: the parser never expands structures it does
	// not expect, so it answers at once with a bounded list of errors.
	var b strings.Builder
	b.WriteString("version: 1\nrules:\n  - name: a\n    reconciler: images\n    edits: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		b.WriteString("  - {name: r" + string(rune('0'+i)) + ", reconciler: images, paths: &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]}\n")
	}
	_, err := Parse("x.yaml", []byte(b.String()))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want errors, got %v", err)
	}
	if len(errs) > 200 {
		t.Fatalf("%d errors: the parser expanded aliases it should not have", len(errs))
	}
	if _, err := Parse("x.yaml", make([]byte, MaxFileSize+1)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("want a size error, got %v", err)
	}
}

func TestNodeBudget(t *testing.T) {
	// Many aliases to one big list are each charged in full.
	var b strings.Builder
	b.WriteString("version: 1\nrules:\n  - {name: a, reconciler: images, paths: &p [")
	for i := 0; i < 3000; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("x")
	}
	b.WriteString("]}\n")
	for i := 0; i < 10; i++ {
		b.WriteString("  - {name: b" + string(rune('a'+i)) + ", reconciler: images, paths: *p}\n")
	}
	_, err := Parse("x.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "too complex") {
		t.Fatalf("want a complexity error, got %v", err)
	}
}

func TestAliasesWork(t *testing.T) {
	in := "version: 1\nrules:\n  - {name: a, reconciler: images, paths: &p [\"x/*\"]}\n  - {name: b, reconciler: agent, prompt: p, paths: *p}\n"
	cfg, err := Parse("x.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Rules[1].Paths[0] != "x/*" {
		t.Errorf("alias not followed: %+v", cfg.Rules[1])
	}
}

func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("testdata/full.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("version: 1\nrules: []\n"))
	f.Add([]byte("version: 1\nrules:\n  - {name: a, reconciler: images, paths: &p [x]}\n  - {name: b, reconciler: agent, prompt: p, paths: *p, on: {issues: {label: t}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.yaml", data)
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error is not a non-empty Errors: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range cfg.Rules {
			if seen[r.Name] || len(r.Paths) == 0 {
				t.Fatalf("accepted an invalid config: %+v", cfg)
			}
			seen[r.Name] = true
			for _, g := range append(append([]string{}, r.Paths...), r.Edits...) {
				if validateGlob(g) != nil {
					t.Fatalf("accepted glob %q", g)
				}
			}
		}
	})
}
