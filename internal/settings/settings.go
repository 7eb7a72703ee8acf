// Package settings binds each setting of a command to its three surfaces, a
// flag, an environment variable and a key of a JSON config file, and applies
// them in one order of precedence: the built-in defaults (whatever the bound
// variables hold), then the file, then the environment, then the flags. The
// program declares its settings and validates the result; this package only
// carries values from those surfaces into the variables.
package settings

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Setting is one setting on every surface.
type Setting struct {
	// Name is the flag's name; the config-file key is Name with - replaced
	// by _, and the environment variable that key in upper case after the
	// prefix.
	Name  string
	Doc   string
	Value flag.Value
}

// Key is s's key in the config file.
func (s Setting) Key() string { return strings.ReplaceAll(s.Name, "-", "_") }

// Env is s's environment variable under prefix (such as "SWITCHBOARD_").
func (s Setting) Env(prefix string) string { return prefix + strings.ToUpper(s.Key()) }

// Source says where settings come from besides the flags.
type Source struct {
	// Prefix starts every environment variable; PREFIX + "CONFIG" names the
	// config file when no --config flag does.
	Prefix string
	// Getenv reads the environment (os.Getenv, or a test's map).
	Getenv func(string) string
	// Known are the config-file keys of every command of the program. A key
	// in Known that this command does not take is skipped, so that one file
	// serves every command; a key outside it is an error.
	Known []string
}

// Load defines settings and a --config flag on fs, then applies the config
// file, the environment and args, in that order.
//
// The flags are defined before anything is applied, so that help shows the
// built-in defaults; asking for help (-h, --help) returns flag.ErrHelp before
// the file or the environment are read, so that a broken setting never hides
// the help.
func (src Source) Load(fs *flag.FlagSet, args []string, settings []Setting) error {
	for _, s := range settings {
		fs.Var(s.Value, s.Name, s.Doc+" (env "+s.Env(src.Prefix)+")")
	}
	var ignored string
	fs.StringVar(&ignored, "config", "", "JSON file of settings, keyed by flag name with _ for - (env "+src.Prefix+"CONFIG)")
	if WantsHelp(args) {
		return flag.ErrHelp
	}
	file := src.Getenv(src.Prefix + "CONFIG")
	for i, a := range args {
		switch {
		case a == "--config" || a == "-config":
			if i+1 < len(args) {
				file = args[i+1]
			}
		case strings.HasPrefix(a, "--config="), strings.HasPrefix(a, "-config="):
			_, file, _ = strings.Cut(a, "=")
		}
	}
	if file != "" {
		if err := src.loadFile(file, settings); err != nil {
			return err
		}
	}
	for _, s := range settings {
		if v := src.Getenv(s.Env(src.Prefix)); v != "" {
			if err := s.Value.Set(v); err != nil {
				return fmt.Errorf("%s=%q: %w", s.Env(src.Prefix), v, err)
			}
		}
	}
	return fs.Parse(args)
}

// WantsHelp reports whether args ask for help before any "--".
func WantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// loadFile applies a JSON config file. Keys that no command knows are errors:
// a misspelt setting that silently does nothing is worse than a refusal to
// start. Numbers keep their literal text and arrays become comma-separated
// lists, as on the command line.
func (src Source) loadFile(path string, settings []Setting) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var values map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&values); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	byKey := map[string]Setting{}
	for _, s := range settings {
		byKey[s.Key()] = s
	}
	for k, v := range values {
		s, ok := byKey[k]
		if !ok {
			if !slices.Contains(src.Known, k) {
				return fmt.Errorf("config file %s: unknown setting %q", path, k)
			}
			continue
		}
		text := fmt.Sprint(v)
		if list, isList := v.([]any); isList {
			parts := make([]string, len(list))
			for i, e := range list {
				parts[i] = fmt.Sprint(e)
			}
			text = strings.Join(parts, ",")
		}
		if err := s.Value.Set(text); err != nil {
			return fmt.Errorf("config file %s: %s: %w", path, k, err)
		}
	}
	return nil
}
