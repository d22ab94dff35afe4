package handlers

import (
	"encoding/json"
	"testing"
)

// The former name of a renamed or transferred repository comes from the
// event's changes; an event without it names nothing.
func TestRepositoryFormerName(t *testing.T) {
	for _, c := range []struct{ payload, want string }{
		{`{"action":"renamed","repository":{"full_name":"acme/site"},"changes":{"repository":{"name":{"from":"web"}}}}`, "acme/web"},
		{`{"action":"transferred","repository":{"full_name":"corp/web"},"changes":{"owner":{"from":{"user":{"login":"alice"}}}}}`, "alice/web"},
		{`{"action":"transferred","repository":{"full_name":"corp/web"},"changes":{"owner":{"from":{"organization":{"login":"acme"}}}}}`, "acme/web"},
		{`{"action":"transferred","repository":{"full_name":"corp/web"},"changes":{}}`, ""},
		{`{"action":"renamed","repository":{"full_name":"acme/site"}}`, ""},
	} {
		var ev repositoryPayload
		if err := json.Unmarshal([]byte(c.payload), &ev); err != nil {
			t.Fatal(err)
		}
		if got := ev.formerName(); got != c.want {
			t.Errorf("%s: former name %q, want %q", c.payload, got, c.want)
		}
	}
}
