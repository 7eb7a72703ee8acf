package sip

import (
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"switchboard/internal/audio"
)

// promptCache loads each named prompt once. Media names are the engine's:
// "moh:<name>" is a queue's music on hold (moh/<name>.wav), "prompt:<name>"
// a menu's prompt (prompts/<name>.wav), "ringback" the ring tone. A name
// without a file plays the generated default, so a fresh install has hold
// music and menus beep.
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

func (c *promptCache) get(name string) *audio.Prompt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.loaded[name]; ok {
		return p
	}
	kind, base, _ := strings.Cut(name, ":")
	var p *audio.Prompt
	if c.dir != "" && fileName.MatchString(base) && base != "default" {
		sub := map[string]string{"moh": "moh", "prompt": "prompts"}[kind]
		if sub != "" {
			path := filepath.Join(c.dir, sub, base+".wav")
			loaded, err := audio.ReadWAVFile(name, path)
			switch {
			case err == nil:
				p = loaded
			case errors.Is(err, fs.ErrNotExist):
			default:
				c.log.Warn("sip: prompt file unusable; playing the default", "prompt", name, "err", err)
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
	c.loaded[name] = p
	return p
}
