package images

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tend-app/tend/internal/imagename"

	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/reconcilers"
	"github.com/tend-app/tend/reconcilers/changes"
)

// MaxFileBytes bounds the files the images reconciler reads: manifests,
// Dockerfiles and compose files are kilobytes, a bundle of an operator's
// resources a few megabytes. A larger file is reported, not read.
const MaxFileBytes = 4 << 20

// RefIndex remembers which images each key's file references, so that a
// package published to a registry maps to the keys that pin it.
type RefIndex interface {
	SetImageRefs(ctx context.Context, key string, images []string) error
}

// Reconciler is the `images` reconciler: it pins the image references of
// one file to the digests their tags point at now, and proposes the result
// as the key's PR.
type Reconciler struct {
	Changes *changes.Manager
	// NewResolver returns the resolver of one run (its cache lives for the
	// run); NewRegistryResolver when nil.
	NewResolver func() Resolver
	// Index is optional.
	Index RefIndex
	// RetryFailures is when a file with references that could not be
	// resolved is looked at again (default 30 minutes).
	RetryFailures time.Duration
	// Tags shares tag lists across runs (for rules whose update setting
	// moves tags); a default cache is made on first use when nil. It asks
	// the run's resolver when that resolver is also a TagLister.
	Tags *TagCache

	tagsOnce sync.Once
}

// Reconcile implements reconcilers.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcilers.Request) (reconcilers.Result, error) {
	k := req.Key
	if k.Kind() != keys.KindPath {
		return reconcilers.Result{}, reconcilers.Permanent(fmt.Errorf("the images reconciler works on files; %s is a %s key", k, k.Kind()))
	}
	base, err := changes.ReadBase(ctx, req.Client, k.Owner, k.Repo, req.DefaultBranch)
	if err != nil {
		return reconcilers.Result{}, err
	}
	file, err := changes.ReadFileMax(ctx, req.Client, k.Owner, k.Repo, base.Commit, k.Path, MaxFileBytes)
	if err != nil {
		return r.readFailed(ctx, req, base, err)
	}
	// What people declined is left out of the change (see decline.go).
	prior, err := r.Changes.PriorOf(ctx, req.Client, k, req.PRRead, req.PR, req.Steering.Reconsider || req.Steering.Recreate)
	if err != nil {
		return reconcilers.Result{}, err
	}
	c := &changes.Change{Key: k, Rule: req.Rule.Name, PullRequests: req.Config.PullRequests, Base: base, Trigger: changes.DescribeTrigger(req.Trigger),
		Fresh: req.Steering.Fresh, Recreate: req.Steering.Recreate, Prior: prior}
	var failures []Failure
	if !file.Exists {
		// Deleted (or never there): nothing to pin. An open PR for it is
		// closed as resolved by the change manager.
		c.Files = []changes.FileChange{{Path: k.Path, Delete: true}}
		if r.Index != nil {
			if err := r.Index.SetImageRefs(ctx, k.String(), nil); err != nil {
				return reconcilers.Result{}, err
			}
		}
	} else {
		var refs []Ref
		refs, failures = r.plan(ctx, req, file.Content, c)
		if err := ctx.Err(); err != nil {
			return reconcilers.Result{}, err
		}
		if r.Index != nil {
			if err := r.Index.SetImageRefs(ctx, k.String(), canonicalNames(refs)); err != nil {
				return reconcilers.Result{}, err
			}
		}
	}
	out, err := r.Changes.Apply(ctx, req.Client, k.Owner, k.Repo, c)
	if err != nil {
		return reconcilers.Result{}, err
	}
	res := reconcilers.Result{Outcome: out.Action, RequeueAfter: out.RequeueAfter, Enqueue: out.Wake, PR: out.PR}
	if out.Action == "up-to-date" && (changes.CITrigger(req.Trigger) || req.Steering.Fresh) {
		// Images rules never loop on CI; their check run says what failed
		// when checks finish (or someone asks), so resyncs stay cheap.
		if _, err := r.Changes.ReportCI(ctx, req.Client, k.Owner, k.Repo, k); err != nil {
			return reconcilers.Result{}, err
		}
	}
	if len(failures) > 0 && res.RequeueAfter == 0 {
		res.RequeueAfter = r.RetryFailures
		if res.RequeueAfter <= 0 {
			res.RequeueAfter = 30 * time.Minute
		}
	}
	req.Log.Debug().Str("outcome", out.Action).Int("pr", out.PR).Int("failures", len(failures)).Msg("images reconciled")
	return res, nil
}

// readFailed answers a failed read of the key's file: a file too large to
// read is reported on the base commit's check run (the key runs again when
// the file changes); anything else is retried.
func (r *Reconciler) readFailed(ctx context.Context, req reconcilers.Request, base changes.Base, err error) (reconcilers.Result, error) {
	var e *changes.TooLargeError
	if !errors.As(err, &e) {
		return reconcilers.Result{}, err
	}
	k := req.Key
	err = changes.PostCheck(ctx, req.Client, k.Owner, k.Repo, changes.Check{
		Name: changes.CheckName(req.Rule.Name), HeadSHA: base.Commit, ExternalID: k.String(), Conclusion: "neutral",
		Title: fmt.Sprintf("%s is too large to pin", e.Path),
		Summary: fmt.Sprintf("`%s` is %d bytes; the images reconciler reads files of up to %d bytes, so the images in it are not pinned. "+
			"Split the file, or leave it out of the rule's paths.", e.Path, e.Size, e.Limit),
		Reconcilable: true,
	})
	if err != nil {
		return reconcilers.Result{}, err
	}
	req.Log.Info().Int64("size", e.Size).Int64("limit", e.Limit).Msg("file too large to pin")
	return reconcilers.Result{Outcome: "too-large"}, nil
}

// plan finds and updates the references of the key's file under the rule's
// policy, and describes the result in c.
func (r *Reconciler) plan(ctx context.Context, req reconcilers.Request, content []byte, c *changes.Change) ([]Ref, []Failure) {
	path := req.Key.Path
	opts := Options{Resolver: r.resolver(), Policy: Policy{Update: req.Rule.Update, Ignore: req.Rule.Ignore}}
	if lister, ok := opts.Resolver.(TagLister); ok {
		r.tagsOnce.Do(func() {
			if r.Tags == nil {
				r.Tags = NewTagCache(0, 0)
			}
		})
		opts.Tags = r.Tags.Lister(lister)
	}
	refs, notes := Find(path, content)
	_, pins, fails, ignored := UpdateRefs(ctx, content, refs, opts)
	out, pins, withheld := withholdDeclined(content, pins, c.Prior.Decline)
	notes = append(notes, ignored...)
	sort.SliceStable(notes, func(i, j int) bool { return notes[i].Line < notes[j].Line })

	c.Files = []changes.FileChange{{Path: path, Base: content, BaseExists: true, Desired: out, Note: pinNote(pins, fails)}}
	c.Title, c.Summary = describe(path, pins)
	c.Summary += withheldNote(withheld, c.Prior.Decline)
	c.Proposal, c.Withheld = proposalOf(pins), len(withheld)
	c.Details = details(refs, pins, fails, notes)
	c.Incomplete = len(fails) > 0
	for _, f := range fails {
		msg := fmt.Sprintf("%s (line %d): %v", f.Ref.Text, f.Ref.Line, f.Err)
		c.Warnings = append(c.Warnings, "could not resolve "+msg)
		c.Annotations = append(c.Annotations, changes.Annotation{
			Path: path, StartLine: f.Ref.Line, Level: "warning", Title: "image not resolved",
			Message: fmt.Sprintf("tend could not resolve %s: %v", f.Ref.ResolveKey(), f.Err),
		})
	}
	return refs, fails
}

func (r *Reconciler) resolver() Resolver {
	if r.NewResolver != nil {
		return r.NewResolver()
	}
	return NewRegistryResolver()
}

func canonicalNames(refs []Ref) []string {
	seen := map[string]bool{}
	var out []string
	for _, ref := range refs {
		if c := imagename.Canonical(ref.Name); c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

func describe(path string, pins []Change) (title, summary string) {
	title = "Pin container images in " + path
	moved, refreshed := 0, 0
	for _, p := range pins {
		switch {
		case p.ToTag != p.Ref.followedTag():
			moved++
		case p.FromDigest != "":
			refreshed++
		}
	}
	switch {
	case moved > 0:
		title = "Update container images in " + path
	case refreshed == len(pins) && refreshed > 0:
		title = "Update image digests in " + path
	}
	var b strings.Builder
	fmt.Fprintf(&b, "tend pins the container images in `%s` to the digests their tags point at now, "+
		"so every build and deploy pulls exactly the image that was reviewed, and a tag its publisher moves shows up here as a change.\n\n", path)
	if moved > 0 {
		b.WriteString("The rule also moves tags to newer versions within its `update` setting.\n\n")
	}
	if len(pins) > 0 {
		b.WriteString("| image | from | to | line |\n|---|---|---|---|\n")
		for _, p := range pins {
			fmt.Fprintf(&b, "| %s | %s | %s | %d |\n", imageCell(p.Image), tagDigest(p.FromTag, p.FromDigest), tagDigest(p.ToTag, p.ToDigest), p.Ref.Line)
		}
	}
	return title, b.String()
}

// imageCell names an image, linked to its registry page when there is one.
func imageCell(image string) string {
	if page := RegistryPage(image); page != "" {
		return fmt.Sprintf("[`%s`](%s)", image, page)
	}
	return "`" + image + "`"
}

// tagDigest renders one side of a change: `1.27` `sha256:0123456789ab`.
func tagDigest(tag, digest string) string {
	s := "`" + tag + "`"
	if tag == "" {
		s = "`latest` (no tag)"
	}
	if digest != "" {
		s += " `" + shortDigest(digest) + "`"
	}
	return s
}

func pinNote(pins []Change, fails []Failure) string {
	s := fmt.Sprintf("%d reference(s) pinned", len(pins))
	if len(fails) > 0 {
		s += fmt.Sprintf(", %d not resolved", len(fails))
	}
	return s
}

func details(refs []Ref, pins []Change, fails []Failure, notes []Note) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### References\n\n%d found, %d pinned now, %d could not be resolved.\n\n", len(refs), len(pins), len(fails))
	if len(refs) > 0 {
		b.WriteString("| line | where | reference |\n|---|---|---|\n")
		for _, r := range refs {
			fmt.Fprintf(&b, "| %d | %s | `%s` |\n", r.Line, r.Source, r.Text)
		}
		b.WriteString("\n")
	}
	if len(fails) > 0 {
		b.WriteString("### Not resolved\n\n")
		for _, f := range fails {
			fmt.Fprintf(&b, "- line %d `%s`: %v\n", f.Ref.Line, f.Ref.ResolveKey(), f.Err)
		}
		b.WriteString("\n")
	}
	if len(notes) > 0 {
		b.WriteString("### Left alone\n\n")
		for _, n := range notes {
			if n.Line > 0 {
				fmt.Fprintf(&b, "- line %d: %s\n", n.Line, n.Text)
			} else {
				fmt.Fprintf(&b, "- %s\n", n.Text)
			}
		}
	}
	return b.String()
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}
