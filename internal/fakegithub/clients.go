package fakegithub

import "github.com/palantir/go-githubapp/githubapp"

// AppConfig is go-githubapp's configuration for this server's App (the
// webhook secret is left empty).
func (s *Server) AppConfig() githubapp.Config {
	var c githubapp.Config
	c.V3APIURL = s.URL()
	c.App.IntegrationID = s.AppID()
	c.App.PrivateKey = string(s.AppKeyPEM())
	return c
}

// ClientCreator returns go-githubapp's caching client creator for this
// server's App: the real clients, pointed at the fake.
func (s *Server) ClientCreator(opts ...githubapp.ClientOption) (githubapp.ClientCreator, error) {
	return githubapp.NewDefaultCachingClientCreator(s.AppConfig(), opts...)
}
