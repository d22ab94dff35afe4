package images

import "context"

// Preview is what the reconciler would propose for one file: the desired
// content and the check run's title and text. It is Reconcile without
// GitHub, for `tend plan`.
type Preview struct {
	Desired        []byte
	Title, Summary string
	Details        string
	Failures       []Failure
}

// PreviewFile pins the references in content with r, like a run of the
// reconciler on that file.
func PreviewFile(ctx context.Context, path string, content []byte, r Resolver) Preview {
	refs, notes := Find(path, content)
	out, pins, fails := PinRefs(ctx, content, refs, r)
	title, summary := describe(path, pins)
	return Preview{Desired: out, Title: title, Summary: summary, Details: details(refs, pins, fails, notes), Failures: fails}
}
