package images

import (
	"strings"
	"testing"
)

// Tag lists shaped like the real ones (abridged, in registry order, which is
// not version order), written for these tests.
var (
	nginxTags = strings.Fields(`1 1-alpine 1-alpine-perl 1-bookworm 1-perl 1.25 1.25-alpine 1.25.4 1.25.4-alpine
		1.25.5 1.25.5-alpine 1.25.5-alpine3.19 1.26 1.26-alpine 1.26.0 1.26.1 1.26.1-alpine 1.26.2 1.26.2-alpine
		1.26.2-alpine3.20 1.26.2-bookworm 1.27 1.27-alpine 1.27-alpine-slim 1.27-bookworm 1.27.0 1.27.1 1.27.2
		1.27.3 1.27.3-alpine 1.27.3-alpine3.20 1.27.3-bookworm 1.27.3-perl 1.28 1.28-alpine 1.28.0 1.28.0-alpine
		1.29.0-alpine-slim alpine alpine-slim bookworm latest mainline mainline-alpine stable stable-alpine perl`)
	postgresTags = strings.Fields(`9.6 9.6.24 10 10.23 15 15-alpine 15.7 15.8 15.8-alpine 15.8-bookworm 16
		16-alpine 16-alpine3.20 16-bookworm 16.3 16.4 16.4-alpine 16.4-alpine3.20 16.4-bookworm 16.4-bullseye
		17beta1 17beta2 17rc1 17 17-alpine 17.0 17.0-alpine 17.2 17.2-bookworm 18beta1 18beta1-alpine alpine latest bookworm`)
	nodeTags = strings.Fields(`18 18-alpine 18.20.4 18.20.4-alpine3.20 20 20-alpine 20-bookworm-slim 20.17.0
		20.17.0-bookworm-slim 20.18.0 20.18.0-bookworm-slim 22 22-alpine 22-bookworm-slim 22.9.0 22.11.0
		22.11.0-bookworm-slim 23 23-alpine 23.1.0 23.1.0-bookworm-slim current current-alpine hydrogen iron jod lts lts-alpine`)
	pythonTags = strings.Fields(`3.11 3.11-slim 3.11.9 3.11.9-slim-bookworm 3.11.10-slim-bookworm 3.12 3.12-slim
		3.12-slim-bookworm 3.12.6 3.12.7 3.12.7-slim-bookworm 3.12.7-alpine3.20 3.13 3.13-slim-bookworm 3.13.0
		3.13.0-slim-bookworm 3.13.0rc3 3.13.0rc3-slim-bookworm 3.14.0a1 3.14.0a1-slim-bookworm 3.14-rc-slim slim latest`)
	alpineTags  = strings.Fields(`3 3.18 3.18.9 3.19 3.19.4 3.20 3.20.3 3.21 3.21.0 edge latest 20240923 20241010`)
	bitnamiTags = strings.Fields(`16.4.0-debian-12-r9 16.4.0-debian-12-r13 16.4.0-debian-12-r14 16.6.0-debian-12-r1
		16.6.0-debian-12-r2 17.2.0-debian-12-r0 16 16.6.0 latest`)
	// Distroless publishes no version tags at all, and cosign signatures
	// and attestations as sha256-….sig / .att tags.
	distrolessTags = strings.Fields(`debug debug-nonroot latest nonroot
		sha256-0a9bb5d7e9c3a25d7a4c4e4bfbbd7d5f12d1b1a46c1b2ef1f0f7b5f8b0d9a1c2.sig
		sha256-0a9bb5d7e9c3a25d7a4c4e4bfbbd7d5f12d1b1a46c1b2ef1f0f7b5f8b0d9a1c2.att`)
	// A gcr.io repository pushed by CI: versions prefixed with v, plus
	// commit tags and digest-named tags.
	gcrTags = strings.Fields(`v0.9.0 v0.10.0 v0.10.1 v0.11.0-rc.1 v0.11.0-rc.2 v1.0.0-beta.1 3f9c1a2 main
		sha256-5b2f6d1c8e3a4b7f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a2f.sig`)
)

func TestPickTag(t *testing.T) {
	for _, tc := range []struct {
		tags    []string
		current string
		want    map[string]string // mode → tag
	}{
		// Floating two-part tags stay two-part; the alpine family stays alpine.
		{nginxTags, "1.27-alpine", map[string]string{UpdatePatch: "1.27-alpine", UpdateMinor: "1.28-alpine", UpdateMajor: "1.28-alpine"}},
		{nginxTags, "1.26", map[string]string{UpdatePatch: "1.26", UpdateMinor: "1.28", UpdateMajor: "1.28"}},
		{nginxTags, "1.26.1", map[string]string{UpdatePatch: "1.26.2", UpdateMinor: "1.28.0", UpdateMajor: "1.28.0"}},
		{nginxTags, "1.26.1-alpine", map[string]string{UpdatePatch: "1.26.2-alpine", UpdateMinor: "1.28.0-alpine", UpdateMajor: "1.28.0-alpine"}},
		// alpine3.20 is its own family: no 1.28 of it exists.
		{nginxTags, "1.26.2-alpine3.20", map[string]string{UpdateMinor: "1.27.3-alpine3.20"}},
		{nginxTags, "1-alpine", map[string]string{UpdateMinor: "1-alpine", UpdateMajor: "1-alpine"}},
		{nginxTags, "mainline-alpine", map[string]string{UpdateMajor: "mainline-alpine"}},
		{nginxTags, "latest", map[string]string{UpdateMajor: "latest"}},
		{nginxTags, "1.27", map[string]string{UpdateDigest: "1.27", "": "1.27"}},
		// Pre-releases only when the current tag is one.
		{postgresTags, "16", map[string]string{UpdateMinor: "16", UpdateMajor: "17"}},
		{postgresTags, "16.3", map[string]string{UpdatePatch: "16.3", UpdateMinor: "16.4", UpdateMajor: "17.2"}},
		{postgresTags, "16-alpine", map[string]string{UpdateMajor: "17-alpine"}},
		{postgresTags, "17beta1", map[string]string{UpdateMinor: "17", UpdateMajor: "18beta1"}},
		{postgresTags, "16.4-bookworm", map[string]string{UpdateMajor: "17.2-bookworm"}},
		{nodeTags, "20-bookworm-slim", map[string]string{UpdateMinor: "20-bookworm-slim", UpdateMajor: "22-bookworm-slim"}},
		{nodeTags, "20.17.0", map[string]string{UpdatePatch: "20.17.0", UpdateMinor: "20.18.0", UpdateMajor: "23.1.0"}},
		{nodeTags, "22.9.0", map[string]string{UpdateMinor: "22.11.0"}},
		{nodeTags, "lts-alpine", map[string]string{UpdateMajor: "lts-alpine"}},
		{pythonTags, "3.12-slim-bookworm", map[string]string{UpdateMinor: "3.13-slim-bookworm"}},
		{pythonTags, "3.12.6", map[string]string{UpdatePatch: "3.12.7", UpdateMinor: "3.13.0"}},
		{pythonTags, "3.11.9-slim-bookworm", map[string]string{UpdatePatch: "3.11.10-slim-bookworm", UpdateMinor: "3.13.0-slim-bookworm"}},
		{pythonTags, "3.13.0rc3", map[string]string{UpdatePatch: "3.13.0", UpdateMajor: "3.14.0a1"}},
		{pythonTags, "3.12-slim", map[string]string{UpdateMinor: "3.12-slim"}},
		{alpineTags, "3.19", map[string]string{UpdatePatch: "3.19", UpdateMinor: "3.21"}},
		{alpineTags, "3.19.4", map[string]string{UpdatePatch: "3.19.4", UpdateMinor: "3.21.0"}},
		{alpineTags, "3", map[string]string{UpdateMajor: "3"}},
		{alpineTags, "20240923", map[string]string{UpdateMajor: "20241010"}},
		{alpineTags, "edge", map[string]string{UpdateMajor: "edge"}},
		{distrolessTags, "nonroot", map[string]string{UpdateMajor: "nonroot"}},
		{distrolessTags, "debug-nonroot", map[string]string{UpdateMajor: "debug-nonroot"}},
		{gcrTags, "v0.10.0", map[string]string{UpdatePatch: "v0.10.1", UpdateMinor: "v0.10.1", UpdateMajor: "v0.10.1"}},
		{gcrTags, "v0.11.0-rc.1", map[string]string{UpdatePatch: "v0.11.0-rc.2", UpdateMajor: "v1.0.0-beta.1"}},
		{gcrTags, "main", map[string]string{UpdateMajor: "main"}},
		// A tag the registry no longer lists is still only replaced by newer ones.
		{nginxTags, "1.30", map[string]string{UpdateMajor: "1.30"}},
		{nil, "1.27", map[string]string{UpdateMajor: "1.27"}},
		// Bitnami rebuilds: the -rN revision orders, it does not split families.
		{bitnamiTags, "16.4.0-debian-12-r13", map[string]string{UpdatePatch: "16.4.0-debian-12-r14", UpdateMinor: "16.6.0-debian-12-r2", UpdateMajor: "17.2.0-debian-12-r0"}},
	} {
		for mode, want := range tc.want {
			if got := pickTag(tc.current, tc.tags, mode); got != want {
				t.Errorf("pickTag(%q, %q) = %q, want %q", tc.current, mode, got, want)
			}
		}
	}
}

func TestParseTagVersion(t *testing.T) {
	for _, tc := range []struct {
		tag, family string // family: prefix|parts|pre|suffix
	}{
		{"1.27", "|2||"},
		{"v1.2.3", "v|3||"},
		{"1.27-alpine", "|2||alpine"},
		{"3.12-slim-bookworm", "|2||slim-bookworm"},
		{"1.27.3-alpine3.20", "|3||alpine3.20"},
		{"17beta2", "|1|beta.2|"},
		{"3.13.0rc3-slim-bookworm", "|3|rc.3|slim-bookworm"},
		{"3.14.0a1", "|3|alpha.1|"},
		{"v0.11.0-rc.2", "v|3|rc.2|"},
		{"22-bookworm", "|1||bookworm"},
		{"16.4.0-debian-12-r13", "|3||debian-12"},
		{"1.2.3-r4", "|3||"},
		{"latest", ""},
		{"nonroot", ""},
		{"sha256-0a9b.sig", ""},
		{"1.2.3.4", ""},
		{"99999999999", ""},
		{"1.-x", ""},
	} {
		v, ok := parseTagVersion(tc.tag)
		got := ""
		if ok {
			got = v.prefix + "|" + string(rune('0'+len(v.parts))) + "|" + v.pre + "|" + v.suffix
		}
		if got != tc.family {
			t.Errorf("parseTagVersion(%q) = %q, want %q", tc.tag, got, tc.family)
		}
	}
}

// Tag names come from registries, which are untrusted: a tag is only ever
// written into a file when it parses as a version of the current family,
// so line breaks, quotes, spaces or YAML syntax never reach the file.
func TestPickTagRefusesHostileTags(t *testing.T) {
	hostile := []string{"1.28\n", "1.28\"", "1.28 ", "1.28-alpine\nimage: evil", "1.28-alpine # x", "1.28-alpine\"", "v1.28", "1.28-alpine@sha256:00", "１.28"}
	for _, cur := range []string{"1.27", "1.27-alpine"} {
		if got := pickTag(cur, hostile, UpdateMajor); got != cur {
			t.Errorf("pickTag(%q) over hostile tags = %q", cur, got)
		}
	}
}
