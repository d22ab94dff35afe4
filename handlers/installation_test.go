package handlers

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/fixtures"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/internal/store"
)

// fakeIndex answers the installation's repositories from a table and
// records what it is told; it calls nothing else.
type fakeIndex struct {
	Index
	known     map[int64][]string
	forgotten []string
	branches  map[string]string
}

func (f *fakeIndex) ReposOfInstallation(_ context.Context, id int64) ([]string, error) {
	return f.known[id], nil
}

func (f *fakeIndex) ForgetRepo(_ context.Context, repo string) error {
	f.forgotten = append(f.forgotten, repo)
	return nil
}

func (f *fakeIndex) SetDefaultBranch(_ context.Context, repo, branch string) error {
	f.branches[repo] = branch
	return nil
}

// fakeIntake records the deliveries taken in.
type fakeIntake struct {
	deliveries []queue.Delivery
	keys       [][]keys.Key
}

func (f *fakeIntake) Intake(_ context.Context, d queue.Delivery, ks []keys.Key) (queue.IntakeResult, error) {
	f.deliveries = append(f.deliveries, d)
	f.keys = append(f.keys, ks)
	return queue.IntakeResult{Inserted: len(ks), Listings: len(d.Installations)}, nil
}

// examplePayload returns GitHub's example payload of event/action from
// @octokit/webhooks-examples, with the installation id and repository
// list (nil: the key removed) changed as asked.
func examplePayload(t *testing.T, event, action string, installationID int64, repos []string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(exampleBody(t, event, action), &m); err != nil {
		t.Fatal(err)
	}
	m["installation"].(map[string]any)["id"] = installationID
	delete(m, "repositories")
	if repos != nil {
		list := []any{}
		for _, r := range repos {
			list = append(list, map[string]any{"full_name": r, "name": r[strings.IndexByte(r, '/')+1:]})
		}
		m["repositories"] = list
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An installation event that does not list its repositories (GitHub's
// unsuspend and new_permissions_accepted never do; created may not) takes
// in the repositories tend knows through the installation and a listing of
// the installation through GitHub, in one delivery, without calling GitHub.
// One that lists them takes in those; an uninstall forgets the listed and
// the known ones alike.
func TestInstallationEvents(t *testing.T) {
	// The published unsuspend example carries no repositories at all.
	for _, action := range []string{"unsuspend", "suspend"} {
		var raw map[string]any
		if err := json.Unmarshal(exampleBody(t, "installation", action), &raw); err != nil {
			t.Fatal(err)
		}
		if _, ok := raw["repositories"]; ok {
			t.Fatalf("GitHub's %s example lists repositories; this test assumes it does not", action)
		}
	}
	const id = 42
	for _, tc := range []struct {
		name, action string
		repos        []string // nil: the payload has no list
		wantKeys     []string
		wantList     bool
		wantForget   []string
	}{
		{name: "unsuspend", action: "unsuspend", wantKeys: []string{"acme/api", "acme/web"}, wantList: true},
		{name: "new permissions", action: "new_permissions_accepted", repos: []string{"acme/new"}, wantKeys: []string{"acme/api", "acme/new", "acme/web"}, wantList: true},
		{name: "created with a list", action: "created", repos: []string{"acme/Web"}, wantKeys: []string{"acme/web"}},
		{name: "created without a list", action: "created", wantKeys: []string{"acme/api", "acme/web"}, wantList: true},
		{name: "created with an empty list", action: "created", repos: []string{}, wantKeys: []string{"acme/api", "acme/web"}, wantList: true},
		{name: "deleted", action: "deleted", repos: []string{"acme/gone"}, wantForget: []string{"acme/gone", "acme/api", "acme/web"}},
		{name: "suspend", action: "suspend"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx := &fakeIndex{known: map[int64][]string{id: {"acme/api", "acme/web"}, 7: {"other/repo"}}}
			in := &fakeIntake{}
			h := &Installation{Deps{Index: idx, Queue: in, Configs: config.NewCache(config.NewLoader(), nil)}}
			answer := deliver(t, h, "installation", "d-1", examplePayload(t, "installation", tc.action, id, tc.repos))
			if !slices.Equal(idx.forgotten, tc.wantForget) {
				t.Errorf("forgot %v, want %v", idx.forgotten, tc.wantForget)
			}
			if tc.wantKeys == nil && !tc.wantList {
				if len(in.deliveries) != 0 {
					t.Errorf("took in %+v %v, want nothing", in.deliveries, in.keys)
				}
				return
			}
			if len(in.deliveries) != 1 {
				t.Fatalf("took in %d deliveries, want 1", len(in.deliveries))
			}
			d := in.deliveries[0]
			if got := keyStrings(in.keys[0]); !slices.Equal(got, tc.wantKeys) {
				t.Errorf("keys %v, want %v", got, tc.wantKeys)
			}
			var wantList []int64
			if tc.wantList {
				wantList = []int64{id}
			}
			if !slices.Equal(d.Installations, wantList) || d.Trigger != "installation:"+tc.action || d.ID != "d-1" {
				t.Errorf("delivery %+v, want installations %v and trigger installation:%s", d, wantList, tc.action)
			}
			if !slices.Equal(answer.Installations, wantList) {
				t.Errorf("answer to GitHub %+v does not say which installations are listed (%v)", answer, wantList)
			}
		})
	}
}

func exampleBody(t *testing.T, event, action string) []byte {
	t.Helper()
	examples, err := fixtures.WebhookExamples()
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range examples {
		if ex.Event == event && ex.Action == action {
			return ex.Body
		}
	}
	t.Fatalf("no %s %s example", event, action)
	return nil
}

// A default branch change is recorded as the webhook arrives, so that
// every replica's next run reads it, and the repository is resynced.
func TestRepositoryEditedRecordsDefaultBranch(t *testing.T) {
	idx := &fakeIndex{branches: map[string]string{}}
	in := &fakeIntake{}
	h := &Repository{Deps{Index: idx, Queue: in}}
	payload := `{"action":"edited","installation":{"id":7},"repository":{"full_name":"acme/web","default_branch":"trunk"},"changes":{"default_branch":{"from":"main"}},"sender":{"login":"alice","type":"User"}}`
	deliver(t, h, "repository", "d-2", []byte(payload))
	if idx.branches["acme/web"] != "trunk" {
		t.Errorf("recorded default branches %v, want acme/web → trunk", idx.branches)
	}
	if len(in.keys) != 1 || !slices.Equal(keyStrings(in.keys[0]), []string{"acme/web"}) {
		t.Errorf("took in %v, want the repository", in.keys)
	}
}

var _ Index = (*store.Store)(nil)

// deliver posts a signed delivery to h through go-githubapp's dispatcher,
// as tend serves them, and returns the answer's summary.
func deliver(t *testing.T, h githubapp.EventHandler, event, id string, body []byte) summary {
	t.Helper()
	const secret = "s3cret"
	dispatcher := githubapp.NewEventDispatcher([]githubapp.EventHandler{h}, secret)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req := httptest.NewRequest(http.MethodPost, "/api/github/hook", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	req.Header.Set("Content-Type", "application/json")
	req = req.WithContext(zerolog.Nop().WithContext(req.Context()))
	rec := httptest.NewRecorder()
	dispatcher.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s delivery answered %d: %s", event, rec.Code, rec.Body)
	}
	var out summary
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("answer %q: %v", rec.Body, err)
	}
	return out
}
