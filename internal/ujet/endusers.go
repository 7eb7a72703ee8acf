package ujet

// End users (seed "End Users 2", spec §2.7): POST /end_users creates or
// updates the tenant's end user with the identifier (the conversations
// core's end users, which chats and SMS show), GET /end_users finds one by
// id or identifier. Both answer {"id", "identifier"}.

import (
	"context"
	"strconv"
	"strings"

	"switchboard"
)

func (a *API) endUserRoutes() []route {
	return []route{
		handler(route{Method: "POST", Path: "/end_users", Scope: switchboard.ScopeContactsManage,
			Summary: "Create or update an end user by identifier",
			Doc:     "Body {identifier, email, name, phone}; the non-empty fields update an existing end user. Answers {id, identifier}."},
			a.upsertEndUser),
		handler(route{Method: "GET", Path: "/end_users", Scope: switchboard.ScopeContactsRead,
			Summary: "Find an end user's internal id and identifier by either",
			Query: []param{{Name: "id", Type: "integer", Doc: "the internal id"},
				{Name: "identifier", Type: "string", Doc: "the external identifier"}}},
			a.getEndUser),
	}
}

// endUserUpsertBody is the seed's end user.
type endUserUpsertBody struct {
	Identifier string `json:"identifier" limit:"200"`
	Email      string `json:"email" limit:"200"`
	Name       string `json:"name" limit:"200"`
	Phone      string `json:"phone" limit:"64"`
}

// endUserRef is the answer of both routes.
type endUserRef struct {
	ID         int64  `json:"id"`
	Identifier string `json:"identifier"`
}

func (a *API) upsertEndUser(ctx context.Context, c *call, in *endUserUpsertBody) (endUserRef, error) {
	if strings.TrimSpace(in.Identifier) == "" {
		return endUserRef{}, missing("identifier")
	}
	u, err := a.opt.Store.UpsertEndUser(ctx, c.tenantID(), switchboard.EndUser{Identifier: in.Identifier,
		Email: strings.TrimSpace(in.Email), Name: strings.TrimSpace(in.Name), Phone: strings.TrimSpace(in.Phone)})
	if err != nil {
		return endUserRef{}, err
	}
	return endUserRef{ID: u.ID, Identifier: u.Identifier}, nil
}

func (a *API) getEndUser(ctx context.Context, c *call, _ *noBody) (endUserRef, error) {
	q := c.r.URL.Query()
	var u switchboard.EndUser
	var err error
	switch {
	case strings.TrimSpace(q.Get("id")) != "":
		id, perr := strconv.ParseInt(strings.TrimSpace(q.Get("id")), 10, 64)
		if perr != nil || id <= 0 {
			return endUserRef{}, notFound()
		}
		u, err = a.opt.Store.EndUser(ctx, c.tenantID(), id)
	case strings.TrimSpace(q.Get("identifier")) != "":
		u, err = a.opt.Store.EndUserByIdentifier(ctx, c.tenantID(), strings.TrimSpace(q.Get("identifier")))
	default:
		return endUserRef{}, missing("id or identifier")
	}
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return endUserRef{}, notFound()
	}
	if err != nil {
		return endUserRef{}, err
	}
	return endUserRef{ID: u.ID, Identifier: u.Identifier}, nil
}
