package ujet

func (a *API) campaignRoutes() []route { return nil }
