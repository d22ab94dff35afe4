package config

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
)

// countingStore is a Persister holding fresh records, counting reads.
type countingStore struct {
	recs  map[string]Record
	reads int
}

func (s *countingStore) SaveRepo(_ context.Context, rec Record, _ *Config) error {
	s.recs[rec.Repo] = rec
	return nil
}

func (s *countingStore) GetRepo(_ context.Context, repo string) (Record, bool, error) {
	s.reads++
	rec, ok := s.recs[repo]
	return rec, ok, nil
}

// The memory layer answers repeated reads without the database until the
// config is invalidated; the database answers without GitHub while its
// record is fresh.
func TestCacheMemoryLayer(t *testing.T) {
	raw := []byte("version: 1\nrules:\n  - name: pin\n    reconciler: images\n    paths: [Dockerfile]\n")
	st := &countingStore{recs: map[string]Record{
		"acme/web": {Repo: "acme/web", Managed: true, Source: "acme/web", Path: ".github/tend.yaml", Raw: raw, LoadedAt: time.Now()},
	}}
	c := NewCache(NewLoader(), st)
	noGitHub := func() (*github.Client, error) {
		t.Fatal("the cache asked GitHub for a fresh config")
		return nil, nil
	}
	ctx := context.Background()
	for range 3 {
		l, err := c.Get(ctx, "Acme", "Web", 1, noGitHub)
		if err != nil {
			t.Fatal(err)
		}
		if !l.Managed() || len(l.Config.Rules) != 1 || l.Config.Rules[0].Name != "pin" {
			t.Fatalf("loaded %+v", l)
		}
	}
	if st.reads != 1 {
		t.Errorf("database reads = %d, want 1 (then memory)", st.reads)
	}
	c.Invalidate("ACME", "web")
	if _, err := c.Get(ctx, "acme", "web", 1, noGitHub); err != nil {
		t.Fatal(err)
	}
	if st.reads != 2 {
		t.Errorf("database reads after Invalidate = %d, want 2", st.reads)
	}
}
