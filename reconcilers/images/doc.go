// Package images keeps container image references in repository files pinned
// to the digest their tag currently points at, the way digestabot or
// Renovate's docker manager do: `nginx:1.25` becomes
// `nginx:1.25@sha256:…`, and a pinned reference whose tag has since moved gets
// the new digest. The tag stays in the text so people can read it and so the
// next run knows what to follow; the digest is what actually gets pulled.
//
// This package is the pure core of the `images` reconciler. It has three
// parts, and no GitHub code:
//
//   - [Find] locates references in one file and returns their exact byte
//     offsets, plus [Note]s for everything it deliberately left alone.
//   - [Resolver] turns `name:tag` into a digest; [RegistryResolver] does it
//     with go-containerregistry (a HEAD of the manifest, credentials from a
//     keychain with an anonymous fallback, a per-run cache, bounded
//     concurrency and a per-image timeout).
//   - [Pin] runs both and splices the new reference text into the original
//     bytes. Nothing else in the file changes: comments, quoting, ordering,
//     indentation, CRLF line endings, trailing whitespace and a missing final
//     newline all survive byte for byte, because files are never
//     re-serialised.
//
// # Formats
//
// The format comes from the file name, and for other YAML files from the
// content (see [Find]):
//
//   - Dockerfiles and Containerfiles: `FROM [--platform=…] image [AS name]`,
//     `COPY --from=image` and `RUN --mount=…,from=image`. Names of earlier
//     stages, stage numbers and `scratch` are not images. Line continuations,
//     heredocs and the `# escape=` directive are understood.
//   - GitHub Actions workflows (.github/workflows/*.yml): `jobs.*.container`
//     (a string, or a mapping with `image`), `jobs.*.services.*.image`, and
//     `jobs.*.steps[*].uses: docker://image`. `uses: owner/action@ref` is not
//     an image and is never touched.
//   - Action metadata (action.yml): `runs.image: docker://image` and
//     `runs.steps[*].uses: docker://image`.
//   - Compose files: `services.*.image`, following `<<: *anchor` merges. A
//     service that also has `build` is skipped: there `image` names the image
//     the build produces, and a digest cannot be a build's tag.
//   - Any other YAML (Kubernetes manifests, Helm values, CRDs, …): every
//     `image:` key whose value is a plain or quoted string, in every document
//     of a multi-document file. Mappings such as Helm's
//     `image: {repository: …, tag: …}` are not references and are skipped.
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
// Not handled, on purpose: Dockerfile `ARG` defaults (only the `FROM` that
// uses them knows they are images), kustomization `images:` entries and Helm
// `repository`/`tag` pairs (their digest lives in another field), and
// comments or prose that mention images.
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
