package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/fakegemini"
	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/testwait"
)

// tend behind an HTTPS proxy (HTTPS_PROXY): GitHub, a registry and the
// model are TLS servers on 127.0.0.1 reachable only under names that do not
// resolve (github.test, registry.test, gemini.test), through a CONNECT proxy
// that tunnels those names to them and refuses anything else; tend trusts
// their test CA through SSL_CERT_FILE. The servers drop any connection that
// did not come through the proxy. The images rule's PR and the agent rule's
// PR open, and the proxy saw tend reach all three hosts.
func TestHTTPSProxy(t *testing.T) {
	ca := newTestCA(t, "github.test", "registry.test", "gemini.test")
	px := startConnectProxy(t)
	px.serveTLS(t, "registry.test", registry.New(registry.Logger(log.New(io.Discard, "", 0))), ca.leaf)
	gem := fakegemini.New(t,
		fakegemini.Call("read_file", map[string]any{"path": "docs/a.md"}),
		fakegemini.Call("edit_file", map[string]any{"path": "docs/a.md", "old_text": "Text.\n", "new_text": "Text.\n\nReviewed.\n"}),
		fakegemini.Call("submit", map[string]any{"title": "Mark docs/a.md reviewed", "summary": "Adds the closing line."}),
	)
	px.serveTLS(t, "gemini.test", gem, ca.leaf)

	// The test pushes its image through the proxy too: the registry takes
	// nothing else.
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference("registry.test/acme/app:1.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithTransport(px.client(ca.pool))); err != nil {
		t.Fatalf("push through the proxy: %v", err)
	}
	digest, _ := img.Digest()
	// The guard is real: a request straight to the registry's address,
	// with the right name and CA, is dropped and recorded.
	straight := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool, ServerName: "registry.test"}}}
	if resp, err := straight.Get("https://" + px.backend("registry.test") + "/v2/"); err == nil {
		resp.Body.Close()
		t.Fatalf("a direct connection to the registry was served: %s", resp.Status)
	}
	if _, _, bypassed := px.report(); len(bypassed) != 1 {
		t.Fatalf("the direct connection was not recorded: %v", bypassed)
	}
	px.forget() // from here on, only tend's connections count

	const cfg = `version: 1
rules:
  - {name: pin-images, reconciler: images, paths: ["deploy/*.yaml"]}
  - {name: docs, reconciler: agent, paths: ["docs/*.md"], prompt: "Every doc ends with a line 'Reviewed.'"}
`
	w := newWorld(t, nil, worldOptions{repo: "acme/web",
		files:       map[string]string{".github/tend.yaml": cfg, "deploy/app.yaml": deployment("registry.test/acme/app:1.0"), "docs/a.md": "# A\n\nText.\n"},
		ghOpts:      []fakegithub.Option{fakegithub.WithPublicURL("https://github.test/api/v3/")},
		beforeStart: func(gh *fakegithub.Server) { px.serveTLS(t, "github.test", gh, ca.leaf) },
		env: map[string]string{
			"HTTPS_PROXY":            px.url,
			"SSL_CERT_FILE":          ca.file,
			"GEMINI_API_KEY":         "model-key-CANARY-proxy-5d1e",
			"GOOGLE_GEMINI_BASE_URL": "https://gemini.test/",
			"TEND_MODEL":             "gemini-e2e",
		},
	})
	if got := w.env["GITHUB_V3_API_URL"]; got != "https://github.test/api/v3/" {
		t.Fatalf("GITHUB_V3_API_URL = %q", got)
	}
	imagesBranch := botpr.BranchName(mustKey(t, "acme/web:pin-images:deploy/app.yaml"))
	agentBranch := botpr.BranchName(mustKey(t, "acme/web:docs:docs/a.md"))
	testwait.For(t, 90*time.Second, func() bool {
		return len(prsOn(w.openPRs(), imagesBranch)) == 1 && len(prsOn(w.openPRs(), agentBranch)) == 1
	}, "the images PR and the agent PR")
	w.settle(t)

	if got, _ := w.gh.File("acme/web", imagesBranch, "deploy/app.yaml"); got != deployment("registry.test/acme/app:1.0@"+digest.String()) {
		t.Errorf("images PR content %q", got)
	}
	if got, _ := w.gh.File("acme/web", agentBranch, "docs/a.md"); got != "# A\n\nText.\n\nReviewed.\n" {
		t.Errorf("agent PR content %q", got)
	}
	if n := len(gem.Requests()); n != 3 {
		t.Errorf("the model answered %d requests, want 3", n)
	}
	connects, refused, direct := px.report()
	t.Logf("CONNECTs through the proxy: %v; refused: %v; connections that bypassed it: %v", connects, refused, direct)
	for _, host := range []string{"github.test:443", "registry.test:443", "gemini.test:443"} {
		if connects[host] == 0 {
			t.Errorf("no CONNECT to %s went through the proxy", host)
		}
	}
	if len(refused) != 0 {
		t.Errorf("the proxy was asked for hosts it does not serve: %v", refused)
	}
	if len(direct) != 0 {
		t.Errorf("connections reached the fakes without the proxy: %v", direct)
	}
}

// testCA is a certificate authority made for one test, and one server
// certificate it signed for the test's host names.
type testCA struct {
	file string         // the CA certificate, PEM (SSL_CERT_FILE)
	pool *x509.CertPool // the same, for the test's own clients
	leaf tls.Certificate
}

func newTestCA(t *testing.T, hosts ...string) testCA {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tend test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return testCA{file: file, pool: pool, leaf: tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}}
}

// connectProxy is an HTTP proxy on 127.0.0.1 that only tunnels (CONNECT)
// the host names it serves to their servers, and records what it was asked.
// The servers it fronts drop connections that did not come through it.
type connectProxy struct {
	url string

	mu       sync.Mutex
	backends map[string]string // "github.test:443" -> 127.0.0.1:port
	connects map[string]int
	refused  []string
	tunnels  map[string]bool // local addresses of the proxy's upstream connections
	direct   []string        // connections a server dropped
	conns    []net.Conn
}

func startConnectProxy(t *testing.T) *connectProxy {
	t.Helper()
	p := &connectProxy{backends: map[string]string{}, connects: map[string]int{}, tunnels: map[string]bool{}}
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		srv.Close()
	})
	p.url = srv.URL
	return p
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	backend, ok := p.backends[r.Host]
	if !ok || r.Method != http.MethodConnect {
		p.refused = append(p.refused, r.Method+" "+r.Host)
	}
	p.mu.Unlock()
	if !ok || r.Method != http.MethodConnect {
		http.Error(w, "this proxy only tunnels to the test's hosts", http.StatusForbidden)
		return
	}
	up, err := net.DialTimeout("tcp", backend, 5*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	down, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		return
	}
	p.mu.Lock()
	p.connects[r.Host]++
	p.tunnels[up.LocalAddr().String()] = true
	p.conns = append(p.conns, up, down)
	p.mu.Unlock()
	if _, err := down.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		up.Close()
		down.Close()
		return
	}
	go pipe(up, buf)
	go pipe(down, up)
}

// pipe copies until either side ends, then closes dst.
func pipe(dst net.Conn, src io.Reader) {
	io.Copy(dst, src) //nolint:errcheck // a tunnel ends when either side goes
	dst.Close()
}

// serveTLS serves h over TLS on 127.0.0.1 and makes host:443 tunnel to it.
func (p *connectProxy) serveTLS(t *testing.T, host string, h http.Handler, cert tls.Certificate) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = &guardedListener{Listener: srv.Listener, p: p}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // dropped connections are counted, not logged
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p.mu.Lock()
	p.backends[host+":443"] = srv.Listener.Addr().String()
	p.mu.Unlock()
}

// backend is the 127.0.0.1 address that host's tunnels lead to.
func (p *connectProxy) backend(host string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.backends[host+":443"]
}

// forget clears what the proxy and its servers recorded so far.
func (p *connectProxy) forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.connects = map[string]int{}
	p.refused, p.direct = nil, nil
}

// client is an HTTP transport for the test's own requests, through the
// proxy, trusting pool.
func (p *connectProxy) client(pool *x509.CertPool) http.RoundTripper {
	u, _ := url.Parse(p.url)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyURL(u)
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	return tr
}

// report returns the CONNECTs by host, the refused requests and the
// connections that reached a server without the proxy.
func (p *connectProxy) report() (map[string]int, []string, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	connects := map[string]int{}
	for k, v := range p.connects {
		connects[k] = v
	}
	refused := append([]string(nil), p.refused...)
	direct := append([]string(nil), p.direct...)
	sort.Strings(refused)
	return connects, refused, direct
}

// guardedListener hands out connections that serve only when they came
// through the proxy's tunnel.
type guardedListener struct {
	net.Listener
	p *connectProxy
}

func (l *guardedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &guardedConn{Conn: c, p: l.p}, nil
}

// guardedConn checks its peer once the first bytes arrive: a tunnel's
// client speaks only after the proxy answered its CONNECT, by which time
// the proxy has recorded its upstream address.
type guardedConn struct {
	net.Conn
	p     *connectProxy
	state atomic.Int32 // 0 unchecked, 1 through the proxy, 2 not
}

var errNotProxied = errors.New("connection did not come through the proxy")

func (c *guardedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.state.Load() == 0 {
		c.p.mu.Lock()
		state := int32(1)
		if !c.p.tunnels[c.RemoteAddr().String()] {
			c.p.direct = append(c.p.direct, c.RemoteAddr().String())
			state = 2
		}
		c.p.mu.Unlock()
		c.state.Store(state)
	}
	if c.state.Load() == 2 {
		c.Conn.Close()
		return 0, errNotProxied
	}
	return n, err
}
