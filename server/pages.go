package main

import (
	"bytes"
	"html/template"
	"net/http"
)

// layout is shared by every page tend serves: plain HTML, no JavaScript
// build, readable on a phone.
const layout = `{{define "top"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>tend{{with .Title}} · {{.}}{{end}}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;color:#1f2328}
code,pre{background:#f4f4f4;border-radius:4px;padding:.1rem .3rem}pre{padding:.8rem;overflow:auto}
button,.button{font:inherit;background:#1f883d;color:#fff;border:0;border-radius:6px;padding:.5rem 1rem;cursor:pointer;text-decoration:none;display:inline-block}
input[type=text]{font:inherit;padding:.4rem;border:1px solid #d0d7de;border-radius:6px;max-width:100%}
.note{background:#fff8c5;border:1px solid #d4a72c66;border-radius:6px;padding:.6rem .9rem}
.error{background:#ffebe9;border:1px solid #ff818266;border-radius:6px;padding:.6rem .9rem}
table{border-collapse:collapse;width:100%;font-size:.95rem}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #d0d7de;vertical-align:top}
.scroll{overflow-x:auto}td pre{white-space:pre-wrap;word-break:break-word;margin:0}.ok{color:#1a7f37}.bad{color:#cf222e}
</style></head><body><h1>tend{{with .Title}} · {{.}}{{end}}</h1>{{end}}
{{define "bottom"}}</body></html>{{end}}`

func page(body string) *template.Template {
	return template.Must(template.Must(template.New("layout").Parse(layout)).New("page").Parse(`{{template "top" .}}` + body + `{{template "bottom" .}}`))
}

// render executes t into a buffer first, so a template error never sends
// half a page with a 200.
func render(w http.ResponseWriter, status int, t *template.Template, data map[string]any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "page", data); err != nil {
		http.Error(w, "cannot render page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

var runningPage = page(`
<p>tend is running{{if .Bot}} as <strong>{{.Bot}}</strong>{{end}}. Webhooks go to <code>{{.Self}}/api/github/hook</code>.</p>
<ul><li><a href="/status">/status</a> and <a href="/riverui/">/riverui/</a>: what tend did and its queue (user <code>admin</code>, password <code>TEND_ADMIN_PASSWORD</code>)</li>
<li><a href="/metrics">/metrics</a>, <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a></li></ul>`)

var setupPage = page(`
<p><strong>tend is not connected to GitHub yet.</strong> It is running and its database is ready, but it has no GitHub App to act as.</p>
<h2>Register the GitHub App</h2>
<p>One click creates a private GitHub App with the permissions and events in tend's <code>app.yml</code>, sends its webhooks to <code>{{.Self}}/api/github/hook</code>, and brings its credentials back here: tend stores them in <code>TEND_DATA_DIR/github-app.json</code> (mode 0600) and starts at once.</p>
{{if .Local}}<p class="note">GitHub cannot reach <code>{{.Self}}</code>. Open this page through an address GitHub can reach (a tunnel such as <code>cloudflared tunnel --url http://localhost:8080</code> or <code>ngrok http 8080</code>, or your server's public name), or start tend with <code>TEND_PUBLIC_URL=https://your-public-name</code>, before you register.</p>{{end}}
<form method="post" action="/setup/register">
<p><label>Organisation <small>(leave empty to register the App on your personal account)</small><br>
<input type="text" name="org" id="org" placeholder="my-org" autocomplete="off" spellcheck="false"></label></p>
<p><button type="submit" id="register">Register GitHub App</button></p>
</form>
<details><summary>Or create the App by hand</summary>
<ol>
<li>Create a GitHub App with the permissions and events listed in <code>app.yml</code>, the webhook URL <code>{{.Self}}/api/github/hook</code> and a webhook secret of your choosing.</li>
<li>Generate a private key for it and note its App ID.</li>
<li>Restart tend with (one command; the backslashes continue it):
<pre>GITHUB_APP_INTEGRATION_ID=&lt;App ID&gt; \
GITHUB_APP_WEBHOOK_SECRET=&lt;webhook secret&gt; \
GITHUB_APP_PRIVATE_KEY="$(cat app-private-key.pem)" \
TEND_PUBLIC_URL={{.Self}} \
tend</pre>
(<code>go run ./server</code> in a checkout instead of <code>tend</code>.) For GitHub Enterprise Server also set <code>GITHUB_V3_API_URL</code> and <code>GITHUB_WEB_URL</code>.</li>
</ol></details>
<p>Missing: {{range $i, $m := .Missing}}{{if $i}}, {{end}}<code>{{$m}}</code>{{end}}. Until then, webhooks are answered with 503.</p>`)

var postManifestPage = page(`
<form method="post" action="{{.Action}}" id="manifest-form">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<p>Taking you to GitHub to create the App{{with .Org}} for <strong>{{.}}</strong>{{end}}…</p>
<p><button type="submit" id="continue">Continue to GitHub</button></p>
</form>
<script>document.getElementById("manifest-form").submit()</script>`)

var registeredPage = page(`
<p class="ok"><strong>The GitHub App {{with .Name}}“{{.}}” {{end}}is registered and tend is serving its webhooks.</strong></p>
<p>Next, install it on the repositories tend should look after, and add a <code>.github/tend.yaml</code> to each (see the README):</p>
<p><a class="button" id="install" href="{{.Install}}">Install {{.Slug}}</a></p>
<p>The App's credentials are in <code>TEND_DATA_DIR/github-app.json</code>; keep that file (or move its values to the <code>GITHUB_APP_*</code> variables, which win over it).</p>`)

var setupErrorPage = page(`<p class="error">{{.Message}}</p><p><a href="/">Back to the setup page</a></p>`)

var statusPage = page(`{{with .V}}
{{with .Message}}<p class="note">{{.}}</p>{{end}}
{{range .Problems}}<p class="error">Could not read {{.}}</p>{{end}}
<p>Queue: {{index .Depth "available"}} available, {{index .Depth "scheduled"}} scheduled, {{index .Depth "running"}} running, {{index .Depth "retryable"}} retrying, <strong class="{{if .DeadCount}}bad{{else}}ok{{end}}">{{.DeadCount}} dead-lettered</strong>.{{with .OldestPending}} Oldest pending key: first event {{.}}.{{end}} More in <a href="/riverui/">the queue UI</a>.</p>

<h2>Recent reconciles</h2>
{{if .Runs}}<div class="scroll"><table><tr><th>key</th><th>outcome</th><th>PR</th><th>duration</th><th>tokens today</th><th>when</th></tr>
{{range .Runs}}<tr><td><code>{{.Key}}</code></td><td class="{{if .Failed}}bad{{end}}">{{.Outcome}}</td><td>{{if .PRURL}}<a href="{{.PRURL}}">#{{.PR}}</a>{{end}}</td><td>{{.Duration}}</td><td>{{if .Tokens}}{{.Tokens}}{{end}}</td><td>{{.Ago}}</td></tr>
{{end}}</table></div>{{else}}<p>No reconcile yet.</p>{{end}}

<h2>Dead letters</h2>
{{if .Dead}}<div class="scroll"><table><tr><th>key</th><th>attempts</th><th>since</th><th>last error</th><th></th></tr>
{{range .Dead}}<tr><td><code>{{.Key}}</code></td><td>{{.Attempts}}</td><td>{{.Since}}</td><td>{{.LastError}}</td>
<td><form method="post" action="/status/retry"><input type="hidden" name="key" value="{{.Key}}"><button type="submit">Retry</button></form></td></tr>
{{end}}</table></div>{{else}}<p class="ok">None.</p>{{end}}

<h2>Installations</h2>
{{if .Installations}}<div class="scroll"><table><tr><th>account</th><th>id</th><th>rate limit</th><th></th></tr>
{{range .Installations}}<tr><td>{{.Account}}</td><td>{{.ID}}</td><td>{{.Rate}}</td><td class="bad">{{.Suspended}}</td></tr>
{{end}}</table></div>{{else}}<p>The App is not installed anywhere yet.</p>{{end}}

<h2>Invalid configs</h2>
{{if .Invalid}}<div class="scroll"><table><tr><th>repository</th><th>file</th><th>problems</th></tr>
{{range .Invalid}}<tr><td>{{.Repo}}</td><td><code>{{.Path}}</code></td><td><pre>{{.Errors}}</pre></td></tr>
{{end}}</table></div>{{else}}<p class="ok">None.</p>{{end}}

<h2>Open tend pull requests</h2>
{{if .PRs}}<div class="scroll"><table><tr><th>repository</th><th>open</th><th>limit</th><th>keys waiting</th></tr>
{{range .PRs}}<tr><td>{{.Repo}}</td><td class="{{if .Full}}bad{{end}}">{{.Open}}</td><td>{{.Limit}}</td><td>{{.Waiting}}</td></tr>
{{end}}</table></div>{{else}}<p>None open.</p>{{end}}
{{end}}`)
