package ujet

// Queue settings (seed "Export - Import Queues Settings 7"; every path
// inferred, spec §2.11): exports, imports and version histories of the
// tenant's queue and menu configuration (queuesettings_snapshot.go has the
// document). Every export, import, auto-save and restore is stored as a
// version with its revision (a UUID); an import and a restore first save the
// state they change as an auto_saved version, so that either can be undone by
// restoring it. Exports are JSON: audio files would need a ZIP, which this
// server does not write, so export_audio_files=true is refused; the core's
// chat shortcuts carry no attached files, so export_attached_files=true adds
// an empty attached_files list.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"switchboard"
	"switchboard/internal/httpapi"
)

// versionOut is a version history entry as this dialect shows it.
type versionOut struct {
	ID       int64  `json:"id"`
	Revision string `json:"revision"`
	// VersionType is exported, imported, auto_saved or restored.
	VersionType         string  `json:"version_type"`
	CreatedBy           *string `json:"created_by"`
	ExportAudioFiles    bool    `json:"export_audio_files"`
	ExportAttachedFiles bool    `json:"export_attached_files"`
	FileName            string  `json:"file_name"`
	FileSize            int     `json:"file_size"`
	DownloadURL         string  `json:"download_url"`
	CreatedAt           string  `json:"created_at"`
}

// fileName is the name a version downloads as.
func fileName(v switchboard.QueueSettingsVersion) string {
	rev, _, _ := strings.Cut(v.Revision, "-")
	return "queue_settings_" + v.CreatedAt.UTC().Format("20060102T150405Z") + "_" + rev + ".json"
}

func (a *API) renderVersion(v switchboard.QueueSettingsVersion) versionOut {
	out := versionOut{ID: v.ID, Revision: v.Revision, VersionType: v.Type, ExportAudioFiles: v.ExportAudioFiles,
		ExportAttachedFiles: v.ExportAttachedFiles, FileName: fileName(v), FileSize: v.Size,
		DownloadURL: absURL(a.opt.PublicURL, prefix+"queue_settings/version_histories/"+strconv.FormatInt(v.ID, 10)+"/download"),
		CreatedAt:   millis(v.CreatedAt)}
	if v.CreatedBy != "" {
		out.CreatedBy = &v.CreatedBy
	}
	return out
}

// autoSaveBody asks for an auto_saved version; both flags are required, as
// the seed marks them.
type autoSaveBody struct {
	ExportAudioFiles    flexBool `json:"export_audio_files"`
	ExportAttachedFiles flexBool `json:"export_attached_files"`
}

// restoreBody names the version to restore: by revision (a UUID) when
// given, else by id (the body's, else the path's); email is the user
// restoring.
type restoreBody struct {
	// ID is a JSON number or a string of digits.
	ID       json.Number `json:"id" limit:"20"`
	Email    string      `json:"email" limit:"254"`
	Revision string      `json:"revision" limit:"64"`
}

// appliedOut answers an import or a restore: the version applied, the
// auto-saved state before it, and what applying did.
type appliedOut struct {
	Message          string       `json:"message"`
	VersionHistory   versionOut   `json:"version_history"`
	AutoSavedVersion versionOut   `json:"auto_saved_version_history"`
	Summary          applySummary `json:"summary"`
}

// Texts of this file's refusals.
const (
	textNoAudio  = "export_audio_files is not supported: audio files need a ZIP export, which this server does not produce; export with export_audio_files=false (prompts are kept by name)"
	textNoZip    = "ZIP files cannot be imported: import the JSON file of an export made with export_audio_files=false"
	textNoFile   = "file is required: a JSON file exported from queue settings, as multipart/form-data field file"
	textBadUser  = "User with email %s is not found"
	maxSnapshot  = switchboard.MaxQueueSettingsSnapshot
	importMaxReq = maxSnapshot + 1<<20
)

func (a *API) queueSettingsRoutes() []route {
	const vh = "queue_settings/version_histories"
	flags := []param{{Name: "export_audio_files", Type: "boolean", Doc: "required; true is refused (audio needs a ZIP export)"},
		{Name: "export_attached_files", Type: "boolean", Doc: "required"}}
	return []route{
		rawHandler(route{Method: "GET", Path: "queue_settings/export", Summary: "Export queue settings", Scope: switchboard.ScopeRoutingRead,
			Query: flags, Doc: "A JSON file of the queues (every setting, hours, members, skills), IVR menus, number routes, chat " +
				"shortcuts and contact lists, names standing for ids; saved as a version of type exported."},
			nil, reflect.TypeFor[settingsSnapshot](), a.exportSettings),
		rawHandler(route{Method: "POST", Path: "queue_settings/import", Summary: "Import queue settings", Scope: switchboard.ScopeRoutingManage,
			MaxBody: importMaxReq, Doc: "multipart/form-data: file (an export's JSON; ZIP is refused) and email (the user importing). " +
				"Queues, menus, shortcuts and custom lists are created or updated by name, nothing is deleted; the state before is " +
				"saved first as an auto_saved version."},
			nil, reflect.TypeFor[appliedOut](), a.importSettings),
		rawHandler(route{Method: "GET", Path: vh, Summary: "List version histories", Scope: switchboard.ScopeRoutingRead,
			Query: []param{{Name: "page", Type: "integer", Doc: "page, from 1"}, {Name: "per", Type: "integer", Doc: "records per page (at most 100)"}}},
			nil, reflect.TypeFor[[]versionOut](), a.listVersions),
		handler(route{Method: "GET", Path: vh + "/{id}", Summary: "Get a version history", Scope: switchboard.ScopeRoutingRead},
			func(ctx context.Context, c *call, _ *noBody) (versionOut, error) {
				v, err := a.version(ctx, c)
				if err != nil {
					return versionOut{}, err
				}
				return a.renderVersion(v), nil
			}),
		rawHandler(route{Method: "GET", Path: vh + "/{id}/download", Summary: "Download a version", Scope: switchboard.ScopeRoutingRead},
			nil, reflect.TypeFor[settingsSnapshot](), a.downloadVersion),
		handler(route{Method: "POST", Path: vh, Summary: "Create an auto_saved version history", Scope: switchboard.ScopeRoutingManage,
			Status: http.StatusCreated}, a.autoSave),
		handler(route{Method: "POST", Path: vh + "/{id}/restore", Summary: "Restore a version", Scope: switchboard.ScopeRoutingManage,
			Doc: "By revision when the body gives one, else by id (the body's, else the path's; \"latest\" is the newest version). " +
				"The state before is saved as an auto_saved version; a deleted queue comes back with a new id, its members, hours " +
				"and skills, and the menus and numbers that led to it lead to it again."}, a.restore),
	}
}

// boolParam reads a required boolean query parameter.
func boolParam(r *http.Request, name string) (bool, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return false, missing(name)
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest(name + " must be true or false")
	}
	return b, nil
}

// save builds the tenant's snapshot and stores it as a version of typ.
func (a *API) save(ctx context.Context, tenantID int64, typ, by string, audio, attached bool) (switchboard.QueueSettingsVersion, error) {
	rev := uuid.NewString()
	s, err := a.buildSnapshot(ctx, tenantID, rev, audio, attached)
	if err != nil {
		return switchboard.QueueSettingsVersion{}, err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return switchboard.QueueSettingsVersion{}, fmt.Errorf("encode queue settings: %w", err)
	}
	return a.opt.Store.SaveQueueSettingsVersion(ctx, tenantID, switchboard.QueueSettingsVersion{Revision: rev, Type: typ, CreatedBy: by,
		ExportAudioFiles: audio, ExportAttachedFiles: attached, Snapshot: b})
}

// writeFile answers a version's document as a JSON download.
func (a *API) writeFile(w http.ResponseWriter, v switchboard.QueueSettingsVersion) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fileName(v)}))
	h.Set("X-Version-History-Id", strconv.FormatInt(v.ID, 10))
	h.Set("X-Revision", v.Revision)
	w.WriteHeader(http.StatusOK)
	w.Write(v.Snapshot)
}

func (a *API) exportSettings(w http.ResponseWriter, c *call) {
	v, err := func() (switchboard.QueueSettingsVersion, error) {
		audio, err := boolParam(c.r, "export_audio_files")
		if err != nil {
			return switchboard.QueueSettingsVersion{}, err
		}
		attached, err := boolParam(c.r, "export_attached_files")
		if err != nil {
			return switchboard.QueueSettingsVersion{}, err
		}
		if audio {
			return switchboard.QueueSettingsVersion{}, badRequest(textNoAudio)
		}
		return a.save(c.r.Context(), c.tenantID(), switchboard.QueueSettingsExported, strings.TrimSpace(c.r.URL.Query().Get("email")), audio, attached)
	}()
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	a.writeFile(w, v)
}

func (a *API) autoSave(ctx context.Context, c *call, in *autoSaveBody) (versionOut, error) {
	if !in.ExportAudioFiles.Set {
		return versionOut{}, missing("export_audio_files")
	}
	if !in.ExportAttachedFiles.Set {
		return versionOut{}, missing("export_attached_files")
	}
	if in.ExportAudioFiles.Value {
		return versionOut{}, badRequest(textNoAudio)
	}
	v, err := a.save(ctx, c.tenantID(), switchboard.QueueSettingsAutoSaved, "", false, in.ExportAttachedFiles.Value)
	if err != nil {
		return versionOut{}, err
	}
	return a.renderVersion(v), nil
}

// version is the version the path names.
func (a *API) version(ctx context.Context, c *call) (switchboard.QueueSettingsVersion, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return switchboard.QueueSettingsVersion{}, err
	}
	v, err := a.opt.Store.QueueSettingsVersion(ctx, c.tenantID(), id)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return v, notFound()
	}
	return v, err
}

func (a *API) listVersions(w http.ResponseWriter, c *call) {
	err := func() error {
		opt, page, per, err := pageOptions(c.r)
		if err != nil {
			return err
		}
		p, err := a.opt.Store.QueueSettingsVersions(c.r.Context(), c.tenantID(), opt)
		if err != nil {
			return err
		}
		out := make([]versionOut, len(p.Items))
		for i, v := range p.Items {
			out[i] = a.renderVersion(v)
		}
		writeList(c, a.opt.PublicURL, out, p.Total, page, per)
		return nil
	}()
	if err != nil {
		a.writeError(w, c.r, err)
	}
}

func (a *API) downloadVersion(w http.ResponseWriter, c *call) {
	v, err := a.version(c.r.Context(), c)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	a.writeFile(w, v)
}

// user checks that email names a user of the tenant, as the seed requires
// of imports and restores.
func (a *API) user(ctx context.Context, c *call, email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return "", missing("email")
	}
	u, err := a.opt.Store.UserByEmail(ctx, c.tenantID(), email)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound || switchboard.ErrorCode(err) == switchboard.CodeInvalid {
		return "", badRequest(fmt.Sprintf(textBadUser, switchboard.Clip(email, 80)))
	}
	return u.Email, err
}

// apply saves the state before as auto_saved, applies doc, and saves doc as
// a version of typ.
func (a *API) apply(ctx context.Context, c *call, doc []byte, typ, by, message string) (appliedOut, error) {
	ix, err := a.loadIndex(ctx, c.tenantID())
	if err != nil {
		return appliedOut{}, err
	}
	s, err := parseSnapshot(doc, ix)
	if err != nil {
		return appliedOut{}, err
	}
	before, err := a.save(ctx, c.tenantID(), switchboard.QueueSettingsAutoSaved, by, false, s.ExportAttachedFiles)
	if err != nil {
		return appliedOut{}, err
	}
	sum, err := a.applySnapshot(ctx, c.tenantID(), s, ix)
	if err != nil {
		return appliedOut{}, err
	}
	applied, err := a.opt.Store.SaveQueueSettingsVersion(ctx, c.tenantID(), switchboard.QueueSettingsVersion{Type: typ, CreatedBy: by,
		ExportAudioFiles: s.ExportAudioFiles, ExportAttachedFiles: s.ExportAttachedFiles, Snapshot: doc})
	if err != nil {
		return appliedOut{}, err
	}
	return appliedOut{Message: message, VersionHistory: a.renderVersion(applied), AutoSavedVersion: a.renderVersion(before), Summary: sum}, nil
}

func (a *API) importSettings(w http.ResponseWriter, c *call) {
	out, err := func() (appliedOut, error) {
		ctx := c.r.Context()
		doc, email, err := readImport(c.r)
		if err != nil {
			return appliedOut{}, err
		}
		by, err := a.user(ctx, c, email)
		if err != nil {
			return appliedOut{}, err
		}
		return a.apply(ctx, c, doc, switchboard.QueueSettingsImported, by, "Queue settings imported")
	}()
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// readImport reads the multipart form of an import: its file (JSON; a ZIP
// is refused) and email.
func readImport(r *http.Request) (doc []byte, email string, err error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", badRequest(textNoFile)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, "", badRequest("the multipart body is malformed: " + switchboard.Clip(err.Error(), 120))
		}
		switch part.FormName() {
		case "file":
			b, err := readAllLimited(part, maxSnapshot)
			if err != nil {
				return nil, "", err
			}
			if bytes.HasPrefix(b, []byte("PK\x03\x04")) || strings.EqualFold(path.Ext(part.FileName()), ".zip") {
				return nil, "", badRequest(textNoZip)
			}
			doc = b
		case "email":
			b, err := readAllLimited(part, switchboard.MaxEmailLength)
			if err != nil {
				return nil, "", badRequest("email must be an e-mail address")
			}
			email = string(b)
		}
		part.Close()
	}
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, "", badRequest(textNoFile)
	}
	return doc, email, nil
}

func (a *API) restore(ctx context.Context, c *call, in *restoreBody) (appliedOut, error) {
	by, err := a.user(ctx, c, in.Email)
	if err != nil {
		return appliedOut{}, err
	}
	var v switchboard.QueueSettingsVersion
	switch rev := strings.TrimSpace(in.Revision); {
	case rev != "":
		if _, perr := uuid.Parse(rev); perr != nil {
			return appliedOut{}, badRequest("revision must be a version's UUID")
		}
		v, err = a.opt.Store.QueueSettingsVersionByRevision(ctx, c.tenantID(), rev)
	case in.ID != "":
		id, perr := in.ID.Int64()
		if perr != nil || id <= 0 {
			return appliedOut{}, badRequest("id must be a version history id")
		}
		v, err = a.opt.Store.QueueSettingsVersion(ctx, c.tenantID(), id)
	case c.r.PathValue("id") == "latest" || c.r.PathValue("id") == "last":
		var p switchboard.Page[switchboard.QueueSettingsVersion]
		if p, err = a.opt.Store.QueueSettingsVersions(ctx, c.tenantID(), switchboard.ListOptions{Limit: 1, SkipTotal: true}); err == nil {
			if len(p.Items) == 0 {
				return appliedOut{}, notFound()
			}
			v, err = a.opt.Store.QueueSettingsVersion(ctx, c.tenantID(), p.Items[0].ID)
		}
	default:
		v, err = a.version(ctx, c)
	}
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return appliedOut{}, notFound()
	}
	if err != nil {
		return appliedOut{}, err
	}
	return a.apply(ctx, c, v.Snapshot, switchboard.QueueSettingsRestored, by, "Version "+v.Revision+" restored")
}
