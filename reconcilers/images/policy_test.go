package images

import "testing"

func TestPolicyIgnores(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		name     string
		want     string
	}{
		{[]string{"nginx"}, "nginx", "nginx"},
		{[]string{"nginx"}, "docker.io/library/nginx", "nginx"},
		{[]string{"docker.io/library/*"}, "nginx", "docker.io/library/*"},
		{[]string{"index.docker.io/library/redis"}, "redis", "index.docker.io/library/redis"},
		{[]string{"library/postgres"}, "postgres", "library/postgres"},
		{[]string{"ghcr.io/acme/*"}, "ghcr.io/acme/api", "ghcr.io/acme/*"},
		{[]string{"ghcr.io/acme/*"}, "ghcr.io/acme/tools/lint", ""},
		{[]string{"ghcr.io/acme/**"}, "ghcr.io/acme/tools/lint", "ghcr.io/acme/**"},
		{[]string{"bitnami/*"}, "docker.io/bitnami/postgresql", "bitnami/*"},
		{[]string{"nginx"}, "ghcr.io/nginx", ""},
		{[]string{"quay.io/x/*", "redis"}, "redis", "redis"},
		{nil, "nginx", ""},
	} {
		if got := (Policy{Ignore: tc.patterns}).ignores(tc.name); got != tc.want {
			t.Errorf("ignores(%q) with %q = %q, want %q", tc.name, tc.patterns, got, tc.want)
		}
	}
}
