// Package prompts holds the agent reconciler's prompt templates
// (text/template files embedded with embed): the system prompt and one
// template per trigger.
package prompts
