package changes_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tend-app/tend/reconcilers/changes"
)

// A file over the contents API's 1 MB inline limit is only ever read up to
// the caller's limit: StatFile and ReadFileMax learn its size and SHA from
// the contents answer and never fetch the blob, while ReadFile does.
func TestLargeFilesAreNotFetchedPastTheLimit(t *testing.T) {
	big := strings.Repeat("x", 3<<20)
	b := newApplyBench(t, map[string]string{"big.txt": big, "small.txt": "hi\n"})
	ctx := context.Background()
	base, err := changes.ReadBase(ctx, b.client, "acme", "web", "main")
	if err != nil {
		t.Fatal(err)
	}
	blobReads := func() int {
		n := 0
		for _, r := range b.gh.Requests() {
			if r.Operation == "git/get-blob" {
				n++
			}
		}
		return n
	}

	st, err := changes.StatFile(ctx, b.client, "acme", "web", base.Commit, "big.txt")
	if err != nil || !st.Exists || st.SHA == "" || st.Content != nil {
		t.Fatalf("StatFile(big) = exists %v, sha %q, %d content bytes, err %v; want exists with a SHA and no content", st.Exists, st.SHA, len(st.Content), err)
	}
	_, err = changes.ReadFileMax(ctx, b.client, "acme", "web", base.Commit, "big.txt", 1<<20)
	var tooLarge *changes.TooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Size != int64(len(big)) || tooLarge.Limit != 1<<20 {
		t.Fatalf("ReadFileMax(big, 1 MB): %v; want a TooLargeError of %d bytes", err, len(big))
	}
	if n := blobReads(); n != 0 {
		t.Fatalf("%d blob reads for a file past the limit; want 0", n)
	}
	small, err := changes.StatFile(ctx, b.client, "acme", "web", base.Commit, "small.txt")
	if err != nil || !small.Exists || small.SHA == "" {
		t.Fatalf("StatFile(small) = %+v, %v", small, err)
	}
	if gone, err := changes.StatFile(ctx, b.client, "acme", "web", base.Commit, "gone.txt"); err != nil || gone.Exists {
		t.Fatalf("StatFile(gone) = %+v, %v; want not existing", gone, err)
	}

	// The control: without a limit the blob is fetched whole.
	f, err := changes.ReadFile(ctx, b.client, "acme", "web", base.Commit, "big.txt")
	if err != nil || len(f.Content) != len(big) || f.SHA != st.SHA {
		t.Fatalf("ReadFile(big) = %d bytes, sha %q, err %v", len(f.Content), f.SHA, err)
	}
	if n := blobReads(); n != 1 {
		t.Fatalf("ReadFile made %d blob reads; want 1", n)
	}
}
