package main

import (
	"net/http/httptest"
	"testing"
)

func TestEndpointFamily(t *testing.T) {
	for path, want := range map[string]string{
		"/repos/acme/web":                          "repos",
		"/repos/acme/web/contents/a/b.yaml":        "contents",
		"/api/v3/repos/acme/web/git/refs/heads/x":  "git",
		"/repos/acme/web/commits/abc/check-runs":   "commits",
		"/repos/acme/web/hooks":                    "repos-other",
		"/app/installations/7/access_tokens":       "app",
		"/rate_limit":                              "rate_limit",
		"/gists/1":                                 "other",
		"/":                                        "other",
		"/app-manifests/code/conversions":          "app-manifests",
		"/repos/evil-name-with-many-parts/x/y/z/w": "repos-other",
	} {
		if got := endpointFamily(path); got != want {
			t.Errorf("endpointFamily(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestInstallationOf(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("User-Agent", "tend/dev (installation: 42)")
	if got := installationOf(r); got != 42 {
		t.Errorf("installation = %d", got)
	}
	r.Header.Set("User-Agent", "tend/dev (application)")
	if got := installationOf(r); got != 0 {
		t.Errorf("app request: installation = %d", got)
	}
}

func TestDeliveryOutcome(t *testing.T) {
	for status, want := range map[int]string{200: "accepted", 202: "accepted", 400: "invalid", 413: "too_large", 503: "unavailable", 500: "error"} {
		if got := deliveryOutcome(status); got != want {
			t.Errorf("deliveryOutcome(%d) = %q, want %q", status, got, want)
		}
	}
}
