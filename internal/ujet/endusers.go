package ujet

func (a *API) endUserRoutes() []route { return nil }
