package images

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// paginateTags makes the test registry answer tag lists the way Docker Hub
// and GHCR do: at most n tags per page (n from the request, else pageSize),
// with a Link header to the next page. go-containerregistry's own registry
// returns everything at once.
func paginateTags(tr *testRegistry, pageSize int) {
	tr.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/tags/list") {
			return false
		}
		all := httptest.NewRecorder()
		full := r.Clone(r.Context())
		full.URL = &url.URL{Path: r.URL.Path}
		full.RequestURI = r.URL.Path
		tr.reg.ServeHTTP(all, full)
		return servePage(w, r, all, pageSize)
	})
}

func servePage(w http.ResponseWriter, r *http.Request, all *httptest.ResponseRecorder, pageSize int) bool {
	var list struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if all.Code != http.StatusOK || json.Unmarshal(all.Body.Bytes(), &list) != nil {
		w.WriteHeader(all.Code)
		_, _ = w.Write(all.Body.Bytes())
		return true
	}
	n := pageSize
	if s := r.URL.Query().Get("n"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 && v < n {
			n = v
		}
	}
	tags := list.Tags // sorted by the registry
	if last := r.URL.Query().Get("last"); last != "" {
		for len(tags) > 0 && tags[0] <= last {
			tags = tags[1:]
		}
	}
	if len(tags) > n {
		tags = tags[:n]
		next := fmt.Sprintf("%s?n=%d&last=%s", r.URL.Path, n, url.QueryEscape(tags[len(tags)-1]))
		w.Header().Set("Link", "<"+next+`>; rel="next"`)
	}
	list.Tags = tags
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(list)
	return true
}

func TestUpdateAgainstRegistry(t *testing.T) {
	tr := newTestRegistry(t)
	h := tr.host
	digests := map[string]string{}
	for _, tag := range []string{"1.26", "1.26-alpine", "1.27", "1.27-alpine", "1.27.1", "1.27.2", "1.28", "1.28-alpine",
		"1.28.0", "1.29.0-rc.1", "2.0", "2.0-alpine", "latest", "stable"} {
		digests["web:"+tag] = tr.pushImage(t, "team/web:"+tag).String()
	}
	for _, tag := range []string{"16", "17", "17-alpine"} {
		digests["db:"+tag] = tr.pushImage(t, "team/db:"+tag).String()
	}
	paginateTags(tr, 3)

	compose := "services:\n" +
		"  web:\n    image: " + h + "/team/web:1.27-alpine\n" +
		"  api:\n    image: " + h + "/team/web:1.27.1@sha256:" + strings.Repeat("0", 64) + "\n" +
		"  edge:\n    image: " + h + "/team/web:stable\n" +
		"  db:\n    image: " + h + "/team/db:16\n" +
		"  vendored:\n    image: " + h + "/vendor/thing:1.0\n"
	cache := NewTagCache(0, 0)
	run := func(mode string) (string, []Change, []Failure, []Note) {
		r := NewRegistryResolver(remote.WithPageSize(3))
		opts := Options{Resolver: r, Tags: cache.Lister(r), Policy: Policy{Update: mode, Ignore: []string{h + "/vendor/**"}}}
		out, changes, failures, notes := Update(context.Background(), "compose.yaml", []byte(compose), opts)
		checkPinned(t, []byte(compose), out, changes)
		return string(out), changes, failures, notes
	}

	out, changes, failures, notes := run(UpdateMinor)
	want := "services:\n" +
		"  web:\n    image: " + h + "/team/web:1.28-alpine@" + digests["web:1.28-alpine"] + "\n" +
		"  api:\n    image: " + h + "/team/web:1.28.0@" + digests["web:1.28.0"] + "\n" +
		"  edge:\n    image: " + h + "/team/web:stable@" + digests["web:stable"] + "\n" +
		"  db:\n    image: " + h + "/team/db:16@" + digests["db:16"] + "\n" +
		"  vendored:\n    image: " + h + "/vendor/thing:1.0\n"
	if out != want || len(failures) != 0 {
		t.Fatalf("minor update:\n%s\nwant:\n%s\nfailures: %v", out, want, failures)
	}
	if len(changes) != 4 {
		t.Fatalf("changes: %+v", changes)
	}
	api := changes[1]
	if api.Image != h+"/team/web" || api.FromTag != "1.27.1" || api.FromDigest != "sha256:"+strings.Repeat("0", 64) ||
		api.ToTag != "1.28.0" || api.ToDigest != digests["web:1.28.0"] {
		t.Errorf("api change: %+v", api)
	}
	if len(notes) != 1 || !strings.Contains(notes[0].Text, "ignore list") || notes[0].Line != 11 {
		t.Errorf("notes: %+v", notes)
	}
	// Every page of each repository was read once, for both references of
	// team/web: 14 tags in pages of 3 is 5 requests.
	if got := tr.count("GET", "/v2/team/web/tags/list"); got != 5 {
		t.Errorf("team/web tag list requests = %d, want 5 (every page, once)", got)
	}

	// Major moves further; the shared cache answers without asking again.
	out, _, failures, _ = run(UpdateMajor)
	if !strings.Contains(out, "team/web:2.0-alpine@"+digests["web:2.0-alpine"]) ||
		!strings.Contains(out, "team/db:17@"+digests["db:17"]) || len(failures) != 0 {
		t.Errorf("major update:\n%s\nfailures: %v", out, failures)
	}
	if got := tr.count("GET", "/v2/team/web/tags/list"); got != 5 {
		t.Errorf("after a second run: %d tag list requests, want still 5 (shared cache)", got)
	}

	// Digest mode never lists tags and keeps every tag.
	before := tr.count("GET", "/v2/team/db/tags/list")
	out, _, _, _ = run(UpdateDigest)
	if !strings.Contains(out, "team/web:1.27-alpine@"+digests["web:1.27-alpine"]) || tr.count("GET", "/v2/team/db/tags/list") != before {
		t.Errorf("digest mode moved a tag or listed tags:\n%s", out)
	}
}

func TestUpdateTagListFailure(t *testing.T) {
	tr := newTestRegistry(t)
	tr.pushImage(t, "team/web:1.0")
	r := NewRegistryResolver()
	in := "FROM " + tr.host + "/team/web:1.0\nFROM " + tr.host + "/team/gone:1.0\n"
	out, changes, failures, _ := Update(context.Background(), "Dockerfile", []byte(in), Options{Resolver: r, Tags: r, Policy: Policy{Update: UpdateMajor}})
	if len(changes) != 1 || changes[0].ToTag != "1.0" {
		t.Errorf("changes: %+v", changes)
	}
	if len(failures) != 1 || failures[0].Ref.Line != 2 || !strings.Contains(failures[0].Err.Error(), "list tags") {
		t.Errorf("failures: %+v", failures)
	}
	if !strings.HasSuffix(string(out), "/team/gone:1.0\n") {
		t.Errorf("a reference whose tags could not be listed must stay as it is:\n%s", out)
	}
	// Without a tag lister, moving tags fails clearly rather than pinning
	// silently in place.
	_, _, failures, _ = Update(context.Background(), "Dockerfile", []byte(in), Options{Resolver: r, Policy: Policy{Update: UpdateMinor}})
	if len(failures) != 2 || !strings.Contains(failures[0].Err.Error(), "no tag lister") {
		t.Errorf("failures without a lister: %+v", failures)
	}
}

// fakeTags lists tags from a map; unknown repositories have none.
type fakeTags map[string][]string

func (f fakeTags) Tags(_ context.Context, repo string) ([]string, error) {
	if strings.Contains(repo, "unknown") {
		return nil, fmt.Errorf("list tags of %s: NAME_UNKNOWN", repo)
	}
	return f[repo], nil
}

// TestUpdateShapes moves tags in every shape that spreads or hides a
// reference, and checks the exact bytes written: the tag and digest keys of
// Helm values, kustomize's newTag plus an added digest, an ARG default.
func TestUpdateShapes(t *testing.T) {
	d := func(ref string) string { return fakeDigest(ref) }
	tags := fakeTags{
		"nginx":                        nginxTags,
		"postgres":                     postgresTags,
		"node":                         nodeTags,
		"docker.io/bitnami/postgresql": {"16.4.0-debian-12-r13", "16.4.0-debian-12-r14", "16.6.0-debian-12-r2", "17.2.0-debian-12-r0"},
		"busybox":                      {"1.36", "1.36.1", "1.37", "1.37.0", "latest"},
	}
	for _, tc := range []struct {
		path, in, want string
	}{
		{
			"Dockerfile",
			"# syntax=docker/dockerfile:1\nARG BASE=node:20-bookworm-slim\nFROM ${BASE} AS build\nFROM nginx:1.26.1-alpine\n",
			"# syntax=docker/dockerfile:1@" + d("docker/dockerfile:1") + "\nARG BASE=node:20-bookworm-slim@" + d("node:20-bookworm-slim") +
				"\nFROM ${BASE} AS build\nFROM nginx:1.28.0-alpine@" + d("nginx:1.28.0-alpine") + "\n",
		},
		{
			"charts/db/values.yaml",
			"image:\n  registry: docker.io\n  repository: bitnami/postgresql\n  tag: 16.4.0-debian-12-r13 # the chart's default\n  digest: \"\"\n" +
				"init:\n  image: busybox\n  tag: 1.36\n",
			"image:\n  registry: docker.io\n  repository: bitnami/postgresql\n  tag: 16.6.0-debian-12-r2 # the chart's default\n  digest: \"" + d("docker.io/bitnami/postgresql:16.6.0-debian-12-r2") + "\"\n" +
				"init:\n  image: busybox\n  tag: \"1.37@" + d("busybox:1.37") + "\"\n",
		},
		{
			"kustomization.yaml",
			"images:\n- name: postgres\n  newTag: \"16.3\"\n- name: nginx\n  newTag: 1.26 # floating minor\n- {name: unknown/thing, newTag: '1.0'}\n",
			"images:\n- name: postgres\n  newTag: \"16.4\"\n  digest: " + d("postgres:16.4") + "\n- name: nginx\n  newTag: \"1.28\" # floating minor\n  digest: " + d("nginx:1.28") +
				"\n- {name: unknown/thing, newTag: '1.0'}\n",
		},
	} {
		t.Run(tc.path, func(t *testing.T) {
			opts := Options{Resolver: &fakeResolver{}, Tags: tags, Policy: Policy{Update: UpdateMinor}}
			out, changes, failures, _ := Update(context.Background(), tc.path, []byte(tc.in), opts)
			if string(out) != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", out, tc.want)
			}
			checkPinned(t, []byte(tc.in), out, changes)
			if tc.path == "kustomization.yaml" && (len(failures) != 1 || !strings.Contains(failures[0].Err.Error(), "NAME_UNKNOWN")) {
				t.Errorf("failures: %v", failures)
			}
			// The result is current: a second run changes nothing.
			again, changes2, _, _ := Update(context.Background(), tc.path, out, opts)
			if len(changes2) != 0 || string(again) != string(out) {
				t.Errorf("second run: %+v", changes2)
			}
		})
	}
}

// A registry that paginates forever is cut off after MaxTagPages pages.
func TestTagListPagesAreBounded(t *testing.T) {
	tr := newTestRegistry(t)
	tr.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/tags/list") {
			return false
		}
		last := r.URL.Query().Get("last") + "x"
		w.Header().Set("Link", "<"+r.URL.Path+"?n=1&last="+last+`>; rel="next"`)
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"name":"team/endless","tags":[%q]}`, last)
		return true
	})
	_, err := NewRegistryResolver().Tags(context.Background(), tr.host+"/team/endless")
	if err == nil || !strings.Contains(err.Error(), "longer than 100 pages") {
		t.Fatalf("err = %v", err)
	}
	if got := tr.count("GET", "/v2/team/endless/tags/list"); got != MaxTagPages {
		t.Errorf("%d requests, want %d", got, MaxTagPages)
	}
}

// ApplyChanges applies any subset of a file's changes, including those of
// references spread over several keys, and nothing else.
func TestApplyChangesSubset(t *testing.T) {
	in := []byte("images:\n- name: redis\n  newTag: \"7.2\"\n- name: nginx\n  newTag: 1.27\n  digest: sha256:" + strings.Repeat("0", 64) + "\n")
	_, changes, _, _ := Pin(context.Background(), "kustomization.yaml", in, &fakeResolver{})
	if len(changes) != 2 {
		t.Fatalf("changes: %+v", changes)
	}
	second := ApplyChanges(in, changes[1:])
	want := strings.Replace(string(in), "sha256:"+strings.Repeat("0", 64), fakeDigest("nginx:1.27"), 1)
	if string(second) != want {
		t.Errorf("only the second change:\n%s\nwant:\n%s", second, want)
	}
	first := ApplyChanges(in, changes[:1])
	want = strings.Replace(string(in), "newTag: \"7.2\"\n", "newTag: \"7.2\"\n  digest: "+fakeDigest("redis:7.2")+"\n", 1)
	if string(first) != want {
		t.Errorf("only the first change:\n%s\nwant:\n%s", first, want)
	}
	if got := ApplyChanges(in, nil); string(got) != string(in) {
		t.Errorf("no changes altered the file")
	}
}
