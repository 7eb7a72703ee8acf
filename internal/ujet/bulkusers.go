package ujet

// Bulk user management (seed "Bulk User Management 7", spec §2.4): template,
// upload (POST a new job, PUT a new file into a job not yet proceeded),
// proceed, jobs and the scheme error log. A job's file is validated and,
// once proceeded, applied by the background worker (userjobs.go); jobs and
// rows live in the store, so a restarted server resumes them.

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"switchboard"
	"switchboard/internal/httpapi"
)

// maxUserFile bounds an uploaded bulk user file: 50,000 rows of a few
// hundred bytes.
const maxUserFile = 32 << 20

func (a *API) bulkUserRoutes() []route {
	return []route{
		handler(route{Method: "GET", Path: "/bulk/users/template", Scope: switchboard.ScopeUsersRead,
			Summary: "Example rows of a bulk user file, with the tenant's roles, teams and locations",
			Doc: "An array of user rows in the shape the upload takes: email, new_email, agent_number, first_name, last_name, " +
				"status (Active, Inactive or empty), location, max_chat_limit, max_chat_limit_enabled (0/1), roles and teams " +
				"([{name, value 0/1}]) — every role, and every team of the tenant."},
			a.userTemplate),
		rawHandler(route{Method: "POST", Path: "/bulk/users/upload", Scope: switchboard.ScopeUsersManage, Status: http.StatusCreated,
			MaxBody: maxUserFile + 1<<20, Summary: "Upload a JSON file of users (multipart file): a job is created and its scheme validated",
			Doc: "Answers {id, status: created, link} with a Link header <…/apps/api/v1/bulk/users_jobs/{id}>, as UJET documents. " +
				"The background worker validates every row (GET /bulk/users/jobs/{id} shows valid_scheme or invalid_scheme; " +
				"GET /bulk/users/errors/scheme/{id} the row errors)."},
			nil, reflect.TypeFor[jobCreated](), a.uploadUsers),
		rawHandler(route{Method: "PUT", Path: "/bulk/users/upload", Scope: switchboard.ScopeUsersManage,
			MaxBody: maxUserFile + 1<<20, Summary: "Replace the file of a job not yet proceeded (multipart id and file)",
			Doc: "The job is validated again from scratch; a job in progress or finished is refused (400)."},
			nil, reflect.TypeFor[jobCreated](), a.replaceUsersFile),
		rawHandler(route{Method: "POST", Path: "/bulk/users/proceed", Scope: switchboard.ScopeUsersManage,
			Summary: "Run a valid_scheme job: its users are created or updated in the background",
			Doc: "The job id as the form field id (multipart or urlencoded, as the seed's Postman body has it) or a JSON body " +
				"{\"id\": job_id}. Only a job whose scheme is valid proceeds; any other status is a 400 naming it."},
			reflect.TypeFor[proceedBody](), reflect.TypeFor[userJobView](), a.proceedUsersRaw),
		rawHandler(route{Method: "GET", Path: "/bulk/users/jobs", Scope: switchboard.ScopeUsersRead,
			Summary: "Bulk user jobs, newest first", Query: pageParams},
			nil, reflect.TypeFor[[]userJobView](), a.listUserJobs),
		handler(route{Method: "GET", Path: "/bulk/users/jobs/{job_id}", Scope: switchboard.ScopeUsersRead,
			Summary: "A bulk user job: status, counts and, once finished, each row's outcome (created, updated, failed with its reason)"},
			a.getUserJob),
		handler(route{Method: "GET", Path: "/bulk/users_jobs/{id}", Scope: switchboard.ScopeUsersRead,
			Summary: "The job the upload's Link header names (same as /bulk/users/jobs/{job_id})"},
			a.getUserJob),
		rawHandler(route{Method: "GET", Path: "/bulk/users/errors/scheme/{job_id}", Scope: switchboard.ScopeUsersRead,
			Summary: "The scheme error log of a job: each invalid row with its fields' errors", Query: pageParams},
			nil, reflect.TypeFor[[]schemeErrorView](), a.schemeErrors),
	}
}

// pageParams are the page/per parameters of a list.
var pageParams = []param{{Name: "page", Type: "integer", Doc: "page number, from 1"},
	{Name: "per", Type: "integer", Doc: "records per page (100 by default and at most)"}}

// jobCreated is the upload's answer, as UJET documents it.
type jobCreated struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Link   string `json:"link"`
}

// userJobView is a job as the job routes show it. Results (each row's
// outcome) are shown by GET /bulk/users/jobs/{job_id} only, once the job is
// finished.
type userJobView struct {
	ID               int64        `json:"id"`
	Status           string       `json:"status"`
	Link             string       `json:"link"`
	FileName         string       `json:"file_name"`
	TotalCount       int          `json:"total_count"`
	SchemeErrorCount int          `json:"scheme_error_count"`
	ProcessedCount   int          `json:"processed_count"`
	CreatedCount     int          `json:"created_count"`
	UpdatedCount     int          `json:"updated_count"`
	FailedCount      int          `json:"failed_count"`
	Error            *string      `json:"error"`
	CreatedAt        string       `json:"created_at"`
	UpdatedAt        string       `json:"updated_at"`
	FinishedAt       *string      `json:"finished_at"`
	Results          []rowOutcome `json:"results,omitempty"`
}

// rowOutcome is what a proceeded job did with one row.
type rowOutcome struct {
	Row    int     `json:"row"`
	Email  string  `json:"email"`
	Result string  `json:"result"`
	UserID *int64  `json:"user_id"`
	Reason *string `json:"reason"`
}

// schemeErrorView is one invalid row of a job's file.
type schemeErrorView struct {
	Row    int                      `json:"row"`
	Email  string                   `json:"email"`
	Errors []switchboard.FieldError `json:"errors"`
}

// jobLink is the job's URL as UJET's upload documents it (users_jobs).
func (a *API) jobLink(id int64) string {
	return absURL(a.opt.PublicURL, "/apps/api/v1/bulk/users_jobs/"+strconv.FormatInt(id, 10))
}

func (a *API) userJobView(j switchboard.UserJob) userJobView {
	v := userJobView{ID: j.ID, Status: j.Status, Link: a.jobLink(j.ID), FileName: j.FileName, TotalCount: j.Total,
		SchemeErrorCount: j.SchemeErrors, ProcessedCount: j.Processed, CreatedCount: j.Created, UpdatedCount: j.Updated,
		FailedCount: j.Failed, CreatedAt: millis(j.CreatedAt), UpdatedAt: millis(j.UpdatedAt), FinishedAt: optMillis(j.FinishedAt)}
	if j.Error != "" {
		v.Error = &j.Error
	}
	return v
}

// uploadedFile reads the users file of an upload: the multipart part named
// file (and the form's id), or a JSON body sent as is.
func uploadedFile(c *call) (name string, file []byte, id string, err error) {
	ct, _, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if ct == "application/json" {
		b, err := readAllLimited(c.r.Body, maxUserFile)
		return "upload.json", b, c.r.URL.Query().Get("id"), err
	}
	if ct != "multipart/form-data" {
		return "", nil, "", badRequest("Upload a JSON file as multipart/form-data (part file)")
	}
	mr, err := c.r.MultipartReader()
	if err != nil {
		return "", nil, "", badRequest("Invalid multipart body")
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", nil, "", badRequest("Invalid multipart body")
		}
		switch p.FormName() {
		case "file":
			name = p.FileName()
			if name == "" {
				name = "upload.json"
			}
			if file, err = readAllLimited(p, maxUserFile); err != nil {
				return "", nil, "", err
			}
		case "id":
			b, err := readAllLimited(p, 64)
			if err != nil {
				return "", nil, "", badRequest("id must be a job id")
			}
			id = strings.TrimSpace(string(b))
		}
		p.Close()
	}
	if len(file) == 0 {
		return "", nil, "", missing("file")
	}
	return name, file, id, nil
}

func (a *API) uploadUsers(w http.ResponseWriter, c *call) {
	name, file, _, err := uploadedFile(c)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	j, err := a.opt.Store.CreateUserJob(c.r.Context(), c.tenantID(), name, file)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	a.kickUserJobs()
	link := a.jobLink(j.ID)
	w.Header().Set("Link", "<"+link+">")
	httpapi.WriteJSON(w, http.StatusCreated, jobCreated{ID: j.ID, Status: j.Status, Link: link})
}

func (a *API) replaceUsersFile(w http.ResponseWriter, c *call) {
	name, file, idText, err := uploadedFile(c)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	if idText == "" {
		a.writeError(w, c.r, missing("id"))
		return
	}
	id, perr := strconv.ParseInt(idText, 10, 64)
	if perr != nil || id <= 0 {
		a.writeError(w, c.r, notFound())
		return
	}
	j, err := a.opt.Store.ReplaceUserJobFile(c.r.Context(), c.tenantID(), id, name, file)
	switch switchboard.ErrorCode(err) {
	case "":
	case switchboard.CodeNotFound:
		a.writeError(w, c.r, notFound())
		return
	case switchboard.CodeConflict:
		a.writeError(w, c.r, badRequest("Job "+idText+" has already proceeded: its file can no longer be replaced"))
		return
	default:
		a.writeError(w, c.r, err)
		return
	}
	a.kickUserJobs()
	link := a.jobLink(j.ID)
	w.Header().Set("Link", "<"+link+">")
	httpapi.WriteJSON(w, http.StatusOK, jobCreated{ID: j.ID, Status: j.Status, Link: link})
}

// proceedBody names the job to run.
type proceedBody struct {
	// ID is a number, or a string of digits as Postman sends {{job_id}}.
	ID json.Number `json:"id" limit:"20"`
}

// proceedUsersRaw reads the job id from a form (multipart or urlencoded)
// or a JSON body.
func (a *API) proceedUsersRaw(w http.ResponseWriter, c *call) {
	in := new(proceedBody)
	ct, _, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := c.r.ParseMultipartForm(1 << 20); err != nil {
			a.writeError(w, c.r, badRequest("Invalid multipart body"))
			return
		}
		in.ID = json.Number(strings.TrimSpace(c.r.FormValue("id")))
	case "application/x-www-form-urlencoded":
		if err := c.r.ParseForm(); err != nil {
			a.writeError(w, c.r, badRequest("Invalid form body"))
			return
		}
		in.ID = json.Number(strings.TrimSpace(c.r.FormValue("id")))
	default:
		if err := decode(c.r, in); err != nil {
			a.writeError(w, c.r, err)
			return
		}
	}
	v, err := a.proceedUsers(c.r.Context(), c, in)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, v)
}

func (a *API) proceedUsers(ctx context.Context, c *call, in *proceedBody) (userJobView, error) {
	if in.ID == "" {
		return userJobView{}, missing("id")
	}
	id, err := in.ID.Int64()
	if err != nil || id <= 0 {
		return userJobView{}, notFound()
	}
	j, err := a.opt.Store.ProceedUserJob(ctx, c.tenantID(), id)
	switch switchboard.ErrorCode(err) {
	case "":
	case switchboard.CodeNotFound:
		return userJobView{}, notFound()
	case switchboard.CodeConflict:
		if j, err = a.opt.Store.UserJob(ctx, c.tenantID(), id); err != nil {
			return userJobView{}, err
		}
		return userJobView{}, badRequest("Job status is " + j.Status + ": only a job with status valid_scheme can proceed")
	default:
		return userJobView{}, err
	}
	a.kickUserJobs()
	return a.userJobView(j), nil
}

func (a *API) listUserJobs(w http.ResponseWriter, c *call) {
	opt, page, per, err := pageOptions(c.r)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	p, err := a.opt.Store.UserJobs(c.r.Context(), c.tenantID(), opt)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	out := make([]userJobView, len(p.Items))
	for i, j := range p.Items {
		out[i] = a.userJobView(j)
	}
	writeList(c, a.opt.PublicURL, out, p.Total, page, per)
}

func (a *API) getUserJob(ctx context.Context, c *call, _ *noBody) (userJobView, error) {
	name := "job_id"
	if c.r.PathValue(name) == "" {
		name = "id" // the Link header's path, /bulk/users_jobs/{id}
	}
	id, err := pathID(c, name)
	if err != nil {
		return userJobView{}, err
	}
	j, err := a.opt.Store.UserJob(ctx, c.tenantID(), id)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return userJobView{}, notFound()
	}
	if err != nil {
		return userJobView{}, err
	}
	v := a.userJobView(j)
	// Results come with the finished job: while it runs, the counts say
	// how far it is, and a poller does not read every row each time.
	if j.Status == switchboard.UserJobFinished {
		v.Results = []rowOutcome{}
		opt := switchboard.ListOptions{Limit: switchboard.MaxPageLimit, SkipTotal: true}
		for {
			p, err := a.opt.Store.UserJobRows(ctx, c.tenantID(), id, switchboard.UserRowFilter{}, opt)
			if err != nil {
				return v, err
			}
			for _, r := range p.Items {
				if r.Outcome == "" {
					continue
				}
				o := rowOutcome{Row: r.Row, Email: r.Email, Result: r.Outcome, UserID: r.UserID}
				if r.Reason != "" {
					reason := r.Reason
					o.Reason = &reason
				}
				v.Results = append(v.Results, o)
			}
			if p.NextCursor == "" {
				break
			}
			opt.Cursor = p.NextCursor
		}
	}
	return v, nil
}

func (a *API) schemeErrors(w http.ResponseWriter, c *call) {
	id, err := pathID(c, "job_id")
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	opt, page, per, err := pageOptions(c.r)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	ctx := c.r.Context()
	j, err := a.opt.Store.UserJob(ctx, c.tenantID(), id)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		a.writeError(w, c.r, notFound())
		return
	}
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	var out []schemeErrorView
	total := 0
	if j.Error != "" {
		// The file as a whole is unreadable: one entry, row 0.
		out = append(out, schemeErrorView{Row: 0, Errors: []switchboard.FieldError{{Field: "file", Message: j.Error}}})
		total = 1
	} else {
		p, err := a.opt.Store.UserJobRows(ctx, c.tenantID(), id, switchboard.UserRowFilter{WithErrors: true}, opt)
		if err != nil {
			a.writeError(w, c.r, err)
			return
		}
		for _, r := range p.Items {
			out = append(out, schemeErrorView{Row: r.Row, Email: r.Email, Errors: r.Errors})
		}
		total = p.Total
	}
	writeList(c, a.opt.PublicURL, out, total, page, per)
}

// templateRow is one example row of the template, in the file's shape.
type templateRow struct {
	Email               string      `json:"email"`
	NewEmail            string      `json:"new_email"`
	AgentNumber         string      `json:"agent_number"`
	FirstName           string      `json:"first_name"`
	LastName            string      `json:"last_name"`
	Status              string      `json:"status"`
	Location            string      `json:"location"`
	MaxChatLimit        int         `json:"max_chat_limit"`
	MaxChatLimitEnabled int         `json:"max_chat_limit_enabled"`
	Roles               []nameValue `json:"roles"`
	Teams               []nameValue `json:"teams"`
}

// nameValue is a role or team of a row: value 1 grants it, 0 takes it away.
type nameValue struct {
	Name  string `json:"name"`
	Value int    `json:"value"`
}

func (a *API) userTemplate(ctx context.Context, c *call, _ *noBody) ([]templateRow, error) {
	ref, err := a.loadUserRefs(ctx, c.tenantID())
	if err != nil {
		return nil, err
	}
	location := ""
	if len(ref.locationList) > 0 {
		location = ref.locationList[0]
	}
	var teams []nameValue
	for i, t := range ref.teamList {
		teams = append(teams, nameValue{Name: t, Value: min(i, 1) ^ 1}) // the first team granted, as an example
	}
	if teams == nil {
		teams = []nameValue{}
	}
	roles := func(grant string) []nameValue {
		out := make([]nameValue, len(ujetRoles))
		for i, r := range ujetRoles {
			out[i] = nameValue{Name: r.name}
			if r.name == grant {
				out[i].Value = 1
			}
		}
		return out
	}
	return []templateRow{
		{Email: "new.agent@example.com", AgentNumber: "1001", FirstName: "New", LastName: "Agent", Status: "Active",
			Location: location, MaxChatLimit: 3, MaxChatLimitEnabled: 1, Roles: roles("Agent"), Teams: teams},
		{Email: "existing.manager@example.com", NewEmail: "renamed.manager@example.com", AgentNumber: "1002", FirstName: "Existing",
			LastName: "Manager", Status: "Inactive", Location: "", MaxChatLimit: 5, MaxChatLimitEnabled: 0, Roles: roles("Manager"),
			Teams: []nameValue{}},
	}, nil
}
