// Package images keeps container image references in repository files pinned
// to the digest their tag currently points at, the way digestabot or
// Renovate's docker manager do: `nginx:1.25` becomes
// `nginx:1.25@sha256:…`, and a pinned reference whose tag has since moved gets
// the new digest. The tag stays in the text so people can read it and so the
// next run knows what to follow; the digest is what actually gets pulled.
// A rule may also move tags to newer versions ([Policy.Update]).
//
// This package is the pure core of the `images` reconciler. It has these
// parts, and no GitHub code:
//
//   - [Find] locates references in one file and returns their exact byte
//     offsets, plus [Note]s for everything it deliberately left alone.
//   - [Resolver] turns `name:tag` into a digest and [TagLister] lists a
//     repository's tags; [RegistryResolver] does both with
//     go-containerregistry (a HEAD of the manifest, the paginated tag list,
//     credentials from a keychain with an anonymous fallback, a per-run
//     cache, bounded concurrency and a per-image timeout). [TagCache] shares
//     tag lists across runs for a few minutes.
//   - [Update] (and [Pin], its digest-only form) runs both and splices the
//     new text into the original bytes, returning one [Change] per
//     reference: the image, from which tag and digest to which, and the
//     byte [Edit]s. Nothing else in the file changes: comments, quoting,
//     ordering, indentation, CRLF line endings, trailing whitespace and a
//     missing final newline all survive byte for byte, because files are
//     never re-serialised.
//
// # Updates
//
// Under `update: digest` (the default) tags never change. Under `patch`,
// `minor` and `major`, a tag that reads as a version moves to the newest tag
// of the same repository in the same family and within the bound, then is
// pinned. A family is the same `v` prefix, the same number of numeric parts
// and the same suffix: `1.27-alpine` moves to `1.28-alpine`, never to `1.28`
// or `1.28.1-alpine`; a trailing `-rN` (Bitnami's rebuilds) orders tags
// within a family. Pre-releases (`-rc.1`, `rc1`, `beta2`, `a1`) are chosen
// only when the current tag is one; tags that are not versions (`latest`,
// `stable`, `nonroot`) and date-like numbers next to small majors
// (alpine's `20240923` beside `3`) never replace one another. Images
// matching a rule's `ignore` globs are left alone with a note.
//
// # Formats
//
// The format comes from the file name, and for other YAML files from the
// content (see [Find]):
//
//   - Dockerfiles and Containerfiles: `FROM [--platform=…] image [AS name]`,
//     `COPY --from=image`, `RUN --mount=…,from=image` and the
//     `# syntax=image` parser directive. Names of earlier stages, stage
//     numbers and `scratch` are not images. Line continuations, heredocs
//     and parser directives are read as BuildKit reads them (leading
//     blanks, any case). `FROM $BASE` and `FROM ${BASE}` follow a global
//     `ARG BASE=image` (declared before the first FROM) and pin the default
//     where it is written; other uses of ARGs in FROM are noted.
//   - GitHub Actions workflows (.github/workflows/*.yml): `jobs.*.container`
//     and `jobs.*.services.*` (each a string, or a mapping with `image`), and
//     `jobs.*.steps[*].uses: docker://image`. `uses: owner/action@ref` is not
//     an image and is never touched.
//   - Action metadata (action.yml): `runs.image: docker://image` and
//     `runs.steps[*].uses: docker://image`.
//   - Compose files: `services.*.image`, following `<<: *anchor` merges, or
//     in version-1 files without `services`, each top-level service's
//     `image`. A service that also has `build` is skipped: there `image`
//     names the image the build produces, and a digest cannot be a build's
//     tag.
//   - kustomization.yaml: each `images:` entry with a `newTag` is the
//     reference `newName|name:newTag`; it is pinned by setting (or adding)
//     its `digest`, which kustomize combines into `name:tag@digest`.
//   - Any other YAML (Kubernetes manifests of every kind, Helm values, CRDs,
//     …), and the rest of a kustomization: every `image:` key whose value is
//     a plain or quoted string, in every document of a multi-document file;
//     Kubernetes image volumes (`image: {reference: …}`); Helm-style maps
//     `image: {registry?, repository, tag, digest?}` (under `image` or any key
//     ending in "image"), pinned by writing `tag@digest` into the tag
//     (`tag: "1.27@sha256:…"`) unless a `digest` key exists, which is then
//     set instead; and an `image: repo/name` string beside a `tag:` key, one
//     reference over two keys pinned the same way and never through the
//     string alone.
//
// # What is left alone
//
// References containing variables (`${BASE}`, `$TAG`, `{{ .Values.tag }}`,
// `${{ matrix.image }}`), references pinned by digest only (`repo@sha256:…`:
// there is no tag to follow), text that is not a valid reference, YAML block
// scalars, and scalars whose bytes in the file differ from their value
// (escape sequences, multi-line plain scalars) are reported as notes and not
// rewritten. Files over [MaxFileSize] bytes, files that are not valid UTF-8
// and YAML files that fail to parse yield no references and one note.
//
// Not handled, on purpose: ARGs that are not used whole by a FROM (only the
// FROM knows they are images), Helm maps without a tag (the chart's
// appVersion decides), kustomize entries without `newTag` (the manifests
// decide), and comments or prose that mention images. Each is noted.
//
// A reference without a tag (`nginx`) means `nginx:latest`, and is rewritten
// to `nginx:latest@sha256:…`. Writing `nginx@sha256:…` would be shorter, but
// it is a digest-only reference: the next run could no longer tell which tag
// to follow and the pin would silently freeze. Spelling out `:latest` keeps
// the file readable and the pin maintainable, and pinning it again is a no-op.
//
// # Ignore comments
//
//   - `# tend:ignore-file` anywhere in a file (as a comment) ignores the file.
//   - `# tend:ignore` at the end of a line ignores the references on that line.
//   - `# tend:ignore` on a line of its own applies to what follows it, skipping
//     blank lines and other comments: in a Dockerfile, the next instruction;
//     in YAML, when indented, the node that starts on the next line with
//     everything nested in it (a container list item, an `image:` key…); in
//     YAML, when it starts at column 1, the whole document it is in, where
//     documents are separated by `---` (or ended by `...`) lines and comments
//     before a document's first `---` belong to that document.
//
// A trailing `# tend:ignore` on a Dockerfile `FROM` line is honoured too, but
// Docker itself rejects comments that do not start a line, so prefer the
// line above.
//
// Markers are matched case-sensitively and may be followed by an explanation:
// `# tend:ignore pinned by hand until #123 is fixed`.
package images
