// Package fakegithub is a stateful, in-memory fake of GitHub's REST API for
// tend's tests, end-to-end tests and load programs. The real clients —
// palantir/go-githubapp, google/go-github, gregjones/httpcache and
// bradleyfalzon/ghinstallation — run against it unchanged over loopback
// HTTP: point GITHUB_V3_API_URL (githubapp.Config.V3APIURL) at Server.URL.
//
// # Validation
//
// Every request is routed and validated against GitHub's own OpenAPI
// description (npm @octokit/openapi via internal/fixtures). The description
// is loaded once per process and pruned first — responses, prose and
// unreachable components dropped — which takes under a second and keeps
// about 10 MB instead of the full document's ~3 s and ~165 MB. A request
// that matches no operation, or whose path parameters, query or body break
// the operation's schema, is a violation: it is recorded and answered 422
// (400 for unparsable JSON). New(t) fails the test for every violation at
// cleanup; TakeViolations consumes expected ones. Only the routed operation
// is validated: the fake's share of a request is tens of microseconds.
//
// Body fields the operation's schema doesn't declare are violations too,
// although the request is then served like GitHub serves it, ignoring them:
// GitHub's description almost never says additionalProperties: false and
// GitHub drops unknown fields silently, so a misspelt field would otherwise
// go unnoticed. WithLenientBodies turns this off.
//
// Routing differs from a plain OpenAPI router on purpose: parameters that
// hold slashes match across segments, whether the client escapes the
// slashes as %2F or not, as GitHub does. Those are the ones the description
// marks "x-multi-segment" (contents paths, git refs, branch and tag names,
// compare's "base...head", tree SHAs or refs) plus label names. Between
// candidates the template with more literal segments wins
// ("/commits/{ref}/check-runs" before "/commits/{ref}").
//
// Exceptions, each where GitHub is more lenient than its description:
//   - go-github's AddLabelsToIssue/ReplaceLabelsForIssue send a bare JSON
//     array; it is validated as {"labels": [...]}.
//   - ghinstallation posts the body "null" to .../access_tokens; a null body
//     counts as none where the body is optional.
//   - ".../contents/" (repository root) and ".../git/matching-refs/" (all
//     refs) have an empty path parameter the description calls required.
//   - A body without Content-Type is validated as JSON.
//   - The deprecated "/compare/{base}...{head}" template is shadowed by
//     "/compare/{basehead}".
//
// # Behaviour
//
// Operations tend uses are implemented with real state (see handlers.go for
// the list); other valid requests answer 404 like GitHub's "Not Found".
// Git objects are hashed exactly as git hashes them, so blob, tree and commit
// SHAs match `git hash-object`/`git commit-tree`. Commits an installation
// creates through the Git Data API without claiming another committer are
// marked verified, as GitHub signs them; merge-button commits are by
// "GitHub <noreply@github.com>" (web-flow) and verified too.
//
// Authentication is enforced: /app endpoints and the installation lookups
// want an App JWT (RS256, iss = App id, exp at most 10 minutes ahead);
// everything else an installation token (or a UserToken). Installation
// tokens expire after WithTokenTTL; expired ones answer 401 "Bad
// credentials". Repositories outside the token's installation answer 404.
//
// GitHub's quirks are reproduced where clients trip on them: pulls/list
// ignores a head filter without "owner:"; PRs and issues share numbers and
// issues/list includes PRs; deleting a PR's head or base branch closes it;
// contents inline files up to 1 MB, base64 wrapped at 60 columns; compare
// lists at most 300 files, pulls/files 3,000; check run limits answer 422.
//
// Every GET answers with a strong ETag and GitHub's Cache-Control, and
// If-None-Match answers 304 without a body and without charging the rate
// limit. Note that with max-age=60, httpcache serves fresh entries without
// asking for 60 s unless go-githubapp's alwaysValidate is set — exactly as
// with GitHub. Each identity has an hourly budget (WithRateLimit, default
// 5,000) reported in x-ratelimit-* headers.
//
// State changes that GitHub announces produce webhooks (WithWebhooks or
// SetWebhooks): push, pull_request (opened, edited, synchronize, closed,
// reopened, labeled, unlabeled), issues, issue_comment, check_run (created,
// completed, rerequested, requested_action), release (published),
// installation and installation_repositories; and for other apps' reports
// (ci.go, reviews.go) check_run and check_suite (completed, from
// AddForeignCheckRun), status (SetStatus or the API), pull_request_review
// (submitted) and pull_request_review_comment (created, from AddReview). They are signed like
// GitHub's, delivered in order on one goroutine, only for repositories in an
// installation, and recorded (Deliveries) without retries. Changes made
// through the API have the bot "<slug>[bot]" as sender; changes made with
// the Server's methods (Commit, MergePR, AddComment, ...) act as the named
// human.
//
// GitHub's App manifest flow is served end to end: WebURL's
// settings/apps/new (and organizations/{org}/settings/apps/new) takes a
// POSTed manifest and redirects to its redirect_url with a one-time code,
// as if the user had confirmed; the unauthenticated
// POST /app-manifests/{code}/conversions exchanges it once for the App's
// credentials and points the fake's webhooks at the manifest's hook URL
// with a fresh secret (ManifestRegistrations records each flow).
//
// Other apps' check runs carry their own app; a GitHub Actions job's log
// (SetJobLog) is served the way GitHub serves it: .../actions/jobs/{id}/logs
// answers 302 to an unauthenticated download URL on the same server.
//
// Faults are injected with Fail (e.g. 403 with Retry-After, 429, 502), slow
// answers with Delay (held before the request is served, or after: the
// write lands though the client gave up), and Gate holds requests until the
// test opens it.
//
// Server methods are safe for concurrent use; the state is guarded by one
// mutex, so handlers are serialized.
package fakegithub
