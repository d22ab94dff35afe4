package agent

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the agent's Prometheus counters. Labels are bounded values
// (outcome, tool, direction), never keys or repositories.
type Metrics struct {
	Runs      *prometheus.CounterVec
	Tokens    *prometheus.CounterVec
	ToolCalls *prometheus.CounterVec
	Turns     prometheus.Counter
}

// NewMetrics creates the counters and registers them with reg (nil: not
// registered, still counted).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Runs:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tend_agent_runs_total", Help: "Agent runs by outcome."}, []string{"outcome"}),
		Tokens:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tend_agent_tokens_total", Help: "Model tokens by direction (prompt, output)."}, []string{"direction"}),
		ToolCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tend_agent_tool_calls_total", Help: "Agent tool calls by tool and outcome."}, []string{"tool", "outcome"}),
		Turns:     prometheus.NewCounter(prometheus.CounterOpts{Name: "tend_agent_turns_total", Help: "Model calls made by the agent."}),
	}
	if reg != nil {
		reg.MustRegister(m.Runs, m.Tokens, m.ToolCalls, m.Turns)
	}
	return m
}

func (m *Metrics) record(outcome string, rec *Record) {
	if m == nil {
		return
	}
	m.Runs.WithLabelValues(outcome).Inc()
	if rec == nil {
		return
	}
	for _, t := range rec.Turns {
		m.Turns.Inc()
		m.Tokens.WithLabelValues("prompt").Add(float64(t.PromptTokens))
		m.Tokens.WithLabelValues("output").Add(float64(t.OutputTokens))
	}
	for _, c := range rec.Calls {
		m.ToolCalls.WithLabelValues(toolLabel(c.Name), c.Outcome).Inc()
	}
}

// toolLabel keeps the label set bounded when a model invents tool names.
func toolLabel(name string) string {
	switch name {
	case "list_files", "read_file", "search", "write_file", "edit_file", "delete_file",
		toolGetRelease, toolGetIssue, toolResolveImage, toolSubmit, toolNoChange:
		return name
	}
	return "unknown"
}
