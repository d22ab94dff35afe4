package handlers

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
)

const testConfig = `version: 1
rules:
  - name: pin-images
    reconciler: images
    paths: ["deploy/*.yaml", "Dockerfile"]
  - name: docs
    reconciler: agent
    paths: ["docs/**/*.md"]
    prompt: "Every doc must end with a line 'Reviewed.'"
    edits: ["docs/**"]
    on: {issues: {label: tend}}
  - name: manual
    reconciler: agent
    paths: ["deploy/*.yaml"]
    prompt: p
    edits: ["deploy/**"]
    on: {push: false, issues: {label: tend-manual}}
`

func mustConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Parse("tend.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func keyStrings(ks []keys.Key) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.String()
	}
	slices.Sort(out)
	return out
}

func TestPathKeys(t *testing.T) {
	cfg := mustConfig(t)
	got := keyStrings(PathKeys("Acme", "Web", cfg, []string{
		"deploy/app.yaml", "Dockerfile", "docs/a/b.md", "README.md", "deploy/sub/x.yaml", "../evil", ".git/config",
	}))
	want := []string{"acme/web:docs:docs/a/b.md", "acme/web:pin-images:Dockerfile", "acme/web:pin-images:deploy/app.yaml"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v (push: false rules and unmatched or unsafe paths excluded)", got, want)
	}
}

func TestPayloadPaths(t *testing.T) {
	type commit = struct {
		Added    []string `json:"added"`
		Modified []string `json:"modified"`
		Removed  []string `json:"removed"`
	}
	ev := &pushPayload{
		Before: "1111111111111111111111111111111111111111",
		Commits: []commit{
			{Added: []string{"a"}, Modified: []string{"b"}},
			{Modified: []string{"b"}, Removed: []string{"c"}},
		},
	}
	paths, ok := payloadPaths(ev)
	if !ok || !slices.Equal(paths, []string{"a", "b", "c"}) {
		t.Errorf("payloadPaths = %v, %v", paths, ok)
	}
	for name, mut := range map[string]func(e *pushPayload){
		"forced":     func(e *pushPayload) { e.Forced = true },
		"new branch": func(e *pushPayload) { e.Before = zeroSHA },
		"created":    func(e *pushPayload) { e.Created = true },
		"20 commits": func(e *pushPayload) { e.Commits = make([]commit, 20) },
		"no commits": func(e *pushPayload) { e.Commits = nil },
		"3000 files": func(e *pushPayload) { e.Commits = []commit{{Added: manyPaths(3000)}} },
	} {
		e := *ev
		mut(&e)
		if _, ok := payloadPaths(&e); ok {
			t.Errorf("%s: payload trusted to list every file", name)
		}
	}
}

func manyPaths(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("f%d", i)
	}
	return out
}

func TestIssueKeys(t *testing.T) {
	cfg := mustConfig(t)
	for _, tc := range []struct {
		action, changed string
		labels          []string
		want            []string
	}{
		{"opened", "", []string{"tend"}, []string{"acme/web:docs#7"}},
		{"opened", "", []string{"bug"}, nil},
		{"labeled", "tend", []string{"tend", "tend-manual"}, []string{"acme/web:docs#7"}},
		{"labeled", "bug", []string{"tend", "bug"}, nil},
		{"unlabeled", "tend", []string{"tend-manual"}, []string{"acme/web:docs#7"}},
		{"closed", "", []string{"TEND", "tend-manual"}, []string{"acme/web:docs#7", "acme/web:manual#7"}},
		{"edited", "", nil, nil},
	} {
		got := keyStrings(IssueKeys("acme", "web", cfg, 7, tc.labels, tc.action, tc.changed))
		if len(got) == 0 {
			got = nil
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s %q %v: got %v, want %v", tc.action, tc.changed, tc.labels, got, tc.want)
		}
	}
}

// FuzzPushKeys feeds arbitrary push payloads through the push-to-keys
// mapping: it must never panic, and every key it makes must be valid, name
// a path the payload listed, and belong to a push-triggered rule matching it.
func FuzzPushKeys(f *testing.F) {
	f.Add([]byte(`{"ref":"refs/heads/main","before":"1111111111111111111111111111111111111111","commits":[{"added":["deploy/a.yaml"],"modified":["Dockerfile"],"removed":["docs/x/y.md"]}]}`))
	f.Add([]byte(`{"forced":true,"commits":[{"added":["../../etc/passwd","deploy/\u0000.yaml"]}]}`))
	f.Add([]byte(`{"before":"x","commits":[{"added":["deploy//a.yaml","./Dockerfile","deploy/a.yaml/"]}]}`))
	cfg := mustConfig(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		var ev pushPayload
		if json.Unmarshal(payload, &ev) != nil {
			return
		}
		paths, ok := payloadPaths(&ev)
		if !ok {
			return
		}
		for _, k := range PathKeys("acme", "web", cfg, paths) {
			if err := k.Validate(); err != nil || k.Kind() != keys.KindPath {
				t.Fatalf("invalid key %q: %v", k, err)
			}
			if !slices.Contains(paths, k.Path) {
				t.Fatalf("key %q names a path the push did not list", k)
			}
			r, ok := cfg.Rule(k.Rule)
			if !ok || !r.On.Push || !r.Matches(k.Path) {
				t.Fatalf("key %q does not belong to a matching push rule", k)
			}
		}
	})
}

func TestBranchKey(t *testing.T) {
	cfg := mustConfig(t)
	for branch, want := range map[string]string{
		"tend/pin-images/deploy/app.yaml": "acme/web:pin-images:deploy/app.yaml",
		"tend/docs/issue-7":               "acme/web:docs#7", // the path reading does not match docs/**/*.md
		"tend/docs/docs/a.md":             "acme/web:docs:docs/a.md",
		"tend/pin-images/README.md":       "", // no rule owns it
		"tend/gone/deploy/app.yaml":       "", // no such rule
		"main":                            "",
	} {
		k, ok := BranchKey("acme", "web", cfg, branch)
		if got := map[bool]string{true: k.String(), false: ""}[ok]; got != want {
			t.Errorf("BranchKey(%q) = %q, want %q", branch, got, want)
		}
	}
}
