package main

import (
	"io"
	"net/http"
)

// drainBody reads a response body to its end and closes it, so its
// connection is reused.
func drainBody(resp *http.Response) {
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
}
