package ujet

func (a *API) bulkUserRoutes() []route { return nil }
