package ujet

func (a *API) chatRoutes() []route { return nil }
