package testdb

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// PostgresBin is where the tests look for Postgres 15's programs.
const PostgresBin = "/usr/lib/postgresql/15/bin"

// Cluster is a Postgres cluster on 127.0.0.1 that one test starts for
// itself (through .ci/postgres.sh), so that it can stop and restart the
// server without disturbing other tests.
type Cluster struct {
	// URL is the admin URL of the cluster's "postgres" database.
	URL  string
	dir  string
	port int
}

// StartCluster starts a throwaway cluster on a free port between 20000 and
// 40000, removed when the test ends. Without Postgres's programs the test
// is skipped, or fails when EnvRequirePostgres is "1".
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	if _, err := os.Stat(filepath.Join(PostgresBin, "initdb")); err != nil {
		why := "no Postgres programs in " + PostgresBin + " to start a cluster for this test"
		if os.Getenv(EnvRequirePostgres) == "1" {
			t.Fatal(why + ", and " + EnvRequirePostgres + "=1 forbids skipping")
		}
		t.Skip(why)
	}
	// Under /tmp itself: the postgres user must reach it.
	dir, err := os.MkdirTemp("", "tend-pg-cluster")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{dir: dir, port: freePort()}
	t.Cleanup(func() { _, _ = script("stop", dir) })
	out, err := script("start", dir, strconv.Itoa(c.port))
	if err != nil {
		t.Fatalf("start a Postgres cluster: %v", err)
	}
	c.URL = out
	return c
}

// Pause stops the server, keeping its data.
func (c *Cluster) Pause() error {
	_, err := script("pause", c.dir)
	return err
}

// Resume starts a paused server again on the same port and data.
func (c *Cluster) Resume() error {
	_, err := script("resume", c.dir, strconv.Itoa(c.port))
	return err
}

// freePort picks a port in 20000-40000 nothing listens on now.
func freePort() int {
	for range 50 {
		p := 20000 + rand.IntN(20000)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			l.Close()
			return p
		}
	}
	return 20000 + rand.IntN(20000)
}

// script runs .ci/postgres.sh and returns its output's last line.
func script(args ...string) (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot locate .ci/postgres.sh")
	}
	path := filepath.Join(filepath.Dir(file), "..", "..", ".ci", "postgres.sh")
	cmd := exec.Command("bash", append([]string{path}, args...)...)
	cmd.Env = append(os.Environ(), "PGBIN="+PostgresBin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("postgres.sh %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}
