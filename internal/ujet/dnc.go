package ujet

func (a *API) dncRoutes() []route { return nil }
