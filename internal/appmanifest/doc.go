// Package appmanifest turns app.yml, tend's GitHub App manifest (Probot's
// convention), into the JSON manifest GitHub's App manifest flow takes,
// filled in with the URLs where this tend instance is reachable.
//
// app.yml lives at the repository's top level, where operators look for
// it; Go can only embed files below a package, so this package holds a copy
// that a test keeps identical to the top-level file.
package appmanifest
