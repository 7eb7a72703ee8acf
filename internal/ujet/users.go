package ujet

func (a *API) userRoutes() []route { return nil }
