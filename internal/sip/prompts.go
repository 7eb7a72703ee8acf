package sip

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"switchboard/internal/audio"
)

// promptCache loads each named prompt once. Media names are the engine's:
// "moh:<name>" is a queue's music on hold (moh/t<tenant>-<name>.wav, the
// tenant's own, else moh/<name>.wav, shared), "prompt:<name>" a menu's
// prompt (prompts/<name>.wav; the engine names menu prompts
// t<tenant>-<name> already), "voicemail:<reason>" the greeting before a
// caller's message (voicemail/t<tenant>-<reason>.wav, else
// voicemail/<reason>.wav), "ringback" the ring tone. A name without a
// file plays the generated default, so a fresh install has hold music and
// menus beep.
type promptCache struct {
	dir string
	log *slog.Logger

	mu     sync.Mutex
	loaded map[string]*audio.Prompt
}

func newPromptCache(dir string, log *slog.Logger) *promptCache {
	return &promptCache{dir: dir, log: log, loaded: map[string]*audio.Prompt{}}
}

// fileName is what a prompt's name may be: no path tricks.
var fileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// loops reports whether a prompt repeats until stopped (music, ring tone)
// rather than playing once (a menu's words).
func loops(name string) bool { return strings.HasPrefix(name, "moh:") || name == "ringback" }

func (c *promptCache) get(name string, tenant int64) *audio.Prompt {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := fmt.Sprintf("%d/%s", tenant, name)
	if p, ok := c.loaded[key]; ok {
		return p
	}
	kind, base, _ := strings.Cut(name, ":")
	var p *audio.Prompt
	if c.dir != "" && fileName.MatchString(base) && base != "default" {
		var files []string
		switch kind {
		case "moh":
			files = []string{filepath.Join(c.dir, "moh", fmt.Sprintf("t%d-%s.wav", tenant, base)), filepath.Join(c.dir, "moh", base+".wav")}
		case "prompt":
			files = []string{filepath.Join(c.dir, "prompts", base+".wav")}
		case "voicemail":
			files = []string{filepath.Join(c.dir, "voicemail", fmt.Sprintf("t%d-%s.wav", tenant, base)), filepath.Join(c.dir, "voicemail", base+".wav")}
		}
		for _, path := range files {
			loaded, err := audio.ReadWAVFile(name, path)
			if err == nil {
				p = loaded
				break
			}
			if !errors.Is(err, fs.ErrNotExist) {
				c.log.Warn("sip: prompt file unusable; playing the default", "prompt", name, "file", path, "err", err)
				break
			}
		}
	}
	if p == nil {
		switch kind {
		case "moh":
			p = audio.HoldMusic()
		case "ringback":
			p = audio.Ringback()
		default:
			p = audio.Beep()
		}
	}
	c.loaded[key] = p
	return p
}
