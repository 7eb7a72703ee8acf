package ujet

func (a *API) contactListRoutes() []route { return nil }
