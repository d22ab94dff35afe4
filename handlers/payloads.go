package handlers

import "encoding/json"

// The payload types below decode only the fields tend reads. Decoding into
// go-github's full event types would reject payloads over fields tend never
// looks at (some of GitHub's own examples carry timestamps go-github cannot
// parse), and costs more on the intake path.

type user struct {
	Login string `json:"login"`
	Type  string `json:"type"`
}

type repository struct {
	FullName      string `json:"full_name"`
	DefaultBranch string `json:"default_branch"`
	Archived      bool   `json:"archived"`
}

type label struct {
	Name string `json:"name"`
}

type envelope struct {
	Action       string `json:"action"`
	Installation struct {
		ID int64 `json:"id"`
	} `json:"installation"`
	Repository repository `json:"repository"`
	Sender     user       `json:"sender"`
}

type pushPayload struct {
	envelope
	Ref     string `json:"ref"`
	Before  string `json:"before"`
	After   string `json:"after"`
	Created bool   `json:"created"`
	Deleted bool   `json:"deleted"`
	Forced  bool   `json:"forced"`
	Commits []struct {
		Added    []string `json:"added"`
		Modified []string `json:"modified"`
		Removed  []string `json:"removed"`
	} `json:"commits"`
}

type releasePayload struct {
	envelope
	Release struct {
		TagName    string `json:"tag_name"`
		Draft      bool   `json:"draft"`
		Prerelease bool   `json:"prerelease"`
	} `json:"release"`
}

type issue struct {
	Number      int             `json:"number"`
	Body        string          `json:"body"`
	User        user            `json:"user"`
	Labels      []label         `json:"labels"`
	PullRequest json.RawMessage `json:"pull_request"`
}

func (i issue) isPullRequest() bool {
	return len(i.PullRequest) > 0 && string(i.PullRequest) != "null"
}

func (i issue) labelNames() []string {
	out := make([]string, 0, len(i.Labels))
	for _, l := range i.Labels {
		out = append(out, l.Name)
	}
	return out
}

type issuesPayload struct {
	envelope
	Issue issue `json:"issue"`
	Label label `json:"label"`
}

type issueCommentPayload struct {
	envelope
	Issue   issue `json:"issue"`
	Comment struct {
		Body string `json:"body"`
		User user   `json:"user"`
	} `json:"comment"`
}

type checkRunPayload struct {
	envelope
	RequestedAction struct {
		Identifier string `json:"identifier"`
	} `json:"requested_action"`
	CheckRun struct {
		ExternalID string `json:"external_id"`
		App        struct {
			ID int64 `json:"id"`
		} `json:"app"`
		// For check runs of other apps (ci.go).
		Conclusion string `json:"conclusion"`
		CheckSuite struct {
			HeadBranch string `json:"head_branch"`
		} `json:"check_suite"`
		PullRequests []prRef `json:"pull_requests"`
	} `json:"check_run"`
}

type pullRequestPayload struct {
	envelope
	Label       label `json:"label"`
	PullRequest struct {
		Number int    `json:"number"`
		Body   string `json:"body"`
		User   user   `json:"user"`
		Head   struct {
			Ref string `json:"ref"`
		} `json:"head"`
	} `json:"pull_request"`
}

type installationPayload struct {
	envelope
	Repositories        []repository `json:"repositories"`
	RepositoriesAdded   []repository `json:"repositories_added"`
	RepositoriesRemoved []repository `json:"repositories_removed"`
}
