package main

import (
	"context"

	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/reconcilers/agent"
)

// agentUsage adapts the store to agent.Usage, so that the agent reconciler
// imports no database: the two memo types have the same fields.
type agentUsage struct{ *store.Store }

func (u agentUsage) GetAgentMemo(ctx context.Context, key string) (agent.Memo, error) {
	m, err := u.Store.GetAgentMemo(ctx, key)
	return agent.Memo(m), err
}

func (u agentUsage) SetAgentMemo(ctx context.Context, key string, m agent.Memo) error {
	return u.Store.SetAgentMemo(ctx, key, store.AgentMemo(m))
}
