package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/gregjones/httpcache"
	"github.com/gregjones/httpcache/diskcache"
	"github.com/peterbourgon/diskv"
)

// newResponseCache returns the conditional-request cache of GitHub
// responses, on disk under dir.
//
// diskcache.New builds diskv without a TempDir, and then a write truncates
// the file while a concurrent reader still streams it — and diskv keeps the
// truncated bytes in its memory cache, so every later 304 serves a broken
// body. With a TempDir on the same filesystem, writes are atomic renames.
// Entries that still fail to parse (a crash mid-write) are dropped on read.
//
// diskv's memory cache is off (CacheSizeMax 0): it adds an entry's size
// again each time concurrent readers of an uncached entry cache it, so
// its count drifts past its limit and every later read panics ("still
// won't fit in the cache"). Seen once many keys of a repository read its
// one listing of open PRs at a time. Reads come from the file (the
// operating system's page cache), which also keeps tend's memory lower.
func newResponseCache(dir string) (httpcache.Cache, error) {
	tmp := filepath.Join(dir, ".tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, err
	}
	d := diskv.New(diskv.Options{
		BasePath:     dir,
		TempDir:      tmp,
		CacheSizeMax: 0,
		PathPerm:     0o700,
		FilePerm:     0o600,
	})
	return validatingCache{diskcache.NewWithDiskv(d)}, nil
}

// validatingCache drops entries that are not a complete HTTP response.
type validatingCache struct{ httpcache.Cache }

func (c validatingCache) Get(key string) ([]byte, bool) {
	b, ok := c.Cache.Get(key)
	if !ok {
		return nil, false
	}
	if !completeResponse(b) {
		c.Cache.Delete(key)
		return nil, false
	}
	return b, true
}

func completeResponse(b []byte) bool {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	return err == nil && (resp.ContentLength < 0 || n == resp.ContentLength)
}
