package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/cases")

// fakeResolver answers with a digest derived from the reference, so that
// golden files are stable, and fails for names containing "unknown".
type fakeResolver struct {
	mu    sync.Mutex
	calls map[string]int
	// salt changes every digest: a tag that "moved".
	salt string
}

func (f *fakeResolver) Digest(_ context.Context, ref string) (string, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[ref]++
	f.mu.Unlock()
	if strings.Contains(ref, "unknown") {
		return "", fmt.Errorf("resolve %s: MANIFEST_UNKNOWN: manifest unknown", ref)
	}
	return fakeDigest(f.salt + ref), nil
}

func fakeDigest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// fixture is one file under testdata/cases/<case>/, named by its path in
// that pretend repository so that Find picks the format from it.
type fixture struct {
	file string // on disk
	path string // in the pretend repository
}

func fixtures(t testing.TB) []fixture {
	t.Helper()
	var fx []fixture
	root := filepath.Join("testdata", "cases")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".golden") || strings.HasSuffix(p, ".report") || d.Name() == ".gitattributes" {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		_, repoPath, _ := strings.Cut(filepath.ToSlash(rel), "/")
		fx = append(fx, fixture{file: p, path: repoPath})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(fx) < 15 {
		t.Fatalf("found only %d fixtures", len(fx))
	}
	return fx
}

// report renders what Pin did, for the golden .report files.
func report(refs []Ref, changes []Change, failures []Failure, notes []Note) string {
	var b strings.Builder
	b.WriteString("refs:\n")
	for _, r := range refs {
		fmt.Fprintf(&b, "  L%d %q name=%q tag=%q digest=%q [%s]\n", r.Line, r.Text, r.Name, r.Tag, r.Digest, r.Source)
	}
	b.WriteString("changes:\n")
	for _, c := range changes {
		fmt.Fprintf(&b, "  L%d %s -> %s\n", c.Ref.Line, c.Old, c.New)
	}
	b.WriteString("failures:\n")
	for _, f := range failures {
		fmt.Fprintf(&b, "  L%d %v\n", f.Ref.Line, f.Err)
	}
	b.WriteString("notes:\n")
	for _, n := range notes {
		fmt.Fprintf(&b, "  L%d %s\n", n.Line, n.Text)
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	for _, fx := range fixtures(t) {
		t.Run(fx.file, func(t *testing.T) {
			content, err := os.ReadFile(fx.file)
			if err != nil {
				t.Fatal(err)
			}
			refs, _ := Find(fx.path, content)
			out, changes, failures, notes := Pin(context.Background(), fx.path, content, &fakeResolver{})
			got := report(refs, changes, failures, notes)
			golden(t, fx.file+".report", []byte(got))
			golden(t, fx.file+".golden", out)

			checkRefs(t, content, refs)
			checkPinned(t, content, out, changes)
			checkIdempotent(t, fx.path, content, out, changes, &fakeResolver{})
		})
	}
}

// TestGoldenCRLF runs every LF fixture again with CRLF line endings: the
// same references must be found and the output must be the LF output with
// CRLF line endings, which shows that line endings are neither lost nor
// confuse the offsets.
func TestGoldenCRLF(t *testing.T) {
	for _, fx := range fixtures(t) {
		t.Run(fx.file, func(t *testing.T) {
			content, err := os.ReadFile(fx.file)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(content, []byte("\r")) {
				t.Skip("already CRLF")
			}
			crlf := bytes.ReplaceAll(content, []byte("\n"), []byte("\r\n"))
			lfOut, lfChanges, lfFailures, _ := Pin(context.Background(), fx.path, content, &fakeResolver{})
			out, changes, failures, _ := Pin(context.Background(), fx.path, crlf, &fakeResolver{})
			if want := bytes.ReplaceAll(lfOut, []byte("\n"), []byte("\r\n")); !bytes.Equal(out, want) {
				t.Errorf("CRLF output differs from the LF output with CRLF line endings:\n%s", out)
			}
			if len(changes) != len(lfChanges) || len(failures) != len(lfFailures) {
				t.Errorf("CRLF: %d changes, %d failures; LF: %d changes, %d failures", len(changes), len(failures), len(lfChanges), len(lfFailures))
			}
			for i := range min(len(changes), len(lfChanges)) {
				if changes[i].Old != lfChanges[i].Old || changes[i].New != lfChanges[i].New || changes[i].Ref.Line != lfChanges[i].Ref.Line {
					t.Errorf("change %d: CRLF %+v, LF %+v", i, changes[i], lfChanges[i])
				}
			}
			refs, _ := Find(fx.path, crlf)
			checkRefs(t, crlf, refs)
			checkPinned(t, crlf, out, changes)
		})
	}
}

func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update and review the diff):\n--- got\n%s\n--- want\n%s", file, got, want)
	}
}

// checkRefs asserts what every caller of Find relies on: offsets in bounds,
// in order, not overlapping, and pointing at exactly the reference text.
func checkRefs(t testing.TB, content []byte, refs []Ref) {
	t.Helper()
	prevEnd := 0
	for i, r := range refs {
		if r.Start < prevEnd || r.End < r.Start || r.End > len(content) {
			t.Fatalf("ref %d %+v: bad offsets (previous end %d, file length %d)", i, r, prevEnd, len(content))
		}
		prevEnd = r.End
		if got := string(content[r.Start:r.End]); !r.Split() && got != r.Text {
			t.Fatalf("ref %d: content[%d:%d] = %q, Text = %q", i, r.Start, r.End, got, r.Text)
		}
		if r.Split() && !strings.HasPrefix(string(content[r.Start:r.End]), r.Tag) {
			t.Fatalf("ref %d: content[%d:%d] = %q, want its tag %q", i, r.Start, r.End, content[r.Start:r.End], r.Tag)
		}
		if want := bytes.Count(content[:r.Start], []byte("\n")) + 1; r.Line != want {
			t.Fatalf("ref %d %q: Line = %d, want %d", i, r.Text, r.Line, want)
		}
		if r.Text == "" || r.Name == "" {
			t.Fatalf("ref %d: empty text or name: %+v", i, r)
		}
		if r.Digest == "" && r.Tag == "" && r.Text != r.Name {
			t.Fatalf("ref %d: untagged, undigested ref %q with name %q", i, r.Text, r.Name)
		}
	}
}

// checkPinned asserts the byte-preservation property: putting each old
// reference text back in place of the new one gives the original file
// exactly, so nothing but reference text changed.
func checkPinned(t testing.TB, content, out []byte, changes []Change) {
	t.Helper()
	back, err := unpin(out, changes)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, content) {
		t.Fatalf("undoing the changes does not give the original file:\n--- undone\n%q\n--- original\n%q", back, content)
	}
	if len(changes) == 0 && !bytes.Equal(out, content) {
		t.Fatalf("no changes, but the output differs")
	}
}

// unpin undoes, in out, every edit of the changes: each edit's New text
// must be where the edit put it, and is replaced by its Old text.
func unpin(out []byte, changes []Change) ([]byte, error) {
	var edits []Edit
	for _, c := range changes {
		if len(c.Edits) == 0 {
			return nil, fmt.Errorf("change %+v has no edits", c)
		}
		edits = append(edits, c.Edits...)
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].Start < edits[j].Start })
	var b []byte
	last, delta := 0, 0
	for _, e := range edits {
		at := e.Start + delta
		if at < last || at+len(e.New) > len(out) || string(out[at:at+len(e.New)]) != e.New {
			return nil, fmt.Errorf("edit %+v: new text not found at offset %d of the output", e, at)
		}
		b = append(b, out[last:at]...)
		b = append(b, e.Old...)
		last = at + len(e.New)
		delta += len(e.New) - (e.End - e.Start)
	}
	return append(b, out[last:]...), nil
}

// checkIdempotent finds the references of the output again (so the output
// still parses and every reference is still found, now pinned) and pins it
// again with the same digests: nothing may change.
func checkIdempotent(t testing.TB, path string, content, out []byte, changes []Change, r Resolver) {
	t.Helper()
	before, _ := Find(path, content)
	after, _ := Find(path, out)
	if len(after) != len(before) {
		t.Fatalf("the output has %d references, the input %d", len(after), len(before))
	}
	changed := map[int]string{}
	for _, c := range changes {
		changed[c.Ref.Start] = c.New
	}
	for i := range before {
		want := before[i].Text
		if nw, ok := changed[before[i].Start]; ok {
			want = nw
		}
		if after[i].Text != want || after[i].Source != before[i].Source {
			t.Fatalf("reference %d after pinning: %q [%s], want %q [%s]", i, after[i].Text, after[i].Source, want, before[i].Source)
		}
	}
	again, changes2, _, _ := Pin(context.Background(), path, out, r)
	if len(changes2) != 0 || !bytes.Equal(again, out) {
		t.Fatalf("pinning twice changed %d references: %+v", len(changes2), changes2)
	}
}

func TestFixtureCoverage(t *testing.T) {
	// Guard against fixtures silently losing their point: each of these
	// must be found (or deliberately left alone) by the golden tests.
	all := map[string]string{}
	for _, fx := range fixtures(t) {
		b, err := os.ReadFile(fx.file + ".report")
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		all[filepath.ToSlash(fx.file)] = string(b)
	}
	for path, want := range map[string][]string{
		"testdata/cases/dockerfile/Dockerfile":                          {`"golang:1.22-bookworm"`, `"busybox:1.36"`, `"ghcr.io/tend-app/assets:v2"`, "names an earlier build stage", "scratch", "ARG BASE (FROM on line 36)", "Dockerfile # syntax", "golang:${GO_VERSION}", "by number"},
		"testdata/cases/actions/.github/workflows/ci.yml":               {"Actions job test container", "Actions job test service redis", "step 3 uses", "Actions job integration container"},
		"testdata/cases/kubernetes/deploy/app.yaml":                     {"initContainers[0].image", "on the document", "digest only"},
		"testdata/cases/helm/charts/web/values.yaml":                    {"block scalar", "not written literally", "sidecars[1].image"},
		"testdata/cases/ignore/deploy/docs.yaml":                        {"L43", "on the document", "above", "on its line"},
		"testdata/cases/ignore/Dockerfile":                              {"above the instruction", "on the instruction", "inside the instruction", "golang:1.22"},
		"testdata/cases/kubernetes/deploy/db-crlf.yaml":                 {"postgres:16.2@sha256", "on its line"},
		"testdata/cases/compose/docker-compose.yml":                     {"Compose service web", "has a build section", "Compose service cron", "MANIFEST_UNKNOWN"},
		"testdata/cases/malformed/charts/web/templates/deployment.yaml": {"not valid YAML"},
		"testdata/cases/kustomize/overlays/prod/kustomization.yaml": {"[kustomize images[0]]", `tag="16.4-alpine" digest="sha256:0000`, "[kustomize images[3]]",
			"the tag comes from the manifests", "pinned by digest only", "ignored (# tend:ignore on its line)", "contains a variable", "helmCharts[0].valuesInline.image]"},
		"testdata/cases/kustomize/base/kustomization.yml": {"shop/frontend:latest", "docker.io/library/nginx:1.27"},
		"testdata/cases/helm/charts/api/values.yaml": {"docker.io/bitnami/postgresql:16.4.0-debian-12-r13", "[YAML metrics.image]", "its digest key has no value",
			"[YAML server.image]", "its tag key is empty", `name="ghcr.io/example/worker" tag="1.9.0" digest="sha256:3333`, "[YAML worker.initImage]",
			"sidecar_image", "the chart's appVersion decides"},
		"testdata/cases/kubernetes/deploy/workloads.yaml": {"CronJob/nightly-report spec.jobTemplate.spec.template.spec.initContainers[0].image", "Job/migrate",
			"StatefulSet/db", "DaemonSet/node-agent", "Pod/debug-target spec.ephemeralContainers[0].image", "spec.volumes[0].image.reference",
			"Deployment/web spec.template.spec.volumes[0].image.reference"},
		"testdata/cases/compose/legacy/docker-compose.yml":      {"[Compose service db]", "[Compose service cache]", "has a build section", "${WORKER_TAG}"},
		"testdata/cases/actions/.github/workflows/services.yml": {"[Actions job api container]", "[Actions job api service postgres]", "[Actions job api service redis]", "service search]", "matrix.mock_image"},
	} {
		for _, w := range want {
			if !strings.Contains(all[path], w) {
				t.Errorf("%s: report lacks %q", path, w)
			}
		}
	}
}
