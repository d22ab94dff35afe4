package deploytest

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"go.yaml.in/yaml/v3"
)

// koVersion is the ko release the test builds with (go run fetches it
// through the module proxy once, then it is cached).
const koVersion = "github.com/google/ko@v0.19.1"

var platforms = []string{"linux/amd64", "linux/arm64"}

// pushBase pushes a stand-in for the static non-root base (an empty
// filesystem running as user 65532, for both platforms): CI has no access
// to the real one.
func pushBase(t *testing.T, host string) string {
	t.Helper()
	idx := v1.ImageIndex(empty.Index)
	for _, p := range platforms {
		os, arch, _ := strings.Cut(p, "/")
		img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: os, Architecture: arch, Config: v1.Config{User: "65532", Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin"}}})
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: os, Architecture: arch}}})
	}
	ref := host + "/static:nonroot"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	return ref
}

// The image ko builds from .ko.yaml: an index for amd64 and arm64 whose
// images run the binary as entrypoint, as the base's non-root user. ko
// builds into go-containerregistry's registry on loopback. A ko build
// compiles tend and every dependency afresh for each platform (its flags
// differ from a plain build): about a minute with a warm build cache, a few
// minutes cold. It builds both platforms; TEND_TEST_KO=amd64 builds one
// (quicker while iterating) and TEND_TEST_KO=off skips it.
func TestKoImage(t *testing.T) {
	mode := os.Getenv("TEND_TEST_KO")
	if mode == "off" {
		t.Skip("TEND_TEST_KO=off")
	}
	var cfg struct {
		DefaultBaseImage string   `yaml:"defaultBaseImage"`
		DefaultPlatforms []string `yaml:"defaultPlatforms"`
	}
	data, err := os.ReadFile(repoRoot(t) + "/.ko.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.DefaultPlatforms, platforms) || !strings.HasSuffix(cfg.DefaultBaseImage, ":nonroot") || !strings.Contains(cfg.DefaultBaseImage, "static") {
		t.Errorf(".ko.yaml: base %q, platforms %v", cfg.DefaultBaseImage, cfg.DefaultPlatforms)
	}

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	base := pushBase(t, host)
	want := platforms
	if mode == "amd64" {
		want = platforms[:1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", koVersion, "build", "--bare", "--platform="+strings.Join(want, ","), "./server")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "KO_DOCKER_REPO="+host+"/tend", "KO_DEFAULTBASEIMAGE="+base)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ko build: %v\n%s", err, stderr.String())
	}
	built := strings.TrimSpace(string(out))
	checkImage(t, built, want)
}

// checkImage checks what ko pushed: an index with one image per platform
// (a single image when one platform was built), each running the binary
// as the base's non-root user.
func checkImage(t *testing.T, ref string, want []string) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatalf("ko printed %q: %v", ref, err)
	}
	desc, err := remote.Get(r)
	if err != nil {
		t.Fatal(err)
	}
	var imgs []v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			t.Fatal(err)
		}
		manifest, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range manifest.Manifests {
			img, err := idx.Image(m.Digest)
			if err != nil {
				t.Fatal(err)
			}
			imgs = append(imgs, img)
		}
	} else {
		img, err := desc.Image()
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	var got []string
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		p := cf.OS + "/" + cf.Architecture
		got = append(got, p)
		if !slices.Equal(cf.Config.Entrypoint, []string{"/ko-app/server"}) || cf.Config.User != "65532" {
			t.Errorf("%s: entrypoint %v, user %q; want the binary, as 65532", p, cf.Config.Entrypoint, cf.Config.User)
		}
		if m := binaryMachine(t, img); m != elfMachines[cf.Architecture] {
			t.Errorf("%s: /ko-app/server is built for %v, want %v", p, m, elfMachines[cf.Architecture])
		}
	}
	slices.Sort(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("platforms = %v, want %v", got, want)
	}
}

var elfMachines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// binaryMachine reads the entrypoint binary out of the image's layers and
// returns the machine its ELF header names, so a platform's image is known
// to hold a binary for that platform, not only to say so.
func binaryMachine(t *testing.T, img v1.Image) elf.Machine {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no ko-app/server in the image: %v", err)
		}
		if strings.TrimPrefix(h.Name, "/") != "ko-app/server" {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		f, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("ko-app/server is not an ELF binary: %v", err)
		}
		return f.Machine
	}
}
