package fakegithub

import (
	"testing"
	"time"
)

func TestRouting(t *testing.T) {
	start := time.Now()
	sp, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("spec loaded in %v", time.Since(start))
	cases := []struct {
		method, path, op string
		params           map[string]string
	}{
		{"GET", "/repos/o/r/contents/a/b/c.txt", "repos/get-content", map[string]string{"path": "a/b/c.txt"}},
		{"GET", "/repos/o/r/contents/a%2Fb%2Fc.txt", "repos/get-content", map[string]string{"path": "a/b/c.txt"}},
		{"GET", "/repos/o/r/contents/", "repos/get-content", map[string]string{"path": ""}},
		{"GET", "/repos/o/r/git/ref/heads/tend/x", "git/get-ref", map[string]string{"ref": "heads/tend/x"}},
		{"PATCH", "/repos/o/r/git/refs/heads/tend/x", "git/update-ref", map[string]string{"ref": "heads/tend/x"}},
		{"GET", "/repos/o/r/git/matching-refs/heads/tend/", "git/list-matching-refs", map[string]string{"ref": "heads/tend/"}},
		{"GET", "/repos/o/r/compare/main...tend%2Fx", "repos/compare-commits-with-basehead", map[string]string{"basehead": "main...tend/x"}},
		{"GET", "/repos/o/r/compare/main...tend/x", "repos/compare-commits-with-basehead", map[string]string{"basehead": "main...tend/x"}},
		{"GET", "/repos/o/r/commits/heads/main/check-runs", "checks/list-for-ref", map[string]string{"ref": "heads/main"}},
		{"GET", "/repos/o/r/commits/abc", "repos/get-commit", map[string]string{"ref": "abc"}},
		{"GET", "/repos/o/r/branches/tend%2Fx", "repos/get-branch", map[string]string{"branch": "tend/x"}},
		{"GET", "/repos/o/r/branches/tend/x", "repos/get-branch", map[string]string{"branch": "tend/x"}},
		{"GET", "/repos/o/r/releases/tags/v1/2", "repos/get-release-by-tag", map[string]string{"tag": "v1/2"}},
		{"GET", "/repos/o/r/releases/latest", "repos/get-latest-release", nil},
		{"GET", "/repos/o/r/releases/12", "repos/get-release", map[string]string{"release_id": "12"}},
		{"GET", "/repos/o/r/pulls/comments", "pulls/list-review-comments-for-repo", nil},
		{"DELETE", "/repos/o/r/issues/1/labels/area%2Fx", "issues/remove-label", map[string]string{"name": "area/x"}},
		{"GET", "/repos/o/r/git/trees/tend/x", "git/get-tree", map[string]string{"tree_sha": "tend/x"}},
		{"GET", "/repos/o/r/commits/tend/x/check-runs", "checks/list-for-ref", map[string]string{"ref": "tend/x"}},
		{"GET", "/repos/o/r/contents/dir/a%20b.txt", "repos/get-content", map[string]string{"path": "dir/a b.txt"}},
		{"GET", "/", "meta/root", nil},
		{"GET", "/app", "apps/get-authenticated", nil},
	}
	for _, c := range cases {
		m, err := sp.find(c.method, c.path)
		if err != nil {
			t.Errorf("%s %s: %v", c.method, c.path, err)
			continue
		}
		if m.op.OperationID != c.op {
			t.Errorf("%s %s: got %s (%s), want %s", c.method, c.path, m.op.OperationID, m.route.template, c.op)
		}
		for k, v := range c.params {
			if m.params[k] != v {
				t.Errorf("%s %s: param %s = %q, want %q", c.method, c.path, k, m.params[k], v)
			}
		}
	}
	for _, bad := range []string{"/nope", "/repos/o/r/nope/x/y/z"} {
		if _, err := sp.find("GET", bad); err == nil {
			t.Errorf("%s routed", bad)
		}
	}
	if _, err := sp.find("PUT", "/repos/o/r"); err != errNoMethod {
		t.Errorf("PUT /repos/o/r: %v", err)
	}
}
