package ujet

func (a *API) pdsRoutes() []route { return nil }
