package images

import (
	"strings"
	"testing"
)

func TestRegistryPage(t *testing.T) {
	for image, want := range map[string]string{
		"nginx":                           "https://hub.docker.com/_/nginx",
		"docker.io/library/postgres":      "https://hub.docker.com/_/postgres",
		"bitnami/postgresql":              "https://hub.docker.com/r/bitnami/postgresql",
		"docker.io/grafana/grafana":       "https://hub.docker.com/r/grafana/grafana",
		"ghcr.io/acme/api":                "https://ghcr.io/acme/api",
		"quay.io/jetstack/cert-manager":   "https://quay.io/repository/jetstack/cert-manager",
		"public.ecr.aws/docker/library/x": "https://gallery.ecr.aws/docker/library/x",
		"mcr.microsoft.com/dotnet/sdk":    "https://mcr.microsoft.com/artifact/mar/dotnet/sdk",
		"gcr.io/distroless/static":        "https://gcr.io/distroless/static",
		"registry.k8s.io/pause":           "",
		"127.0.0.1:5000/x":                "",
		"Not A Name":                      "",
	} {
		if got := RegistryPage(image); got != want {
			t.Errorf("RegistryPage(%q) = %q, want %q", image, got, want)
		}
	}
}

// The PR body and check run summary show each change as image (linked
// where a page is known), from tag and digest, to tag and digest.
func TestDescribe(t *testing.T) {
	pins := []Change{
		{Ref: Ref{Line: 3, Tag: "1.27-alpine"}, Image: "nginx", FromTag: "1.27-alpine", ToTag: "1.28-alpine", ToDigest: "sha256:" + strings.Repeat("a", 64)},
		{Ref: Ref{Line: 9, Tag: "16"}, Image: "registry.example.com/db", FromTag: "16", FromDigest: "sha256:" + strings.Repeat("b", 64), ToTag: "16", ToDigest: "sha256:" + strings.Repeat("c", 64)},
	}
	title, summary := describe("deploy/app.yaml", pins)
	if title != "Update container images in deploy/app.yaml" {
		t.Errorf("title %q", title)
	}
	for _, row := range []string{
		"| [`nginx`](https://hub.docker.com/_/nginx) | `1.27-alpine` | `1.28-alpine` `sha256:aaaaaaaaaaaa` | 3 |",
		"| `registry.example.com/db` | `16` `sha256:bbbbbbbbbbbb` | `16` `sha256:cccccccccccc` | 9 |",
	} {
		if !strings.Contains(summary, row) {
			t.Errorf("summary lacks %q:\n%s", row, summary)
		}
	}
	if title, _ := describe("x", pins[1:]); title != "Update image digests in x" {
		t.Errorf("digest-only title %q", title)
	}
}
