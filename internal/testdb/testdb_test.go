package testdb

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// verdictTB records how a helper ended a test instead of ending this one.
type verdictTB struct {
	testing.TB
	mu      sync.Mutex
	verdict string // "skip", "fatal" or ""
	msg     string
}

func (v *verdictTB) Helper() {}
func (v *verdictTB) end(verdict string, args ...any) {
	v.mu.Lock()
	v.verdict, v.msg = verdict, fmt.Sprint(args...)
	v.mu.Unlock()
	runtime.Goexit()
}
func (v *verdictTB) Skip(args ...any)  { v.end("skip", args...) }
func (v *verdictTB) Fatal(args ...any) { v.end("fatal", args...) }

// postgresVerdict calls PostgresURL on a recording TB in its own goroutine
// (the helper ends it with Goexit, as the testing package would).
func postgresVerdict(t *testing.T) (verdict, msg, url string) {
	v := &verdictTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		url = PostgresURL(v)
	}()
	<-done
	return v.verdict, v.msg, url
}

func TestPostgresURLSkipsWithAReasonOrFails(t *testing.T) {
	t.Setenv(EnvPostgresURL, "")
	t.Setenv(EnvRequirePostgres, "")
	if verdict, msg, _ := postgresVerdict(t); verdict != "skip" || !strings.Contains(msg, EnvPostgresURL) {
		t.Errorf("without a server: %s %q; want a skip naming %s", verdict, msg, EnvPostgresURL)
	}
	t.Setenv(EnvRequirePostgres, "1")
	if verdict, msg, _ := postgresVerdict(t); verdict != "fatal" || !strings.Contains(msg, EnvRequirePostgres) {
		t.Errorf("without a server, Postgres required: %s %q; want a failure", verdict, msg)
	}
	t.Setenv(EnvPostgresURL, "postgres://127.0.0.1:1/x")
	if verdict, _, url := postgresVerdict(t); verdict != "" || url != "postgres://127.0.0.1:1/x" {
		t.Errorf("with a server: %s %q; want its URL", verdict, url)
	}
}

// Every test finds Postgres through this package: no other Go file reads
// the server's variable, so none can skip on its own terms.
func TestOnlyTestdbReadsThePostgresURL(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch path {
			case filepath.Join(root, ".cache"), filepath.Join(root, ".git"), filepath.Join(root, "internal", "testdb"):
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(data), "TEND_TEST_POSTGRES_URL") {
			t.Errorf("%s reads TEND_TEST_POSTGRES_URL itself; use testdb.URL, testdb.Open or testdb.PostgresURL", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
