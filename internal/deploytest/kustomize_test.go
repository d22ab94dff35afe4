package deploytest

import (
	"os"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s", dir)
	}
	return dir
}

// render builds a kustomization with kustomize's Go API and decodes every
// object strictly (unknown or duplicate fields fail) into the Kubernetes
// API types.
func render(t *testing.T, dir string) []runtime.Object {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(repoRoot(t), dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{appsv1.AddToScheme, corev1.AddToScheme, policyv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	var out []runtime.Object
	for _, r := range res.Resources() {
		data, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		obj, _, err := decoder.Decode(data, nil, nil)
		if err != nil {
			t.Fatalf("%s: %s/%s does not decode strictly: %v\n%s", dir, r.GetKind(), r.GetName(), err, data)
		}
		out = append(out, obj)
	}
	return out
}

func find[T runtime.Object](objs []runtime.Object) []T {
	var out []T
	for _, o := range objs {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// checkPod checks what both variants' pods need: the image, the
// credentials from the Secret, the data directory, probes, resources, and
// a non-root, read-only container.
func checkPod(t *testing.T, what string, pod corev1.PodTemplateSpec, selector map[string]string) {
	t.Helper()
	for k, v := range selector {
		if pod.Labels[k] != v {
			t.Errorf("%s: the pod template lacks the selector label %s=%s: %v", what, k, v, pod.Labels)
		}
	}
	if len(selector) == 0 {
		t.Errorf("%s: empty selector", what)
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%s: %d containers", what, len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	if c.Image != "ghcr.io/tend-app/tend:latest" {
		t.Errorf("%s: image %q", what, c.Image)
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("%s: liveness probe %+v", what, c.LivenessProbe)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("%s: readiness probe %+v", what, c.ReadinessProbe)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("%s: resources %+v", what, c.Resources)
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != "tend" {
		t.Errorf("%s: credentials not from the Secret tend: %+v", what, c.EnvFrom)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		mounted = mounted || m.MountPath == env["TEND_DATA_DIR"].Value
	}
	if !mounted {
		t.Errorf("%s: TEND_DATA_DIR %q is not a mounted volume", what, env["TEND_DATA_DIR"].Value)
	}
	sc, psc := c.SecurityContext, pod.Spec.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("%s: not a non-root, read-only container", what)
	}
}

func TestKustomizeBase(t *testing.T) {
	objs := render(t, "deploy/kubernetes/base")
	sets := find[*appsv1.StatefulSet](objs)
	if len(sets) != 1 || len(find[*appsv1.Deployment](objs)) != 0 {
		t.Fatalf("want one StatefulSet and no Deployment, got %d objects", len(objs))
	}
	ss := sets[0]
	if ss.Spec.Replicas == nil || *ss.Spec.Replicas != 1 {
		t.Errorf("replicas = %v, want 1 (SQLite)", ss.Spec.Replicas)
	}
	checkPod(t, "base", ss.Spec.Template, ss.Spec.Selector.MatchLabels)
	if len(ss.Spec.VolumeClaimTemplates) != 1 || ss.Spec.VolumeClaimTemplates[0].Name != "data" || ss.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests.Storage().IsZero() {
		t.Errorf("volume claim templates = %+v", ss.Spec.VolumeClaimTemplates)
	}
	if got := ss.Spec.Template.Spec.Containers[0].VolumeMounts; len(got) != 1 || got[0].Name != "data" {
		t.Errorf("the data volume is not the claim: %+v", got)
	}
	svcs := find[*corev1.Service](objs)
	if len(svcs) != 1 || svcs[0].Spec.Selector["app.kubernetes.io/name"] != "tend" || svcs[0].Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("service = %+v", svcs)
	}
	secrets := find[*corev1.Secret](objs)
	if len(secrets) != 1 || secrets[0].Name != "tend" {
		t.Errorf("secrets = %+v", secrets)
	}
}

func TestKustomizePostgres(t *testing.T) {
	objs := render(t, "deploy/kubernetes/postgres")
	if len(find[*appsv1.StatefulSet](objs)) != 0 {
		t.Error("the postgres variant still has the StatefulSet")
	}
	deps := find[*appsv1.Deployment](objs)
	if len(deps) != 1 {
		t.Fatalf("%d Deployments", len(deps))
	}
	d := deps[0]
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("replicas = %v, want several", d.Spec.Replicas)
	}
	checkPod(t, "postgres", d.Spec.Template, d.Spec.Selector.MatchLabels)
	var dbURL *corev1.EnvVarSource
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "DATABASE_URL" {
			dbURL = e.ValueFrom
		}
	}
	if dbURL == nil || dbURL.SecretKeyRef == nil || dbURL.SecretKeyRef.Name != "tend-postgres" || dbURL.SecretKeyRef.Key != "url" {
		t.Errorf("DATABASE_URL does not come from a Secret: %+v", dbURL)
	}
	pdbs := find[*policyv1.PodDisruptionBudget](objs)
	if len(pdbs) != 1 || pdbs[0].Spec.Selector == nil || pdbs[0].Spec.Selector.MatchLabels["app.kubernetes.io/name"] != "tend" || pdbs[0].Spec.MaxUnavailable == nil {
		t.Errorf("pod disruption budget = %+v", pdbs)
	}
	for k, v := range pdbs[0].Spec.Selector.MatchLabels {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("the budget's selector %s=%s does not match the pods", k, v)
		}
	}
}
