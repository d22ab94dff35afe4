package main

import (
	"io"
	"net/http"
)

// io_Copy drains and closes a response body so its connection is reused.
func io_Copy(resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	return io.Copy(io.Discard, resp.Body)
}
