package sqlstore

import "sync"

// syncMap is a typed string-to-string sync.Map; queries are rebound once and
// read many times, which is the case sync.Map is built for.
type syncMap struct{ m sync.Map }

func (s *syncMap) Load(k string) (string, bool) {
	v, ok := s.m.Load(k)
	if !ok {
		return "", false
	}
	return v.(string), true
}

func (s *syncMap) Store(k, v string) { s.m.Store(k, v) }
