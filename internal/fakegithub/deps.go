package fakegithub

import (
	_ "github.com/getkin/kin-openapi/openapi3filter"
	_ "github.com/google/go-github/v89/github"
	_ "github.com/gregjones/httpcache"
	_ "github.com/palantir/go-githubapp/githubapp"
)
