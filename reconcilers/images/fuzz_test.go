package images

import (
	"bytes"
	"context"
	"os"
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
