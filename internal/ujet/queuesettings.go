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
	"sync"

	"github.com/google/uuid"

	"switchboard"
	"switchboard/internal/httpapi"
)

// settingsVersionOut is a version history entry as this dialect shows it.
type settingsVersionOut struct {
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

// settingsFileName is the name a version downloads as.
func settingsFileName(v switchboard.QueueSettingsVersion) string {
	rev, _, _ := strings.Cut(v.Revision, "-")
	return "queue_settings_" + v.CreatedAt.UTC().Format("20060102T150405Z") + "_" + rev + ".json"
}

// renderSettingsVersion shows a version as UJET's version history entry,
// with the URL of its download.
func (a *API) renderSettingsVersion(v switchboard.QueueSettingsVersion) settingsVersionOut {
	out := settingsVersionOut{ID: v.ID, Revision: v.Revision, VersionType: v.Type, ExportAudioFiles: v.ExportAudioFiles,
		ExportAttachedFiles: v.ExportAttachedFiles, FileName: settingsFileName(v), FileSize: v.Size,
		DownloadURL: absURL(a.opt.PublicURL, prefix+"queue_settings/version_histories/"+strconv.FormatInt(v.ID, 10)+"/download"),
		CreatedAt:   millis(v.CreatedAt)}
	if v.CreatedBy != "" {
		out.CreatedBy = &v.CreatedBy
	}
	return out
}

// settingsAutoSaveBody asks for an auto_saved version; both flags are required, as
// the seed marks them.
type settingsAutoSaveBody struct {
	ExportAudioFiles    flexBool `json:"export_audio_files"`
	ExportAttachedFiles flexBool `json:"export_attached_files"`
}

// settingsRestoreBody names the version to restore: by revision (a UUID) when
// given, else by id (the body's, else the path's); email is the user
// restoring.
type settingsRestoreBody struct {
	// ID is a JSON number or a string of digits.
	ID       json.Number `json:"id" limit:"20"`
	Email    string      `json:"email" limit:"254"`
	Revision string      `json:"revision" limit:"64"`
}

// settingsAppliedOut answers an import or a restore: the version applied, the
// auto-saved state before it, and what applying did.
type settingsAppliedOut struct {
	Message          string               `json:"message"`
	VersionHistory   settingsVersionOut   `json:"version_history"`
	AutoSavedVersion settingsVersionOut   `json:"auto_saved_version_history"`
	Summary          settingsApplySummary `json:"summary"`
}

// Texts of this file's refusals.
const (
	textSettingsNoAudio = "export_audio_files is not supported: audio files need a ZIP export, which this server does not produce; export with export_audio_files=false (prompts are kept by name)"
	textSettingsNoZip   = "ZIP files cannot be imported: import the JSON file of an export made with export_audio_files=false"
	textSettingsNoFile  = "file is required: a JSON file exported from queue settings, as multipart/form-data field file"
	textSettingsBadUser = "User with email %s is not found"
	maxSettingsSnapshot = switchboard.MaxQueueSettingsSnapshot
	maxSettingsImport   = maxSettingsSnapshot + 1<<20
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
			MaxBody: maxSettingsImport, Doc: "multipart/form-data: file (an export's JSON; ZIP is refused) and email (the user importing). " +
				"Queues, menus, shortcuts and custom lists are created or updated by name, nothing is deleted; the state before is " +
				"saved first as an auto_saved version."},
			nil, reflect.TypeFor[settingsAppliedOut](), a.importSettings),
		rawHandler(route{Method: "GET", Path: vh, Summary: "List version histories", Scope: switchboard.ScopeRoutingRead,
			Query: []param{{Name: "page", Type: "integer", Doc: "page, from 1"}, {Name: "per", Type: "integer", Doc: "records per page (at most 100)"}}},
			nil, reflect.TypeFor[[]settingsVersionOut](), a.listSettingsVersions),
		handler(route{Method: "GET", Path: vh + "/{id}", Summary: "Get a version history", Scope: switchboard.ScopeRoutingRead},
			func(ctx context.Context, c *call, _ *noBody) (settingsVersionOut, error) {
				v, err := a.settingsVersion(ctx, c)
				if err != nil {
					return settingsVersionOut{}, err
				}
				return a.renderSettingsVersion(v), nil
			}),
		rawHandler(route{Method: "GET", Path: vh + "/{id}/download", Summary: "Download a version", Scope: switchboard.ScopeRoutingRead},
			nil, reflect.TypeFor[settingsSnapshot](), a.downloadSettingsVersion),
		handler(route{Method: "POST", Path: vh, Summary: "Create an auto_saved version history", Scope: switchboard.ScopeRoutingManage,
			Status: http.StatusCreated}, a.autoSaveSettings),
		handler(route{Method: "POST", Path: vh + "/{id}/restore", Summary: "Restore a version", Scope: switchboard.ScopeRoutingManage,
			Doc: "By revision when the body gives one, else by id (the body's, else the path's; \"latest\" is the newest version). " +
				"The state before is saved as an auto_saved version; a deleted queue comes back with a new id, its members, hours " +
				"and skills, and the menus and numbers that led to it lead to it again."}, a.restoreSettings),
	}
}

// settingsFlag reads a required boolean query parameter.
func settingsFlag(r *http.Request, name string) (bool, error) {
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

// saveSettings builds the tenant's snapshot and stores it as a version of typ.
func (a *API) saveSettings(ctx context.Context, tenantID int64, typ, by string, audio, attached bool) (switchboard.QueueSettingsVersion, error) {
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

// writeSettingsFile answers a version's document as a JSON download.
func (a *API) writeSettingsFile(w http.ResponseWriter, v switchboard.QueueSettingsVersion) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": settingsFileName(v)}))
	h.Set("X-Version-History-Id", strconv.FormatInt(v.ID, 10))
	h.Set("X-Revision", v.Revision)
	w.WriteHeader(http.StatusOK)
	w.Write(v.Snapshot)
}

func (a *API) exportSettings(w http.ResponseWriter, c *call) {
	v, err := func() (switchboard.QueueSettingsVersion, error) {
		audio, err := settingsFlag(c.r, "export_audio_files")
		if err != nil {
			return switchboard.QueueSettingsVersion{}, err
		}
		attached, err := settingsFlag(c.r, "export_attached_files")
		if err != nil {
			return switchboard.QueueSettingsVersion{}, err
		}
		if audio {
			return switchboard.QueueSettingsVersion{}, badRequest(textSettingsNoAudio)
		}
		return a.saveSettings(c.r.Context(), c.tenantID(), switchboard.QueueSettingsExported, strings.TrimSpace(c.r.URL.Query().Get("email")), audio, attached)
	}()
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	a.writeSettingsFile(w, v)
}

func (a *API) autoSaveSettings(ctx context.Context, c *call, in *settingsAutoSaveBody) (settingsVersionOut, error) {
	if !in.ExportAudioFiles.Set {
		return settingsVersionOut{}, missing("export_audio_files")
	}
	if !in.ExportAttachedFiles.Set {
		return settingsVersionOut{}, missing("export_attached_files")
	}
	if in.ExportAudioFiles.Value {
		return settingsVersionOut{}, badRequest(textSettingsNoAudio)
	}
	v, err := a.saveSettings(ctx, c.tenantID(), switchboard.QueueSettingsAutoSaved, "", false, in.ExportAttachedFiles.Value)
	if err != nil {
		return settingsVersionOut{}, err
	}
	return a.renderSettingsVersion(v), nil
}

// settingsVersion is the version the path names.
func (a *API) settingsVersion(ctx context.Context, c *call) (switchboard.QueueSettingsVersion, error) {
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

func (a *API) listSettingsVersions(w http.ResponseWriter, c *call) {
	err := func() error {
		opt, page, per, err := pageOptions(c.r)
		if err != nil {
			return err
		}
		p, err := a.opt.Store.QueueSettingsVersions(c.r.Context(), c.tenantID(), opt)
		if err != nil {
			return err
		}
		out := make([]settingsVersionOut, len(p.Items))
		for i, v := range p.Items {
			out[i] = a.renderSettingsVersion(v)
		}
		writeList(c, a.opt.PublicURL, out, p.Total, page, per)
		return nil
	}()
	if err != nil {
		a.writeError(w, c.r, err)
	}
}

func (a *API) downloadSettingsVersion(w http.ResponseWriter, c *call) {
	v, err := a.settingsVersion(c.r.Context(), c)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	a.writeSettingsFile(w, v)
}

// settingsUser checks that email names a user of the tenant, as the seed requires
// of imports and restores.
func (a *API) settingsUser(ctx context.Context, c *call, email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return "", missing("email")
	}
	u, err := a.opt.Store.UserByEmail(ctx, c.tenantID(), email)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound || switchboard.ErrorCode(err) == switchboard.CodeInvalid {
		return "", badRequest(fmt.Sprintf(textSettingsBadUser, switchboard.Clip(email, 80)))
	}
	return u.Email, err
}

// applySettings saves the state before as auto_saved, applies doc, and saves doc as
// a version of typ.
func (a *API) applySettings(ctx context.Context, c *call, doc []byte, typ, by, message string) (settingsAppliedOut, error) {
	unlock, err := lockSettings(ctx, c.tenantID())
	if err != nil {
		return settingsAppliedOut{}, err
	}
	defer unlock()
	ix, err := a.loadSettingsIndex(ctx, c.tenantID())
	if err != nil {
		return settingsAppliedOut{}, err
	}
	s, err := parseSnapshot(doc, ix)
	if err != nil {
		return settingsAppliedOut{}, err
	}
	// Once the state before is being saved, the change runs to its end
	// even if the client goes away: half an import is worse than a late one.
	ctx = context.WithoutCancel(ctx)
	before, err := a.saveSettings(ctx, c.tenantID(), switchboard.QueueSettingsAutoSaved, by, false, s.ExportAttachedFiles)
	if err != nil {
		return settingsAppliedOut{}, err
	}
	sum, err := a.applySnapshot(ctx, c.tenantID(), s, ix)
	if err != nil {
		return settingsAppliedOut{}, err
	}
	applied, err := a.opt.Store.SaveQueueSettingsVersion(ctx, c.tenantID(), switchboard.QueueSettingsVersion{Type: typ, CreatedBy: by,
		ExportAudioFiles: s.ExportAudioFiles, ExportAttachedFiles: s.ExportAttachedFiles, Snapshot: doc})
	if err != nil {
		return settingsAppliedOut{}, err
	}
	return settingsAppliedOut{Message: message, VersionHistory: a.renderSettingsVersion(applied), AutoSavedVersion: a.renderSettingsVersion(before), Summary: sum}, nil
}

func (a *API) importSettings(w http.ResponseWriter, c *call) {
	out, err := func() (settingsAppliedOut, error) {
		ctx := c.r.Context()
		doc, email, err := readSettingsImport(c.r)
		if err != nil {
			return settingsAppliedOut{}, err
		}
		by, err := a.settingsUser(ctx, c, email)
		if err != nil {
			return settingsAppliedOut{}, err
		}
		return a.applySettings(ctx, c, doc, switchboard.QueueSettingsImported, by, "Queue settings imported")
	}()
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// readSettingsImport reads the multipart form of an import: its file (JSON; a ZIP
// is refused) and email.
func readSettingsImport(r *http.Request) (doc []byte, email string, err error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", badRequest(textSettingsNoFile)
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
			b, err := readAllLimited(part, maxSettingsSnapshot)
			if err != nil {
				return nil, "", err
			}
			if bytes.HasPrefix(b, []byte("PK\x03\x04")) || strings.EqualFold(path.Ext(part.FileName()), ".zip") {
				return nil, "", badRequest(textSettingsNoZip)
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
		return nil, "", badRequest(textSettingsNoFile)
	}
	return doc, email, nil
}

func (a *API) restoreSettings(ctx context.Context, c *call, in *settingsRestoreBody) (settingsAppliedOut, error) {
	by, err := a.settingsUser(ctx, c, in.Email)
	if err != nil {
		return settingsAppliedOut{}, err
	}
	var v switchboard.QueueSettingsVersion
	switch rev := strings.TrimSpace(in.Revision); {
	case rev != "":
		if _, perr := uuid.Parse(rev); perr != nil {
			return settingsAppliedOut{}, badRequest("revision must be a version's UUID")
		}
		v, err = a.opt.Store.QueueSettingsVersionByRevision(ctx, c.tenantID(), rev)
	case in.ID != "":
		id, perr := in.ID.Int64()
		if perr != nil || id <= 0 {
			return settingsAppliedOut{}, badRequest("id must be a version history id")
		}
		v, err = a.opt.Store.QueueSettingsVersion(ctx, c.tenantID(), id)
	case c.r.PathValue("id") == "latest" || c.r.PathValue("id") == "last":
		var p switchboard.Page[switchboard.QueueSettingsVersion]
		if p, err = a.opt.Store.QueueSettingsVersions(ctx, c.tenantID(), switchboard.ListOptions{Limit: 1, SkipTotal: true}); err == nil {
			if len(p.Items) == 0 {
				return settingsAppliedOut{}, notFound()
			}
			v, err = a.opt.Store.QueueSettingsVersion(ctx, c.tenantID(), p.Items[0].ID)
		}
	default:
		v, err = a.settingsVersion(ctx, c)
	}
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		return settingsAppliedOut{}, notFound()
	}
	if err != nil {
		return settingsAppliedOut{}, err
	}
	return a.applySettings(ctx, c, v.Snapshot, switchboard.QueueSettingsRestored, by, "Version "+v.Revision+" restored")
}

// settingsLocks holds one lock per tenant (a channel of one), so that two
// imports or restores of a tenant in this process apply one after the
// other rather than interleaving their writes. Processes sharing a database
// are not serialized by it.
var settingsLocks sync.Map

// lockSettings takes the tenant's lock, or gives up when ctx ends.
func lockSettings(ctx context.Context, tenantID int64) (func(), error) {
	v, _ := settingsLocks.LoadOrStore(tenantID, make(chan struct{}, 1))
	ch := v.(chan struct{})
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
