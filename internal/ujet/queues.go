package ujet

func (a *API) waitTimeRoutes() []route { return nil }

func (a *API) queueStatusRoutes() []route { return nil }

func (a *API) menuRoutes() []route { return nil }
