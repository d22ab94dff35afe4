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
	// Instructions are people's free-text instructions for the agent,
	// oldest first (data, never trusted as instructions to tend itself).
	Instructions []string
}
