package ujet

func (a *API) queueSettingsRoutes() []route { return nil }
