// Package deploytest holds the tests of tend's deployment files in deploy/
// and .ko.yaml: the kustomize manifests rendered with kustomize's Go API
// and decoded strictly into the Kubernetes API types, and the image built
// with ko into a registry on loopback. It has no code of its own.
package deploytest
