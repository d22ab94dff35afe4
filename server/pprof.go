//go:build pprof

package main

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
)

// Built with -tags pprof, tend serves Go's profiler on TEND_PPROF_ADDR
// (default 127.0.0.1:6060), for load investigations only.
func init() {
	addr := os.Getenv("TEND_PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() { _ = http.ListenAndServe(addr, nil) }()
}
