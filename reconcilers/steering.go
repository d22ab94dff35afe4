package reconcilers

// Steering is what people asked of a run through comment commands and the
// buttons on tend's check runs. The zero value asks nothing.
type Steering struct {
	// Fresh asks for a new check run on the PR head even when nothing
	// changed (`/reconcile`, Re-run, "Reconcile now").
	Fresh bool
	// Recreate asks to regenerate the PR from the base branch, discarding
	// commits people pushed to it, and to propose a declined change again.
	Recreate bool
	// Reconsider: a writer's command was taken up for the key (on its
	// declined PR, or on its request issue); a decline of the key's
	// newest PR is withdrawn and its change proposed again.
	Reconsider bool
	// Instructions are people's free-text instructions for the agent,
	// oldest first (data, never trusted as instructions to tend itself).
	Instructions []string
}
