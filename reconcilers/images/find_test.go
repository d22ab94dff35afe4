package images

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		in                string
		name, tag, digest string
		bad               bool
	}{
		{in: "nginx", name: "nginx"},
		{in: "nginx:1.25", name: "nginx", tag: "1.25"},
		{in: "library/nginx:1.25-alpine", name: "library/nginx", tag: "1.25-alpine"},
		{in: "ghcr.io/a/b:v1@sha256:" + strings.Repeat("a", 64), name: "ghcr.io/a/b", tag: "v1", digest: "sha256:" + strings.Repeat("a", 64)},
		{in: "localhost:5000/app", name: "localhost:5000/app"},
		{in: "localhost:5000/app:2", name: "localhost:5000/app", tag: "2"},
		{in: "registry.example.com:8443/a/b/c:x_y.z", name: "registry.example.com:8443/a/b/c", tag: "x_y.z"},
		{in: "busybox@sha256:" + strings.Repeat("0", 64), name: "busybox", digest: "sha256:" + strings.Repeat("0", 64)},
		{in: "my_org/my__app:1", name: "my_org/my__app", tag: "1"},
		{in: "", bad: true},
		{in: "Nginx:1", bad: true},
		{in: "nginx:", bad: true},
		{in: "nginx:1.25#x", bad: true},
		{in: "nginx:-1", bad: true},
		{in: "nginx@sha256:", bad: true},
		{in: "a//b:1", bad: true},
		{in: "a..b:1", bad: true},
		{in: "-a:1", bad: true},
		{in: "nginx 1", bad: true},
		{in: "docker://nginx", bad: true},
		{in: "nginx:" + strings.Repeat("x", 129), bad: true},
	} {
		name, tag, digest, err := parseRef(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("parseRef(%q) = %q %q %q, want an error", tc.in, name, tag, digest)
			}
			continue
		}
		if err != nil || name != tc.name || tag != tc.tag || digest != tc.digest {
			t.Errorf("parseRef(%q) = %q %q %q %v, want %q %q %q", tc.in, name, tag, digest, err, tc.name, tc.tag, tc.digest)
		}
	}
}

func TestFormatOf(t *testing.T) {
	for path, want := range map[string]format{
		"Dockerfile":                       formatDockerfile,
		"dockerfile":                       formatDockerfile,
		"build/Dockerfile.prod":            formatDockerfile,
		"Dockerfile-alpine":                formatDockerfile,
		"svc/api.Dockerfile":               formatDockerfile,
		"svc/api.dockerfile":               formatDockerfile,
		"Containerfile":                    formatDockerfile,
		"images/base.containerfile":        formatDockerfile,
		"Dockerfile.dockerignore":          formatNone,
		".github/workflows/ci.yml":         formatWorkflow,
		"sub/.github/workflows/ci.yaml":    formatWorkflow,
		".github/actions/x/action.yml":     formatAction,
		"action.yaml":                      formatAction,
		"compose.yaml":                     formatCompose,
		"deploy/docker-compose.prod.yml":   formatCompose,
		"deploy/app.yaml":                  formatYAML,
		"charts/web/values.yml":            formatYAML,
		"README.md":                        formatNone,
		"main.go":                          formatNone,
		`windows\path\Dockerfile`:          formatDockerfile,
		".github/workflows/notes.md":       formatNone,
		"docker/base":                      formatDockerfile, // by content, below
		"docker/base-not-a-dockerfile.txt": formatNone,
	} {
		if got := formatOf(path, []byte("# base image\n\nFROM alpine:3\n")); got != want {
			t.Errorf("formatOf(%q) = %v, want %v", path, got, want)
		}
	}
	if got := formatOf("docker/script", []byte("#!/bin/sh\necho FROM\n")); got != formatNone {
		t.Errorf("a script without extension: %v", got)
	}
}

// refTexts renders Find's answer compactly for table tests.
func refTexts(refs []Ref) []string {
	var out []string
	for _, r := range refs {
		out = append(out, fmt.Sprintf("%d:%s [%s]", r.Line, r.Text, r.Source))
	}
	return out
}

func TestFindCases(t *testing.T) {
	for _, tc := range []struct {
		name, path, content string
		want                []string // "line:text [source]"
		notes               []string // substrings, one per expected note, in order
	}{
		{
			name:    "dockerfile parser directives: leading blanks, any case, syntax is an image",
			path:    "Dockerfile",
			content: "  # SyNtAx = docker/dockerfile:1.7\n\t#EsCaPe=`\nFROM alpine:3.20 AS a\nCOPY --from=a `\n  /x /y\nFROM `\n  busybox:1.36\n",
			want:    []string{"1:docker/dockerfile:1.7 [Dockerfile # syntax]", "3:alpine:3.20 [Dockerfile FROM]", "7:busybox:1.36 [Dockerfile FROM]"},
			notes:   []string{`"a" names an earlier build stage`},
		},
		{
			name:    "dockerfile directives end at the first other line",
			path:    "Dockerfile",
			content: "# a comment first\n# syntax=docker/dockerfile:1\nFROM alpine:3.20\n",
			want:    []string{"3:alpine:3.20 [Dockerfile FROM]"},
		},
		{
			name: "dockerfile ARG defaults used by FROM",
			path: "Dockerfile",
			content: "ARG REGISTRY=ghcr.io\nARG BASE=\"nginx:1.27\" OTHER\nARG TAG=1.0\nFROM $BASE AS one\nFROM ${BASE}\n" +
				"FROM ${REGISTRY}/app:${TAG}\nFROM $OTHER\nFROM $MISSING\nFROM ${BASE:-x}\nARG LATE=busybox:1\nFROM $LATE\n",
			want: []string{"2:nginx:1.27 [Dockerfile ARG BASE (FROM on line 4)]"},
			notes: []string{
				`"${REGISTRY}/app:${TAG}" is assembled from ARGs`,
				"ARG OTHER has no default",
				"ARG MISSING is not declared before the first FROM",
				`"${BASE:-x}" is assembled from ARGs and other text, or uses variable modifiers`,
				"ARG LATE is not declared before the first FROM",
			},
		},
		{
			name:    "dockerfile ARG ignored, ARG naming a stage, ARG with a variable",
			path:    "Dockerfile",
			content: "# tend:ignore\nARG BASE=nginx:1\nARG TOOLS=tools\nARG IMG=${REGISTRY}/x:1\nFROM $BASE\nFROM alpine:3 AS tools\nFROM $TOOLS\nFROM $IMG\n",
			want:    []string{"6:alpine:3 [Dockerfile FROM]"},
			notes:   []string{`ARG BASE (FROM on line 5) "nginx:1": ignored (# tend:ignore above the instruction)`, `"tools" names an earlier build stage`, `ARG IMG (FROM on line 8) "${REGISTRY}/x:1" contains a variable`},
		},
		{
			name: "dockerfile flags, case, quotes, incomplete instructions",
			path: "Dockerfile",
			content: "from --platform=linux/amd64 --foo=bar alpine:3 as One\n" +
				"FROM\nFROM image AS\nFrom 'debian:12'\nCOPY --from= /a /b\nCOPY --from=ONE /a /b\n" +
				"COPY --chmod=0755 --from=\"busybox:1\" /a /b\nONBUILD COPY --from=nginx:1 /a /b\n",
			want: []string{
				"1:alpine:3 [Dockerfile FROM]",
				"3:image [Dockerfile FROM]",
				"4:debian:12 [Dockerfile FROM]",
				"7:busybox:1 [Dockerfile COPY --from]",
			},
			notes: []string{`"ONE" names an earlier build stage`},
		},
		{
			name:    "dockerfile FROM x AS x pulls image x; later FROM x is the stage",
			path:    "Dockerfile",
			content: "FROM node AS node\nFROM node\n",
			want:    []string{"1:node [Dockerfile FROM]"},
			notes:   []string{`"node" names an earlier build stage`},
		},
		{
			name: "dockerfile heredocs",
			path: "Dockerfile",
			content: "FROM a:1\nRUN <<-EOT bash\n\tFROM b:1\n\tEOT\nCOPY <<\"EOF\" <<'X' /dst\nFROM c:1\nEOF\nFROM d:1\nX\n" +
				"RUN cat <<EOF >/etc/x\nFROM e:1\nEOF\nFROM f:1\n",
			want: []string{"1:a:1 [Dockerfile FROM]", "13:f:1 [Dockerfile FROM]"},
		},
		{
			name:    "dockerfile unterminated heredoc swallows the rest, as in Docker",
			path:    "Dockerfile",
			content: "FROM a:1\nRUN <<EOF\nFROM b:1\n",
			want:    []string{"1:a:1 [Dockerfile FROM]"},
		},
		{
			name:    "dockerfile continuation with comments and blank lines inside",
			path:    "Dockerfile",
			content: "FROM \\\n# a comment\n\n   --platform=$TARGETPLATFORM \\\n   alpine:3.20 \\\n   AS base\nFROM base\n",
			want:    []string{"5:alpine:3.20 [Dockerfile FROM]"},
			notes:   []string{`"base" names an earlier build stage`},
		},
		{
			name:    "dockerfile with a byte order mark",
			path:    "Dockerfile",
			content: "\ufeffFROM a:1\n",
			want:    []string{"1:a:1 [Dockerfile FROM]"},
		},
		{
			name:    "yaml document ignore after a byte order mark",
			path:    "pod.yaml",
			content: "\ufeff# tend:ignore\nimage: a:1\n",
			notes:   []string{"on the document"},
		},
		{
			name:    "dockerfile ignore-file",
			path:    "Dockerfile",
			content: "FROM alpine:3\n# tend:ignore-file: generated\n",
			notes:   []string{"tend:ignore-file"},
		},
		{
			name:    "dockerfile marker must be the word tend:ignore",
			path:    "Dockerfile",
			content: "# tend:ignored\nFROM a:1\n# tend:ignore-next\nFROM b:1\n#tend:ignore\nFROM c:1\n",
			want:    []string{"2:a:1 [Dockerfile FROM]", "4:b:1 [Dockerfile FROM]"},
			notes:   []string{"ignored (# tend:ignore above the instruction)"},
		},
		{
			name: "yaml with BOM, tabs, quoted keys and unusual line breaks",
			path: "k8s/pod.yaml",
			// yaml.v3 counts LS and NEL as line breaks; editors do not.
			content: "\ufeffkind: Pod\nnote: \"a\u2028line separator\"\n\"image\":\tnginx:1\nx: {'image': \"a/b:2\" , image2: c:3}\ny: \"é\u0085\"\nz: [ {image: ü-not-valid}, {image: d:4} ]\n",
			want: []string{
				"3:nginx:1 [YAML image]",
				"4:a/b:2 [YAML x.image]",
				"6:d:4 [YAML z[1].image]",
			},
			notes: []string{`"ü-not-valid" is not an image reference`},
		},
		{
			name:    "yaml non-string image values are not references; Helm maps are",
			path:    "values.yaml",
			content: "a: {image: 1.25}\nb: {image: true}\nc: {image: null}\nd: {image: ~}\ne: {image: [x:1]}\nf:\n  image:\n    repository: nginx\n    tag: \"1.25\"\ng: {image: !custom x:1}\n",
			want:    []string{"9:nginx:1.25 [YAML f.image]"},
		},
		{
			name:    "helm maps: digest key and digest in the tag together are left alone",
			path:    "values.yaml",
			content: "image:\n  repository: nginx\n  tag: \"1.27@sha256:" + strings.Repeat("a", 64) + "\"\n  digest: \"\"\n",
			notes:   []string{"its tag carries a digest, which belongs in the digest key"},
		},
		{
			name:    "kustomize: a digest in newTag is left alone",
			path:    "kustomization.yaml",
			content: "images:\n- name: nginx\n  newTag: 1.27@sha256:" + strings.Repeat("a", 64) + "\n",
			notes:   []string{"its tag carries a digest, which belongs in the digest key"},
		},
		{
			name:    "yaml image mappings of unknown shape are noted",
			path:    "values.yaml",
			content: "app:\n  image:\n    pullPolicy: Always\n    name: web\n",
			notes:   []string{"app.image is a mapping without repository or reference"},
		},
		{
			name:    "yaml anchors, tags and aliases",
			path:    "values.yaml",
			content: "base: &b\n  image: &img !!str nginx:1\nother:\n  image: *img\n  <<: *b\nmore: {image: &x2 'redis:7'}\n",
			want:    []string{"2:nginx:1 [YAML base.image]", "6:redis:7 [YAML more.image]"},
		},
		{
			name:    "yaml root flow mapping and sequence",
			path:    "list.yaml",
			content: "[{image: a:1}, {image: \"b:2\"}]\n---\n{image: c:3}\n",
			want:    []string{"1:a:1 [YAML [0].image]", "1:b:2 [YAML [1].image]", "3:c:3 [YAML image]"},
		},
		{
			name:    "yaml document ignore applies to its own document only",
			path:    "multi.yaml",
			content: "image: a:1\n---\n  # indented: applies to the next line only\nimage: b:1\nx: {image: c:1}\n---\nimage: d:1\n# tend:ignore\n---\nimage: e:1\n",
			want:    []string{"1:a:1 [YAML image]", "4:b:1 [YAML image]", "5:c:1 [YAML x.image]", "10:e:1 [YAML image]"},
			notes:   []string{"on the document"},
		},
		{
			name:    "yaml indented ignore above a list item covers the item, not the list",
			path:    "pod.yaml",
			content: "spec:\n  containers:\n  # tend:ignore\n  - name: a\n    image: a:1\n  - name: b\n    image: b:1\n  initContainers:\n    # tend:ignore\n    -\n      image: c:1\n",
			want:    []string{"7:b:1 [YAML spec.containers[1].image]", "11:c:1 [YAML spec.initContainers[0].image]"},
			notes:   []string{"above"},
		},
		{
			name:    "yaml parse error",
			path:    "bad.yaml",
			content: "a: [\nimage: nginx:1\n",
			notes:   []string{"not valid YAML"},
		},
		{
			name:    "workflow detected by content, with expression container",
			path:    "ci/templates/build.yml",
			content: "on: push\njobs:\n  a:\n    container: ${{ matrix.c }}\n    steps:\n      - uses: docker://x/y:1\n      - uses: actions/checkout@v4\n      - uses: 'docker://'\n  b:\n    container: {image: 'z:2', options: --cpus 1}\n    services: {db: {image: p:16}}\n",
			want:    []string{"6:x/y:1 [Actions job a step 1 uses]", "10:z:2 [Actions job b container]", "11:p:16 [Actions job b service db]"},
			notes:   []string{"contains a variable"},
		},
		{
			name:    "composite action",
			path:    "tools/action.yml",
			content: "runs:\n  using: composite\n  steps:\n    - uses: docker://alpine:3.20\n    - uses: actions/setup-go@v5\n",
			want:    []string{"4:alpine:3.20 [Action step 1 uses]"},
		},
		{
			name:    "action with Dockerfile image",
			path:    "action.yml",
			content: "runs:\n  using: docker\n  image: Dockerfile\n",
		},
		{
			name:    "compose detected by content, aliases and merges",
			path:    "stack.yml",
			content: "x-svc: &svc {image: 'a:1', restart: always}\nservices:\n  one: *svc\n  two:\n    <<: *svc\n  three:\n    <<: *svc\n    image: b:2\n  four:\n    <<: *svc\n    build: .\n",
			want:    []string{"1:a:1 [Compose service one]", "8:b:2 [Compose service three]"},
			notes:   []string{"has a build section"},
		},
		{
			name:    "kubernetes with services key is not compose",
			path:    "svc.yaml",
			content: "apiVersion: v1\nkind: List\nservices:\n  web:\n    image: a:1\n",
			want:    []string{"5:a:1 [Kubernetes List services.web.image]"},
		},
		{
			name:    "yaml trailing ignore and a hash inside a scalar",
			path:    "x.yaml",
			content: "a: {image: 'a:1'} # tend:ignore\nb:\n  image: b:1#x\nc:\n  image: \"c:1 # tend:ignore\"\n",
			notes:   []string{"ignored (# tend:ignore on its line)", `"b:1#x" is not an image reference`, "ignored (# tend:ignore on its line)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refs, notes := Find(tc.path, []byte(tc.content))
			checkRefs(t, []byte(tc.content), refs)
			if got := refTexts(refs); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("refs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			var ns []string
			for _, n := range notes {
				ns = append(ns, fmt.Sprintf("L%d %s", n.Line, n.Text))
			}
			if len(notes) != len(tc.notes) {
				t.Errorf("notes:\n%s\nwant %d notes matching %q", strings.Join(ns, "\n"), len(tc.notes), tc.notes)
				return
			}
			for i, want := range tc.notes {
				if !strings.Contains(notes[i].Text, want) {
					t.Errorf("note %d = %q, want it to contain %q", i, notes[i].Text, want)
				}
			}
		})
	}
}

func TestFindHugeFile(t *testing.T) {
	content := bytes.Repeat([]byte("image: nginx:1\n"), MaxFileSize/15+1)
	refs, notes := Find("big.yaml", content)
	if len(refs) != 0 || len(notes) != 1 || !strings.Contains(notes[0].Text, "limit") {
		t.Errorf("refs %d, notes %+v", len(refs), notes)
	}
	// Just under the limit, a one-line flow document with many entries and
	// multi-byte text is still handled quickly (offsets are not quadratic).
	var b strings.Builder
	b.WriteString("é: [")
	for b.Len() < MaxFileSize-64 {
		b.WriteString("{image: a:1}, ")
	}
	b.WriteString("{image: b:2}]\n")
	refs, _ = Find("flow.yaml", []byte(b.String()))
	if len(refs) < 50000 || refs[len(refs)-1].Text != "b:2" {
		t.Errorf("found %d refs", len(refs))
	}
}

// Merges of merges of lists of aliases: each mapping must be looked at once,
// or this small file costs 10^8 lookups per key.
func TestFindMergeBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("x-a0: &a0 {restart: always}\n")
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&b, "x-a%d: &a%d {<<: [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]}\n")
	}
	b.WriteString("services:\n  web: {<<: *a8}\n  db: {<<: *a8, image: 'postgres:16'}\n")
	done := make(chan []Ref)
	go func() {
		refs, _ := Find("compose.yaml", []byte(b.String()))
		done <- refs
	}()
	select {
	case refs := <-done:
		if len(refs) != 1 || refs[0].Text != "postgres:16" {
			t.Errorf("refs: %+v", refs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("merge lookups are exponential")
	}
}

func TestPinBasics(t *testing.T) {
	content := []byte("FROM a:1\nFROM a:1\nFROM b\nFROM c:1@" + fakeDigest("c:1") + "\nFROM bad:1\n")
	r := &fakeResolver{}
	out, changes, failures, _ := Pin(context.Background(), "Dockerfile", content, resolverFunc(func(ctx context.Context, ref string) (string, error) {
		if ref == "bad:1" {
			return "not-a-digest", nil
		}
		return r.Digest(ctx, ref)
	}))
	want := "FROM a:1@" + fakeDigest("a:1") + "\nFROM a:1@" + fakeDigest("a:1") + "\nFROM b:latest@" + fakeDigest("b:latest") +
		"\nFROM c:1@" + fakeDigest("c:1") + "\nFROM bad:1\n"
	if string(out) != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
	if len(changes) != 3 || len(failures) != 1 || !strings.Contains(failures[0].Err.Error(), "not a digest") {
		t.Errorf("changes %+v\nfailures %+v", changes, failures)
	}
	if r.calls["a:1"] != 1 {
		t.Errorf("a:1 resolved %d times, want once per run", r.calls["a:1"])
	}

	// Nothing to change: the very same bytes come back.
	same := []byte("FROM c:1@" + fakeDigest("c:1") + "\n")
	out, changes, _, _ = Pin(context.Background(), "Dockerfile", same, r)
	if len(changes) != 0 || &out[0] != &same[0] {
		t.Errorf("unchanged file: %d changes, copied: %v", len(changes), &out[0] != &same[0])
	}

	// A resolver error is reported per reference, wrapped with where it was.
	boom := errors.New("boom")
	_, _, failures, _ = Pin(context.Background(), "Dockerfile", []byte("FROM a:1\nFROM a:1\n"), resolverFunc(func(context.Context, string) (string, error) { return "", boom }))
	if len(failures) != 2 || !errors.Is(failures[1].Err, boom) || failures[1].Ref.Line != 2 || !strings.Contains(failures[1].Err.Error(), "Dockerfile FROM") {
		t.Errorf("failures: %+v", failures)
	}
}

type resolverFunc func(ctx context.Context, ref string) (string, error)

func (f resolverFunc) Digest(ctx context.Context, ref string) (string, error) { return f(ctx, ref) }
