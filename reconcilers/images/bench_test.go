//go:build unix

package images

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchFile is one file of the generated corpus.
type benchFile struct {
	path    string
	content []byte
}

// benchCorpus generates n files shaped like a monorepo's: Dockerfiles with
// stages and ARGs, multi-document Kubernetes manifests, Compose files,
// workflows, Helm values and kustomizations, in fixed proportions and with
// a fixed seed so that every run (and every version of the finder) reads
// the same bytes. It uses only Find's public contract (path, content).
func benchCorpus(n int) []benchFile {
	rng := rand.New(rand.NewPCG(11, 2026))
	images := []string{"nginx:1.27-alpine", "postgres:16.4", "redis:7.2", "ghcr.io/acme/api:v2.3.1", "busybox:1.36",
		"node:22-bookworm-slim", "python:3.12-slim", "gcr.io/distroless/static-debian12:nonroot", "quay.io/acme/worker:1.0.4"}
	img := func() string { return images[rng.IntN(len(images))] }
	makers := []func(i int) benchFile{
		func(i int) benchFile { return benchFile{fmt.Sprintf("svc%d/Dockerfile", i), benchDockerfile(rng, img)} },
		func(i int) benchFile { return benchFile{fmt.Sprintf("deploy/app%d.yaml", i), benchManifests(rng, img)} },
		func(i int) benchFile {
			return benchFile{fmt.Sprintf("stack%d/compose.yaml", i), benchCompose(rng, img)}
		},
		func(i int) benchFile {
			return benchFile{fmt.Sprintf(".github/workflows/ci%d.yml", i), benchWorkflow(rng, img)}
		},
		func(i int) benchFile {
			return benchFile{fmt.Sprintf("charts/c%d/values.yaml", i), benchValues(rng, img)}
		},
		func(i int) benchFile {
			return benchFile{fmt.Sprintf("overlays/o%d/kustomization.yaml", i), benchKustomization(rng)}
		},
	}
	files := make([]benchFile, n)
	for i := range files {
		files[i] = makers[i%len(makers)](i)
	}
	return files
}

func benchDockerfile(rng *rand.Rand, img func() string) []byte {
	var b strings.Builder
	b.WriteString("# syntax=docker/dockerfile:1.7\nARG BASE=" + img() + "\n")
	for s := 0; s < 2+rng.IntN(4); s++ {
		fmt.Fprintf(&b, "\nFROM --platform=$BUILDPLATFORM %s AS stage%d\nWORKDIR /src\n", img(), s)
		for k := 0; k < 5+rng.IntN(20); k++ {
			fmt.Fprintf(&b, "RUN --mount=type=cache,target=/root/.cache \\\n    make target-%d && \\\n    rm -rf /tmp/build-%d\n", k, k)
		}
		fmt.Fprintf(&b, "COPY --from=%s /bin/tool /usr/local/bin/\n", img())
	}
	b.WriteString("\nFROM ${BASE}\nCOPY --from=stage0 /out /app\nENTRYPOINT [\"/app\"]\n")
	return []byte(b.String())
}

func benchManifests(rng *rand.Rand, img func() string) []byte {
	var b strings.Builder
	for d := 0; d < 1+rng.IntN(5); d++ {
		fmt.Fprintf(&b, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app%d\n  labels: {app: app%d, tier: backend}\n"+
			"spec:\n  replicas: 3\n  template:\n    metadata:\n      annotations:\n        checksum/config: abc%d\n    spec:\n"+
			"      initContainers:\n        - name: init\n          image: %s\n      containers:\n", d, d, d, img())
		for c := 0; c < 1+rng.IntN(3); c++ {
			fmt.Fprintf(&b, "        - name: c%d\n          image: \"%s\"\n          ports: [{containerPort: 80%02d}]\n"+
				"          env:\n            - {name: LOG_LEVEL, value: info}\n            - {name: REGION, value: eu-west-1}\n"+
				"          resources: {limits: {cpu: 500m, memory: 256Mi}}\n", c, img(), c)
		}
	}
	return []byte(b.String())
}

func benchCompose(rng *rand.Rand, img func() string) []byte {
	var b strings.Builder
	b.WriteString("services:\n")
	for s := 0; s < 2+rng.IntN(6); s++ {
		fmt.Fprintf(&b, "  svc%d:\n    image: %s\n    restart: unless-stopped\n    environment:\n      - KEY=value%d\n    ports: [\"80%02d:80\"]\n", s, img(), s, s)
	}
	return []byte(b.String())
}

func benchWorkflow(rng *rand.Rand, img func() string) []byte {
	var b strings.Builder
	b.WriteString("name: ci\non: [push, pull_request]\njobs:\n")
	for j := 0; j < 1+rng.IntN(4); j++ {
		fmt.Fprintf(&b, "  job%d:\n    runs-on: ubuntu-24.04\n    container: %s\n    services:\n      db: %s\n    steps:\n"+
			"      - uses: actions/checkout@v4\n      - uses: docker://%s\n      - run: make test\n", j, img(), img(), img())
	}
	return []byte(b.String())
}

func benchValues(rng *rand.Rand, img func() string) []byte {
	var b strings.Builder
	for c := 0; c < 2+rng.IntN(5); c++ {
		fmt.Fprintf(&b, "component%d:\n  replicaCount: 2\n  image:\n    registry: docker.io\n    repository: bitnami/app%d\n    tag: 1.%d.0-debian-12-r%d\n"+
			"    digest: \"\"\n  sidecar:\n    image: %s\n  resources: {}\n", c, c, c, c, img())
	}
	return []byte(b.String())
}

func benchKustomization(rng *rand.Rand) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../base]\nimages:\n")
	for i := 0; i < 2+rng.IntN(6); i++ {
		fmt.Fprintf(&b, "  - name: app%d\n    newName: ghcr.io/acme/app%d\n    newTag: v1.%d.%d\n", i, i, i, rng.IntN(10))
	}
	return []byte(b.String())
}

// BenchmarkFind measures the finder's throughput over the generated corpus
// and reports files per second of wall time and of CPU time (user+system of
// the whole process), and MB/s; see BENCHMARKS.md. The CPU figure is the one
// to compare on a shared machine: it does not count time spent waiting for
// a core.
func BenchmarkFind(b *testing.B) {
	files := benchCorpus(3000)
	total := 0
	for _, f := range files {
		total += len(f.content)
	}
	b.SetBytes(int64(total))
	refs := 0
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for b.Loop() {
		refs = 0
		for _, f := range files {
			r, _ := Find(f.path, f.content)
			refs += len(r)
		}
	}
	cpu := cpuTime(b) - cpu0
	b.ReportMetric(float64(len(files)*b.N)/b.Elapsed().Seconds(), "files/s")
	b.ReportMetric(float64(len(files)*b.N)/cpu.Seconds(), "files/cpu-s")
	b.ReportMetric(float64(refs), "refs/corpus")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
