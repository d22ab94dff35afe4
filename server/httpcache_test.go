package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"testing"
)

func dumped(t *testing.T, body string) []byte {
	t.Helper()
	resp := &http.Response{StatusCode: 200, ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}, ContentLength: int64(len(body)),
		Body: http.NoBody}
	resp.Body = io.NopCloser(strings.NewReader(body))
	b, err := httputil.DumpResponse(resp, true)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Concurrent writers and readers of one entry never see a partial
// response (they did with diskcache.New: writes truncate the file in place).
func TestResponseCacheConcurrent(t *testing.T) {
	c, err := newResponseCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bodies := [][]byte{dumped(t, strings.Repeat("a", 200000)), dumped(t, strings.Repeat("b", 300000))}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	for w := 0; w < 4; w++ {
		wg.Add(2)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				c.Set("k", bodies[(w+i)%2])
			}
		}(w)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if b, ok := c.Get("k"); ok && !bytes.Equal(b, bodies[0]) && !bytes.Equal(b, bodies[1]) {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("%d bytes", len(b)))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d partial reads, e.g. %s", len(bad), bad[0])
	}
}

func TestResponseCacheDropsTruncatedEntries(t *testing.T) {
	c, err := newResponseCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	full := dumped(t, `{"name":"main"}`)
	c.Set("k", full[:len(full)-3])
	if _, ok := c.Get("k"); ok {
		t.Fatal("a truncated entry was served")
	}
	if _, ok := c.Get("k"); ok {
		t.Fatal("the truncated entry was not deleted")
	}
	c.Set("k", full)
	if b, ok := c.Get("k"); !ok || !bytes.Equal(b, full) {
		t.Fatal("a complete entry was not served")
	}
}
