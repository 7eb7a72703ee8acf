package ujet

import (
	"strings"

	"golang.org/x/text/language"
)

// defaultLang is the language of a call, chat or menu that names none, as
// UJET defaults lang to "en".
const defaultLang = "en"

// checkLang vets lang (ISO 639-1, with a region when given: "pt-BR") against
// the tenant's menus as UJET does: a code no registry knows is "Language
// 'xy' is not found"; a known one no queue of the tenant serves is
// "Language 'fr' is not available". A queue with no language serves the
// default, as does a tenant with no queues yet. It returns the language as
// the dialect shows it ("" becomes "en").
func (t *menuTree) checkLang(lang string) (string, error) {
	lang = strings.TrimSpace(lang)
	if lang == "" {
		lang = defaultLang
	}
	tag, err := language.Parse(lang)
	if err != nil {
		return "", badRequest("Language '" + lang + "' is not found")
	}
	base, _ := tag.Base()
	served := t == nil || len(t.nodes) == 0 && base.String() == defaultLang
	if t != nil {
		for _, n := range t.nodes {
			if n.Queue == nil {
				continue
			}
			ql := n.Queue.Language
			if ql == "" {
				ql = defaultLang
			}
			if qt, err := language.Parse(ql); err == nil {
				if qb, _ := qt.Base(); qb == base {
					served = true
					break
				}
			}
		}
	}
	if !served {
		return "", badRequest("Language '" + lang + "' is not available")
	}
	return lang, nil
}

// langOf is the language a node serves, the default when it names none.
func (n *menuNode) langOf() string {
	if n.Lang == "" {
		return defaultLang
	}
	return n.Lang
}

// servesLang says whether node n serves lang (compared by base language:
// "pt" and "pt-BR" match).
func (n *menuNode) servesLang(lang string) bool {
	a, errA := language.Parse(n.langOf())
	b, errB := language.Parse(lang)
	if errA != nil || errB != nil {
		return strings.EqualFold(n.langOf(), lang)
	}
	ab, _ := a.Base()
	bb, _ := b.Base()
	return ab == bb
}
