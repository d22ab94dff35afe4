package queue

import (
	"context"
	"sync"
	"testing"

	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/internal/testdb"
)

// Replicas starting together on a new Postgres database migrate River's
// tables one at a time: every one of them starts. Without the lock, all
// but one failed ("error applying version 006 … does not exist").
func TestReplicasMigrateANewDatabaseTogether(t *testing.T) {
	url := testdb.URL(t, "")
	ctx := context.Background()
	const replicas = 4
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := store.OpenPostgres(ctx, url)
			if err != nil {
				errs[i] = err
				return
			}
			defer st.Close()
			opts := fastOptions(t)
			opts.InsertOnly = true
			q, err := New(ctx, st, nil, opts)
			if err != nil {
				errs[i] = err
				return
			}
			q.Close()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
}
