package ujet

func (a *API) smsRoutes() []route { return nil }
