package ujet

func (a *API) agentStatusRoutes() []route { return nil }
