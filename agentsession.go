package switchboard

// AgentSessionStore records agents' sign-ins (when, from which address) and
// the sign-outs pending until an agent's current interaction ends, for
// force logout by agent, team or address. It is filled in by the UJET
// dialect's issue (17).
type AgentSessionStore interface{}
