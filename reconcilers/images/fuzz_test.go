package images

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
)

// fuzzPaths pick the format; the fuzzer mutates the content.
var fuzzPaths = []string{
	"Dockerfile",
	"deploy/app.yaml",
	"docker-compose.yml",
	".github/workflows/ci.yml",
	"action.yml",
	"docker/base", // sniffed
	"overlays/prod/kustomization.yaml",
}

func kindOf(path string) uint8 {
	switch formatOf(path, nil) {
	case formatDockerfile:
		return 0
	case formatCompose:
		return 2
	case formatWorkflow:
		return 3
	case formatAction:
		return 4
	case formatKustomize:
		return 6
	}
	return 1
}

func addSeeds(f *testing.F) {
	for _, fx := range fixtures(f) {
		content, err := os.ReadFile(fx.file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(kindOf(fx.path), content)
	}
	f.Add(uint8(1), []byte("a: {image: x:1}\n---\n# tend:ignore\nimage: y\n"))
	f.Add(uint8(0), []byte("FROM a \\\n b\r\nCOPY --from=c:1 . .\n"))
	f.Add(uint8(0), []byte("  # SyNtAx=docker/dockerfile:1\n#escape=`\nARG B=\"nginx:1\" C\nFROM ${B}\nFROM $C\nFROM ${B:-x}\n"))
	f.Add(uint8(1), []byte("image: {registry: r.io, repository: a/b, tag: 1.2, digest: \"\"}\nx: {image: a, tag: '1@sha256:00'}\n"))
	f.Add(uint8(6), []byte("images:\n- name: a\n  newTag: 1 # c\n- {name: b, newTag: '2'}\n- name: c\n  digest:\n"))
}

func FuzzFind(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, kind uint8, content []byte) {
		path := fuzzPaths[int(kind)%len(fuzzPaths)]
		refs, notes := Find(path, content)
		checkRefs(t, content, refs)
		lines := bytes.Count(content, []byte("\n")) + 1
		for _, n := range notes {
			if n.Line < 0 || n.Line > lines || n.Text == "" {
				t.Fatalf("bad note %+v", n)
			}
		}
	})
}

func FuzzPin(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, kind uint8, content []byte) {
		path := fuzzPaths[int(kind)%len(fuzzPaths)]
		r := &fakeResolver{}
		out, changes, failures, _ := Pin(context.Background(), path, content, r)
		refs, _ := Find(path, content)
		checkRefs(t, content, refs)
		if len(changes)+len(failures) > len(refs) {
			t.Fatalf("%d changes and %d failures for %d references", len(changes), len(failures), len(refs))
		}
		for _, c := range changes {
			if c.Old != c.Ref.Text || c.New != c.Ref.ResolveKey()+"@"+fakeDigest(c.Ref.ResolveKey()) {
				t.Fatalf("bad change %+v", c)
			}
		}
		checkPinned(t, content, out, changes)
		checkIdempotent(t, path, content, out, changes, r)
	})
}

// FuzzUpdate moves tags under the widest policy with a fake tag list that
// contains the file's own tags and made-up newer ones: whatever the input,
// the output keeps every byte outside the edits and is stable on a second
// run.
func FuzzUpdate(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, kind uint8, content []byte) {
		path := fuzzPaths[int(kind)%len(fuzzPaths)]
		refs, _ := Find(path, content)
		tags := fakeTags{}
		for _, r := range refs {
			tags[r.Name] = append(tags[r.Name], r.followedTag(), r.followedTag()+".1", "9"+r.followedTag(), "v99", "latest")
		}
		opts := Options{Resolver: &fakeResolver{}, Tags: tags, Policy: Policy{Update: UpdateMajor}}
		out, changes, _, _ := Update(context.Background(), path, content, opts)
		checkPinned(t, content, out, changes)
		again, changes2, _, _ := Update(context.Background(), path, out, opts)
		if len(changes2) != 0 || !bytes.Equal(again, out) {
			t.Fatalf("a second run changed %d references: %+v", len(changes2), changes2)
		}
	})
}

// FuzzPickTag checks the version rules on arbitrary tags: the choice is one
// of the candidates or the current tag, a version tag never moves to another
// family, and a release never moves to a pre-release.
func FuzzPickTag(f *testing.F) {
	for _, tags := range [][]string{nginxTags, postgresTags, nodeTags, pythonTags, alpineTags, gcrTags, bitnamiTags} {
		for _, cur := range tags[:3] {
			f.Add(cur, strings.Join(tags, " "), uint8(3))
		}
	}
	modes := []string{UpdateDigest, UpdatePatch, UpdateMinor, UpdateMajor}
	f.Fuzz(func(t *testing.T, current, list string, mode uint8) {
		tags := strings.Fields(list)
		m := modes[int(mode)%len(modes)]
		got := pickTag(current, tags, m)
		if got == current {
			return
		}
		if !slices.Contains(tags, got) {
			t.Fatalf("pickTag(%q) = %q, not a candidate", current, got)
		}
		cv, ok1 := parseTagVersion(current)
		gv, ok2 := parseTagVersion(got)
		if !ok1 || !ok2 || !cv.sameFamily(gv) || !cv.withinBound(gv, m) || !gv.newerThan(cv) {
			t.Fatalf("pickTag(%q, %s) = %q: not a newer member of the family within the bound", current, m, got)
		}
		if cv.pre == "" && gv.pre != "" {
			t.Fatalf("pickTag(%q) = %q: a pre-release for a release", current, got)
		}
	})
}
