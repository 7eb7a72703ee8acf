package ujet

func (a *API) callRoutes() []route { return nil }
